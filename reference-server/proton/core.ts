/**
 * The Proton reference server's Sans-I/O core: the Proton model in server
 * mode (suites/proton/model.ts) behind the engine's {@link ServerCore}
 * contract. Every rule it follows is the model's; this file only turns the
 * model's "what is due" into actions, feeds them back, and applies an
 * optional fault (tests only).
 */
import { actionToEvent, type ServerAction, type ServerCore } from '../../harness/engine/server-core.js';
import type { TraceEvent } from '../../harness/engine/trace.js';
import { ProtonModel } from '../../suites/proton/model.js';
import type { ProtonProfile } from '../../suites/proton/profile.js';
import type { Fault } from './faults.js';

/** The Proton server core. `fault` rewrites actions on the wire while the model keeps the conforming view. */
export class ProtonServerCore implements ServerCore {
  private readonly model: ProtonModel;
  private readonly pending: ServerAction[] = [];
  /** Own actions of the last poll not yet fed to the model (fed first thing on the next call, {@link flushOwn}). */
  private readonly own: TraceEvent[] = [];
  readonly sendTimeoutMs: number;

  constructor(
    readonly profile: ProtonProfile,
    private readonly fault?: Fault,
  ) {
    this.model = new ProtonModel(profile, 'server');
    this.sendTimeoutMs = profile.ioTimeoutMs;
  }

  handle(ev: TraceEvent): void {
    this.flushOwn();
    const violations = this.model.input(ev, -1);
    if (ev.type === 'data' && ev.dir === 'c2s') {
      this.pending.push({ type: 'log', level: 'debug', msg: 'recv', data: { conn: ev.conn, stream: ev.stream, hex: ev.hex } });
    }
    for (const v of violations) {
      // In server mode the model only sees client input and our own (conforming) output.
      this.pending.push({ type: 'log', level: 'warn', msg: 'model disagreement', data: { rule: v.rule, expected: v.expected, seen: v.seen } });
    }
  }

  sendStalled(conn: number, stream: number, t: number): void {
    this.flushOwn();
    this.model.sendStalled(conn, stream, t);
  }

  poll(t: number): ServerAction[] {
    this.flushOwn();
    const out = this.pending.length === 0 ? [] : this.pending.splice(0);
    for (const act of this.model.due(t)) {
      const ev = actionToEvent(act, t);
      if (this.fault) {
        // The fault sees the stream's kind as of this action: the model takes each action in order first.
        const kind = act.type === 'send' || act.type === 'fin' ? this.model.streamKind(act.conn, act.stream) : undefined;
        if (ev) this.model.input(ev, -1); // The model sees the conforming action.
        const rule = act.type === 'close' ? act.rule : undefined;
        const performed = this.fault(act, { rule, streamKind: kind });
        if (performed) out.push(performed);
        if (act.type === 'close') out.push(closeLog(act, performed === undefined));
        continue;
      }
      // No fault: the model sees the conforming action on the next call into this core (flushOwn), i.e. after the
      // host has put it on the wire, not on the path between the client's bytes and the answer.
      if (ev) this.own.push(ev);
      out.push(act);
      if (act.type === 'close') out.push(closeLog(act, false));
    }
    return out;
  }

  /** Feeds the model the actions of the last {@link poll} (its own output, as `s2c` events), in order. */
  private flushOwn(): void {
    const own = this.own;
    if (own.length === 0) return;
    // The model never calls back into this core, so `own` cannot grow while it is fed; a throw drops the rest.
    try {
      for (let i = 0; i < own.length; i++) this.model.input(own[i]!, -1);
    } finally {
      own.length = 0;
    }
  }

  nextTimer(): number | undefined {
    this.flushOwn();
    return this.model.nextDue();
  }
}

/** The `info` log record of a close the model asked for. */
function closeLog(act: Extract<ServerAction, { type: 'close' }>, dropped: boolean): ServerAction {
  return { type: 'log', level: 'info', msg: 'close', data: { conn: act.conn, code: act.code, reason: act.reason, rule: act.rule, dropped } };
}
