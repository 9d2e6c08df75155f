/** Errors of the Aura language front end (suites/aura/SPEC.md §1). */
import type { Pos } from './ast.js';

/**
 * A file that cannot be lexed or parsed. `message` is
 * `file:line:col: expected X, found Y` (SPEC AURA-1.3).
 */
export class AuraParseError extends Error {
  readonly code = 'AURA_PARSE';
  constructor(
    readonly file: string,
    readonly pos: Pos,
    readonly expected: string,
    readonly found: string,
  ) {
    super(`${file}:${pos.line}:${pos.col}: expected ${expected}, found ${found}`);
    this.name = 'AuraParseError';
  }
}

/** One continuation in a violation: what the role does next there, and where. */
export interface Continuation {
  /** The local type of the continuation, compact text (SPEC §12). */
  readonly text: string;
  /** Where that continuation starts in the source (the first message or construct), if known. */
  readonly pos?: Pos;
  /** The source file of `pos` (a composed protocol may live elsewhere in the file: same file, other lines). */
  readonly file?: string;
}

/** A broken well-formedness rule (SPEC AURA-§.n). */
export interface AuraViolation {
  /** Rule id, e.g. `AURA-5.2`. */
  readonly rule: string;
  /** The role concerned, when the rule is about one role. */
  readonly role?: string;
  /** One line, starting with what was checked. */
  readonly message: string;
  /** Where the offending construct starts. */
  readonly pos: Pos;
  /** The two conflicting continuations, for choice/merge rules. */
  readonly conflict?: readonly [Continuation, Continuation];
}

/** Formats a violation as `file:line:col: AURA-x.y [role R]: message` plus the two continuations. */
export function formatViolation(file: string, v: AuraViolation): string {
  const head = `${file}:${v.pos.line}:${v.pos.col}: ${v.rule}${v.role ? ` (role ${v.role})` : ''}: ${v.message}`;
  if (!v.conflict) return head;
  const c = v.conflict.map(
    (k, i) => `  ${i === 0 ? 'one branch' : 'other branch'}${k.pos ? ` (${file}:${k.pos.line}:${k.pos.col})` : ''}: ${k.text}`,
  );
  return [head, ...c].join('\n');
}
