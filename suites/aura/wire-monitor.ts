/**
 * The engine's monitor for Aura (harness/engine/types.ts `Monitor`; SPEC
 * §16): decodes the frames of every session (one client bidirectional
 * stream each) and judges the messages with the global monitor of the
 * profile's choreography (AURA-13.1), as the harness sees them: messages
 * between two roles of one side never travel, so they are hidden (ε) in the
 * automaton the monitor steps. Which roles are the target's is read from
 * each session's start frame (`"you"`), so a recorded trace validates
 * offline with only the choreography (the trace header's profile).
 *
 * Pure: trace events in, violations out; time from the events.
 */
import type { TraceEvent } from '../../harness/engine/trace.js';
import type { Monitor, Violation } from '../../harness/engine/types.js';
import { buildGlobalAutomaton, globalActionText, hideActions, roleActionText, type Automaton, type GlobalAction, type RoleAction } from './cfsm.js';
import { loadChoreography } from './choreography.js';
import type { AuraCheck } from './language.js';
import { globalMonitorOf, type AuraMessage, type AuraMonitor } from './monitor.js';
import type { AuraProfile } from './profile.js';
import { payloadProblem } from './runtime/values.js';
import { DataDecisions, type DataContradiction } from './runtime/data.js';
import { AURA_PROTOCOL_VIOLATION, AuraFrameDecoder, AuraFrameError, isStart, type AuraFrame, type StartFrame } from './runtime/wire.js';
import { fieldsOfMessage } from './runtime/fields.js';

const US = 1000;

/** A message with its payload (the values decide data choices, AURA-16.5). */
type PayloadMessage = AuraMessage & { readonly payload: Readonly<Record<string, unknown>> };

/** Text of a data contradiction, for violations and deviations. */
const contradictionText = (d: DataContradiction): string => `the value of ${d.field} decided the arm ${d.branch} (choice at ${d.at}), which starts with ${d.expected.join(' or ') || 'nothing'}`;

interface Msg {
  readonly m: AuraMessage;
  readonly t: number;
  readonly side: 'harness' | 'target';
}

interface SessionState {
  readonly conn: number;
  readonly stream: number;
  readonly c2s: AuraFrameDecoder;
  readonly s2c: AuraFrameDecoder;
  start?: StartFrame;
  target?: ReadonlySet<string>;
  automaton?: Automaton<GlobalAction>;
  mon?: AuraMonitor;
  readonly msgs: Msg[];
  /** The allowed next messages of target roles, as of `owedAt` accepted messages (the monitor only moves on accept). */
  owed?: readonly AuraMessage[];
  owedAt?: number;
  /** Views of the target's roles (their CFSMs, messages between target roles hidden): what each role can observe. */
  roleViews?: Map<string, RoleView>;
  /** Harness messages sent before the choreography lets them be taken, that their receiver will take later (per-sender FIFO). */
  readonly early: PayloadMessage[];
  /** The decisions the values seen so far made (AURA-16.5; data.ts): the label automaton does not see values. */
  data?: DataDecisions;
  /** Time (µs) of the harness's message the choreography does not allow: the target owes a reset (AURA-16.4). */
  deviatedAt?: number;
  deviation?: string;
  resetSeen: boolean;
  /** The target ended the session (FIN or reset) or the harness reset it. */
  ended: boolean;
  lastAt: number;
  /** The harness's start frame names another protocol, or a frame was malformed: the target owes a connection close 0x1 (AURA-16.1, 16.2). */
  closeOwedAt?: number;
  closeWhy?: string;
}

/** Cache of the hidden automata by choreography and target roles. */
const automata = new WeakMap<AuraCheck, Map<string, Automaton<GlobalAction>>>();

function automatonFor(check: AuraCheck, target: ReadonlySet<string>): Automaton<GlobalAction> {
  let m = automata.get(check);
  if (!m) automata.set(check, (m = new Map()));
  const k = [...target].sort().join(',');
  let a = m.get(k);
  if (!a) {
    const side = (r: string) => target.has(r);
    a = hideActions(buildGlobalAutomaton(check.global), (x) => side(x.from) === side(x.to), globalActionText);
    m.set(k, a);
  }
  return a;
}

/** Violation rules (SPEC §13, §16). */
export const AURA_RULES = {
  malformed: 'AURA-16.1',
  start: 'AURA-16.2',
  sides: 'AURA-16.3',
  reset: 'AURA-16.4',
  payload: 'AURA-16.5',
  progress: 'AURA-16.6',
  global: 'AURA-13.1',
} as const;

