/**
 * Choices on data at run time (SPEC §6, §16.3): a `match x`, `if x.f` or
 * `break if x` whose subject is a path over a message field is decided by
 * the value that field carried. The role that sends the field picks the
 * branch (its policy) and writes a value that selects it; every role that
 * knows the value (sent or received it) then takes the same branch. This is
 * how two deciders on the two sides of the wire agree without a message of
 * their own.
 *
 * Values: a `match` arm `Vote::Commit` is the JSON string `"Commit"` (also
 * `"Vote::Commit"` is accepted), an integer or string pattern itself, `_`
 * anything; `if` / `break if` are decided by truthiness (`then` / `break`
 * when true). A path `x.a.b` is read in the object value of field `x`.
 */
import type { G } from '../global.js';

/** A choice on data whose subject is a path rooted at a message field. */
export interface DataChoice {
  /** The field (the path's root). */
  readonly field: string;
  /** The rest of the path (`chunk.is_last` → `['is_last']`). */
  readonly path: readonly string[];
  readonly kind: 'match' | 'if' | 'loop';
  /** Tags of the global branches (patterns, `then`/`else`, `break`/`continue`). */
  readonly tags: readonly string[];
  /** `line:col` of the choice. */
  readonly at: string;
}

const PATH = /^[A-Za-z_]\w*(\s*\.\s*[A-Za-z_]\w*)*$/;

/** Parses a subject into a field and a path; undefined when it is not a plain path. */
export function subjectPath(subject: string): { field: string; path: string[] } | undefined {
  if (!PATH.test(subject.trim())) return undefined;
  const parts = subject.split('.').map((x) => x.trim());
  return { field: parts[0]!, path: parts.slice(1) };
}

/** The data choices of a global type, by field (the first choice on a field wins). */
export function collectDataChoices(g: G): ReadonlyMap<string, DataChoice> {
  const out = new Map<string, DataChoice>();
  const seen = new Set<G>();
  const walk = (x: G): void => {
    if (seen.has(x)) return;
    seen.add(x);
    switch (x.k) {
      case 'msg': walk(x.next); return;
      case 'choice': {
        if ((x.kind === 'match' || x.kind === 'if' || x.kind === 'loop') && x.subject !== undefined) {
          const p = subjectPath(x.subject);
          if (p && !out.has(p.field)) out.set(p.field, { ...p, kind: x.kind, tags: x.branches.map((b) => b.tag), at: `${x.pos.line}:${x.pos.col}` });
        }
        x.branches.forEach((b) => walk(b.body));
        return;
      }
      case 'loop': walk(x.body); walk(x.next); return;
      case 'par': x.branches.forEach(walk); walk(x.next); return;
      default: return;
    }
  };
  walk(g);
  return out;
}

/** Reads `path` in `v` (undefined when absent). */
function at(v: unknown, path: readonly string[]): unknown {
  let cur = v;
  for (const p of path) {
    if (typeof cur !== 'object' || cur === null) return undefined;
    cur = (cur as Record<string, unknown>)[p];
  }
  return cur;
}

function patternMatches(pattern: string, v: unknown): boolean {
  const p = pattern.trim();
  if (p === '_') return true;
  if (/^-?\d+$/.test(p)) return v === Number(p);
  if (p === 'true' || p === 'false') return v === (p === 'true');
  if (/^".*"$/.test(p)) return v === JSON.parse(p);
  return v === p || v === p.split('::').at(-1);
}

/**
 * The global branch index a value selects, for a choice of `kind` with
 * `tags`; undefined when the value selects none.
 */
export function branchForValue(kind: 'match' | 'if' | 'loop', tags: readonly string[], root: unknown, path: readonly string[]): number | undefined {
  const v = at(root, path);
  if (kind === 'match') {
    const i = tags.findIndex((t) => t.split('|').some((p) => patternMatches(p, v)));
    return i >= 0 ? i : undefined;
  }
  if (v === undefined) return undefined;
  return tags.indexOf(v ? (kind === 'if' ? 'then' : 'break') : kind === 'if' ? 'else' : 'continue');
}

/** A field value that selects global branch `i` (the inverse of {@link branchForValue}). */
export function valueForBranch(c: DataChoice, i: number): unknown {
  let leaf: unknown;
  if (c.kind === 'match') {
    const p = c.tags[i]!.split('|')[0]!.trim();
    if (p === '_') leaf = `other-${i}`;
    else if (/^-?\d+$/.test(p)) leaf = Number(p);
    else if (p === 'true' || p === 'false') leaf = p === 'true';
    else if (/^".*"$/.test(p)) leaf = JSON.parse(p);
    else leaf = p.split('::').at(-1);
  } else {
    leaf = c.tags[i] === 'then' || c.tags[i] === 'break';
  }
  let v = leaf;
  for (const p of [...c.path].reverse()) v = { [p]: v };
  return v;
}

