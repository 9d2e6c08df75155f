/** Lexer of the Aura choreography language (suites/aura/SPEC.md §1). */
import type { Pos } from './ast.js';
import { AuraParseError } from './errors.js';

/** Token kinds: identifiers, `$fail`-style labels, integers/durations, strings, punctuation, end. */
export type TokenKind = 'ident' | 'dollar' | 'number' | 'string' | 'punct' | 'eof';

/** One token; `text` is the source slice, `start`/`end` are offsets into the source. */
export interface Token {
  readonly kind: TokenKind;
  readonly text: string;
  readonly pos: Pos;
  readonly start: number;
  readonly end: number;
}

const PUNCT = [
  '..=', '->', '=>', '..', '::', '==', '!=', '<=', '>=', '&&', '||',
  '{', '}', '(', ')', '[', ']', '<', '>', ';', ':', ',', '.', '!', '=', '|', '+', '-', '*', '/', '%', '&', '?', '#',
];

/**
 * Splits `src` into tokens, skipping whitespace and comments (`//`, `/* *\/`).
 * @throws AuraParseError on an unknown character, an unterminated string or comment.
 */
export function lex(src: string, file: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  let line = 1;
  let lineStart = 0;
  const posAt = (off: number): Pos => ({ line, col: off - lineStart + 1 });
  const advanceTo = (end: number) => {
    for (let k = i; k < end; k++) {
      if (src.charCodeAt(k) === 10) {
        line++;
        lineStart = k + 1;
      }
    }
    i = end;
  };
  while (i < src.length) {
    const c = src[i]!;
    if (c === ' ' || c === '\t' || c === '\r' || c === '\n') {
      advanceTo(i + 1);
      continue;
    }
    if (c === '/' && src[i + 1] === '/') {
      const nl = src.indexOf('\n', i);
      advanceTo(nl < 0 ? src.length : nl);
      continue;
    }
    if (c === '/' && src[i + 1] === '*') {
      const close = src.indexOf('*/', i + 2);
      if (close < 0) throw new AuraParseError(file, posAt(i), '`*/` closing the comment', 'end of file');
      advanceTo(close + 2);
      continue;
    }
    const pos = posAt(i);
    const start = i;
    if (/[A-Za-z_]/.test(c)) {
      let j = i + 1;
      while (j < src.length && /[A-Za-z0-9_]/.test(src[j]!)) j++;
      out.push({ kind: 'ident', text: src.slice(i, j), pos, start, end: j });
      i = j;
      continue;
    }
    if (c === '$' && /[A-Za-z_]/.test(src[i + 1] ?? '')) {
      let j = i + 2;
      while (j < src.length && /[A-Za-z0-9_]/.test(src[j]!)) j++;
      out.push({ kind: 'dollar', text: src.slice(i, j), pos, start, end: j });
      i = j;
      continue;
    }
    if (/[0-9]/.test(c)) {
      let j = i + 1;
      while (j < src.length && /[0-9_]/.test(src[j]!)) j++;
      // A duration: digits directly followed by a unit (`30_seconds`, `500ms`).
      while (j < src.length && /[A-Za-z0-9_]/.test(src[j]!)) j++;
      out.push({ kind: 'number', text: src.slice(i, j), pos, start, end: j });
      i = j;
      continue;
    }
    if (c === '"') {
      let j = i + 1;
      while (j < src.length && src[j] !== '"') {
        if (src[j] === '\\') j++;
        if (src[j] === '\n') break;
        j++;
      }
      if (src[j] !== '"') throw new AuraParseError(file, pos, 'a closing `"`', 'end of line');
      out.push({ kind: 'string', text: src.slice(i, j + 1), pos, start, end: j + 1 });
      i = j + 1;
      continue;
    }
    const p = PUNCT.find((q) => src.startsWith(q, i));
    if (!p) throw new AuraParseError(file, pos, 'a token', `\`${c}\``);
    out.push({ kind: 'punct', text: p, pos, start, end: i + p.length });
    i += p.length;
  }
  out.push({ kind: 'eof', text: '', pos: posAt(i), start: i, end: i });
  return out;
}

const UNITS: Record<string, number> = {
  ms: 1, millis: 1, milliseconds: 1, millisecond: 1,
  s: 1000, sec: 1000, secs: 1000, second: 1000, seconds: 1000,
  m: 60_000, min: 60_000, mins: 60_000, minute: 60_000, minutes: 60_000,
  h: 3_600_000, hour: 3_600_000, hours: 3_600_000,
};

/**
 * Reads a number token as an integer or a duration (SPEC AURA-1.2).
 * @returns `{ value }` for a plain integer, `{ value, ms }` for a duration, `undefined` for an unknown unit.
 */
export function numberValue(text: string): { value: number; ms?: number } | undefined {
  const m = /^([0-9][0-9_]*?)_?([A-Za-z][A-Za-z0-9_]*)?$/.exec(text);
  if (!m) return undefined;
  const value = Number(m[1]!.replace(/_/g, ''));
  if (m[2] === undefined) return { value };
  const unit = UNITS[m[2]];
  if (unit === undefined) return undefined;
  return { value, ms: value * unit };
}
