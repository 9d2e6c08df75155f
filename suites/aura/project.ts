/**
 * Projection of a core global type on one role, with full merge
 * (suites/aura/SPEC.md §12; rules AURA-5.1–5.3, 6.2, 7.2, 9.2, 10.3).
 */
import type { Pos } from './ast.js';
import type { AuraViolation } from './errors.js';
import { rolesOf, type ChoiceKind, type G } from './global.js';
import { LEND, firstPos, localKey, renderLocal, seqLocal, type L } from './local.js';

/** Projection of one role: its local type and the violations found on the way. */
export interface Projection {
  readonly role: string;
  readonly local: L;
  readonly violations: AuraViolation[];
}

class MergeFail {
  constructor(
    readonly a: L,
    readonly b: L,
    /** `send`: a continuation starts by sending (the role would choose); `senders`: two senders; `receive`: cannot tell. */
    readonly why: 'send' | 'senders' | 'receive',
  ) {}
}

/**
 * Projects `g` on `role`. Never throws for an ill-formed protocol: a failed merge
 * is reported as a violation and the first branch's projection is kept so that
 * the rest of the protocol is still checked.
 */
export function project(g: G, role: string): Projection {
  const violations: AuraViolation[] = [];
  // The global type is a DAG (branches share their continuation): project each node once per loop context.
  const memo = new Map<ReadonlyMap<number, L>, Map<G, L>>();
  const go = (x: G, breaks: ReadonlyMap<number, L>): L => {
    let m = memo.get(breaks);
    if (!m) {
      m = new Map();
      memo.set(breaks, m);
    }
    const hit = m.get(x);
    if (hit) return hit;
    const l = step(x, breaks);
    m.set(x, l);
    return l;
  };
  const step = (x: G, breaks: ReadonlyMap<number, L>): L => {
    switch (x.k) {
      case 'end': return LEND;
      case 'msg':
        if (x.from === role) return { k: 'send', peer: x.to, label: x.label, fields: x.fields, pos: x.pos, next: go(x.next, breaks) };
        if (x.to === role) return { k: 'recv', peer: x.from, label: x.label, fields: x.fields, pos: x.pos, next: go(x.next, breaks) };
        return go(x.next, breaks);
      case 'break': return breaks.get(x.id) ?? LEND;
      case 'continue': return { k: 'var', id: x.id };
      case 'loop': {
        const next = go(x.next, breaks);
        if (!rolesOf(x.body).has(role)) return next;
        const m = new Map(breaks);
        m.set(x.id, next);
        const body = go(x.body, m);
        return mentions(body, x.id) ? { k: 'rec', id: x.id, body } : body;
      }
      case 'par': {
        const next = go(x.next, breaks);
        const mine = x.branches.filter((b) => rolesOf(b).has(role)).map((b) => go(b, breaks));
        if (mine.length === 0) return next;
        if (mine.length === 1) return seqLocal(mine[0]!, next);
        return { k: 'par', branches: mine, next };
      }
      case 'choice': {
        const ls = x.branches.map((b) => go(b.body, breaks));
        const distinct = uniqueBy(ls);
        if (distinct.length === 1) return distinct[0]!;
        const decides = x.deciders === 'all' || x.deciders.has(role);
        if (decides) {
          const keys = ls.map(localKey);
          const dkeys = distinct.map(localKey);
          const origin = (tags: readonly string[], branchOf: readonly number[]) => ({
            kind: x.kind, pos: x.pos, tags, branchOf, allTags: x.branches.map((b) => b.tag),
            ...(x.range ? { range: x.range } : {}), ...(x.subject !== undefined ? { subject: x.subject } : {}),
          });
          if (x.kind === 'timeout') return { k: 'race', branches: ls, ...(x.ms !== undefined ? { ms: x.ms } : {}), origin: origin(x.branches.map((b) => b.tag), ls.map((_, i) => i)) };
          return { k: 'select', branches: distinct, origin: origin(distinct.map((d) => x.branches[ls.indexOf(d)]!.tag), keys.map((k) => dkeys.indexOf(k))) };
        }
        let acc = ls[0]!;
        for (let i = 1; i < ls.length; i++) {
          try {
            acc = merge(acc, ls[i]!, x.kind === 'timeout' ? x.observer : undefined);
          } catch (e) {
            if (!(e instanceof MergeFail)) throw e;
            violations.push(violation(x, role, e, x.branches[0]!.pos, x.branches[i]!.pos));
            return ls[0]!;
          }
        }
        return acc;
      }
    }
  };
  const local = go(g, new Map());
  return { role, local, violations };
}

function mentions(t: L, id: number): boolean {
  switch (t.k) {
    case 'var': return t.id === id;
    case 'send': case 'recv': return mentions(t.next, id);
    case 'select': case 'offer': case 'race': return t.branches.some((b) => mentions(b, id));
    case 'rec': return mentions(t.body, id);
    case 'par': return t.branches.some((b) => mentions(b, id)) || mentions(t.next, id);
    default: return false;
  }
}