/** A message as {@link DataDecisions} sees it: sender, receiver, label and (when known) payload. */
export interface DecidedMessage {
  readonly from: string;
  readonly to: string;
  readonly label: string;
  readonly payload?: Readonly<Record<string, unknown>>;
}

/** A choice on data, compiled: its decision data and, per global branch, the messages that start it and those inside it (`A→B:L`). */
interface CompiledChoice extends Omit<DataChoice, 'at'> {
  readonly at: string;
  readonly firsts: readonly ReadonlySet<string>[];
  readonly within: readonly ReadonlySet<string>[];
}

interface CompiledDecisions {
  readonly choices: readonly CompiledChoice[];
  /** Message `A→B:L` → field → the choices on that field the message's value decides (reached before the field is carried again). */
  readonly armers: ReadonlyMap<string, ReadonlyMap<string, readonly number[]>>;
}

const text = (m: { from: string; to: string; label: string }): string => `${m.from}→${m.to}:${m.label}`;
type Ctx = { readonly brk: ReadonlyMap<number, G>; readonly cont: ReadonlyMap<number, G> };
const EMPTY_CTX: Ctx = { brk: new Map(), cont: new Map() };
const inLoop = (c: Ctx, x: Extract<G, { k: 'loop' }>): Ctx => ({ brk: new Map(c.brk).set(x.id, x.next), cont: new Map(c.cont).set(x.id, x) });

/** The messages that can come first from `g` (following `break`/`continue` to where they lead). */
function firstsOf(g: G, c: Ctx, out: Set<string>, seen: Set<G>): boolean {
  // Returns true when `g` can end without a message (then what follows it may come first).
  if (seen.has(g)) return false;
  seen.add(g);
  switch (g.k) {
    case 'end': return true;
    case 'msg': out.add(text(g)); return false;
    case 'choice': return g.branches.map((b) => firstsOf(b.body, c, out, seen)).some(Boolean);
    case 'loop': return firstsOf(g.body, inLoop(c, g), out, seen);
    case 'break': { const n = c.brk.get(g.id); return n ? firstsOf(n, c, out, seen) : false; }
    case 'continue': { const l = c.cont.get(g.id); return l && l.k === 'loop' ? firstsOf(l.body, c, out, seen) : false; }
    case 'par': {
      const empty = g.branches.map((b) => firstsOf(b, c, out, new Set(seen))).every(Boolean);
      return empty ? firstsOf(g.next, c, out, seen) : false;
    }
  }
}

/** Every message inside `g` (not following `break`/`continue` out of it). */
function messagesIn(g: G, out: Set<string>, seen: Set<G> = new Set()): Set<string> {
  if (seen.has(g)) return out;
  seen.add(g);
  switch (g.k) {
    case 'msg': out.add(text(g)); messagesIn(g.next, out, seen); break;
    case 'choice': g.branches.forEach((b) => messagesIn(b.body, out, seen)); break;
    case 'loop': messagesIn(g.body, out, seen); messagesIn(g.next, out, seen); break;
    case 'par': g.branches.forEach((b) => messagesIn(b, out, seen)); messagesIn(g.next, out, seen); break;
    default: break;
  }
  return out;
}

const compiledCache = new WeakMap<G, CompiledDecisions>();

