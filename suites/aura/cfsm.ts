/**
 * Finite state machines of Aura protocols (suites/aura/SPEC.md §12): the
 * per-role communicating FSM (CFSM) of a local type, with transitions `peer!label`
 * / `peer?label`, and the global automaton of a core global type, with
 * transitions `sender→receiver:label`. Both are deterministic and minimal;
 * interleavings (`parallel`) are expanded to their product.
 */
import type { G } from './global.js';
import type { L } from './local.js';

/** A deterministic automaton over actions `A`; state 0 is initial. */
export interface Automaton<A> {
  readonly states: number;
  readonly finals: readonly number[];
  readonly transitions: readonly { readonly from: number; readonly to: number; readonly action: A }[];
}

/** A CFSM action: send (`!`) to or receive (`?`) from `peer`. */
export interface RoleAction {
  readonly dir: '!' | '?';
  readonly peer: string;
  readonly label: string;
}

/** A global action: one message. */
export interface GlobalAction {
  readonly from: string;
  readonly to: string;
  readonly label: string;
}

/** The CFSM of one role. */
export interface Cfsm extends Automaton<RoleAction> {
  readonly role: string;
}

/** Text of a role action: `B!Req`, `A?Resp`. */
export const roleActionText = (a: RoleAction): string => `${a.peer}${a.dir}${a.label}`;
/** Text of a global action: `A→B:Req`. */
export const globalActionText = (a: GlobalAction): string => `${a.from}→${a.to}:${a.label}`;

class Nfa<A> {
  n = 0;
  readonly eps: number[][] = [];
  readonly edges: { from: number; to: number; action: A; key: string }[][] = [];
  readonly finals = new Set<number>();
  constructor(readonly key: (a: A) => string) {}
  state(): number {
    this.eps.push([]);
    this.edges.push([]);
    return this.n++;
  }
  epsilon(a: number, b: number): void {
    this.eps[a]!.push(b);
  }
  edge(from: number, to: number, action: A): void {
    this.edges[from]!.push({ from, to, action, key: this.key(action) });
  }
  /** Adds automaton `d` (deterministic) into this NFA; returns the state its initial state maps to. */
  embed(d: Automaton<A>): { start: number; map: number[] } {
    const map = Array.from({ length: d.states }, () => this.state());
    for (const t of d.transitions) this.edge(map[t.from]!, map[t.to]!, t.action);
    return { start: map[0]!, map };
  }
}

function closure<A>(nfa: Nfa<A>, set: Iterable<number>): number[] {
  const out = new Set<number>(set);
  const stack = [...out];
  while (stack.length) {
    const s = stack.pop()!;
    for (const t of nfa.eps[s]!) if (!out.has(t)) { out.add(t); stack.push(t); }
  }
  return [...out].sort((a, b) => a - b);
}

/** Subset construction from `start`, then Moore minimisation. */
function determinize<A>(nfa: Nfa<A>, start: number): Automaton<A> {
  const init = closure(nfa, [start]);
  const ids = new Map<string, number>([[init.join(','), 0]]);
  const sets: number[][] = [init];
  const trans: { from: number; to: number; action: A; key: string }[] = [];
  for (let i = 0; i < sets.length; i++) {
    const byKey = new Map<string, { action: A; targets: Set<number> }>();
    for (const s of sets[i]!) {
      for (const e of nfa.edges[s]!) {
        const slot = byKey.get(e.key) ?? { action: e.action, targets: new Set<number>() };
        slot.targets.add(e.to);
        byKey.set(e.key, slot);
      }
    }
    for (const [key, { action, targets }] of [...byKey].sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
      const c = closure(nfa, targets);
      const id = c.join(',');
      let j = ids.get(id);
      if (j === undefined) {
        j = sets.length;
        ids.set(id, j);
        sets.push(c);
      }
      trans.push({ from: i, to: j, action, key });
    }
  }
  const finals = sets.map((s, i) => (s.some((x) => nfa.finals.has(x)) ? i : -1)).filter((i) => i >= 0);
  return minimize(sets.length, finals, trans);
}

