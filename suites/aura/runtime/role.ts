/**
 * The Aura role runtime (suites/aura/SPEC.md §16): executes one role's
 * projection (its local type, §12) message by message. Sans-I/O: messages
 * in, messages out, time passed in as µs values; no sockets, no clock.
 *
 * The role runs as a set of threads (one per open `parallel` branch), each
 * at a position of the local type:
 * - `q!L`: the message is produced at once (payload from the policy);
 * - `q?L`, `&{…}`: the thread waits for a message that one branch starts with;
 * - `+{…}`: the role decides: a `for` over a range known from the session's
 *   params counts its iterations; a choice whose every branch starts by
 *   receiving is decided by data the role shares with the sender, so the
 *   role waits and is told; otherwise the policy picks a branch;
 * - `~{body | handler}` (timeout, §9): the observer waits up to the
 *   duration for the body's first message, then takes the handler; a role
 *   that races the observer by sending either sends (policy: `send`) or
 *   stays silent and waits for the handler's first message. A message that
 *   crossed the decision (AURA-9.2) is dropped when it arrives.
 */
import type { Field } from '../ast.js';
import type { Cfsm } from '../cfsm.js';
import type { ChoiceOrigin, L } from '../local.js';
import { branchForValue, subjectPath, valueForBranch, type DataChoice, type DataDecisions } from './data.js';
import type { AuraPayload } from './wire.js';

/** A message as the runtime sees it: sender and receiver roles, label, payload. */
export interface RuntimeMessage {
  readonly from: string;
  readonly to: string;
  readonly label: string;
  readonly payload: AuraPayload;
}

/**
 * A decision a policy makes for a role. `options` describe each branch by
 * what the role does first (`Peer!Label`, `Peer?Label`, `end`); `tags` are
 * the global choice's branch tags when known (a pattern, `exit`,
 * `iterate`, `$fail`, …). For a timeout race the options are
 * `['wait', 'give-up']` (the observer) or `['send', 'silent']` (a role
 * racing it).
 */
export interface Decision {
  readonly role: string;
  readonly kind: 'select' | 'race';
  readonly options: readonly string[];
  readonly tags?: readonly string[];
  /** Source position of the global choice (`line:col`), when known. */
  readonly at?: string;
  /** How many decisions this role made before in the session (0-based). */
  readonly seq: number;
}

/** Supplies a role's decisions and message values. */
export interface AuraPolicy {
  /** The index of the branch to take, in `[0, options.length)`. */
  decide(d: Decision): number;
  /** The payload of a message the role sends (one value per declared field). */
  payload(role: string, to: string, label: string, fields: readonly Field[]): AuraPayload;
}

/** What the machine owes or waits for, for reports: `Peer!Label`, `Peer?Label`. */
export type Expectation = string;

/** Options of a {@link RoleMachine}. */
export interface RoleMachineOptions {
  /** The session's params (PROTOCOLS start frame): numbers among them bound `for` loops. */
  readonly params?: Readonly<Record<string, unknown>>;
  /** Replaces every timeout duration of the choreography (ms); default: as written. */
  readonly timeoutMs?: number;
  /** Fault: at a choice it is told about, the role picks a branch itself and skips the first receive (a non-chooser choosing). */
  readonly chooseWhenTold?: boolean;
  /** Fault: a message that races an observer's timeout is held this long past the timeout (ms). */
  readonly lateMs?: number;
  /** Told of every message the role sends (`!`), takes (`?`) or drops after a crossing (`drop`), in its own order. */
  readonly log?: (dir: '!' | '?' | 'drop', m: RuntimeMessage) => void;
  /** The role's CFSM (its projection's state machine): tells an early message from one that can never come. */
  readonly cfsm?: Cfsm;
  /** Choices on data by field (data.ts `collectDataChoices`): the sender of such a field decides by its value. */
  readonly dataChoices?: ReadonlyMap<string, DataChoice>;
  /**
   * The decisions values made, as this role sees them (data.ts; one tracker per machine, fed by the
   * machine): a queued message that starts an arm other than the one the data decided can never be
   * taken, a break of the choreography (AURA-16.4, 16.5) though its label fits the role's CFSM.
   */
  readonly dataDecisions?: DataDecisions;
}