function compile(g: G): CompiledDecisions {
  const hit = compiledCache.get(g);
  if (hit) return hit;
  const choices: CompiledChoice[] = [];
  const index = new Map<G, number>();
  const armers = new Map<string, Map<string, number[]>>();
  const dataChoice = (x: G): DataChoice | undefined => {
    if (x.k !== 'choice' || !(x.kind === 'match' || x.kind === 'if' || x.kind === 'loop') || x.subject === undefined) return undefined;
    const p = subjectPath(x.subject);
    return p ? { ...p, kind: x.kind, tags: x.branches.map((b) => b.tag), at: `${x.pos.line}:${x.pos.col}` } : undefined;
  };
  const choiceIndex = (x: Extract<G, { k: 'choice' }>, d: DataChoice, c: Ctx): number => {
    let i = index.get(x);
    if (i === undefined) {
      i = choices.length;
      index.set(x, i);
      choices.push({
        ...d,
        firsts: x.branches.map((b) => { const s = new Set<string>(); firstsOf(b.body, c, s, new Set()); return s; }),
        within: x.branches.map((b) => messagesIn(b.body, new Set())),
      });
    }
    return i;
  };
  // The choices on `field` reachable from `start` before a message carries `field` again.
  const reach = (start: G, field: string, c0: Ctx): number[] => {
    const found: number[] = [];
    const seen = new Set<G>();
    const go = (x: G, c: Ctx): void => {
      if (seen.has(x)) return;
      seen.add(x);
      switch (x.k) {
        case 'msg': if (!x.fields.some((f) => f.name === field)) go(x.next, c); return;
        case 'choice': {
          const d = dataChoice(x);
          if (d && d.field === field) { found.push(choiceIndex(x, d, c)); return; }
          x.branches.forEach((b) => go(b.body, c));
          return;
        }
        case 'loop': go(x.body, inLoop(c, x)); return;
        case 'break': { const n = c.brk.get(x.id); if (n) go(n, c); return; }
        case 'continue': { const l = c.cont.get(x.id); if (l && l.k === 'loop') go(l.body, c); return; }
        case 'par': x.branches.forEach((b) => go(b, c)); go(x.next, c); return;
        default: return;
      }
    };
    go(start, c0);
    return found;
  };
  const seen = new Set<G>();
  const walk = (x: G, c: Ctx): void => {
    if (seen.has(x)) return;
    seen.add(x);
    switch (x.k) {
      case 'msg': {
        for (const f of x.fields) {
          const cs = reach(x.next, f.name, c);
          if (!cs.length) continue;
          let byField = armers.get(text(x));
          if (!byField) armers.set(text(x), (byField = new Map()));
          byField.set(f.name, [...new Set([...(byField.get(f.name) ?? []), ...cs])]);
        }
        walk(x.next, c);
        return;
      }
      case 'choice': x.branches.forEach((b) => walk(b.body, c)); return;
      case 'loop': walk(x.body, inLoop(c, x)); walk(x.next, c); return;
      case 'par': x.branches.forEach((b) => walk(b, c)); walk(x.next, c); return;
      default: return;
    }
  };
  walk(g, EMPTY_CTX);
  const out: CompiledDecisions = { choices, armers };
  compiledCache.set(g, out);
  return out;
}

/** A message that contradicts a choice already decided by a value (see {@link DataDecisions.check}). */
export interface DataContradiction {
  /** `line:col` of the choice and its subject's field. */
  readonly at: string;
  readonly field: string;
  /** The tag of the branch the value decided (`Vote::Abort`, `then`, `break`, …). */
  readonly branch: string;
  /** The messages that may start that branch (`A→B:L`); empty when it ends the protocol. */
  readonly expected: readonly string[];
}

/**
 * The decisions that values made (SPEC AURA-16.5, §6): one tracker per
 * observer (a role machine, or the wire monitor of one session), fed every
 * message the observer sees in order, with its payload. A message carrying
 * field `f` decides the next choices on `f` (a `match f`, `if f.x`, `break
 * if f.x`, reached before `f` is carried again) by {@link branchForValue},
 * the same function a role runtime decides with; the decision stays open
 * until a message that starts one of the choice's branches is seen. While
 * it is open, a message that starts *another* branch, and is neither a first
 * message nor a message inside the decided branch, contradicts the value:
 * no run of the choreography with that value allows it.
 *
 * The label automata (CFSMs, the global automaton) see labels only; this is
 * the one place where values select branches for monitors and role
 * machines. Pure: messages in, verdicts out.
 */
export class DataDecisions {
  private readonly c: CompiledDecisions;
  /** Open decisions: choice index → global branch index. */
  private readonly open = new Map<number, number>();

  /** @param g the core global type of the choreography (`checkAura(…).global`) */
  constructor(g: G) {
    this.c = compile(g);
  }

  /** The contradiction `m` would be now, or undefined when the values decided so far allow it. */
  check(m: DecidedMessage): DataContradiction | undefined {
    if (this.open.size === 0) return undefined;
    const k = text(m);
    for (const [ci, gi] of this.open) {
      const ch = this.c.choices[ci]!;
      if (ch.firsts[gi]!.has(k) || ch.within[gi]!.has(k)) continue;
      if (ch.firsts.some((f, j) => j !== gi && f.has(k))) return { at: ch.at, field: ch.field, branch: ch.tags[gi]!, expected: [...ch.firsts[gi]!] };
    }
    return undefined;
  }

  /** Records a message the observer saw (sent or took), in order: it closes the decisions it starts a branch of and opens those its values decide. */
  note(m: DecidedMessage): void {
    const k = text(m);
    for (const ci of [...this.open.keys()]) if (this.c.choices[ci]!.firsts.some((f) => f.has(k))) this.open.delete(ci);
    const byField = this.c.armers.get(k);
    if (!byField || !m.payload) return;
    for (const [field, cs] of byField) {
      if (!(field in m.payload)) continue;
      for (const ci of cs) {
        const ch = this.c.choices[ci]!;
        const gi = branchForValue(ch.kind, ch.tags, m.payload[field], ch.path);
        if (gi === undefined) this.open.delete(ci);
        else this.open.set(ci, gi);
      }
    }
  }
}