function minimize<A>(n: number, finals: readonly number[], trans: readonly { from: number; to: number; action: A; key: string }[]): Automaton<A> {
  const fin = new Set(finals);
  let cls: number[] = Array.from({ length: n }, (_, i) => (fin.has(i) ? 1 : 0));
  const out = Array.from({ length: n }, () => [] as { key: string; to: number }[]);
  for (const t of trans) out[t.from]!.push({ key: t.key, to: t.to });
  for (;;) {
    const sigs = new Map<string, number>();
    const next = cls.map((c, i) => {
      const sig = `${c}|${out[i]!.map((e) => `${e.key}>${cls[e.to]}`).sort().join(',')}`;
      let id = sigs.get(sig);
      if (id === undefined) { id = sigs.size; sigs.set(sig, id); }
      return id;
    });
    const same = new Set(next).size === new Set(cls).size;
    cls = next;
    if (same) break;
  }
  // Renumber classes in BFS order from the initial state.
  const order = new Map<number, number>([[cls[0]!, 0]]);
  const queue = [0];
  const seen = new Set([0]);
  while (queue.length) {
    const s = queue.shift()!;
    for (const e of out[s]!) {
      if (!order.has(cls[e.to]!)) order.set(cls[e.to]!, order.size);
      if (!seen.has(e.to)) { seen.add(e.to); queue.push(e.to); }
    }
  }
  const keyed = new Map<string, { from: number; to: number; action: A }>();
  for (const t of trans) {
    const from = order.get(cls[t.from]!);
    const to = order.get(cls[t.to]!);
    if (from === undefined || to === undefined) continue;
    keyed.set(`${from}|${t.key}`, { from, to, action: t.action });
  }
  const transitions = [...keyed.values()].sort((a, b) => a.from - b.from || a.to - b.to);
  const finalStates = [...new Set(finals.map((f) => order.get(cls[f]!)).filter((x): x is number => x !== undefined))].sort((a, b) => a - b);
  return { states: order.size, finals: finalStates, transitions };
}

/** Adds the interleaving product of deterministic automata `parts` after `s`; returns the state reached when all are final. */
function product<A>(nfa: Nfa<A>, s: number, parts: readonly Automaton<A>[]): number {
  const done = nfa.state();
  const ids = new Map<string, number>();
  const key = (t: readonly number[]) => t.join(',');
  const start = parts.map(() => 0);
  const first = nfa.state();
  nfa.epsilon(s, first);
  ids.set(key(start), first);
  const queue: number[][] = [start];
  const finals = parts.map((p) => new Set(p.finals));
  while (queue.length) {
    const tup = queue.shift()!;
    const here = ids.get(key(tup))!;
    if (tup.every((x, i) => finals[i]!.has(x))) nfa.epsilon(here, done);
    parts.forEach((p, i) => {
      for (const t of p.transitions) {
        if (t.from !== tup[i]) continue;
        const nt = [...tup];
        nt[i] = t.to;
        let id = ids.get(key(nt));
        if (id === undefined) { id = nfa.state(); ids.set(key(nt), id); queue.push(nt); }
        nfa.edge(here, id, t.action);
      }
    });
  }
  return done;
}

/** The CFSM of a local type. */
export function buildRoleCfsm(role: string, t: L): Cfsm {
  return { role, ...localAutomaton(t) };
}

function localAutomaton(t: L): Automaton<RoleAction> {
  const nfa = new Nfa<RoleAction>(roleActionText);
  const memo = new Map<L, number>();
  const build = (x: L, s: number, recs: ReadonlyMap<number, number>): void => {
    const m = memo.get(x);
    if (m !== undefined) { nfa.epsilon(s, m); return; }
    const here = nfa.state();
    nfa.epsilon(s, here);
    if (x.k !== 'var') memo.set(x, here);
    switch (x.k) {
      case 'end': nfa.finals.add(here); return;
      case 'send': case 'recv': {
        const s2 = nfa.state();
        nfa.edge(here, s2, { dir: x.k === 'send' ? '!' : '?', peer: x.peer, label: x.label });
        build(x.next, s2, recs);
        return;
      }
      case 'select': case 'offer': case 'race': x.branches.forEach((b) => build(b, here, recs)); return;
      case 'rec': { const r = new Map(recs); r.set(x.id, here); build(x.body, here, r); return; }
      case 'var': { const r = recs.get(x.id); if (r !== undefined) nfa.epsilon(here, r); return; }
      case 'par': build(x.next, product(nfa, here, x.branches.map(localAutomaton)), recs); return;
    }
  };
  const s0 = nfa.state();
  build(t, s0, new Map());
  return determinize(nfa, s0);
}

