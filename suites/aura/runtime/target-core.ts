/**
 * The target side of the Aura wire as a Sans-I/O server core
 * (harness/engine/server-core.ts): serves chosen roles of one choreography
 * for every session the harness opens (one client bidirectional stream per
 * session, PROTOCOLS § "Aura choreographies"). Frames in, actions out;
 * hosted on QUIC by reference-server/aura/.
 *
 * - A malformed frame, or a start frame naming another protocol, closes the
 *   connection with application code 0x1 (AURA-16.1, 16.2).
 * - A start frame asking this side to play a role it does not serve, or a
 *   message the choreography does not allow here, resets the stream with
 *   code 0x1 (AURA-16.4).
 * - When every role of the session on this side is done, the stream is
 *   ended (FIN).
 */
import type { ServerAction, ServerCore } from '../../../harness/engine/server-core.js';
import type { TraceEvent } from '../../../harness/engine/trace.js';
import type { AuraCheck } from '../language.js';
import type { AuraPolicy, RoleMachineOptions, RuntimeMessage } from './role.js';
import { AuraSession, toRuntime } from './session.js';
import { AURA_PROTOCOL_VIOLATION, AuraFrameDecoder, AuraFrameError, encodeAuraFrame, isStart, type AuraFrame } from './wire.js';

/** What a message edit (a deliberate fault) knows of its session. */
export interface SessionEditState {
  /** Messages this side sent so far in the session. */
  sent: number;
  /** True once the session received a `$fail`. */
  failSeen: boolean;
  /** Free slot for an edit's own bookkeeping. */
  mark: number;
}

/** Options of {@link AuraTargetCore}. */
export interface TargetCoreOptions {
  readonly check: AuraCheck;
  /** The roles this side serves. */
  readonly roles: readonly string[];
  /** The policy of one session (e.g. seeded from its id). */
  policyFor(session: string): AuraPolicy;
  /** Role-machine options: timeout override, faults (`chooseWhenTold`, `lateMs`). */
  readonly machine?: Pick<RoleMachineOptions, 'timeoutMs' | 'chooseWhenTold' | 'lateMs'>;
  /** Rewrites the messages a session sends in one step (a deliberate fault); identity by default. */
  readonly edit?: (msgs: RuntimeMessage[], state: SessionEditState) => RuntimeMessage[];
  readonly maxFrameBytes?: number;
}

interface Slot {
  readonly conn: number;
  readonly stream: number;
  readonly decoder: AuraFrameDecoder;
  session?: AuraSession;
  readonly state: SessionEditState;
  finished: boolean;
}

/** The target side's core. */
export class AuraTargetCore implements ServerCore {
  readonly sendTimeoutMs = undefined;
  private readonly slots = new Map<string, Slot>();
  private actions: ServerAction[] = [];
  private readonly closed = new Set<number>();

  constructor(private readonly opts: TargetCoreOptions) {}

  handle(ev: TraceEvent): void {
    switch (ev.type) {
      case 'data': {
        if (ev.dir !== 'c2s' || this.closed.has(ev.conn)) return;
        const slot = this.slot(ev.conn, ev.stream);
        if (slot.finished) return;
        let frames: AuraFrame[];
        try {
          frames = slot.decoder.push(Buffer.from(ev.hex, 'hex'));
        } catch (e) {
          if (!(e instanceof AuraFrameError)) throw e;
          return this.close(ev.conn, `AURA-16.1: ${e.message}`);
        }
        for (const f of frames) {
          if (slot.finished) return;
          if (isStart(f)) {
            this.start(slot, f, ev.t);
            continue;
          }
          const s = slot.session!;
          if (f.label === '$fail') slot.state.failSeen = true;
          const b = s.receive(toRuntime(f), ev.t);
          if (b) this.reset(slot, `AURA-16.4: ${b.reason}`);
        }
        return;
      }
      case 'stream_reset':
        if (ev.dir === 'c2s') this.drop(ev.conn, ev.stream);
        return;
      case 'conn_close':
        for (const [k, s] of this.slots) if (s.conn === ev.conn) this.slots.delete(k);
        this.closed.delete(ev.conn);
        return;
      default:
        return;
    }
  }

