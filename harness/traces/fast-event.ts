/**
 * The fast path of reading a trace line: a flat JSON object straight from
 * the file's bytes (no string per line, no `JSON.parse`), checked against
 * the trace-event schema through a memo of *shapes*.
 *
 * A shape is the line's key sequence with each value reduced to the class
 * the schema can tell apart: an integer as zero or positive, a string as
 * one of the schema's `enum`/`const` words, empty, lower-case even-length
 * hex, or other text; `true`, `false`, `null`. The schema
 * (harness/reports/trace-event.schema.json) decides nothing finer for a
 * flat event: its only keywords on values are `type`, `enum`/`const`,
 * `minimum` 0 or 1, `minLength` 1 and the hex `pattern` — which
 * {@link createFastEventReader} checks when it is built (any other keyword
 * turns the fast path off). So the compiled ajv validator is run once per
 * shape, on a representative event (0 or 1, the word, `""`, `"00"`, `"x"`),
 * and its verdict holds for every line of that shape: the schema check is
 * compiled once and applied only where the format allows variation.
 *
 * Lines of a trace repeat a few *templates* (a key sequence and the words
 * among its values, as `JSON.stringify` lays it out): each template gets a
 * reader generated for it that compares its fixed bytes four at a time and
 * scans only the values between them, and the next line is first read as
 * the template that followed the last one (see {@link Template}). A line
 * that does not fit the guess is read by the general scanner (keys found
 * by name, blanks allowed). Short strings (payloads, addresses) are made
 * once and shared while they repeat.
 *
 * An array value (a data event's `frames`) is read by a scanner that
 * checks JSON's grammar without making anything, and classed as an array
 * of objects or another array: all the schema asks of one (its `items` may
 * only be `{"type": "object"}`). It is then parsed on its own, or, for a
 * data event read as bytes, not at all.
 *
 * Anything outside the fast path — escapes in a string, an object value, a
 * nested value deeper than {@link MAX_DEPTH}, a number that is not a small non-negative integer, a key the
 * schema does not know, a repeated key, whitespace other than blanks, bad
 * JSON, a shape the schema rejects — returns `undefined`, and the caller
 * reads the line the slow way (`JSON.parse`, then ajv), which gives the
 * exact error message. The result is the object `JSON.parse` would give
 * (same keys, same order, same values).
 *
 * With `dataBytes`, a compact data event (its keys in any order, `frames` or
 * not, no `elided`) is not made into an object at all: its hex is decoded
 * straight from the line into the reader's {@link DataBytes} record, which is
 * returned instead (for a monitor's `feedData`).
 */
import type { ValidateFunction } from 'ajv';
import { DATA_EVENT_KEYS, HEX_VALUE, type DataBytes, type Direction } from '../engine/trace.js';

/** Longest integer (digits) read on the fast path: below 2^53, so exact. */
const MAX_DIGITS = 15;

/** Keywords the shape classes are sound for (see the module docstring), with the values allowed where that matters. */
const SOUND_KEYWORDS = new Set(['$schema', '$id', 'title', 'description', 'type', 'required', 'properties', 'allOf', 'if', 'then', '$ref', '$defs', 'enum', 'const', 'minimum', 'minLength', 'additionalProperties', 'items']);
const HEX_PATTERN = '^(?:[0-9a-f]{2})*$';

/**
 * Class codes of values (below {@link WORD_BASE}); a schema word `i` is
 * `WORD_BASE + i`. Plain constants, not a `const enum`: tsc under
 * `isolatedModules` emits an enum object and a property load per use.
 */
const ZERO = 1;
const POSITIVE = 2;
const TRUE = 3;
const FALSE = 4;
const NULL = 5;
const EMPTY = 6;
const HEX = 7;
const TEXT = 8;
/** An array of objects (or an empty array); any other array. */
const OBJECTS = 9;
const ARRAY = 10;
const WORD_BASE = 16;

/** Deepest nesting of an array value read on the fast path (deeper: the slow path). */
const MAX_DEPTH = 64;

/** Node's Buffer has `latin1Slice` (what `toString('latin1')` calls) without the argument checks. */
type LatinBuffer = Buffer & { latin1Slice(start: number, end: number): string };

/**
 * A template: a key sequence with the schema words some of its values are
 * (`"type":"data"`, `"dir":"c2s"`), as `JSON.stringify` lays it out. A line
 * of it is *segments* of fixed bytes (keys, words, punctuation) and the
 * values between them (numbers, other strings, `true`…), so reading such a
 * line is comparing its segments (four bytes at a time) and scanning only
 * those values. The shapes of a template differ only in the classes of
 * those values: each class fits in four bits, so a shape is one number.
 */