/** The global automaton of a core global type: every message order the protocol allows (parallel expanded). */
export function buildGlobalAutomaton(g: G): Automaton<GlobalAction> {
  const nfa = new Nfa<GlobalAction>(globalActionText);
  const memo = new Map<G, number>();
  const build = (x: G, s: number, loops: ReadonlyMap<number, { start: number; exit: number }>): void => {
    const m = memo.get(x);
    if (m !== undefined) { nfa.epsilon(s, m); return; }
    const here = nfa.state();
    nfa.epsilon(s, here);
    if (x.k !== 'break' && x.k !== 'continue') memo.set(x, here);
    switch (x.k) {
      case 'end': nfa.finals.add(here); return;
      case 'msg': {
        const s2 = nfa.state();
        nfa.edge(here, s2, { from: x.from, to: x.to, label: x.label });
        build(x.next, s2, loops);
        return;
      }
      case 'choice': x.branches.forEach((b) => build(b.body, here, loops)); return;
      case 'loop': {
        const exit = nfa.state();
        const l = new Map(loops);
        l.set(x.id, { start: here, exit });
        build(x.body, here, l);
        build(x.next, exit, loops);
        return;
      }
      case 'break': { const l = loops.get(x.id); if (l) nfa.epsilon(here, l.exit); return; }
      case 'continue': { const l = loops.get(x.id); if (l) nfa.epsilon(here, l.start); return; }
      case 'par': build(x.next, product(nfa, here, x.branches.map(buildGlobalAutomaton)), loops); return;
    }
  };
  const s0 = nfa.state();
  build(g, s0, new Map());
  return determinize(nfa, s0);
}

function mermaidEscape(s: string): string {
  return s.replace(/[:;#"]/g, (c) => `#${c.charCodeAt(0)};`);
}

/** Mermaid `stateDiagram-v2` text of an automaton; `text` renders an action. */
export function toMermaid<A>(a: Automaton<A>, text: (x: A) => string, title?: string): string {
  const lines = ['stateDiagram-v2'];
  if (title) lines.unshift('---', `title: ${title}`, '---');
  lines.push('  [*] --> s0');
  for (const t of a.transitions) lines.push(`  s${t.from} --> s${t.to} : ${mermaidEscape(text(t.action))}`);
  for (const f of a.finals) lines.push(`  s${f} --> [*]`);
  return `${lines.join('\n')}\n`;
}

/** Graphviz DOT text of an automaton; `text` renders an action. */
export function toDot<A>(a: Automaton<A>, text: (x: A) => string, name = 'aura'): string {
  const q = (s: string) => `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
  const lines = [`digraph ${q(name)} {`, '  rankdir=LR;', '  node [shape=circle];', '  start [shape=point];', '  start -> s0;'];
  for (const f of a.finals) lines.push(`  s${f} [shape=doublecircle];`);
  for (const t of a.transitions) lines.push(`  s${t.from} -> s${t.to} [label=${q(text(t.action))}];`);
  lines.push('}');
  return `${lines.join('\n')}\n`;
}

/**
 * The automaton of what one observer sees of `a` when the actions `hidden`
 * selects are invisible (ε): e.g. the messages between two roles on the
 * same side of the wire, which never travel (PROTOCOLS). Deterministic and minimal.
 */
export function hideActions<A>(a: Automaton<A>, hidden: (x: A) => boolean, key: (x: A) => string): Automaton<A> {
  const nfa = new Nfa<A>(key);
  const { start, map } = nfa.embed({ states: a.states, finals: [], transitions: a.transitions.filter((t) => !hidden(t.action)) });
  for (const t of a.transitions) if (hidden(t.action)) nfa.epsilon(map[t.from]!, map[t.to]!);
  for (const f of a.finals) nfa.finals.add(map[f]!);
  return determinize(nfa, start);
}