/** The Aura monitor of a profile (its choreography loaded once). */
export class AuraWireMonitor implements Monitor {
  private readonly check: AuraCheck;
  private readonly sessions = new Map<string, SessionState>();
  private violated = false;
  private lastDecoded: Readonly<Record<string, unknown>>[] | undefined;
  private readonly waitUs: number;
  private readonly replyUs: number;
  private readonly crossingUs: number;
  private readonly toleranceUs: number;

  /** @throws RangeError when the profile's choreography cannot be read or is not well-formed */
  constructor(profile: AuraProfile, check?: AuraCheck) {
    this.check = check ?? loadChoreography(profile.choreography);
    this.replyUs = profile.replyDeadlineMs * US;
    this.crossingUs = profile.crossingMs * US;
    this.toleranceUs = profile.toleranceMs * US;
    this.waitUs = hasTimeout(this.check.global) ? (profile.timeoutMs || maxTimeout(this.check.global)) * US : 0;
  }

  decoded(): readonly Readonly<Record<string, unknown>>[] | undefined {
    return this.lastDecoded;
  }

  feed(ev: TraceEvent, index: number): readonly Violation[] {
    this.lastDecoded = undefined;
    const out = this.advance(ev.t);
    if (out.length) return out;
    switch (ev.type) {
      case 'data': {
        const s = this.session(ev.conn, ev.stream);
        const dec = ev.dir === 'c2s' ? s.c2s : s.s2c;
        let frames: AuraFrame[];
        try {
          frames = ev.hex ? dec.push(Buffer.from(ev.hex, 'hex')) : [];
        } catch (e) {
          if (!(e instanceof AuraFrameError)) throw e;
          if (ev.dir === 's2c') return this.fail(AURA_RULES.malformed, index, ev.t, 'frames [len:u32 BE][UTF-8 JSON object] (PROTOCOLS)', e.message, s);
          s.closeOwedAt ??= ev.t;
          s.closeWhy = `the harness sent a malformed frame (${e.message})`;
          return [];
        }
        this.lastDecoded = frames as unknown as Record<string, unknown>[];
        for (const f of frames) {
          const v = ev.dir === 'c2s' ? this.harnessFrame(s, f, ev.t) : this.targetFrame(s, f, ev.t, index);
          if (v.length) return v;
        }
        return [];
      }
      case 'stream_reset': {
        const s = this.sessions.get(`${ev.conn}/${ev.stream}`);
        if (!s) return [];
        if (ev.dir === 'c2s' && ev.kind === 'reset') { s.ended = true; return []; }
        if (ev.dir === 's2c' && ev.kind === 'reset') {
          // A connection close owed (or under way) ends its streams: not a session reset.
          if (s.closeOwedAt !== undefined || !s.mon) return [];
          s.ended = true;
          if (s.deviatedAt === undefined) return this.fail(AURA_RULES.reset, index, ev.t, `the session goes on (${this.nextText(s)})`, `RESET_STREAM 0x${ev.code.toString(16)} though the harness kept to the choreography`, s);
          if (ev.code !== AURA_PROTOCOL_VIOLATION) return this.fail(AURA_RULES.reset, index, ev.t, 'RESET_STREAM with code 0x1 (PROTOCOL_VIOLATION)', `RESET_STREAM code 0x${ev.code.toString(16)}`, s);
          s.resetSeen = true;
        }
        return [];
      }
      case 'stream_fin':
        return [];
      case 'conn_close': {
        const mine = [...this.sessions.values()].filter((x) => x.conn === ev.conn);
        if (ev.by === 'client') { mine.forEach((x) => (x.ended = true)); return []; }
        const owedClose = mine.find((x) => x.closeOwedAt !== undefined);
        if (owedClose) {
          mine.forEach((x) => { x.ended = true; x.closeOwedAt = undefined; });
          if (!ev.isApp || ev.code !== AURA_PROTOCOL_VIOLATION) return this.fail(owedClose.closeWhy?.includes('protocol') ? AURA_RULES.start : AURA_RULES.malformed, index, ev.t, 'connection close with application code 0x1', `close ${ev.isApp ? 'app' : 'transport'} 0x${ev.code.toString(16)}`, owedClose);
          return [];
        }
        for (const x of mine) {
          const owes = this.owes(x);
          x.ended = true;
          if (owes) return this.fail(x.deviatedAt !== undefined ? AURA_RULES.reset : AURA_RULES.progress, index, ev.t, owes, `the target closed the connection (0x${ev.code.toString(16)} ${JSON.stringify(ev.reason)})`, x);
        }
        return [];
      }
      default:
        return [];
    }
  }

