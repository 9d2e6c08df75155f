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
