/**
 * The Moonpool reference server's Sans-I/O core: the Moonpool model in
 * server mode (suites/moonpool/model.ts) behind the engine's
 * {@link ServerCore} contract. Every rule it follows is the model's; this
 * file only turns the model's "what is due" into actions and feeds them
 * back. Faults (faults.ts) wrap a core; they are not in here.
 *
 * It never treats a slow or blocked write as the end of a connection
 * (`sendTimeoutMs` is undefined, MOONPOOL-7.1): replies stay queued in the
 * host until the connection flows again (7.2).
 */
import { actionToEvent, type ServerAction, type ServerCore } from '../../harness/engine/server-core.js';
import type { TraceEvent } from '../../harness/engine/trace.js';
import { MoonpoolModel } from '../../suites/moonpool/model.js';
import type { MoonpoolProfile } from '../../suites/moonpool/profile.js';

/** The Moonpool server core. */
export class MoonpoolServerCore implements ServerCore {
  private readonly model: MoonpoolModel;
  private readonly pending: ServerAction[] = [];
  /** No send timeout: a stalled write is not a loss (MOONPOOL-7.1). */
  readonly sendTimeoutMs: number | undefined = undefined;

  constructor(readonly profile: MoonpoolProfile) {
    this.model = new MoonpoolModel(profile, 'server');
  }

  handle(ev: TraceEvent): void {
    const violations = this.model.input(ev, -1);
    for (const v of violations) {
      // In server mode the model only sees client input and our own (conforming) output.
      this.pending.push({ type: 'log', level: 'warn', msg: 'model disagreement', data: { rule: v.rule, expected: v.expected, seen: v.seen } });
    }
  }

  sendStalled(conn: number, stream: number, t: number): void {
    // MOONPOOL-7.1: a blocked write is a stall, not a loss. Keep the replies queued.
    this.pending.push({ type: 'log', level: 'debug', msg: 'send stalled (kept queued)', data: { conn, stream, t } });
  }

  poll(t: number): ServerAction[] {
    const out = this.pending.splice(0);
    for (const act of this.model.due(t)) {
      const ev = actionToEvent(act, t);
      if (ev) this.model.input(ev, -1); // The model sees its own action.
      out.push(act);
      if (act.type === 'close') {
        const level = act.code === 0 ? 'info' : 'warn';
        out.push({ type: 'log', level, msg: act.rule === 'MOONPOOL-5.1' || act.rule === 'MOONPOOL-5.2' ? 'ParseError: closing the connection' : 'closing the connection', data: { conn: act.conn, rule: act.rule, reason: act.reason } });
      }
    }
    return out;
  }

  nextTimer(): number | undefined {
    return this.model.nextDue();
  }

  /** Bytes of an incomplete request held on a connection (for faults and tests). */
  partialRequestBytes(conn: number): number {
    return this.model.partialRequestBytes(conn);
  }
}
