/**
 * Payload values of Aura messages (SPEC §16, AURA-16.5): the JSON value a
 * declared field type allows, and sample values of a type. One place for
 * both, so that the runtime's values and the monitor's check agree.
 *
 * Types are read as Rust types (the seed's choreographies are Rust macros):
 * `u8`…`u128`, `usize`, `i8`…`i128`, `isize` are JSON integers (unsigned:
 * ≥ 0); `f32`/`f64` numbers; `String`, `str`, `&str`, `char` strings; `bool`
 * booleans; `Vec<T>`, `[T]` arrays of T; `Option<T>` null or T; `(A, B)`
 * arrays of that length. Any other type (an enum such as `Vote`, a struct)
 * and a field without a type accept any JSON value.
 */
import type { Field } from '../ast.js';
import type { AuraPayload } from './wire.js';

const UNSIGNED = /^(u8|u16|u32|u64|u128|usize)$/;
const SIGNED = /^(i8|i16|i32|i64|i128|isize)$/;

/** Splits `A, B<C, D>, E` at top-level commas. */
function splitTop(s: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let cur = '';
  for (const ch of s) {
    if (ch === '<' || ch === '(' || ch === '[') depth++;
    if (ch === '>' || ch === ')' || ch === ']') depth--;
    if (ch === ',' && depth === 0) {
      out.push(cur.trim());
      cur = '';
    } else cur += ch;
  }
  if (cur.trim()) out.push(cur.trim());
  return out;
}

/** The shape of a type: what {@link typeAllows} and {@link sampleValue} work on. */
type Shape =
  | { readonly k: 'uint' | 'int' | 'float' | 'string' | 'bool' | 'any' }
  | { readonly k: 'array' | 'option'; readonly of: Shape }
  | { readonly k: 'tuple'; readonly of: readonly Shape[] };

const shapes = new Map<string, Shape>();

/** Reads a type's text (as the parser keeps it) into a shape. */
function shapeOf(type: string | undefined): Shape {
  if (type === undefined) return { k: 'any' };
  const hit = shapes.get(type);
  if (hit) return hit;
  const t = type.replace(/\s+/g, '').replace(/^&/, '');
  let s: Shape;
  const generic = /^([A-Za-z_][\w:]*)<(.*)>$/.exec(t);
  if (UNSIGNED.test(t)) s = { k: 'uint' };
  else if (SIGNED.test(t)) s = { k: 'int' };
  else if (t === 'f32' || t === 'f64') s = { k: 'float' };
  else if (t === 'String' || t === 'str' || t === 'char') s = { k: 'string' };
  else if (t === 'bool') s = { k: 'bool' };
  else if (t.startsWith('[') && t.endsWith(']')) s = { k: 'array', of: shapeOf(t.slice(1, -1).split(';')[0]) };
  else if (t.startsWith('(') && t.endsWith(')')) s = { k: 'tuple', of: splitTop(t.slice(1, -1)).map(shapeOf) };
  else if (generic && /(^|::)(Vec|VecDeque|HashSet|BTreeSet)$/.test(generic[1]!)) s = { k: 'array', of: shapeOf(generic[2]) };
  else if (generic && /(^|::)Option$/.test(generic[1]!)) s = { k: 'option', of: shapeOf(generic[2]) };
  else s = { k: 'any' };
  shapes.set(type, s);
  return s;
}

function allows(s: Shape, v: unknown): boolean {
  switch (s.k) {
    case 'any': return true;
    case 'uint': return typeof v === 'number' && Number.isInteger(v) && v >= 0;
    case 'int': return typeof v === 'number' && Number.isInteger(v);
    case 'float': return typeof v === 'number' && Number.isFinite(v);
    case 'string': return typeof v === 'string';
    case 'bool': return typeof v === 'boolean';
    case 'array': return Array.isArray(v) && v.every((x) => allows(s.of, x));
    case 'option': return v === null || allows(s.of, v);
    case 'tuple': return Array.isArray(v) && v.length === s.of.length && v.every((x, i) => allows(s.of[i]!, x));
  }
}

/** True when JSON value `v` is allowed for a field of type `type` (undefined type: any value). */
export function typeAllows(type: string | undefined, v: unknown): boolean {
  return allows(shapeOf(type), v);
}

/**
 * The first problem of a payload against declared fields (AURA-16.5), or
 * undefined: a missing field, or a value its type does not allow. Extra
 * fields are allowed.
 */
export function payloadProblem(fields: readonly Field[], payload: AuraPayload): string | undefined {
  for (const f of fields) {
    if (!(f.name in payload)) return `field "${f.name}" is missing`;
    if (!typeAllows(f.type, payload[f.name])) return `field "${f.name}" is ${JSON.stringify(payload[f.name])}, not a ${f.type}`;
  }
  return undefined;
}

function sample(s: Shape, n: number, name: string): unknown {
  switch (s.k) {
    case 'uint': case 'int': return n;
    case 'float': return n + 0.5;
    case 'string': return `${name}-${n}`;
    case 'bool': return n % 2 === 1;
    case 'array': return [sample(s.of, n, name)];
    case 'option': return n % 2 === 0 ? null : sample(s.of, n, name);
    case 'tuple': return s.of.map((x, i) => sample(x, n + i, name));
    case 'any': return `${name}-${n}`;
  }
}

/** A sample value of a field type; `n` (a natural number) varies it. */
export function sampleValue(type: string | undefined, n: number, name = 'v'): unknown {
  return sample(shapeOf(type), n, name);
}

/** A value the type does NOT allow (for the wrong-payload-type fault and deviations); undefined when the type allows everything. */
export function wrongValue(type: string | undefined): unknown {
  return wrong(shapeOf(type));
}

function wrong(s: Shape): unknown {
  switch (s.k) {
    case 'any': return undefined;
    case 'string': return 42;
    case 'option': return wrong(s.of);
    case 'array': case 'tuple': return 'not-a-list';
    default: return 'not-a-number';
  }
}

/** A sample payload for declared fields. */
export function samplePayload(fields: readonly Field[], n: number): Record<string, unknown> {
  return Object.fromEntries(fields.map((f, i) => [f.name, sampleValue(f.type, n + i, f.name)]));
}
