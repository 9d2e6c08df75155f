/**
 * Trace monitors for Aura protocols (suites/aura/SPEC.md §3): a global monitor
 * that checks a multi-role trace of messages against the global protocol
 * directly, and per-role monitors built from the projections.
 *
 * Semantics (SPEC §3): sequencing is weak — messages that share no role may
 * appear in either order. The global monitor keeps a set of configurations
 * `(state, pending, ahead)`: `state` is a state of the global automaton
 * (`cfsm.ts`, parallel interleavings expanded, open choices kept as one
 * deterministic state), `pending` are messages seen in the trace and not yet
 * matched by the protocol (they wait for a message they do not depend on),
 * `ahead` are messages the protocol has been assumed to perform before the
 * trace showed them (each must later appear, in order for its roles). The
 * trace is fine so far while some configuration has nothing pending.
 * Pure: no I/O, no clock.
 */
import { buildGlobalAutomaton, globalActionText, roleActionText, type Automaton, type Cfsm, type GlobalAction, type RoleAction } from './cfsm.js';
import type { G } from './global.js';

/** One message of a trace: sender, receiver, label (PROTOCOLS: a frame's `from`, `to`, `label`). */
export interface AuraMessage {
  readonly from: string;
  readonly to: string;
  readonly label: string;
}

/** The first message a monitor rejects. */
export interface MonitorViolation {
  /** 0-based index of the message in the trace. */
  readonly index: number;
  readonly message: AuraMessage;
  /** The states the monitor was in (global automaton states, or `role:state` for per-role monitors). */
  readonly states: readonly string[];
  /** The messages that were allowed there, as `A→B:L` (global) or `B!L` / `A?L` (per role). */
  readonly allowed: readonly string[];
}

/** A monitor: feed messages in trace order, then ask whether the trace is complete. */
export interface AuraMonitor {
  /** Feeds one message; returns the violation if this message is the first one rejected, else `undefined`. */
  feed(m: AuraMessage): MonitorViolation | undefined;
  /** True when the messages fed so far form a complete run of the protocol. */
  complete(): boolean;
  /** The first violation, if any. */
  readonly violation: MonitorViolation | undefined;
  /** The messages allowed next (global monitor only; empty after a violation). */
  allowed?(): readonly AuraMessage[];
  /** True when `allowed()` would contain `m` (global monitor only); allocates nothing. */
  allows?(m: AuraMessage): boolean;
}

const independent = (a: AuraMessage, b: AuraMessage) => a.from !== b.from && a.from !== b.to && a.to !== b.from && a.to !== b.to;
const same = (a: AuraMessage, b: AuraMessage) => a.from === b.from && a.to === b.to && a.label === b.label;
const key = (m: AuraMessage) => `${m.from}>${m.to}:${m.label}`;

interface Config {
  readonly q: number;
  readonly pending: readonly AuraMessage[];
  readonly ahead: readonly AuraMessage[];
}

const configKey = (c: Config) => `${c.q}|${c.pending.map(key).join(',')}|${c.ahead.map(key).join(',')}`;

/** Options: `window` bounds pending and ahead messages (default 16), `maxConfigs` the set size (default 4096). */
export interface GlobalMonitorOptions {
  readonly window?: number;
  readonly maxConfigs?: number;
}

/**
 * A global monitor of a core global type (from `checkAura(...).global`).
 * A trace whose reordering exceeds `window` messages is rejected (bounded search).
 */
export function createGlobalMonitor(g: G, opts: GlobalMonitorOptions = {}): AuraMonitor {
  const a: Automaton<GlobalAction> = buildGlobalAutomaton(g);
  return globalMonitorOf(a, opts);
}

/** What a global monitor precomputes of an automaton (shared by every monitor of it; `lone` configurations are immutable). */
interface Prepared {
  readonly out: Map<number, { to: number; action: GlobalAction }[]>;
  readonly finals: Set<number>;
  /** Fast path (no allocation): from a lone configuration with nothing pending or ahead, a message that
   * shares a role with every transition of its state has exactly one explanation, the transition itself.
   * State → from → to → label → next state, or -1 when the message is independent of some transition of
   * the state (then the general search decides). */
  readonly direct: Map<number, Map<string, Map<string, Map<string, number>>>>;
  readonly lone: Map<number, Config>;
}

const preparedCache = new WeakMap<Automaton<GlobalAction>, Prepared>();