type Env = ReadonlyMap<number, L>;
type ChoiceL = Extract<L, { k: 'select' | 'offer' | 'race' }>;
interface Join {
  left: number;
  readonly next: L;
  readonly env: Env;
  readonly parent: Join | undefined;
}
interface Thread {
  t: L;
  env: Env;
  join: Join | undefined;
  /** A timeout race being waited on: its deadline (µs). */
  deadline?: number;
  /** A send held until this time (µs; the late-reply fault). */
  notBefore?: number;
}

/** Result of feeding a message to a role. */
export type ReceiveResult =
  | { readonly ok: true; readonly dropped?: boolean }
  | { readonly ok: false; readonly expected: readonly Expectation[] };

const outgoingCache = new WeakMap<Cfsm, Map<number, Cfsm['transitions'][number][]>>();
/** A CFSM's transitions by source state. */
function outgoing(c: Cfsm): Map<number, Cfsm['transitions'][number][]> {
  let m = outgoingCache.get(c);
  if (!m) {
    m = new Map();
    for (const tr of c.transitions) {
      const l = m.get(tr.from) ?? [];
      l.push(tr);
      m.set(tr.from, l);
    }
    outgoingCache.set(c, m);
  }
  return m;
}

const ACT = (dir: '!' | '?', peer: string, label: string) => `${peer}${dir}${label}`;

/** What a local type does first, through choices, loops and parallel branches (`Peer!L`, `Peer?L`, `end`). */
export function firstActions(t: L, env: Env = new Map(), seen: Set<L> = new Set()): string[] {
  if (seen.has(t)) return [];
  seen.add(t);
  switch (t.k) {
    case 'end': return ['end'];
    case 'send': return [ACT('!', t.peer, t.label)];
    case 'recv': return [ACT('?', t.peer, t.label)];
    case 'select': case 'offer': case 'race': return [...new Set(t.branches.flatMap((b) => firstActions(b, env, seen)))];
    case 'rec': { const e = new Map(env); e.set(t.id, t); return firstActions(t.body, e, seen); }
    case 'var': { const r = env.get(t.id); return r ? firstActions(r, env, seen) : []; }
    case 'par': {
      const fs = t.branches.flatMap((b) => firstActions(b, env, seen));
      const all = fs.filter((f) => f !== 'end');
      return all.length ? all : firstActions(t.next, env, seen);
    }
  }
}

/**
 * One role's running projection. Feed it the messages addressed to it
 * ({@link receive}) and ask it what to send ({@link poll}); `t` is in µs and
 * only grows.
 */
export class RoleMachine {
  private threads: Thread[];
  private decisions = 0;
  private readonly visits = new Map<string, number>();
  /** Messages that may still arrive after a crossed timeout decision (AURA-9.2): `Peer?Label`. */
  private readonly droppable: string[] = [];
  private readonly opts: RoleMachineOptions;

  constructor(
    readonly role: string,
    local: L,
    private readonly policy: AuraPolicy,
    opts: RoleMachineOptions = {},
  ) {
    this.opts = opts;
    this.threads = [{ t: local, env: new Map(), join: undefined }];
  }

  /** True when every thread of the role reached `end`. */
  get done(): boolean {
    return this.threads.length === 0;
  }

  /** What the role waits for or is about to do, for reports. */
  expected(): Expectation[] {
    return [...new Set(this.threads.flatMap((th) => firstActions(th.t, th.env)))].filter((x) => x !== 'end');
  }

  /** The earliest time (µs) at which {@link poll} does something new (a timeout, a held send). */
  nextTimer(): number | undefined {
    let best: number | undefined;
    for (const th of this.threads) {
      for (const x of [th.deadline, th.notBefore]) if (x !== undefined && (best === undefined || x < best)) best = x;
    }
    return best;
  }