  sendStalled(): void {}

  poll(t: number): ServerAction[] {
    for (const slot of this.slots.values()) {
      const s = slot.session;
      if (!s || slot.finished) continue;
      const msgs = s.poll(t);
      if (s.breakage) {
        this.reset(slot, `AURA-16.4: ${s.breakage.reason}`);
        continue;
      }
      const edited = this.opts.edit ? this.opts.edit(msgs, slot.state) : msgs;
      for (const m of edited) {
        slot.state.sent++;
        this.actions.push({ type: 'send', conn: slot.conn, stream: slot.stream, bytes: encodeAuraFrame({ from: m.from, to: m.to, label: m.label, payload: m.payload }) });
      }
      if (s.done) {
        slot.finished = true;
        this.actions.push({ type: 'fin', conn: slot.conn, stream: slot.stream });
      }
    }
    const out = this.actions;
    this.actions = [];
    return out;
  }

  nextTimer(): number | undefined {
    let best: number | undefined;
    for (const slot of this.slots.values()) {
      const x = slot.finished ? undefined : slot.session?.nextTimer();
      if (x !== undefined && (best === undefined || x < best)) best = x;
    }
    return best;
  }

  private slot(conn: number, stream: number): Slot {
    const k = `${conn}/${stream}`;
    let s = this.slots.get(k);
    if (!s) {
      s = { conn, stream, decoder: new AuraFrameDecoder(true, this.opts.maxFrameBytes), state: { sent: 0, failSeen: false, mark: 0 }, finished: false };
      this.slots.set(k, s);
    }
    return s;
  }

  private start(slot: Slot, f: Extract<AuraFrame, { start: string }>, _t: number): void {
    const { check, roles } = this.opts;
    if (slot.session) return this.reset(slot, 'AURA-16.2: a second start frame on the stream');
    if (f.start !== check.protocol) return this.close(slot.conn, `AURA-16.2: unknown protocol ${JSON.stringify(f.start)} (this side serves ${check.protocol})`);
    const mine = Object.entries(f.roles).filter(([, side]) => side === 'you').map(([r]) => r);
    const missing = check.roles.filter((r) => !(r in f.roles));
    const unknown = Object.keys(f.roles).filter((r) => !check.roles.includes(r));
    const unserved = mine.filter((r) => !roles.includes(r));
    if (missing.length || unknown.length || unserved.length || mine.length === 0) {
      return this.reset(slot, `AURA-16.2: roles ${JSON.stringify(f.roles)}: ${[missing.length ? `missing ${missing.join(', ')}` : '', unknown.length ? `unknown ${unknown.join(', ')}` : '', unserved.length ? `not served here: ${unserved.join(', ')}` : '', mine.length ? '' : 'no role for this side'].filter(Boolean).join('; ')}`);
    }
    slot.session = new AuraSession(check, mine, { ...this.opts.machine, params: f.params, policy: this.opts.policyFor(f.session) });
  }

  private reset(slot: Slot, why: string): void {
    slot.finished = true;
    this.actions.push({ type: 'log', level: 'info', msg: 'session reset', data: { conn: slot.conn, stream: slot.stream, why } });
    this.actions.push({ type: 'reset', conn: slot.conn, stream: slot.stream, code: AURA_PROTOCOL_VIOLATION });
  }

  private close(conn: number, reason: string): void {
    this.closed.add(conn);
    for (const s of this.slots.values()) if (s.conn === conn) s.finished = true;
    this.actions.push({ type: 'close', conn, code: AURA_PROTOCOL_VIOLATION, reason: reason.slice(0, 200), rule: reason.split(':')[0]! });
  }

  private drop(conn: number, stream: number): void {
    this.slots.delete(`${conn}/${stream}`);
  }
}