interface Template {
  /** Key ids in order. */
  readonly kids: Int32Array;
  /** Per key: the class of its word (≥ {@link WORD_BASE}), or 0 for a value read from the line. */
  readonly fixed: Int32Array;
  /** Positions (key indexes) of the values read from the line, in order. */
  readonly read: Int32Array;
  /**
   * Reads a line as this template from `b[start]`, within `b[..end)` (compact layout; `dv` views `b`): the
   * values read go to the reader's value array, the index after the closing `}` to `R.end`, their shape is
   * returned; -1 when the line is not of this template. Generated for the template: its segments are compared
   * as constants, four bytes at a time.
   */
  readonly readLine: (b: Buffer, start: number, end: number, dv: DataView) => number;
  /** Makes the event: the words as constants, the values read from `v` (by position), in key order (one object literal per template: no keyed stores). */
  readonly build: (v: readonly unknown[]) => object;
  /** The schema's verdict per shape (the classes of the values read, four bits each, the first value lowest). */
  readonly verdicts: Map<number, boolean>;
  lastShape: number;
  lastValid: boolean;
  /** The template of the line that followed a line of this one, the last time: the guess for the next line. */
  next: Template | undefined;
  /** For a data event's template read as bytes (`dataBytes`, {@link DataLayout}); else undefined. */
  readonly data: DataLayout | undefined;
}

/**
 * Where a data event's template read as bytes has its values: the keys of
 * {@link DATA_EVENT_KEYS} in any order, and `frames` or not, the `type` and `dir`
 * words fixed, every other value read from the line.
 */
interface DataLayout {
  /** The `dir` word. */
  readonly dir: Direction;
  /** Key positions of the values. */
  readonly t: number;
  readonly conn: number;
  readonly stream: number;
  readonly hex: number;
  /** -1 when the template has no `frames`. */
  readonly frames: number;
  /** The keys in order ({@link DATA_EVENT_KEYS} itself for that layout). */
  readonly keys: readonly string[];
}

/** Most payload bytes of a data event read as bytes (64 KiB); a longer one is read as an event (its hex a string). */
const MAX_DATA_BYTES = 64 * 1024;

/** Value of each byte as a lower-case hex digit, -1 for any other (the trace-event schema's `hex` pattern is lower-case). */
const HEX_DIGIT = new Int8Array(256).map((_, c) => (c >= 0x30 && c <= 0x39 ? c - 0x30 : c >= 0x61 && c <= 0x66 ? c - 0x57 : -1));

/** Longest string (bytes) kept in the reader's cache of short strings, and the cache's size (a power of two). */
const SHORT = 16;
const SHORT_SLOTS = 8192;

/** Most values a template reads from the line: their classes (four bits each) make one exact number (below 2^53). */
const MAX_READ = 13;

/**
 * Reads one line's bytes (`b[start..end)`, no line end) as a trace event,
 * or returns undefined (read it the slow way).
 */
export interface FastEventReader {
  /** The event, or {@link data} (filled) for a data event read as bytes. */
  (b: Buffer, start: number, end: number): object | undefined;
  /**
   * Reads the line starting at `b[start]` when it is of a template predicted
   * from the lines before (no search for the line's end first: the template
   * says where the line ends, and the LF or CR LF must be there, before
   * `limit`); sets {@link lineEnd}. Undefined: read the line the usual way.
   */
  next(b: Buffer, start: number, limit: number): object | undefined;
  /** After {@link next} read a line: the index of its LF. */
  lineEnd: number;
  /**
   * With `dataBytes`: the record both readers return (filled) for a data
   * event read as bytes, reused from line to line; else undefined.
   */
  readonly data: DataBytes | undefined;
}

/**
 * Walks a schema and says whether every keyword in it is one the shape
 * classes are sound for; returns the property names and the `enum`/`const`
 * words it holds.
 */
function audit(schema: unknown): { sound: boolean; keys: Set<string>; words: Set<string> } {
  const keys = new Set<string>();
  const words = new Set<string>();
  let sound = true;
  const walk = (o: unknown, parent: string): void => {
    if (Array.isArray(o)) {
      for (const x of o) walk(x, '');
      return;
    }
    if (o === null || typeof o !== 'object') return;
    for (const [k, v] of Object.entries(o as Record<string, unknown>)) {
      if (parent === 'properties') {
        keys.add(k);
        walk(v, '');
        continue;
      }
      if (parent === '$defs') {
        walk(v, '');
        continue;
      }
      if (k === 'pattern') {
        if (v !== HEX_PATTERN) sound = false;
        continue;
      }
      if (!SOUND_KEYWORDS.has(k)) sound = false;
      if (k === 'minimum' && v !== 0 && v !== 1) sound = false;
      if (k === 'minLength' && v !== 0 && v !== 1) sound = false;
      // An array is classed only as of objects or not: its items may be nothing else than objects.
      if (k === 'items' && !(typeof v === 'object' && v !== null && (v as { type?: unknown }).type === 'object' && Object.keys(v).every((x) => x === 'type' || x === 'description' || x === 'title'))) sound = false;
      if (k === 'enum' && Array.isArray(v)) for (const w of v) if (typeof w === 'string') words.add(w);
      if (k === 'const' && typeof v === 'string') words.add(v);
      if (k === 'description' || k === 'title' || k === '$id' || k === '$schema' || k === '$ref' || k === 'enum' || k === 'const') continue;
      walk(v, k);
    }
  };
  walk(schema, '');
  return { sound, keys, words };
}