  /** Runs the role as far as it can go at time `t` without input; returns the messages it sends, in order. */
  poll(t: number): RuntimeMessage[] {
    const out: RuntimeMessage[] = [];
    for (let progress = true; progress; ) {
      progress = false;
      for (const th of [...this.threads]) {
        if (!this.threads.includes(th)) continue;
        const before = this.threads.length;
        this.normalize(th, t);
        if (!this.threads.includes(th) || this.threads.length !== before) { progress = true; continue; }
        const x = th.t;
        if (x.k === 'send') {
          if (th.notBefore !== undefined && t < th.notBefore) continue;
          th.notBefore = undefined;
          const msg = { from: this.role, to: x.peer, label: x.label, payload: this.payload(x) };
          out.push(msg);
          this.opts.dataDecisions?.note(msg);
          this.opts.log?.('!', msg);
          this.step('!', x.peer, x.label);
          th.t = x.next;
          progress = true;
        } else if (x.k === 'race' && th.deadline !== undefined && t >= th.deadline) {
          th.deadline = undefined;
          this.droppable.push(...firstActions(x.branches[0]!, th.env).filter((a) => a.includes('?')));
          th.t = x.branches[1]!;
          progress = true;
        }
      }
      if (!progress && !this.failure && this.drain(t)) progress = true;
    }
    return out;
  }

  /**
   * Feeds a message addressed to this role, at time `t` (µs). Messages are
   * queued per sender (FIFO per peer, as the asynchronous semantics of
   * projections assumes): a message from a peer the role is not waiting on
   * yet waits in its queue. It is a break of the choreography when it can
   * never be taken: the role's CFSM (its projection) has no path on which
   * it is the next message received from that peer.
   */
  receive(m: RuntimeMessage, t: number): ReceiveResult {
    let q = this.queues.get(m.from);
    if (!q) this.queues.set(m.from, (q = []));
    q.push(m);
    this.drain(t);
    return this.failure ?? { ok: true };
  }

  /** Set once a queued message can never be taken (a break of the choreography). */
  get violation(): Extract<ReceiveResult, { ok: false }> | undefined {
    return this.failure;
  }

  private failure: Extract<ReceiveResult, { ok: false }> | undefined;
  private readonly queues = new Map<string, RuntimeMessage[]>();

  /** Takes every queued message that can be taken now; flags one that never can. Returns true when something was taken. */
  private drain(t: number): boolean {
    let any = false;
    for (let progress = true; progress && !this.failure; ) {
      progress = false;
      this.normalizeAll(t);
      for (const [peer, q] of this.queues) {
        if (q.length === 0) continue;
        const m = q[0]!;
        const want = ACT('?', peer, m.label);
        const th = [...this.threads].find((x) => this.threads.includes(x) && this.accept(x, want, t));
        if (th) {
          q.shift();
          this.opts.dataDecisions?.note(m);
          this.opts.log?.('?', m);
          for (const [k, v] of Object.entries(m.payload)) this.known.set(k, v);
          this.step('?', peer, m.label);
          progress = any = true;
          break;
        }
        const d = this.droppable.indexOf(want);
        if (d >= 0) {
          this.droppable.splice(d, 1);
          q.shift();
          this.opts.log?.('drop', m);
          progress = any = true;
          break;
        }
      }
    }
    if (!this.failure) {
      for (const [peer, q] of this.queues) {
        if (q.length && (!this.canComeLater(peer, q[0]!.label) || this.opts.dataDecisions?.check(q[0]!) !== undefined)) {
          this.failure = { ok: false, expected: this.expected() };
          break;
        }
      }
    }
    return any;
  }

  private cstate = 0;

  /** Steps the role's CFSM (when given) on an action it performed. */
  private step(dir: '!' | '?', peer: string, label: string): void {
    const c = this.opts.cfsm;
    if (!c) return;
    const tr = outgoing(c).get(this.cstate)?.find((x) => x.action.dir === dir && x.action.peer === peer && x.action.label === label);
    if (tr) this.cstate = tr.to;
  }

  /** True when `peer?label` can be the next message taken from `peer` on some path of the CFSM from here (no CFSM: true while the role runs). */
  private canComeLater(peer: string, label: string): boolean {
    const c = this.opts.cfsm;
    if (!c) return !this.done;
    const seen = new Set<number>([this.cstate]);
    const stack = [this.cstate];
    const out = outgoing(c);
    while (stack.length) {
      const q = stack.pop()!;
      for (const tr of out.get(q) ?? []) {
        if (tr.action.dir === '?' && tr.action.peer === peer) {
          if (tr.action.label === label) return true;
          continue;
        }
        if (!seen.has(tr.to)) { seen.add(tr.to); stack.push(tr.to); }
      }
    }
    return false;
  }