function prepared(a: Automaton<GlobalAction>): Prepared {
  const hit = preparedCache.get(a);
  if (hit) return hit;
  const out = new Map<number, { to: number; action: GlobalAction }[]>();
  const direct = new Map<number, Map<string, Map<string, Map<string, number>>>>();
  for (const t of a.transitions) {
    const l = out.get(t.from) ?? [];
    l.push({ to: t.to, action: t.action });
    out.set(t.from, l);
    let f = direct.get(t.from);
    if (!f) direct.set(t.from, (f = new Map()));
    let g = f.get(t.action.from);
    if (!g) f.set(t.action.from, (g = new Map()));
    let h = g.get(t.action.to);
    if (!h) g.set(t.action.to, (h = new Map()));
    h.set(t.action.label, t.to);
  }
  for (const t of a.transitions) {
    if (out.get(t.from)!.some((x) => independent(x.action, t.action))) direct.get(t.from)!.get(t.action.from)!.get(t.action.to)!.set(t.action.label, -1);
  }
  const p: Prepared = { out, finals: new Set(a.finals), direct, lone: new Map() };
  preparedCache.set(a, p);
  return p;
}

/** As `createGlobalMonitor`, from a built global automaton. */
export function globalMonitorOf(a: Automaton<GlobalAction>, opts: GlobalMonitorOptions = {}): AuraMonitor {
  const window = opts.window ?? 16;
  const maxConfigs = opts.maxConfigs ?? 4096;
  const { out, finals, direct, lone } = prepared(a);
  const loneAt = (q: number): Config => {
    let c = lone.get(q);
    if (!c) lone.set(q, (c = { q, pending: [], ahead: [] }));
    return c;
  };
  const directStep = (q: number, m: AuraMessage): number | undefined => {
    const to = direct.get(q)?.get(m.from)?.get(m.to)?.get(m.label);
    return to === undefined || to < 0 ? undefined : to;
  };

  /** All configurations reachable by letting the protocol move (matching pending messages, or running ahead to unblock them). */
  const saturate = (start: readonly Config[]): Config[] => {
    const seen = new Map<string, Config>();
    const work = [...start];
    for (const c of start) seen.set(configKey(c), c);
    while (work.length && seen.size < maxConfigs) {
      const c = work.pop()!;
      if (c.pending.length === 0) continue; // nothing to explain: wait for the trace
      for (const t of out.get(c.q) ?? []) {
        const x = t.action;
        const i = c.pending.findIndex((p) => !independent(p, x));
        let next: Config | undefined;
        if (i >= 0 && same(c.pending[i]!, x)) {
          next = { q: t.to, pending: c.pending.filter((_, j) => j !== i), ahead: c.ahead };
        } else if (i < 0 && c.ahead.length < window) {
          next = { q: t.to, pending: c.pending, ahead: [...c.ahead, x] };
        }
        if (!next) continue;
        const k = configKey(next);
        if (!seen.has(k)) {
          seen.set(k, next);
          work.push(next);
        }
      }
    }
    return [...seen.values()];
  };

  let configs: Config[] = [{ q: 0, pending: [], ahead: [] }];
  let violation: MonitorViolation | undefined;
  let index = 0;

  const allowedFrom = (cs: readonly Config[]): string[] => {
    const s = new Set<string>();
    for (const c of cs) {
      if (c.pending.length) continue;
      for (const t of out.get(c.q) ?? []) if (c.ahead.every((h) => independent(h, t.action))) s.add(globalActionText(t.action));
      const firstByRole = new Set<string>();
      for (const h of c.ahead) {
        if (!firstByRole.has(h.from) && !firstByRole.has(h.to)) s.add(globalActionText(h));
        firstByRole.add(h.from);
        firstByRole.add(h.to);
      }
    }
    return [...s].sort();
  };

  return {
    get violation() {
      return violation;
    },
    feed(m) {
      const i = index++;
      if (violation) return undefined;
      if (configs.length === 1) {
        const c = configs[0]!;
        if (c.pending.length === 0 && c.ahead.length === 0) {
          const to = directStep(c.q, m);
          if (to !== undefined) {
            configs[0] = loneAt(to);
            return undefined;
          }
        }
      }
      const stepped: Config[] = [];
      for (const c of configs) {
        const j = c.ahead.findIndex((h) => !independent(h, m));
        if (j >= 0) {
          if (same(c.ahead[j]!, m)) stepped.push({ q: c.q, pending: c.pending, ahead: c.ahead.filter((_, k) => k !== j) });
          continue;
        }
        if (c.pending.length < window) stepped.push({ q: c.q, pending: [...c.pending, m], ahead: c.ahead });
      }
      const next = saturate(stepped).filter((c) => c.pending.length === 0);
      if (next.length === 0) {
        const live = configs.filter((c) => c.pending.length === 0);
        violation = {
          index: i, message: m,
          states: [...new Set(live.map((c) => `s${c.q}${c.ahead.length ? ` (ahead: ${c.ahead.map(globalActionText).join(', ')})` : ''}`))],
          allowed: allowedFrom(live),
        };
        return violation;
      }
      configs = next;
      return undefined;
    },
    complete() {
      return !violation && configs.some((c) => c.ahead.length === 0 && finals.has(c.q));
    },
    allows(m) {
      if (violation) return false;
      for (const c of configs) {
        if (c.pending.length) continue;
        for (const t of out.get(c.q) ?? []) if (same(t.action, m) && c.ahead.every((h) => independent(h, t.action))) return true;
        // The first ahead message of each role (as allowed() lists them), without building the set.
        for (let i = 0; i < c.ahead.length; i++) {
          const h = c.ahead[i]!;
          if (!same(h, m)) continue;
          let first = true;
          for (let j = 0; j < i && first; j++) {
            const e = c.ahead[j]!;
            if (e.from === h.from || e.to === h.from || e.from === h.to || e.to === h.to) first = false;
          }
          if (first) return true;
        }
      }
      return false;
    },
    allowed() {
      if (violation) return [];
      const seen = new Map<string, AuraMessage>();
      for (const c of configs) {
        if (c.pending.length) continue;
        for (const t of out.get(c.q) ?? []) if (c.ahead.every((h) => independent(h, t.action))) seen.set(key(t.action), t.action);
        const firstByRole = new Set<string>();
        for (const h of c.ahead) {
          if (!firstByRole.has(h.from) && !firstByRole.has(h.to)) seen.set(key(h), h);
          firstByRole.add(h.from);
          firstByRole.add(h.to);
        }
      }
      return [...seen.values()];
    },
  };
}