/** Flags of a byte inside a JSON string: not a lower-case hex digit, needs the slow path (escape, control), not ASCII, the closing quote. */
const B_NOT_HEX = 1;
const B_SLOW = 2;
const B_HIGH = 4;
const B_QUOTE = 8;
const BYTE = new Uint8Array(256).map((_, c) => {
  const hex = (c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x66);
  return (hex ? 0 : B_NOT_HEX) | (c === 0x5c || c < 0x20 ? B_SLOW : 0) | (c >= 0x80 ? B_HIGH : 0) | (c === 0x22 ? B_QUOTE : 0);
});

/**
 * A set of names (ASCII or UTF-8) looked up by their bytes: a hash of
 * (length, first byte, last byte) picks a chain of candidates, compared
 * byte by byte in one flat array.
 */
class NameTable {
  private readonly head = new Int32Array(1024).fill(-1);
  private readonly next: Int32Array;
  private readonly off: Int32Array;
  private readonly len: Int32Array;
  private readonly pool: Uint8Array;
  /** Bytes of the longest name. */
  readonly longest: number;

  constructor(names: readonly string[]) {
    const bytes = names.map((n) => Buffer.from(n, 'utf8'));
    this.next = new Int32Array(names.length).fill(-1);
    this.off = new Int32Array(names.length);
    this.len = new Int32Array(names.length);
    this.pool = new Uint8Array(bytes.reduce((n, x) => n + x.length, 0));
    let at = 0;
    let longest = 0;
    bytes.forEach((x, id) => {
      this.pool.set(x, at);
      this.off[id] = at;
      this.len[id] = x.length;
      at += x.length;
      longest = Math.max(longest, x.length);
      if (x.length === 0) return;
      const h = NameTable.hash(x.length, x[0]!, x[x.length - 1]!);
      this.next[id] = this.head[h]!;
      this.head[h] = id;
    });
    this.longest = longest;
  }

  private static hash(len: number, first: number, last: number): number {
    return ((len * 31 + first) * 31 + last) & 1023;
  }

  /** Index of the name whose bytes are `b[s..e)`, or -1. */
  find(b: Uint8Array, s: number, e: number): number {
    const n = e - s;
    if (n <= 0) return -1;
    const pool = this.pool;
    for (let id = this.head[NameTable.hash(n, b[s]!, b[e - 1]!)]!; id >= 0; id = this.next[id]!) {
      if (this.len[id] !== n) continue;
      const o = this.off[id]!;
      let i = 0;
      while (i < n && pool[o + i] === b[s + i]) i++;
      if (i === n) return id;
    }
    return -1;
  }
}

/**
 * The JSON value at `b[i]` (`i < end`, not a blank), checked against JSON's
 * grammar and not made: the index after it, or -1 when it is not one (or is
 * nested deeper than {@link MAX_DEPTH}). Blanks are spaces and tabs only (a
 * CR or LF inside a line leaves it to the slow path: no value read runs
 * into the next line). A string may hold any byte but `"`, `\\` and the
 * control characters, and JSON's escapes.
 */
function skipValue(b: Buffer, i: number, end: number, depth: number): number {
  const c = b[i]!;
  if (c === 0x22) return skipString(b, i, end);
  if (c === 0x5b) return skipArray(b, i, end, UNUSED_CLASS, depth);
  if (c === 0x7b) {
    if (depth >= MAX_DEPTH) return -1;
    i = skipBlanks(b, i + 1, end);
    if (i < end && b[i] === 0x7d) return i + 1;
    for (;;) {
      // "key": value
      if (i >= end || b[i] !== 0x22) return -1;
      i = skipBlanks(b, skipString(b, i, end), end);
      if (i < 0 || i >= end || b[i] !== 0x3a) return -1;
      i = skipBlanks(b, i + 1, end);
      if (i >= end) return -1;
      i = skipBlanks(b, skipValue(b, i, end, depth + 1), end);
      if (i < 0 || i >= end) return -1;
      if (b[i] === 0x7d) return i + 1;
      if (b[i] !== 0x2c) return -1;
      i = skipBlanks(b, i + 1, end);
    }
  }
  if (c === 0x2d || (c >= 0x30 && c <= 0x39)) return skipNumber(b, i, end);
  if (c === 0x74) return i + 4 <= end && b[i + 1] === 0x72 && b[i + 2] === 0x75 && b[i + 3] === 0x65 ? i + 4 : -1;
  if (c === 0x66) return i + 5 <= end && b[i + 1] === 0x61 && b[i + 2] === 0x6c && b[i + 3] === 0x73 && b[i + 4] === 0x65 ? i + 5 : -1;
  if (c === 0x6e) return i + 4 <= end && b[i + 1] === 0x75 && b[i + 2] === 0x6c && b[i + 3] === 0x6c ? i + 4 : -1;
  return -1;
}

/** The index of the first byte at or after `i` that is not a space or a tab (`end` at most; -1 stays -1). */
function skipBlanks(b: Buffer, i: number, end: number): number {
  if (i < 0) return -1;
  while (i < end && (b[i] === 0x20 || b[i] === 0x09)) i++;
  return i;
}

