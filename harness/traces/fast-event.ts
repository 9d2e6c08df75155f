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
 * Anything outside the fast path — escapes in a string, a nested value
 * (`frames`), a number that is not a small non-negative integer, a key the
 * schema does not know, a repeated key, whitespace other than blanks, bad
 * JSON, a shape the schema rejects — returns `undefined`, and the caller
 * reads the line the slow way (`JSON.parse`, then ajv), which gives the
 * exact error message. The result is the object `JSON.parse` would give
 * (same keys, same order, same values).
 */
import type { ValidateFunction } from 'ajv';

/** Longest integer (digits) read on the fast path: below 2^53, so exact. */
const MAX_DIGITS = 15;

/** Keywords the shape classes are sound for (see the module docstring), with the values allowed where that matters. */
const SOUND_KEYWORDS = new Set(['$schema', '$id', 'title', 'description', 'type', 'required', 'properties', 'allOf', 'if', 'then', '$ref', '$defs', 'enum', 'const', 'minimum', 'minLength', 'additionalProperties', 'items']);
const HEX_PATTERN = '^(?:[0-9a-f]{2})*$';

/** Class codes of values (below {@link WORD_BASE}); a schema word `i` is `WORD_BASE + i`. */
const enum Cls {
  Zero = 1,
  Positive = 2,
  True = 3,
  False = 4,
  Null = 5,
  Empty = 6,
  Hex = 7,
  Text = 8,
}
const WORD_BASE = 16;

/** Node's Buffer has `latin1Slice` (what `toString('latin1')` calls) without the argument checks. */
type LatinBuffer = Buffer & { latin1Slice(start: number, end: number): string };

/** One shape seen: its codes (key id, class) and the schema's verdict on it. */
interface Shape {
  readonly codes: Int32Array;
  readonly valid: boolean;
  /** Makes the event from the line's values, in the line's key order (one object literal per shape: no keyed stores). */
  readonly build: (v: readonly unknown[]) => object;
}

/** Reads one line's bytes as a trace event, or returns undefined (read it the slow way). */
export type FastEventReader = (b: Buffer, start: number, end: number) => object | undefined;

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
 * Builds the fast reader for an event schema and its compiled validators
 * (`validatorFor(type)` judges whole events of one `type`: the functions the
 * slow path uses; undefined for an unknown type).
 * @returns the reader, or undefined when the schema uses a keyword the shape classes are not sound for.
 */