  advance(t: number): readonly Violation[] {
    if (this.violated) return [];
    for (const s of this.sessions.values()) {
      const d = this.deadlineOf(s);
      if (d !== undefined && t > d) {
        const owes = this.owes(s)!;
        return this.fail(s.closeOwedAt !== undefined ? (s.closeWhy?.includes('protocol') ? AURA_RULES.start : AURA_RULES.malformed) : s.deviatedAt !== undefined ? AURA_RULES.reset : AURA_RULES.progress, -1, d, owes, `nothing within ${Math.round((d - s.lastAt) / US)} ms`, s, true);
      }
    }
    return [];
  }

  nextDeadline(): number | undefined {
    let best: number | undefined;
    for (const s of this.sessions.values()) {
      const d = this.deadlineOf(s);
      if (d !== undefined && (best === undefined || d < best)) best = d;
    }
    return best === undefined ? undefined : best + 1;
  }

  settled(): boolean {
    return [...this.sessions.values()].every((s) => this.owes(s) === undefined);
  }

  describe(): string {
    const parts = [...this.sessions.values()].map((s) => `${s.conn}/${s.stream}: ${s.start ? `${s.start.start} (target ${[...(s.target ?? [])].join(',')})` : 'not started'}; ${s.deviatedAt !== undefined ? `harness deviated (${s.deviation}); ${s.resetSeen ? 'reset seen' : 'reset owed'}` : `next: ${this.nextText(s)}${s.mon?.complete() ? ' (complete)' : ''}`}`);
    return parts.join(' | ') || 'no session';
  }

  private session(conn: number, stream: number): SessionState {
    const k = `${conn}/${stream}`;
    let s = this.sessions.get(k);
    if (!s) {
      s = { conn, stream, c2s: new AuraFrameDecoder(), s2c: new AuraFrameDecoder(false), msgs: [], early: [], resetSeen: false, ended: false, lastAt: 0 };
      this.sessions.set(k, s);
    }
    return s;
  }

  private harnessFrame(s: SessionState, f: AuraFrame, t: number): readonly Violation[] {
    s.lastAt = t;
    if (isStart(f)) {
      if (s.start) { s.deviatedAt ??= t; s.deviation = 'a second start frame'; return []; }
      s.start = f;
      if (f.start !== this.check.protocol) {
        s.closeOwedAt = t;
        s.closeWhy = `the start frame names protocol ${JSON.stringify(f.start)}, not ${this.check.protocol}`;
        return [];
      }
      s.target = new Set(Object.entries(f.roles).filter(([, x]) => x === 'you').map(([r]) => r));
      s.automaton = automatonFor(this.check, s.target);
      s.mon = globalMonitorOf(s.automaton);
      s.data = new DataDecisions(this.check.global);
      s.roleViews = new Map([...s.target].map((r) => [r, new RoleView(roleAutomaton(this.check, r, s.target!))]));
      return [];
    }
    if (!s.mon || s.deviatedAt !== undefined) return [];
    const m = { from: f.from, to: f.to, label: f.label, payload: f.payload };
    if (this.crossed(s, m, t, 'harness')) return [];
    const contra = s.data!.check(m);
    if (contra) {
      // AURA-16.4, 16.5: a message of another arm than the one the value decided is one the choreography does not allow here.
      s.deviatedAt = t;
      s.deviation = `${globalActionText(m)} where ${contradictionText(contra)}`;
      return [];
    }
    const view = s.roleViews!.get(m.to);
    // FIFO per sender and receiver: behind an early message of the same pair, this one is early too.
    const behind = s.early.some((e) => e.from === m.from && e.to === m.to);
    if (!behind && this.accept(s, m, t, 'harness')) {
      this.retryEarly(s, t);
      return [];
    }
    if (view && view.canComeLater(m.from, m.label)) {
      s.early.push(m);
      return [];
    }
    s.deviatedAt = t;
    s.deviation = `${globalActionText(m)} where ${s.mon.allowed!().map(globalActionText).join(', ') || 'nothing'} was allowed`;
    return [];
  }