  /** Normalizes every thread (opening parallel branches may add threads). */
  private normalizeAll(t: number): void {
    for (let changed = true; changed; ) {
      changed = false;
      for (const th of [...this.threads]) {
        if (!this.threads.includes(th)) continue;
        const n = this.threads.length;
        this.normalize(th, t);
        if (this.threads.length !== n) changed = true;
      }
    }
  }

  /** Tries to consume receive `want` in thread `th` (whose head is normalized). */
  private accept(th: Thread, want: string, t: number): boolean {
    const x = th.t;
    if (x.k === 'recv') {
      if (ACT('?', x.peer, x.label) !== want) return false;
      th.t = x.next;
      th.deadline = undefined;
      return true;
    }
    if (x.k === 'offer' || x.k === 'race') {
      const branches = x.k === 'race' ? x.branches.slice(0, th.deadline !== undefined || firstActions(x.branches[0]!, th.env).some((a) => a.includes('?')) ? 1 : 2) : x.branches;
      for (const b of branches) {
        if (!firstActions(b, th.env).includes(want)) continue;
        const saved = { t: th.t, deadline: th.deadline };
        th.t = b;
        th.deadline = undefined;
        this.normalize(th, t);
        if (this.threads.includes(th) && this.accept(th, want, t)) return true;
        th.t = saved.t;
        th.deadline = saved.deadline;
      }
    }
    return false;
  }

  /** Unfolds loops, opens parallel branches, ends threads, makes decisions, until the head is an action or a wait. */
  private normalize(th: Thread, t: number): void {
    for (let guard = 0; guard < 10_000; guard++) {
      const x = th.t;
      switch (x.k) {
        case 'rec': {
          const e = new Map(th.env);
          e.set(x.id, x);
          th.env = e;
          th.t = x.body;
          continue;
        }
        case 'var': {
          const r = th.env.get(x.id);
          if (!r) throw new Error(`role ${this.role}: free recursion variable X${x.id}`);
          th.t = r;
          continue;
        }
        case 'par': {
          const join: Join = { left: x.branches.length, next: x.next, env: th.env, parent: th.join };
          const i = this.threads.indexOf(th);
          const spawned = x.branches.map((b) => ({ t: b, env: th.env, join }));
          this.threads.splice(i, 1, ...spawned);
          // Keep normalizing the first spawned thread in place of `th`.
          Object.assign(th, spawned[0]);
          this.threads[i] = th;
          continue;
        }
        case 'end': {
          const j = th.join;
          if (j && --j.left === 0) {
            th.t = j.next;
            th.env = j.env;
            th.join = j.parent;
            continue;
          }
          this.threads.splice(this.threads.indexOf(th), 1);
          return;
        }
        case 'select': {
          const i = this.select(x, th.env);
          if (i === 'told') {
            // Decided on data the role shares with the sender: it waits and is told by the first message.
            let off = this.offers.get(x);
            if (!off) this.offers.set(x, (off = { k: 'offer', branches: x.branches }));
            th.t = off;
            return;
          }
          th.t = x.branches[i]!;
          continue;
        }
        case 'offer': {
          if (this.opts.chooseWhenTold) {
            const b = x.branches[0]!;
            th.t = b.k === 'recv' ? b.next : b;
            continue;
          }
          return;
        }
        case 'race': {
          if (th.deadline !== undefined) return;
          const observer = firstActions(x.branches[0]!, th.env).some((a) => a.includes('?'));
          const ms = this.opts.timeoutMs ?? x.ms ?? 0;
          const choice = this.decide({ kind: 'race', options: observer ? ['wait', 'give-up'] : ['send', 'silent'], ...(x.origin ? { origin: x.origin } : {}) });
          if (observer) {
            if (choice === 1) {
              this.droppable.push(...firstActions(x.branches[0]!, th.env).filter((a) => a.includes('?')));
              th.t = x.branches[1]!;
              continue;
            }
            th.deadline = t + ms * 1000;
            return;
          }
          if (choice === 0) {
            this.droppable.push(...firstActions(x.branches[1]!, th.env).filter((a) => a.includes('?')));
            th.t = x.branches[0]!;
            if (this.opts.lateMs !== undefined) th.notBefore = t + (ms + this.opts.lateMs) * 1000;
            continue;
          }
          th.t = x.branches[1]!;
          continue;
        }
        default:
          return;
      }
    }
    throw new Error(`role ${this.role}: the local type does not reach an action (unguarded loop)`);
  }