function uniqueBy(ls: readonly L[]): L[] {
  const seen = new Set<string>();
  return ls.filter((l) => {
    const k = localKey(l);
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

type Recv = Extract<L, { k: 'send' | 'recv' }>;

/** The receives a continuation can start with, or `undefined` if it does not start by receiving. */
function receives(t: L): Recv[] | undefined {
  if (t.k === 'recv') return [t];
  if (t.k === 'offer') {
    const out: Recv[] = [];
    for (const b of t.branches) {
      const r = receives(b);
      if (!r) return undefined;
      out.push(...r);
    }
    return out;
  }
  return undefined;
}

function startsBySending(t: L): boolean {
  switch (t.k) {
    case 'send': return true;
    case 'select': case 'race': return t.branches.some(startsBySending);
    case 'rec': return startsBySending(t.body);
    case 'par': return t.branches.some(startsBySending);
    default: return false;
  }
}

function sendsTo(t: L, peer: string): boolean {
  if (t.k === 'send') return t.peer === peer;
  if (t.k === 'select') return t.branches.every((b) => sendsTo(b, peer));
  return false;
}

/**
 * Full merge (SPEC AURA-5.2): equal continuations, or continuations that both
 * start by receiving from the same sender, same labels merging recursively.
 * `observer` allows the timeout race of AURA-9.2.
 * @throws MergeFail with the innermost conflicting pair.
 */
function merge(a: L, b: L, observer?: string): L {
  if (localKey(a) === localKey(b)) return a;
  if (a.k === 'rec' && b.k === 'rec' && a.id === b.id) return { k: 'rec', id: a.id, body: merge(a.body, b.body) };
  const ra = receives(a);
  const rb = receives(b);
  if (ra && rb) {
    const senders = new Set([...ra, ...rb].map((r) => r.peer));
    if (senders.size > 1) throw new MergeFail(a, b, 'senders');
    const out: Recv[] = [...ra];
    for (const y of rb) {
      const i = out.findIndex((x) => x.label === y.label);
      if (i < 0) out.push(y);
      else {
        const x = out[i]!;
        try {
          out[i] = { ...x, next: merge(x.next, y.next) };
        } catch (e) {
          // Same first label, different continuations: the first receive does not tell the branches apart.
          if (e instanceof MergeFail) throw new MergeFail(x, y, 'receive');
          throw e;
        }
      }
    }
    return out.length === 1 ? out[0]! : { k: 'offer', branches: out };
  }
  if (observer !== undefined && sendsTo(a, observer) && rb && rb.every((r) => r.peer === observer)) {
    return { k: 'race', branches: [a, b] };
  }
  throw new MergeFail(a, b, startsBySending(a) || startsBySending(b) ? 'send' : 'receive');
}

const RULE: Record<ChoiceKind, { send: string; receive: string; what: string }> = {
  match: { send: 'AURA-5.1', receive: 'AURA-5.2', what: '`match`' },
  if: { send: 'AURA-5.1', receive: 'AURA-5.2', what: '`if`' },
  choice: { send: 'AURA-5.1', receive: 'AURA-5.2', what: '`choice`' },
  loop: { send: 'AURA-7.2', receive: 'AURA-7.2', what: 'loop exit (`break if`)' },
  for: { send: 'AURA-7.2', receive: 'AURA-7.2', what: '`for` loop' },
  timeout: { send: 'AURA-9.2', receive: 'AURA-9.2', what: '`timeout`' },
  fail: { send: 'AURA-10.3', receive: 'AURA-10.3', what: 'failure point (`$fail`)' },
};

function violation(x: Extract<G, { k: 'choice' }>, role: string, e: MergeFail, p1: Pos, p2: Pos): AuraViolation {
  const r = RULE[x.kind];
  let rule = e.why === 'send' ? r.send : r.receive;
  if (e.why === 'send' && x.onData && (x.kind === 'match' || x.kind === 'if')) rule = 'AURA-6.2';
  if (e.why === 'senders' && (x.kind === 'match' || x.kind === 'if' || x.kind === 'choice')) rule = 'AURA-5.3';
  // A bare recursion variable is the loop going round again.
  const show = (l: L) => (l.k === 'var' ? `${renderLocal(l)} (the next iteration)` : renderLocal(l));
  const ta = show(e.a);
  const tb = show(e.b);
  const deciders = x.deciders === 'all' ? 'every role' : [...x.deciders].join(', ') || 'no role';
  const data = x.onData && (x.kind === 'match' || x.kind === 'if');
  let message: string;
  if (e.why === 'senders') message = `${r.what}: \`${role}\` would learn the branch from different senders, which can race`;
  else if (x.kind === 'timeout') message = `\`timeout\`: \`${role}\` does not learn whether the observer \`${x.observer ?? '?'}\` timed out (it must receive from the observer first in the handler)`;
  else if (x.kind === 'fail') message = `failure point: \`${role}\` does not learn whether ${deciders} failed (\`$fail\`) or went on`;
  else if (x.kind === 'loop' || x.kind === 'for') message = `${r.what}: \`${role}\` takes part in the loop but does not learn whether it goes on or exits (decided by ${deciders})`;
  else if (e.why === 'send') {
    message = data
      ? `${r.what}: \`${role}\` acts differently in two branches but never received the data it depends on (known to ${deciders})`
      : `${r.what}: \`${role}\` is not the chooser (${deciders}) but acts first, differently, in two branches`;
  } else message = `${r.what}: \`${role}\` cannot tell the branches apart by the first message it receives (decided by ${deciders})`;
  return {
    rule, role, pos: x.pos, message,
    conflict: [
      { text: ta, ...((firstPos(e.a) ?? p1) ? { pos: firstPos(e.a) ?? p1 } : {}) },
      { text: tb, ...((firstPos(e.b) ?? p2) ? { pos: firstPos(e.b) ?? p2 } : {}) },
    ],
  };
}