/** A monitor of one role: its CFSM stepped on the messages it sends (`!`) and receives (`?`). */
export function createRoleMonitor(c: Cfsm): AuraMonitor & { readonly state: number } {
  let state = 0;
  let violation: MonitorViolation | undefined;
  let index = 0;
  return {
    get violation() {
      return violation;
    },
    get state() {
      return state;
    },
    feed(m) {
      const i = index++;
      if (violation) return undefined;
      let action: RoleAction;
      if (m.from === c.role) action = { dir: '!', peer: m.to, label: m.label };
      else if (m.to === c.role) action = { dir: '?', peer: m.from, label: m.label };
      else return undefined;
      const t = c.transitions.find((x) => x.from === state && roleActionText(x.action) === roleActionText(action));
      if (!t) {
        violation = {
          index: i, message: m, states: [`${c.role}:s${state}`],
          allowed: c.transitions.filter((x) => x.from === state).map((x) => roleActionText(x.action)),
        };
        return violation;
      }
      state = t.to;
      return undefined;
    },
    complete() {
      return !violation && c.finals.includes(state);
    },
  };
}

/** The composition of per-role monitors: a message is fine when every role's monitor accepts it. */
export function createComposedMonitor(cfsms: readonly Cfsm[]): AuraMonitor {
  const ms = cfsms.map(createRoleMonitor);
  const roles = new Set(cfsms.map((c) => c.role));
  let violation: MonitorViolation | undefined;
  let index = 0;
  return {
    get violation() {
      return violation;
    },
    feed(m) {
      const i = index++;
      if (violation) return undefined;
      if (!roles.has(m.from) || !roles.has(m.to) || m.from === m.to) {
        violation = { index: i, message: m, states: ms.map((r, k) => `${cfsms[k]!.role}:s${r.state}`), allowed: [] };
        return violation;
      }
      for (const r of ms) {
        const v = r.feed(m);
        if (v) {
          violation = v;
          return v;
        }
      }
      return undefined;
    },
    complete() {
      return !violation && ms.every((r) => r.complete());
    },
  };
}

/** Runs a monitor over a whole trace: the first violation (or undefined) and whether the trace is complete. */
export function runMonitor(m: AuraMonitor, trace: readonly AuraMessage[]): { violation?: MonitorViolation; complete: boolean } {
  for (const e of trace) {
    const v = m.feed(e);
    if (v) return { violation: v, complete: false };
  }
  return { complete: m.complete() };
}
