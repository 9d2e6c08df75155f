/**
 * Runs every role of a choreography in memory (two {@link AuraSession}s, one
 * per side, wired back to back; virtual time in µs): no sockets, no clock.
 * Used to plan generated cases (what the harness sends on a path), by the
 * benches, and by tests of the runtime.
 */
import type { AuraCheck } from '../language.js';
import type { AuraPolicy, RoleMachineOptions, RuntimeMessage } from './role.js';
import { AuraSession } from './session.js';

/** One wire message of a simulated session, with the side that sent it and its virtual time (µs). */
export interface SimMessage extends RuntimeMessage {
  readonly side: 'harness' | 'target';
  readonly t: number;
}

/** Outcome of {@link simulate}. */
export interface SimResult {
  /** Wire messages in the order they were sent (FIFO per direction; delivered at once). */
  readonly wire: readonly SimMessage[];
  /** Every message, local ones included, in the order they were sent. */
  readonly all: readonly SimMessage[];
  /** Each role's own log: what it sent and took, in its order (what its projection's CFSM judges). */
  readonly logs: ReadonlyMap<string, readonly RoleLogEntry[]>;
  readonly harnessDone: boolean;
  readonly targetDone: boolean;
  /** A break either side saw. */
  readonly broken?: string;
}

/** Options of {@link simulate}. */
export interface SimOptions extends Omit<RoleMachineOptions, 'chooseWhenTold' | 'lateMs'> {
  readonly harnessRoles: readonly string[];
  readonly harnessPolicy: AuraPolicy;
  readonly targetPolicy: AuraPolicy;
  /** Most steps (polls) before giving up (default 10,000). */
  readonly maxSteps?: number;
  /** Called for each wire message as it is sent (e.g. a monitor). */
  readonly onWire?: (m: SimMessage) => void;
}

/** Runs one session of `check` in memory; the target plays every role the harness does not. */
export function simulate(check: AuraCheck, o: SimOptions): SimResult {
  const all: SimMessage[] = [];
  const target = check.roles.filter((r) => !o.harnessRoles.includes(r));
  let t = 0;
  const mk = (side: 'harness' | 'target') => (m: RuntimeMessage) => all.push({ ...m, side, t });
  const base = { ...(o.params ? { params: o.params } : {}), ...(o.timeoutMs !== undefined ? { timeoutMs: o.timeoutMs } : {}) };
  const logs = new Map<string, RoleLogEntry[]>(check.roles.map((r) => [r, []]));
  const log = (r: string, dir: '!' | '?' | 'drop', m: RuntimeMessage) => logs.get(r)!.push({ dir, m });
  const h = new AuraSession(check, o.harnessRoles, { ...base, policy: o.harnessPolicy, onSend: mk('harness'), log });
  const g = target.length ? new AuraSession(check, target, { ...base, policy: o.targetPolicy, onSend: mk('target'), log }) : undefined;
  const wire: SimMessage[] = [];
  const max = o.maxSteps ?? 10_000;
  for (let i = 0; i < max; i++) {
    const a = h.poll(t).map((m) => ({ ...m, side: 'harness' as const, t }));
    const b = g ? g.poll(t).map((m) => ({ ...m, side: 'target' as const, t })) : [];
    for (const m of a) {
      wire.push(m); o.onWire?.(m);
      g?.receive(m, t);
    }
    for (const m of b) {
      wire.push(m); o.onWire?.(m);
      h.receive(m, t);
    }
    if (h.breakage || g?.breakage) break;
    if (a.length || b.length) continue;
    const next = [h.nextTimer(), g?.nextTimer()].filter((x): x is number => x !== undefined);
    if (next.length === 0) break;
    t = Math.max(t, Math.min(...next));
  }
  const broken = h.breakage?.reason ?? g?.breakage?.reason;
  return { wire, all, logs, harnessDone: h.done, targetDone: g ? g.done : true, ...(broken !== undefined ? { broken } : {}) };
}

/** One entry of a role's own log: a message it sent, took, or dropped (after a crossing, AURA-9.2). */
export interface RoleLogEntry {
  readonly dir: '!' | '?' | 'drop';
  readonly m: RuntimeMessage;
}