  /** Feeds `m` to the global monitor and the views; false (nothing changed) when the global monitor rejects it. */
  private accept(s: SessionState, m: PayloadMessage, t: number, side: 'harness' | 'target'): boolean {
    if (!s.mon!.allows!(m) || s.data!.check(m)) return false;
    s.mon!.feed(m);
    s.data!.note(m);
    s.roleViews?.get(m.to)?.step('?', m.from, m.label);
    s.roleViews?.get(m.from)?.step('!', m.to, m.label);
    s.msgs.push({ m, t, side });
    return true;
  }

  /** Feeds early harness messages that the protocol now allows (oldest first, per pair). */
  private retryEarly(s: SessionState, t: number): void {
    if (s.early.length === 0) return;
    for (let moved = true; moved; ) {
      moved = false;
      const heads = new Set<string>();
      for (let i = 0; i < s.early.length; i++) {
        const e = s.early[i]!;
        const pair = `${e.from}>${e.to}`;
        if (heads.has(pair)) continue;
        heads.add(pair);
        const contra = s.data!.check(e);
        if (contra) {
          // Sent early, before the value that decided against its arm (AURA-16.5): now it can never be taken (AURA-16.4).
          s.deviatedAt = t;
          s.deviation = `${globalActionText(e)} (sent early) where ${contradictionText(contra)}`;
          s.early.length = 0;
          return;
        }
        if (this.accept(s, e, t, 'harness')) {
          s.early.splice(i, 1);
          moved = true;
          break;
        }
      }
    }
  }

  private targetFrame(s: SessionState, f: AuraFrame, t: number, index: number): readonly Violation[] {
    if (isStart(f)) return this.fail(AURA_RULES.start, index, t, 'messages only (the harness starts sessions)', 'a start frame from the target', s);
    if (!s.mon || !s.target || s.deviatedAt !== undefined || s.closeOwedAt !== undefined) return [];
    s.lastAt = t;
    const m = { from: f.from, to: f.to, label: f.label, payload: f.payload };
    this.retryEarly(s, t);
    if (!s.target.has(f.from) || s.target.has(f.to) || !this.check.roles.includes(f.to)) {
      return this.fail(AURA_RULES.sides, index, t, `a message from a target role (${[...s.target].join(', ')}) to a harness role`, `${f.from}→${f.to}:${f.label}`, s);
    }
    if (this.crossed(s, m, t, 'target')) return [];
    const contra = s.data!.check(m);
    if (contra) return this.fail(AURA_RULES.payload, index, t, contradictionText(contra), globalActionText(m), s);
    if (!this.accept(s, m, t, 'target')) return this.fail(AURA_RULES.global, index, t, s.mon.allowed!().map(globalActionText).join(', ') || 'nothing (the session is over)', `${globalActionText(m)}`, s);
    this.retryEarly(s, t);
    const fields = fieldsOfMessage(this.check, m);
    const problem = payloadProblem(fields, f.payload);
    if (problem) return this.fail(AURA_RULES.payload, index, t, `payload (${fields.map((x) => (x.type ? `${x.name}: ${x.type}` : x.name)).join(', ')})`, `${globalActionText(m)}: ${problem}`, s);
    return [];
  }

  /**
   * AURA-9.2: a message `m` from `side` that the monitor would reject, sent
   * within the crossing window after messages of the other side it could
   * not have seen yet (one of them, or `m`, a `$fail`), and allowed before
   * them, crossed them: it is dropped (the receiving role drops it too).
   */
  private crossed(s: SessionState, m: AuraMessage, t: number, side: 'harness' | 'target'): boolean {
    if (s.mon!.allows!(m)) return false;
    let i = s.msgs.length;
    while (i > 0 && s.msgs[i - 1]!.side !== side && t - s.msgs[i - 1]!.t <= this.crossingUs) i--;
    if (i === s.msgs.length) return false;
    if (m.label !== '$fail' && !s.msgs.slice(i).some((x) => x.m.label === '$fail')) return false;
    const replay = globalMonitorOf(s.automaton!);
    for (const x of s.msgs.slice(0, i)) replay.feed(x.m);
    return replay.allows!(m);
  }

  /** What the target owes in session `s` now, or undefined. */
  private owes(s: SessionState): string | undefined {
    if (s.closeOwedAt !== undefined) return `connection close 0x1 (${s.closeWhy})`;
    if (s.ended || !s.mon || !s.target) return undefined;
    if (s.deviatedAt !== undefined) return s.resetSeen ? undefined : `RESET_STREAM 0x1 after the harness's deviation (${s.deviation})`;
    const mine = this.owedMessages(s);
    if (mine.length === 0) return undefined;
    return `a message of the target: ${mine.map(globalActionText).join(' or ')}`;
  }