/** The string at `b[i]` (`"`): the index after its closing quote, or -1 (unterminated, a control character, a bad escape). */
function skipString(b: Buffer, i: number, end: number): number {
  for (i++; i < end; ) {
    const c = b[i]!;
    if (c === 0x22) return i + 1;
    if (c < 0x20) return -1;
    if (c !== 0x5c) {
      i++;
      continue;
    }
    if (i + 1 >= end) return -1;
    const e = b[i + 1]!;
    if (e === 0x75) {
      // \uXXXX
      if (i + 6 > end) return -1;
      for (let k = 2; k < 6; k++) if (HEX_VALUE[b[i + k]!] === 255) return -1;
      i += 6;
    } else if (e === 0x22 || e === 0x5c || e === 0x2f || e === 0x62 || e === 0x66 || e === 0x6e || e === 0x72 || e === 0x74) i += 2;
    else return -1;
  }
  return -1;
}

/** The number at `b[i]` (`-` or a digit), in JSON's grammar: the index after it, or -1. */
function skipNumber(b: Buffer, i: number, end: number): number {
  if (b[i] === 0x2d) i++;
  if (i >= end) return -1;
  if (b[i] === 0x30) i++;
  else if ((i = skipDigits(b, i, end)) < 0) return -1;
  if (i < end && b[i] === 0x2e && (i = skipDigits(b, i + 1, end)) < 0) return -1;
  if (i < end && (b[i] === 0x65 || b[i] === 0x45)) {
    i++;
    if (i < end && (b[i] === 0x2b || b[i] === 0x2d)) i++;
    if ((i = skipDigits(b, i, end)) < 0) return -1;
  }
  return i;
}

/** The index after the digits at `b[i]`, or -1 when there is none. */
function skipDigits(b: Buffer, i: number, end: number): number {
  const from = i;
  while (i < end && b[i]! >= 0x30 && b[i]! <= 0x39) i++;
  return i > from ? i : -1;
}

/**
 * The array at `b[i]` (`[`, at nesting `depth`), checked as {@link skipValue}
 * does: the index after it, or -1; its class in `out.cls` ({@link OBJECTS}
 * when every item is an object, else {@link ARRAY}).
 */
function skipArray(b: Buffer, i: number, end: number, out: { cls: number }, depth = 0): number {
  if (depth >= MAX_DEPTH) return -1;
  let objects = true;
  i = skipBlanks(b, i + 1, end);
  if (i < end && b[i] === 0x5d) {
    out.cls = OBJECTS;
    return i + 1;
  }
  for (;;) {
    if (i >= end) return -1;
    if (b[i] !== 0x7b) objects = false;
    i = skipBlanks(b, skipValue(b, i, end, depth + 1), end);
    if (i < 0 || i >= end) return -1;
    if (b[i] === 0x5d) break;
    if (b[i] !== 0x2c) return -1;
    i = skipBlanks(b, i + 1, end);
  }
  out.cls = objects ? OBJECTS : ARRAY;
  return i + 1;
}

/** Where a nested array's class goes (unused). */
const UNUSED_CLASS = { cls: 0 };

/** FNV-1a style mixing of one small integer into a 32-bit hash. */
const mix = (h: number, x: number): number => Math.imul(h ^ x, 0x01000193);
const HASH_SEED = 0x811c9dc5 | 0;

/**
 * Builds the fast reader for an event schema and its compiled validators
 * (`validatorFor(type)` judges whole events of one `type`: the functions the
 * slow path uses; undefined for an unknown type).
 *
 * Each line is first read as the *predicted* template (the one that followed
 * the last line's template the last time, then the last line's own), in the
 * compact layout `JSON.stringify` writes: its segments are compared where
 * they must be, and only the values between them are scanned. Any
 * difference (another key or word, a blank, a missing or extra key) sends
 * the line to the general scanner, which finds each key by name and accepts
 * blanks; both give the same object, or undefined.
 * With `dataBytes`, a data event's template ({@link DataLayout}: its keys
 * and `frames` or not, in any order) decodes the hex of its predicted lines
 * into a reused {@link DataBytes} record (up to {@link MAX_DATA_BYTES}),
 * which is returned in place of an event; `frames` is checked, not parsed.
 * @returns the reader, or undefined when the schema uses a keyword the shape classes are not sound for.
 */
