/**
 * Local types: the projection of a global protocol on one role
 * (suites/aura/SPEC.md §12), and their text forms.
 */
import type { Field, Pos } from './ast.js';
import type { ChoiceKind, ForRange } from './global.js';

/** The global choice behind a local `select` or `race`: its kind, position, the tags of the local branches, a `for` loop's bounds. */
export interface ChoiceOrigin {
  readonly kind: ChoiceKind;
  readonly pos: Pos;
  /** One tag per local branch (a pattern, `exit`, `iterate`, `body`, `timeout`, …). */
  readonly tags: readonly string[];
  /** For each branch of the global choice, the index of the local branch it became (branches that project alike are one). */
  readonly branchOf: readonly number[];
  readonly range?: ForRange;
  /** For a choice on data: the expression decided on (source text). */
  readonly subject?: string;
  /** Every tag of the global choice, in its order. */
  readonly allTags: readonly string[];
}

/** A local type. `send`/`recv` name the peer role; choices hold whole continuations. */
export type L =
  | { readonly k: 'end' }
  | {
      readonly k: 'send' | 'recv';
      readonly peer: string;
      readonly label: string;
      readonly fields: readonly Field[];
      readonly pos: Pos;
      readonly next: L;
    }
  /**
   * `select`: the role decides (+); `offer`: the role is told by its first receive (&); `race`: a timeout (~).
   * `origin` (select and race) is the global choice the role decides, for a runtime (suites/aura/runtime/).
   */
  | { readonly k: 'select' | 'offer' | 'race'; readonly branches: readonly L[]; readonly ms?: number; readonly origin?: ChoiceOrigin }
  | { readonly k: 'rec'; readonly id: number; readonly body: L }
  | { readonly k: 'var'; readonly id: number }
  | { readonly k: 'par'; readonly branches: readonly L[]; readonly next: L };

export const LEND: L = { k: 'end' };

/** Rendering options: `fields` prints payload fields, `indent` prints one action per line. */
export interface RenderOptions {
  readonly fields?: boolean;
  readonly indent?: boolean;
}

/**
 * Renders a local type. The compact form (default) is the notation of SPEC §12
 * and of the corpus expectations: `B!Req; B?Resp; +{ B!Ok | B!No }`;
 * recursion variables are renumbered `X1`, `X2`, … in order of appearance.
 */
export function renderLocal(t: L, opts: RenderOptions = {}): string {
  const names = new Map<number, string>();
  const nameOf = (id: number) => {
    let n = names.get(id);
    if (!n) {
      n = `X${names.size + 1}`;
      names.set(id, n);
    }
    return n;
  };
  const fieldText = (fs: readonly Field[]) =>
    opts.fields && fs.length ? `(${fs.map((f) => (f.type ? `${f.name}: ${f.type}` : f.name)).join(', ')})` : '';
  const nl = (d: number) => (opts.indent ? `\n${'  '.repeat(d)}` : ' ');
  const go = (x: L, d: number): string => {
    switch (x.k) {
      case 'end': return 'end';
      case 'send':
      case 'recv': {
        const head = `${x.peer}${x.k === 'send' ? '!' : '?'}${x.label}${fieldText(x.fields)}`;
        return x.next.k === 'end' ? head : `${head};${nl(d)}${go(x.next, d)}`;
      }
      case 'select':
      case 'offer':
      case 'race': {
        const sym = x.k === 'select' ? '+' : x.k === 'offer' ? '&' : '~';
        const parts = x.branches.map((b) => go(b, d + 1));
        return opts.indent
          ? `${sym}{${nl(d + 1)}${parts.join(`${nl(d)}|${nl(d + 1)}`)}${nl(d)}}`
          : `${sym}{ ${parts.join(' | ')} }`;
      }
      case 'rec': {
        const n = nameOf(x.id);
        return opts.indent ? `rec ${n} {${nl(d + 1)}${go(x.body, d + 1)}${nl(d)}}` : `rec ${n} { ${go(x.body, d)} }`;
      }
      case 'var': return nameOf(x.id);
      case 'par': {
        const parts = x.branches.map((b) => go(b, d + 1));
        const head = opts.indent ? `(${nl(d + 1)}${parts.join(`${nl(d)}||${nl(d + 1)}`)}${nl(d)})` : `( ${parts.join(' || ')} )`;
        return x.next.k === 'end' ? head : `${head};${nl(d)}${go(x.next, d)}`;
      }
    }
  };
  return go(t, 0);
}

/** A canonical key of a local type (compact text with stable recursion names), for equality. */
export function localKey(t: L): string {
  const parts: string[] = [];
  const go = (x: L): void => {
    switch (x.k) {
      case 'end': parts.push('.'); return;
      case 'send': case 'recv': parts.push(`${x.k === 'send' ? '!' : '?'}${x.peer}:${x.label};`); go(x.next); return;
      case 'select': case 'offer': case 'race': parts.push(`${x.k}{`); x.branches.forEach((b) => { go(b); parts.push('|'); }); parts.push('}'); return;
      case 'rec': parts.push(`rec${x.id}{`); go(x.body); parts.push('}'); return;
      case 'var': parts.push(`v${x.id}`); return;
      case 'par': parts.push('par{'); x.branches.forEach((b) => { go(b); parts.push('||'); }); parts.push('};'); go(x.next); return;
    }
  };
  go(t);
  return parts.join('');
}

/** The position of the first action of a local type, if any (for violation reports). */
export function firstPos(t: L): Pos | undefined {
  switch (t.k) {
    case 'send': case 'recv': return t.pos;
    case 'select': case 'offer': case 'race': case 'par':
      for (const b of t.branches) {
        const p = firstPos(b);
        if (p) return p;
      }
      return t.k === 'par' ? firstPos(t.next) : undefined;
    case 'rec': return firstPos(t.body);
    default: return undefined;
  }
}

/** Sequential composition: `a` then `b` (replaces `a`'s `end` leaves; `a` holds no free recursion variable). */
export function seqLocal(a: L, b: L): L {
  if (b.k === 'end') return a;
  switch (a.k) {
    case 'end': return b;
    case 'send': case 'recv': return { ...a, next: seqLocal(a.next, b) };
    case 'select': case 'offer': case 'race': return { ...a, branches: a.branches.map((x) => seqLocal(x, b)) };
    case 'rec': return { ...a, body: seqLocal(a.body, b) };
    case 'var': return a;
    case 'par': return { ...a, next: seqLocal(a.next, b) };
  }
}