  /** Picks a branch of a select, or `told` when every branch starts by receiving (the role waits to be told). */
  private select(x: ChoiceL, env: Env): number | 'told' {
    const o = x.origin;
    if (o?.kind === 'for' && o.range) {
      const n = this.rangeCount(o);
      if (n !== undefined) {
        const key = `${o.pos.line}:${o.pos.col}`;
        const v = this.visits.get(key) ?? 0;
        const tag = v < n ? 'iterate' : 'exit';
        const i = o.tags.indexOf(tag);
        if (i >= 0) {
          this.visits.set(key, tag === 'exit' ? 0 : v + 1);
          return i;
        }
      }
    }
    if (o?.subject !== undefined && (o.kind === 'match' || o.kind === 'if' || o.kind === 'loop')) {
      const sp = subjectPath(o.subject);
      if (sp && this.known.has(sp.field)) {
        const gi = branchForValue(o.kind, o.allTags, this.known.get(sp.field), sp.path);
        if (gi !== undefined && o.branchOf[gi] !== undefined && o.branchOf[gi]! >= 0) return o.branchOf[gi]!;
      }
    }
    const firsts = x.branches.map((b) => firstActions(b, env));
    if (firsts.every((f) => f.length > 0 && f.every((a) => a.includes('?')))) return 'told';
    return this.decide({ kind: 'select', options: firsts.map((f) => f.join(',')), ...(o ? { origin: o } : {}) });
  }

  private readonly offers = new Map<L, L>();
  /** Field values this role sent or received (the data it knows, SPEC §6). */
  private readonly known = new Map<string, unknown>();

  /** The payload of a send: the policy's values, and for a field a later choice decides on, a value selecting the branch the policy picks. */
  private payload(x: Extract<L, { k: 'send' | 'recv' }>): AuraPayload {
    const p: Record<string, unknown> = { ...this.policy.payload(this.role, x.peer, x.label, x.fields) };
    for (const f of x.fields) {
      const c = this.opts.dataChoices?.get(f.name);
      if (!c) continue;
      const i = this.decide({ kind: 'select', options: [...c.tags], origin: undefined, tags: c.tags, at: c.at });
      p[f.name] = valueForBranch(c, i);
    }
    for (const [k, v] of Object.entries(p)) this.known.set(k, v);
    return p;
  }

  private decide(d: { kind: 'select' | 'race'; options: string[]; origin?: ChoiceOrigin | undefined; tags?: readonly string[]; at?: string }): number {
    const i = this.policy.decide({
      role: this.role, kind: d.kind, options: d.options, seq: this.decisions++,
      ...(d.origin ? { tags: d.origin.tags, at: `${d.origin.pos.line}:${d.origin.pos.col}` } : {}),
      ...(d.tags ? { tags: d.tags } : {}), ...(d.at ? { at: d.at } : {}),
    });
    if (!Number.isInteger(i) || i < 0 || i >= d.options.length) throw new RangeError(`role ${this.role}: policy chose ${i} of ${d.options.length} options (${d.options.join(' | ')})`);
    return i;
  }

  /** Iterations of a `for` over a range, from integer literals and numeric params; undefined when not known. */
  private rangeCount(o: ChoiceOrigin): number | undefined {
    const val = (s: string): number | undefined => {
      if (/^-?\d[\d_]*$/.test(s)) return Number(s.replace(/_/g, ''));
      const p = this.opts.params?.[s];
      return typeof p === 'number' && Number.isInteger(p) ? p : undefined;
    };
    const a = val(o.range!.from);
    const b = val(o.range!.to);
    return a === undefined || b === undefined ? undefined : Math.max(0, b - a + (o.range!.inclusive ? 1 : 0));
  }
}