export function createFastEventReader(schema: unknown, validatorFor: (type: string) => ValidateFunction | undefined, dataBytes = false): FastEventReader | undefined {
  const { sound, keys, words } = audit(schema);
  if (!sound || keys.size > 30) return undefined;
  const keyNames = [...keys];
  const wordList = [...words];
  const keyTable = new NameTable(keyNames);
  const wordTable = new NameTable(wordList);
  const longestWord = wordTable.longest;
  // A string of lower-case hex digits is a word only if some word is one (none is in the trace-event schema): then it is not looked up.
  const hexWords = wordList.some((w) => w.length > 0 && /^[0-9a-f]+$/.test(w));

  /** The line being read: its values, their classes and key ids (general scanner), by position. */
  const values: unknown[] = new Array<unknown>(32).fill(undefined);
  const classes = new Int32Array(32);
  const kids = new Int32Array(32);
  /** What {@link readValue} read: the value and its class. */
  const R: { value: unknown; cls: number; end: number } = { value: undefined, cls: 0, end: 0 };
  /** The array at `b[i]` checked and classed ({@link skipArray}: the class in `R.cls`), not made: the index after it, or -1. */
  const readArray = (b: Buffer, i: number, end: number): number => skipArray(b, i, end, R);
  /** The record of a data event read as bytes (`dataBytes`). */
  const D: DataBytes | undefined = dataBytes ? { t: 0, conn: 0, stream: 0, dir: 'c2s', bytes: new Uint8Array(MAX_DATA_BYTES), length: 0, keys: DATA_EVENT_KEYS, line: new Uint8Array(0), framesStart: 0, framesEnd: 0 } : undefined;

  const repOf = (c: number): unknown => {
    switch (c) {
      case ZERO: return 0;
      case POSITIVE: return 1;
      case TRUE: return true;
      case FALSE: return false;
      case NULL: return null;
      case EMPTY: return '';
      case HEX: return '00';
      case TEXT: return 'x';
      case OBJECTS: return [{}];
      case ARRAY: return [0];
      default: return wordList[c - WORD_BASE];
    }
  };

  const templates = new Map<number, Template[]>();
  /** The template of key ids `kids[0..n)` with the words of `classes` (hash `h`), made on first sight; undefined when it reads more than {@link MAX_READ} values. */
  const templateOf = (n: number, h: number): Template | undefined => {
    let list = templates.get(h);
    if (list !== undefined) {
      outer: for (const tp of list) {
        if (tp.kids.length !== n) continue;
        for (let j = 0; j < n; j++) if (tp.kids[j] !== kids[j] || tp.fixed[j] !== (classes[j]! >= WORD_BASE ? classes[j] : 0)) continue outer;
        return tp;
      }
    } else templates.set(h, (list = []));
    const fixed = Int32Array.from(classes.subarray(0, n), (c) => (c >= WORD_BASE ? c : 0));
    const read = Int32Array.from(fixed.keys()).filter((j) => fixed[j] === 0);
    if (read.length > MAX_READ) return undefined;
    // A data event's keys (and frames or not), its type and direction words and nothing else fixed: read as bytes.
    const names = Array.from(kids.subarray(0, n), (k) => keyNames[k]!);
    const at = (k: string): number => names.indexOf(k);
    const data: DataLayout | undefined =
      D !== undefined &&
      (n === DATA_EVENT_KEYS.length || (n === DATA_EVENT_KEYS.length + 1 && at('frames') >= 0)) &&
      DATA_EVENT_KEYS.every((k) => at(k) >= 0) &&
      wordList[fixed[at('type')]! - WORD_BASE] === 'data' &&
      fixed[at('dir')] !== 0 &&
      read.length === n - 2
        ? { dir: wordList[fixed[at('dir')]! - WORD_BASE] as Direction, t: at('t'), conn: at('conn'), stream: at('stream'), hex: at('hex'), frames: at('frames'), keys: names.join() === DATA_EVENT_KEYS.join() ? DATA_EVENT_KEYS : names }
        : undefined;
    // The segments' text: keys, words, punctuation (JSON-quoted as JSON.stringify writes them).
    const segs: string[] = [''];
    const fields: string[] = [];
    for (let j = 0; j < n; j++) {
      const key = JSON.stringify(keyNames[kids[j]!]!);
      segs[segs.length - 1] += `${j === 0 ? '{' : ','}${key}:`;
      if (fixed[j] !== 0) {
        const word = JSON.stringify(wordList[fixed[j]! - WORD_BASE]!);
        segs[segs.length - 1] += word;
        fields.push(`${key}: ${word}`);
      } else {
        segs.push('');
        fields.push(`${key}: v[${j}]`);
      }
    }
    segs[segs.length - 1] += '}';
    // The reader of this template's lines: each segment compared as constants (four bytes at a time; the last
    // four overlap the ones before when its length is not a multiple of four), each value read between two.
    const code: string[] = ['let i = start;', 'let shape = 0;', 'let c = 0, j = 0, v = 0, d = 0, x = 0, cls = 0;'];
    segs.forEach((seg, k) => {
      const bytes = Buffer.from(seg, 'utf8');
      const last = k === segs.length - 1;
      code.push(last ? `if (i + ${bytes.length} > end) return -1;` : `if (i + ${bytes.length} >= end) return -1;`);
      const tests: string[] = [];
      if (bytes.length < 4) for (let o = 0; o < bytes.length; o++) tests.push(`b[i + ${o}] !== ${bytes[o]}`);
      else for (let o = 0; o < bytes.length; o += 4) tests.push(`dv.getInt32(i + ${Math.min(o, bytes.length - 4)}, true) !== ${bytes.readInt32LE(Math.min(o, bytes.length - 4))}`);
      code.push(`if (${tests.join(' || ')}) return -1;`);
      if (last) return code.push(`R.end = i + ${bytes.length};`);
      const readAt = read[k]!;
      // The value after the segment: `lines` read it and set `cls` (its class), then it is counted in the shape.
      const value = (...lines: string[]): number => code.push(`i += ${bytes.length};`, ...lines, `classes[${readAt}] = cls;`, `shape += cls * ${16 ** k};`);
      if (data !== undefined && readAt === data.frames) {
        // Frames: checked and classed, not parsed (a monitor's feedData does not read them).
        return value('if (b[i] !== 0x5b) return -1;', 'D.framesStart = i;', 'i = readArray(b, i, end);', 'if (i < 0) return -1;', 'D.framesEnd = i; cls = R.cls;');
      }
      if (data !== undefined && readAt === data.hex) {
        // The hex, decoded into D.bytes (a pair at a time; anything but lower-case hex pairs, or more than the record holds: -1, the line is read as an event).
        return value(
          'if (b[i] !== 0x22) return -1;',
          'j = i + 1; x = 0;',
          'while (j < end && (v = HEX_DIGIT[b[j]]) >= 0) {',
          `  if (j + 1 >= end || (d = HEX_DIGIT[b[j + 1]]) < 0 || x === ${MAX_DATA_BYTES}) return -1;`,
          '  bytes[x++] = (v << 4) | d; j += 2;',
          '}',
          'if (j >= end || b[j] !== 0x22) return -1;',
          `D.length = x; cls = x === 0 ? ${EMPTY} : ${HEX}; i = j + 1;`,
        );
      }
      // (A word where the template reads a value: another template's line.)
      // A number is read in place ({@link readValue}'s number branch, the same checks, without the call); anything else by readValue.
      value(
        'c = b[i];',
        'if (c >= 0x30 && c <= 0x39) {',
        '  j = i; v = c - 0x30;',
        '  while (++j < end && (d = b[j] - 0x30) >= 0 && d <= 9) v = v * 10 + d;',
        `  if (j - i > ${MAX_DIGITS} || (c === 0x30 && j - i > 1)) return -1;`,
        '  if (j < end && ((x = b[j]) === 0x2e || x === 0x65 || x === 0x45)) return -1;',
        `  values[${readAt}] = v; cls = v === 0 ? ${ZERO} : ${POSITIVE}; i = j;`,
        '} else {',
        '  i = readValue(b, i, end);',
        `  if (i < 0 || R.cls >= ${WORD_BASE}) return -1;`,
        `  values[${readAt}] = R.value; cls = R.cls;`,
        '}',
      );
    });
    code.push('return shape;');
    const readLine = new Function('readValue', 'R', 'values', 'classes', 'HEX_DIGIT', 'D', 'bytes', 'readArray', `return (b, start, end, dv) => {\n${code.join('\n')}\n};`)(readValue, R, values, classes, HEX_DIGIT, D, D?.bytes, readArray) as Template['readLine'];
    // The keys and words are the schema's own (JSON-quoted into the literal); the values come from the array.
    const build = new Function('v', `return { ${fields.join(', ')} };`) as (v: readonly unknown[]) => object;
    const tp: Template = {
      kids: kids.slice(0, n),
      fixed,
      read,
      readLine,
      build,
      verdicts: new Map(),
      lastShape: -1,
      lastValid: false,
      next: undefined,
      data,
    };
    list.push(tp);
    return tp;
  };

  /** The schema's verdict on the shape `shape` of template `tp` (the line's classes are in `classes`), judged once per shape and template. */
  const shapeValid = (tp: Template, shape: number): boolean => {
    if (shape === tp.lastShape) return tp.lastValid;
    let valid = tp.verdicts.get(shape);
    if (valid === undefined) {
      // A new shape: judged by the schema on a representative event.
      const rep: Record<string, unknown> = {};
      for (let j = 0; j < tp.kids.length; j++) rep[keyNames[tp.kids[j]!]!] = repOf(tp.fixed[j] || classes[j]!);
      const type = rep['type'];
      const validate = typeof type === 'string' ? validatorFor(type) : undefined;
      valid = validate !== undefined && validate(rep) === true;
      tp.verdicts.set(shape, valid);
    }
    tp.lastShape = shape;
    tp.lastValid = valid;
    return valid;
  };

  /**
   * Reads the value starting at `b[i]` (`i < end`) into `R`.
   * @returns the index after it, or -1 when it is not a value the fast path reads (the line goes the slow way).
   */
  const readValue = (b: Buffer, i: number, end: number): number => {
    const c = b[i]!;
    if (c === 0x22) {
      const vs = ++i;
      // One table load per byte: the OR of the flags says whether the text is hex, ASCII, or needs the slow path.
      let flags = 0;
      let f = 0;
      while (i < end && ((f = BYTE[b[i]!]!) & B_QUOTE) === 0) {
        flags |= f;
        i++;
      }
      if (i >= end || flags & B_SLOW) return -1; // unterminated, escapes and control characters: the slow path
      const ve = i;
      const len = ve - vs;
      const wid = len <= longestWord && (hexWords || (flags & B_NOT_HEX) !== 0) ? wordTable.find(b, vs, ve) : -1;
      if (wid >= 0) {
        R.value = wordList[wid];
        R.cls = WORD_BASE + wid;
      } else {
        R.value = (flags & B_HIGH) !== 0 ? b.toString('utf8', vs, ve) : len === 0 ? '' : len <= SHORT && len >= 4 ? shortText(b, vs, len) : (b as LatinBuffer).latin1Slice(vs, ve);
        R.cls = len === 0 ? EMPTY : (flags & B_NOT_HEX) === 0 && (len & 1) === 0 ? HEX : TEXT;
      }
      return ve + 1;
    }
    if (c >= 0x30 && c <= 0x39) {
      const ns = i;
      let v = c - 0x30;
      let d = 0;
      while (++i < end && (d = b[i]! - 0x30) >= 0 && d <= 9) v = v * 10 + d;
      // A leading zero, more digits than are exact, a fraction or an exponent: the slow path.
      if (i - ns > MAX_DIGITS || (c === 0x30 && i - ns > 1)) return -1;
      if (i < end) {
        const x = b[i];
        if (x === 0x2e || x === 0x65 || x === 0x45) return -1;
      }
      R.value = v;
      R.cls = v === 0 ? ZERO : POSITIVE;
      return i;
    }
    if (c === 0x74) {
      if (i + 4 > end || b[i + 1] !== 0x72 || b[i + 2] !== 0x75 || b[i + 3] !== 0x65) return -1;
      R.value = true;
      R.cls = TRUE;
      return i + 4;
    }
    if (c === 0x66) {
      if (i + 5 > end || b[i + 1] !== 0x61 || b[i + 2] !== 0x6c || b[i + 3] !== 0x73 || b[i + 4] !== 0x65) return -1;
      R.value = false;
      R.cls = FALSE;
      return i + 5;
    }
    if (c === 0x6e) {
      if (i + 4 > end || b[i + 1] !== 0x75 || b[i + 2] !== 0x6c || b[i + 3] !== 0x6c) return -1;
      R.value = null;
      R.cls = NULL;
      return i + 4;
    }
    if (c === 0x5b) {
      // An array: checked, classed, then parsed on its own (the same value as in the whole line's JSON.parse).
      const e = skipArray(b, i, end, R);
      if (e < 0) return -1;
      R.value = JSON.parse(b.toString('utf8', i, e)) as unknown;
      return e;
    }
    return -1; // objects, negative numbers, bad JSON
  };

  /**
   * Short ASCII strings made lately, by a hash of their bytes (payloads and
   * addresses repeat in a trace: one string is made for each, not one per
   * line; strings are values, so sharing one is invisible). A string of 4 to
   * {@link SHORT} bytes is known by its length and four words of its bytes
   * (little-endian int32 at offsets 0, 4, 8 and length − 4, the unused ones
   * 0: together they cover every byte); slot `x` holds the string
   * `shortStrings[x]` and its key `shortKeys[x * 5 ..]`; a hash has two slots.
   */
  const shortStrings: (string | undefined)[] = new Array<string | undefined>(SHORT_SLOTS).fill(undefined);
  const shortKeys = new Int32Array(SHORT_SLOTS * 5);
  /** The string of the ASCII bytes `b[s..s + len)` (4 ≤ `len` ≤ {@link SHORT}; `view` views `b`). */
  const shortText = (b: Buffer, s: number, len: number): string => {
    const dv = view!;
    const w0 = dv.getInt32(s, true);
    const w1 = len > 8 ? dv.getInt32(s + 4, true) : 0;
    const w2 = len > 12 ? dv.getInt32(s + 8, true) : 0;
    const w3 = dv.getInt32(s + len - 4, true);
    let h = Math.imul(len ^ w0, 0x01000193);
    h = Math.imul(h ^ w1, 0x01000193);
    h = Math.imul(h ^ w2, 0x01000193);
    h = Math.imul(h ^ w3, 0x01000193);
    const slot = (h ^ (h >>> 15)) & (SHORT_SLOTS - 1);
    // Two slots per hash (`slot` and its neighbour `slot ^ 1`), the newer first: two strings whose hashes meet both stay.
    for (let x = slot, k = 0; k < 2; x ^= 1, k++) {
      const at = x * 5;
      const got = shortStrings[x];
      if (got !== undefined && shortKeys[at] === len && shortKeys[at + 1] === w0 && shortKeys[at + 2] === w1 && shortKeys[at + 3] === w2 && shortKeys[at + 4] === w3) return got;
    }
    const text = (b as LatinBuffer).latin1Slice(s, s + len);
    const at = slot * 5;
    for (let j = 0, to = (slot ^ 1) * 5; j < 5; j++) shortKeys[to + j] = shortKeys[at + j]!;
    shortStrings[slot ^ 1] = shortStrings[slot];
    shortKeys[at] = len;
    shortKeys[at + 1] = w0;
    shortKeys[at + 2] = w1;
    shortKeys[at + 3] = w2;
    shortKeys[at + 4] = w3;
    shortStrings[slot] = text;
    return text;
  };

  /** A DataView of the last buffer read (segments are compared four bytes at a time through it). */
  let viewOf: Buffer | undefined;
  let view: DataView | undefined;
  const isBlank = (c: number) => c === 0x20 || c === 0x09;

  /** The general scanner: any flat object, blanks allowed; the key ids go to `kids`. @returns the number of keys, or -1 (the slow path). */
  const readAny = (b: Buffer, start: number, end: number): number => {
    let i = start;
    while (i < end && isBlank(b[i]!)) i++;
    if (i >= end || b[i] !== 0x7b) return -1; // {
    i++;
    let n = 0;
    let seen = 0;
    for (;;) {
      while (i < end && isBlank(b[i]!)) i++;
      if (i >= end || b[i] !== 0x22) return -1; // " (also {}: the schema rejects it, the slow path says why)
      const ks = ++i;
      while (i < end && b[i] !== 0x22) i++;
      if (i >= end) return -1;
      const kid = keyTable.find(b, ks, i); // (a key with an escape is no schema key: not found)
      if (kid < 0 || seen & (1 << kid)) return -1; // unknown or repeated key
      seen |= 1 << kid;
      i++;
      while (i < end && isBlank(b[i]!)) i++;
      if (i >= end || b[i] !== 0x3a) return -1; // :
      i++;
      while (i < end && isBlank(b[i]!)) i++;
      if (i >= end) return -1;
      i = readValue(b, i, end);
      if (i < 0) return -1;
      values[n] = R.value;
      classes[n] = R.cls;
      kids[n++] = kid;
      while (i < end && isBlank(b[i]!)) i++;
      if (i >= end) return -1;
      if (b[i] === 0x2c) {
        i++;
        continue;
      }
      if (b[i] === 0x7d) break;
      return -1;
    }
    i++;
    while (i < end && isBlank(b[i]!)) i++;
    return i === end ? n : -1; // (text after the object: the slow path)
  };

  /** The template of the last line read on the fast path (undefined before the first). */
  let last: Template | undefined;

  /** Reads `b` from `start` as the predicted template, then as the last line's: its shape (`R.end` after its `}`), or -1. */
  const predicted = (b: Buffer, start: number, end: number): number => {
    if (b !== viewOf) {
      viewOf = b;
      view = new DataView(b.buffer, b.byteOffset, b.byteLength);
    }
    if (last === undefined) return -1;
    let tp = last.next ?? last;
    let shape = tp.readLine(b, start, end, view!);
    if (shape < 0 && last !== tp) shape = (tp = last).readLine(b, start, end, view!);
    guessed = tp;
    return shape;
  };
  /** The template {@link predicted} read a line as. */
  let guessed: Template | undefined;

  /**
   * The event of template `tp` and shape `shape` (its values in `values`), or undefined when the schema rejects
   * the shape; {@link D}, filled, for a data event `tp.readLine` read as bytes (`byLine`).
   */
  const take = (tp: Template, shape: number, b: Buffer, start: number, byLine: boolean): object | undefined => {
    if (!(shape === tp.lastShape ? tp.lastValid : shapeValid(tp, shape))) return undefined;
    if (last !== undefined) last.next = tp;
    last = tp;
    const data = tp.data;
    if (data !== undefined && byLine) {
      // (The shape is valid: t, conn and stream are numbers.)
      const d = D!;
      d.t = values[data.t] as number;
      d.conn = values[data.conn] as number;
      d.stream = values[data.stream] as number;
      d.dir = data.dir;
      d.keys = data.keys;
      d.line = b;
      return d;
    }
    return tp.build(values);
  };

  const reader = ((b: Buffer, start: number, end: number): object | undefined => {
    const predictedShape = predicted(b, start, end);
    if (predictedShape >= 0 && R.end === end) return take(guessed!, predictedShape, b, start, true);
    const n = readAny(b, start, end);
    if (n <= 0) return undefined;
    let h = HASH_SEED;
    for (let j = 0; j < n; j++) h = mix(mix(h, kids[j]!), classes[j]! >= WORD_BASE ? classes[j]! : 0);
    const tp = templateOf(n, h);
    if (tp === undefined) return undefined;
    let shape = 0;
    const read = tp.read;
    for (let k = 0, unit = 1; k < read.length; k++, unit *= 16) shape += classes[read[k]!]! * unit;
    return take(tp, shape, b, start, false);
  }) as FastEventReader & { data: DataBytes | undefined };
  reader.lineEnd = -1;
  reader.data = D;
  reader.next = (b, start, limit) => {
    const shape = predicted(b, start, limit);
    if (shape < 0) return undefined;
    // (No value read holds a LF or CR: a string with a control character is left to the slow path.)
    let e = R.end;
    if (e < limit && b[e] === 0x0d) e++;
    if (e >= limit || b[e] !== 0x0a) return undefined;
    const ev = take(guessed!, shape, b, start, true);
    if (ev !== undefined) reader.lineEnd = e;
    return ev;
  };
  return reader;
}
