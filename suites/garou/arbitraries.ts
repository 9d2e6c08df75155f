/**
 * fast-check arbitraries of valid Garou frames, derived from the payload
 * schemas (`schemas/frames.schema.json`), so that generators and validators
 * share one definition (GAROU-2.5). Covers the subset of JSON Schema the
 * file uses: `$ref` into `$defs`, `type` object (with `required`), integer,
 * number, string (`minLength`, the base64 `pattern`), boolean, array
 * (`items`), `enum`, and `{}` (any JSON value).
 */
import fc from 'fast-check';
import frameSchema from './schemas/frames.schema.json' with { type: 'json' };
import { FRAME_TYPES, type Frame, type FrameName, type Payloads } from './frames.js';

type Schema = Record<string, unknown>;
const DEFS = (frameSchema as { $defs: Record<string, Schema> }).$defs;

/** Options of the generated values. */
export interface ArbitraryOptions {
  /** Longest generated string, in code units before encoding (default 12). */
  readonly maxStringLength?: number;
  /** Longest generated array (default 3). */
  readonly maxArrayLength?: number;
}

function arbOf(schema: Schema, o: Required<ArbitraryOptions>): fc.Arbitrary<unknown> {
  if (typeof schema['$ref'] === 'string') {
    const name = schema['$ref'].replace('#/$defs/', '');
    const target = DEFS[name];
    if (!target) throw new Error(`arbitraries: unresolved $ref ${schema['$ref']}`);
    return arbOf(target, o);
  }
  if (Array.isArray(schema['enum'])) return fc.constantFrom(...(schema['enum'] as unknown[]));
  switch (schema['type']) {
    case 'object': {
      const props = (schema['properties'] ?? {}) as Record<string, Schema>;
      const required = (schema['required'] ?? []) as string[];
      const model: Record<string, fc.Arbitrary<unknown>> = {};
      for (const [k, s] of Object.entries(props)) model[k] = arbOf(s, o);
      // Plain objects, as JSON.parse makes them (fc.record's have a null prototype).
      return fc.record(model, { requiredKeys: required }).map((o) => ({ ...o }));
    }
    case 'integer': {
      const min = typeof schema['minimum'] === 'number' ? schema['minimum'] : Number.MIN_SAFE_INTEGER;
      const max = typeof schema['maximum'] === 'number' ? schema['maximum'] : Number.MAX_SAFE_INTEGER;
      return fc.oneof(
        fc.constantFrom(min, max),
        fc.bigInt({ min: BigInt(min), max: BigInt(max) }).map(Number),
        fc.integer({ min: Math.max(min, 0), max: Math.min(max, Math.max(min, 0) + 100) }),
      );
    }
    case 'number':
      return fc.double({ noNaN: true, noDefaultInfinity: true });
    case 'boolean':
      return fc.boolean();
    case 'string': {
      if (typeof schema['pattern'] === 'string') {
        // The one pattern in the file: base64 with padding.
        return fc.uint8Array({ maxLength: o.maxStringLength * 2 }).map((b) => Buffer.from(b).toString('base64'));
      }
      const minLength = typeof schema['minLength'] === 'number' ? schema['minLength'] : 0;
      return fc.string({ unit: 'binary', minLength, maxLength: Math.max(minLength, o.maxStringLength) });
    }
    case 'array':
      return fc.array(arbOf((schema['items'] ?? {}) as Schema, o), { maxLength: o.maxArrayLength });
    case undefined:
      return fc.jsonValue({ maxDepth: 2 }).map((v) => JSON.parse(JSON.stringify(v)) as unknown);
    default:
      throw new Error(`arbitraries: unsupported schema type ${String(schema['type'])}`);
  }
}

/** Valid payloads of one frame type. */
export function payloadArbitrary<K extends FrameName>(name: K, opts: ArbitraryOptions = {}): fc.Arbitrary<Payloads[K]> {
  const schema = DEFS[name];
  if (!schema) throw new Error(`arbitraries: no schema for ${name}`);
  return arbOf(schema, { maxStringLength: opts.maxStringLength ?? 12, maxArrayLength: opts.maxArrayLength ?? 3 }) as fc.Arbitrary<Payloads[K]>;
}

/** Valid frames whose name is one of `names` (default: every frame type). */
export function frameArbitrary(names: readonly FrameName[] = Object.values(FRAME_TYPES), opts: ArbitraryOptions = {}): fc.Arbitrary<Frame> {
  return fc.oneof(...names.map((n) => payloadArbitrary(n, opts).map((payload) => ({ name: n, payload }) as Frame)));
}
