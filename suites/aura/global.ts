/**
 * The core global type an Aura protocol elaborates to (suites/aura/SPEC.md §3, §12):
 * messages with an explicit continuation, choices with their deciders, loops
 * with `break`/`continue` leaves, and parallel blocks. Sugar (`if`, `break if`,
 * `for`, `timeout`, `try`/`compensate`, `compose`, `let`, actions, `barrier`)
 * is gone; rule checks live in `elaborate.ts` and `project.ts`.
 */
import type { Field, Pos } from './ast.js';

/** Where a choice comes from; decides which rule a merge failure breaks (SPEC §5–§10). */
export type ChoiceKind = 'match' | 'if' | 'choice' | 'loop' | 'for' | 'timeout' | 'fail';

/** The bounds of a `for` loop (`from..to`, or `from..=to` when `inclusive`). */
export interface ForRange {
  readonly from: string;
  readonly to: string;
  readonly inclusive: boolean;
}

/** One branch of a choice. `tag` names it (a pattern, `break`, `continue`, `body`, `timeout`, `ok`, `$fail`). */
export interface GBranch {
  readonly tag: string;
  readonly body: G;
  readonly pos: Pos;
}

/** A core global type. */
export type G =
  | { readonly k: 'end' }
  | {
      readonly k: 'msg';
      readonly from: string;
      readonly to: string;
      readonly label: string;
      readonly fields: readonly Field[];
      readonly pos: Pos;
      readonly next: G;
    }
  | {
      readonly k: 'choice';
      readonly kind: ChoiceKind;
      /** The roles that know the branch without being told; `'all'` when every role does. */
      readonly deciders: ReadonlySet<string> | 'all';
      /** `true` when the decision is on data (match/if/break if on variables): a failure then breaks AURA-6.2. */
      readonly onData: boolean;
      readonly branches: readonly GBranch[];
      readonly pos: Pos;
      /** For a timeout: the observer and the duration in ms. */
      readonly observer?: string;
      readonly ms?: number;
      /** For a `for` loop: its bounds (source text; `int` when a literal), so that a runtime can count iterations from the session's params. */
      readonly range?: ForRange;
      /** For a choice on data (`match`, `if`, `break if`): the expression decided on (source text). */
      readonly subject?: string;
    }
  | { readonly k: 'loop'; readonly id: number; readonly body: G; readonly next: G; readonly pos: Pos }
  | { readonly k: 'break'; readonly id: number }
  | { readonly k: 'continue'; readonly id: number }
  | { readonly k: 'par'; readonly branches: readonly G[]; readonly next: G; readonly pos: Pos };

export const END: G = { k: 'end' };

const rolesCache = new WeakMap<object, ReadonlySet<string>>();

/**
 * The roles that send or receive a message in `g`, not following `break`
 * leaves (a loop body's roles are those of its iterations only).
 */
export function rolesOf(g: G): ReadonlySet<string> {
  if (g.k === 'end' || g.k === 'break' || g.k === 'continue') return new Set();
  const hit = rolesCache.get(g);
  if (hit) return hit;
  const out = new Set<string>();
  const add = (s: ReadonlySet<string>) => s.forEach((r) => out.add(r));
  switch (g.k) {
    case 'msg':
      out.add(g.from);
      out.add(g.to);
      add(rolesOf(g.next));
      break;
    case 'choice':
      g.branches.forEach((b) => add(rolesOf(b.body)));
      break;
    case 'loop':
      add(rolesOf(g.body));
      add(rolesOf(g.next));
      break;
    case 'par':
      g.branches.forEach((b) => add(rolesOf(b)));
      add(rolesOf(g.next));
      break;
  }
  rolesCache.set(g, out);
  return out;
}

/** The messages of `g` that can happen first (through choices and parallel branches, into loops). */
export function firstMessages(g: G, breaks: ReadonlyMap<number, G> = new Map()): Extract<G, { k: 'msg' }>[] {
  const out: Extract<G, { k: 'msg' }>[] = [];
  const seen = new Set<G>();
  const walk = (x: G, brk: ReadonlyMap<number, G>): void => {
    if (seen.has(x)) return;
    seen.add(x);
    switch (x.k) {
      case 'msg':
        out.push(x);
        return;
      case 'choice':
        x.branches.forEach((b) => walk(b.body, brk));
        return;
      case 'loop': {
        const m = new Map(brk);
        m.set(x.id, x.next);
        walk(x.body, m);
        return;
      }
      case 'break': {
        const n = brk.get(x.id);
        if (n) walk(n, brk);
        return;
      }
      case 'par':
        x.branches.forEach((b) => walk(b, brk));
        if (x.branches.every((b) => firstMessages(b).length === 0)) walk(x.next, brk);
        return;
      default:
        return;
    }
  };
  walk(g, breaks);
  return out;
}