  /** The target's allowed next messages, recomputed only when the global monitor moved (it is checked on every trace event). */
  private owedMessages(s: SessionState): readonly AuraMessage[] {
    if (s.owed === undefined || s.owedAt !== s.msgs.length) {
      s.owed = s.mon!.allowed!().filter((a) => s.target!.has(a.from) && !s.data!.check(a));
      s.owedAt = s.msgs.length;
    }
    return s.owed;
  }

  /** Whether `s` owes something (as {@link owes}, without building its text). */
  private owing(s: SessionState): boolean {
    if (s.closeOwedAt !== undefined) return true;
    if (s.ended || !s.mon || !s.target) return false;
    if (s.deviatedAt !== undefined) return !s.resetSeen;
    return this.owedMessages(s).length > 0;
  }

  private deadlineOf(s: SessionState): number | undefined {
    if (this.violated || !this.owing(s)) return undefined;
    const from = s.closeOwedAt ?? s.deviatedAt ?? s.lastAt;
    return from + this.replyUs + this.waitUs + this.toleranceUs;
  }

  private nextText(s: SessionState): string {
    return s.mon ? s.mon.allowed!().map(globalActionText).join(', ') || 'nothing' : 'start frame';
  }

  private fail(rule: string, index: number, t: number, expected: string, seen: string, s: SessionState, missing = false): Violation[] {
    this.violated = true;
    return [{ rule, severity: 'must', index, t, expected, seen, state: `session ${s.conn}/${s.stream}: ${this.describeOne(s)}`, missing }];
  }

  private describeOne(s: SessionState): string {
    return `${s.msgs.length} messages; ${s.deviatedAt !== undefined ? `harness deviated (${s.deviation})` : `next: ${this.nextText(s)}`}`;
  }
}

const roleAutomata = new WeakMap<AuraCheck, Map<string, Automaton<RoleAction>>>();

/** The automaton of target role `role` as the wire shows it (its messages with other target roles hidden). */
function roleAutomaton(check: AuraCheck, role: string, target: ReadonlySet<string>): Automaton<RoleAction> {
  let m = roleAutomata.get(check);
  if (!m) roleAutomata.set(check, (m = new Map()));
  const k = `${role}|${[...target].sort().join(',')}`;
  let a = m.get(k);
  if (!a) {
    a = hideActions(check.projections.get(role)!.cfsm, (x) => target.has(x.peer), roleActionText);
    m.set(k, a);
  }
  return a;
}

/** One target role's state machine as the monitor tracks it: its state, and whether a message from a peer can still be taken. */
class RoleView {
  private state = 0;
  private readonly out = new Map<number, Automaton<RoleAction>['transitions'][number][]>();

  constructor(a: Automaton<RoleAction>) {
    for (const t of a.transitions) {
      const l = this.out.get(t.from) ?? [];
      l.push(t);
      this.out.set(t.from, l);
    }
  }

  step(dir: '!' | '?', peer: string, label: string): void {
    const t = this.out.get(this.state)?.find((x) => x.action.dir === dir && x.action.peer === peer && x.action.label === label);
    if (t) this.state = t.to;
  }

  /** True when `peer?label` can be the next message the role takes from `peer` on some path from here. */
  canComeLater(peer: string, label: string): boolean {
    const seen = new Set([this.state]);
    const stack = [this.state];
    while (stack.length) {
      for (const t of this.out.get(stack.pop()!) ?? []) {
        if (t.action.dir === '?' && t.action.peer === peer) {
          if (t.action.label === label) return true;
          continue;
        }
        if (!seen.has(t.to)) { seen.add(t.to); stack.push(t.to); }
      }
    }
    return false;
  }
}

function hasTimeout(g: AuraCheck['global']): boolean {
  return maxTimeout(g) > 0;
}

/** The longest `timeout(d)` of a global type (ms), 0 when none. */
function maxTimeout(g: AuraCheck['global']): number {
  let best = 0;
  const seen = new Set<unknown>();
  const walk = (x: AuraCheck['global']): void => {
    if (seen.has(x)) return;
    seen.add(x);
    switch (x.k) {
      case 'msg': walk(x.next); return;
      case 'choice': if (x.kind === 'timeout' && x.ms) best = Math.max(best, x.ms); x.branches.forEach((b) => walk(b.body)); return;
      case 'loop': walk(x.body); walk(x.next); return;
      case 'par': x.branches.forEach(walk); walk(x.next); return;
      default: return;
    }
  };
  walk(g);
  return best;
}