export function createFastEventReader(schema: unknown, validatorFor: (type: string) => ValidateFunction | undefined): FastEventReader | undefined {
  const { sound, keys, words } = audit(schema);
  if (!sound || keys.size > 30) return undefined;
  const keyNames = [...keys];
  const wordList = [...words];
  const keyTable = new NameTable(keyNames);
  const wordTable = new NameTable(wordList);
  // A string of lower-case hex digits is a word only if some word is one (none is in the trace-event schema): then it is not looked up.
  const hexWords = wordList.some((w) => w.length > 0 && /^[0-9a-f]+$/.test(w));

  const shapes = new Map<number, Shape[]>();
  const codes = new Int32Array(2 * 32);
  const repOf = (cls: number): unknown => {
    switch (cls) {
      case Cls.Zero: return 0;
      case Cls.Positive: return 1;
      case Cls.True: return true;
      case Cls.False: return false;
      case Cls.Null: return null;
      case Cls.Empty: return '';
      case Cls.Hex: return '00';
      case Cls.Text: return 'x';
      default: return wordList[cls - WORD_BASE];
    }
  };
  /** The schema's verdict on a shape (run once per shape). */
  const judgeShape = (n: number, hash: number): Shape => {
    const rep: Record<string, unknown> = {};
    for (let i = 0; i < n; i += 2) rep[keyNames[codes[i]!]!] = repOf(codes[i + 1]!);
    const type = rep['type'];
    const validate = typeof type === 'string' ? validatorFor(type) : undefined;
    const valid = validate !== undefined && validate(rep) === true;
    // The keys are the schema's property names (JSON-quoted into the literal), the values come from the array.
    const fields: string[] = [];
    for (let i = 0; i < n; i += 2) fields.push(`${JSON.stringify(keyNames[codes[i]!]!)}: v[${i >> 1}]`);
    const build = new Function('v', `return { ${fields.join(', ')} };`) as (v: readonly unknown[]) => object;
    const shape: Shape = { codes: codes.slice(0, n), valid, build };
    const list = shapes.get(hash) ?? [];
    list.push(shape);
    shapes.set(hash, list);
    return shape;
  };
  const values: unknown[] = new Array<unknown>(32).fill(undefined);

  const isBlank = (c: number) => c === 0x20 || c === 0x09;

  return (b, start, end) => {
    let i = start;
    while (i < end && isBlank(b[i]!)) i++;
    if (b[i] !== 0x7b) return undefined; // {
    i++;
    let n = 0;
    let seen = 0;
    let hash = 0x811c9dc5;
    for (;;) {
      while (i < end && isBlank(b[i]!)) i++;
      if (b[i] === 0x7d && n === 0) break; // {} (the schema rejects it: the slow path says why)
      if (b[i] !== 0x22) return undefined; // "
      const ks = ++i;
      while (i < end && b[i] !== 0x22) i++;
      if (i >= end) return undefined;
      const kid = keyTable.find(b, ks, i); // (a key with an escape is no schema key: not found)
      if (kid < 0 || seen & (1 << kid)) return undefined; // unknown or repeated key
      seen |= 1 << kid;
      i++;
      while (i < end && isBlank(b[i]!)) i++;
      if (b[i] !== 0x3a) return undefined; // :
      i++;
      while (i < end && isBlank(b[i]!)) i++;
      const c = b[i];
      let value: unknown;
      let cls: number;
      if (c === 0x22) {
        const vs = ++i;
        // One table load per byte: the OR of the flags says whether the text is hex, ASCII, or needs the slow path.
        let flags = 0;
        let f = 0;
        while (i < end && ((f = BYTE[b[i]!]!) & B_QUOTE) === 0) {
          flags |= f;
          i++;
        }
        if (i >= end || flags & B_SLOW) return undefined; // unterminated, escapes and control characters: the slow path
        const ascii = (flags & B_HIGH) === 0;
        const hex = (flags & B_NOT_HEX) === 0;
        const ve = i++;
        const wid = ve - vs <= wordTable.longest && (hexWords || (flags & B_NOT_HEX) !== 0) ? wordTable.find(b, vs, ve) : -1;
        if (wid >= 0) {
          value = wordList[wid];
          cls = WORD_BASE + wid;
        } else {
          value = ascii ? (b as LatinBuffer).latin1Slice(vs, ve) : b.toString('utf8', vs, ve);
          cls = ve === vs ? Cls.Empty : hex && ((ve - vs) & 1) === 0 ? Cls.Hex : Cls.Text;
        }
      } else if (c !== undefined && c >= 0x30 && c <= 0x39) {
        if (c === 0x30 && i + 1 < end && b[i + 1]! >= 0x30 && b[i + 1]! <= 0x39) return undefined; // a leading zero: not JSON
        const ns = i;
        let v = 0;
        while (i < end && b[i]! >= 0x30 && b[i]! <= 0x39) v = v * 10 + (b[i++]! - 0x30);
        if (i - ns > MAX_DIGITS) return undefined;
        const x = b[i];
        if (x === 0x2e || x === 0x65 || x === 0x45) return undefined; // . e E: not a plain integer
        value = v;
        cls = v === 0 ? Cls.Zero : Cls.Positive;
      } else if (c === 0x74 && b[i + 1] === 0x72 && b[i + 2] === 0x75 && b[i + 3] === 0x65) {
        i += 4;
        value = true;
        cls = Cls.True;
      } else if (c === 0x66 && b[i + 1] === 0x61 && b[i + 2] === 0x6c && b[i + 3] === 0x73 && b[i + 4] === 0x65) {
        i += 5;
        value = false;
        cls = Cls.False;
      } else if (c === 0x6e && b[i + 1] === 0x75 && b[i + 2] === 0x6c && b[i + 3] === 0x6c) {
        i += 4;
        value = null;
        cls = Cls.Null;
      } else {
        return undefined; // nested values, negative numbers, bad JSON
      }
      if (i > end) return undefined;
      values[n >> 1] = value;
      codes[n++] = kid;
      codes[n++] = cls;
      hash = Math.imul(hash ^ (kid * 64 + cls), 0x01000193);
      while (i < end && isBlank(b[i]!)) i++;
      if (b[i] === 0x2c) {
        i++;
        continue;
      }
      if (b[i] === 0x7d) break;
      return undefined;
    }
    i++;
    while (i < end && isBlank(b[i]!)) i++;
    if (i !== end) return undefined; // text after the object
    hash >>>= 0;
    const list = shapes.get(hash);
    if (list) {
      outer: for (const sh of list) {
        const sc = sh.codes;
        if (sc.length !== n) continue;
        for (let j = 0; j < n; j++) if (sc[j] !== codes[j]) continue outer;
        return sh.valid ? sh.build(values) : undefined;
      }
    }
    const sh = judgeShape(n, hash);
    return sh.valid ? sh.build(values) : undefined;
  };
}
