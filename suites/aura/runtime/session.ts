/**
 * One Aura session on one side of the wire (SPEC §16): the roles this side
 * plays, each a {@link RoleMachine}, with messages between two of them
 * delivered locally ("messages between two roles on the same side never
 * travel", PROTOCOLS) and every other message handed to the wire.
 * Sans-I/O: frames in, frames out, time in µs passed in.
 */
import type { AuraCheck } from '../language.js';
import type { G } from '../global.js';
import { collectDataChoices, DataDecisions, type DataChoice } from './data.js';
import { RoleMachine, type AuraPolicy, type RoleMachineOptions, type RuntimeMessage } from './role.js';
import type { AuraPayload } from './wire.js';

/** A break of the choreography seen by this side (the session must be reset, AURA-16.4). */
export interface SessionBreak {
  readonly reason: string;
}

/** Options of a session: the policy of its roles, and role-machine options (params, timeout override, faults). */
export interface SessionOptions extends Omit<RoleMachineOptions, 'log'> {
  /** Told of every message each local role sends, takes or drops (role.ts `log`). */
  readonly log?: (role: string, dir: '!' | '?' | 'drop', m: RuntimeMessage) => void;
  readonly policy: AuraPolicy;
  /** Called for each message delivered between two local roles (it never travels), e.g. to note it in a trace. */
  readonly onLocal?: (m: RuntimeMessage) => void;
  /** Called for each message a local role sends, local or not, in the order they are sent. */
  readonly onSend?: (m: RuntimeMessage, local: boolean) => void;
}

/** The roles of one side of one session. */
export class AuraSession {
  readonly machines: ReadonlyMap<string, RoleMachine>;
  private broken: SessionBreak | undefined;
  private readonly onLocal: ((m: RuntimeMessage) => void) | undefined;
  private readonly onSend: ((m: RuntimeMessage, local: boolean) => void) | undefined;

  /**
   * @param check the checked choreography (well-formed)
   * @param local the roles this side plays (declared roles)
   * @throws RangeError naming a role the choreography does not declare
   */
  constructor(check: AuraCheck, readonly local: readonly string[], opts: SessionOptions) {
    const m = new Map<string, RoleMachine>();
    for (const r of local) {
      const p = check.projections.get(r);
      if (!p) throw new RangeError(`role ${JSON.stringify(r)} is not a role of ${check.protocol} (roles: ${check.roles.join(', ')})`);
      const { log, onLocal: _l, onSend: _s, policy: _p, ...mo } = opts;
      m.set(r, new RoleMachine(r, p.local, opts.policy, { ...mo, cfsm: p.cfsm, dataChoices: dataChoicesOf(check.global), dataDecisions: new DataDecisions(check.global), ...(log ? { log: (d, msg) => log(r, d, msg) } : {}) }));
    }
    this.machines = m;
    this.onLocal = opts.onLocal;
    this.onSend = opts.onSend;
  }

  /** Set once this side saw the choreography broken. */
  get breakage(): SessionBreak | undefined {
    return this.broken;
  }

  /** True when every local role finished. */
  get done(): boolean {
    return [...this.machines.values()].every((r) => r.done);
  }

  /** What the local roles wait for or are about to do (`Role: Peer?Label`). */
  expected(): string[] {
    return [...this.machines].flatMap(([r, m]) => m.expected().map((e) => `${r}: ${e}`));
  }

  /** Earliest time (µs) a local role's timer fires. */
  nextTimer(): number | undefined {
    let best: number | undefined;
    for (const m of this.machines.values()) {
      const x = m.nextTimer();
      if (x !== undefined && (best === undefined || x < best)) best = x;
    }
    return best;
  }

  /** Runs the local roles at time `t` (µs); returns the messages for the other side, in order. */
  poll(t: number): RuntimeMessage[] {
    const out: RuntimeMessage[] = [];
    if (this.broken) return out;
    for (let progress = true; progress && !this.broken; ) {
      progress = false;
      for (const m of this.machines.values()) {
        const sent = m.poll(t);
        if (m.violation) {
          this.broken = { reason: `${m.role} holds a message it can never take; expected ${m.violation.expected.join(' or ') || 'nothing'}` };
          return out;
        }
        for (const msg of sent) {
          progress = true;
          const peer = this.machines.get(msg.to);
          this.onSend?.(msg, peer !== undefined);
          if (!peer) {
            out.push(msg);
            continue;
          }
          this.onLocal?.(msg);
          this.deliver(peer, msg, t);
          if (this.broken) return out;
        }
      }
    }
    return out;
  }

  /** Feeds a message from the other side at time `t` (µs); returns the break it causes, if any. */
  receive(msg: RuntimeMessage, t: number): SessionBreak | undefined {
    if (this.broken) return this.broken;
    const peer = this.machines.get(msg.to);
    if (!peer) return (this.broken = { reason: `message to ${msg.to}, a role this side does not play` });
    if (this.machines.has(msg.from)) return (this.broken = { reason: `message from ${msg.from}, a role this side plays` });
    this.deliver(peer, msg, t);
    return this.broken;
  }

  private deliver(to: RoleMachine, msg: RuntimeMessage, t: number): void {
    const r = to.receive(msg, t);
    if (!r.ok) this.broken = { reason: `${msg.to} received ${msg.from}→${msg.to}:${msg.label}; expected ${r.expected.join(' or ') || 'nothing (its part is over)'}` };
  }
}

const dataCache = new WeakMap<G, ReadonlyMap<string, DataChoice>>();
function dataChoicesOf(g: G): ReadonlyMap<string, DataChoice> {
  let d = dataCache.get(g);
  if (!d) dataCache.set(g, (d = collectDataChoices(g)));
  return d;
}

/** A runtime message from a wire message frame (fields copied). */
export function toRuntime(f: { from: string; to: string; label: string; payload: AuraPayload }): RuntimeMessage {
  return { from: f.from, to: f.to, label: f.label, payload: f.payload };
}
