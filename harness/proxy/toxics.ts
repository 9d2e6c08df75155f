/**
 * Toxics of the chaos proxy (in the style of Toxiproxy's): their types,
 * validation, and the two text forms they arrive in — the CLI's
 * `TYPE[:STREAM][:key=value,...]` spec and JSON (the proxy's own flat form,
 * or Toxiproxy's `{ type, stream, toxicity, attributes }`).
 *
 * Directions follow Toxiproxy: `upstream` is client → server (bytes the
 * client sends), `downstream` is server → client, `both` is each direction
 * with its own state.
 */

/** Direction a toxic acts on: client → server (`upstream`), server → client (`downstream`), or both. */
export type ToxicStream = 'upstream' | 'downstream' | 'both';

/** Fields every toxic has. */
interface ToxicBase {
  /** Unique within a proxy; default `<type>_<stream>`. */
  readonly name: string;
  /** Direction(s) it acts on. */
  readonly stream: ToxicStream;
  /**
   * Probability in [0, 1] (default 1) that the toxic applies: drawn per
   * chunk for `latency` and `slicer`, once per connection for the others.
   */
  readonly toxicity: number;
}

/** Delays each chunk by `latencyMs` ± `jitterMs` (uniform; order is kept, so a chunk never overtakes an earlier one). */
export interface LatencyToxic extends ToxicBase {
  readonly type: 'latency';
  /** Added delay (ms, ≥ 0). */
  readonly latencyMs: number;
  /** Spread of the delay (ms, ≥ 0): each chunk waits `latencyMs` + uniform(−jitter, +jitter), at least 0. */
  readonly jitterMs: number;
}

/** Caps throughput to `bytesPerSecond` (chunks are split in pieces of at most 1/20 s worth). */
export interface BandwidthToxic extends ToxicBase {
  readonly type: 'bandwidth';
  /** Rate (bytes/s, > 0). */
  readonly bytesPerSecond: number;
}

/**
 * Holds every byte for `durationMs` from the moment it starts applying to a
 * connection (its accept, or the toxic's addition), then delivers all it
 * held, in order, and passes bytes through from then on. Nothing is lost.
 */
export interface StallToxic extends ToxicBase {
  readonly type: 'stall';
  /** How long the black hole lasts (ms, ≥ 0). */
  readonly durationMs: number;
}

/**
 * A black hole until the toxic is removed: bytes (and FINs) are held, not
 * dropped, and delivered in order on removal (a healed partition; unlike
 * Toxiproxy, which drops them — TCP never loses bytes mid-stream). With
 * `timeoutMs` > 0 the connection is closed (FIN both ways, held bytes
 * discarded) after that many ms of black hole.
 */
export interface TimeoutToxic extends ToxicBase {
  readonly type: 'timeout';
  /** Close the connection after this many ms (0: never, hold until removed). */
  readonly timeoutMs: number;
}

/**
 * Resets the connection (TCP RST) `delayMs` after it starts applying:
 * `downstream` resets the client's leg, `upstream` the server's, `both`
 * both; the other leg is closed (FIN). Held bytes are discarded.
 */
export interface ResetPeerToxic extends ToxicBase {
  readonly type: 'reset_peer';
  /** Delay before the RST (ms, ≥ 0). */
  readonly delayMs: number;
}

/**
 * Splits each chunk into pieces of `averageSize` ± `sizeVariation` bytes
 * (uniform, at least 1), sent `delayMs` apart: the same bytes in more,
 * smaller reads.
 */
export interface SlicerToxic extends ToxicBase {
  readonly type: 'slicer';
  /** Mean piece size (bytes, ≥ 1). */
  readonly averageSize: number;
  /** Spread of the piece size (bytes, 0 ≤ variation < averageSize). */
  readonly sizeVariation: number;
  /** Pause between pieces (ms, ≥ 0). */
  readonly delayMs: number;
}

/**
 * Delivers at most `bytes` bytes in its direction (counted from when it
 * starts applying), then closes the connection (FIN both ways, after the
 * bytes before the limit are delivered).
 */
export interface LimitDataToxic extends ToxicBase {
  readonly type: 'limit_data';
  /** Bytes let through before the close (≥ 0). */
  readonly bytes: number;
}

/** A toxic (discriminated on `type`). */
export type Toxic =
  | LatencyToxic
  | BandwidthToxic
  | StallToxic
  | TimeoutToxic
  | ResetPeerToxic
  | SlicerToxic
  | LimitDataToxic;

/** The toxic types. */
export type ToxicType = Toxic['type'];

/**
 * A toxic as callers may write it: `name`, `stream` and `toxicity` and the
 * optional attributes (`jitterMs`, `timeoutMs`, `delayMs`, `sizeVariation`)
 * may be left out and take their defaults.
 */
export type ToxicInput = LooseToxic<Toxic>;

/** `T` with its defaulted fields optional (distributes over the union). */
type LooseToxic<T> = T extends Toxic
  ? Omit<T, 'name' | 'stream' | 'toxicity' | OptionalAttr<T>> & Partial<Pick<T, 'name' | 'stream' | 'toxicity' | OptionalAttr<T>>>
  : never;

type OptionalAttr<T> = Extract<keyof T, 'jitterMs' | 'timeoutMs' | 'delayMs' | 'sizeVariation'>;

/** A toxic description is invalid; the message says which field and why. */
export class ToxicError extends Error {
  readonly code = 'TOXIC' as const;
  constructor(message: string) {
    super(message);
    this.name = 'ToxicError';
  }
}

/** One attribute of a toxic type: its field, the names it goes by in specs and Toxiproxy JSON, and its check. */
interface AttrSpec {
  readonly field: string;
  /** Spec / Toxiproxy attribute names (first is the canonical spec name). */
  readonly aliases: readonly string[];
  readonly unit: string;
  readonly required: boolean;
  readonly def?: number;
  /** Lower bound (inclusive unless `gt`). */
  readonly min: number;
  readonly gt?: boolean;
  readonly integer: boolean;
}

const ms = (field: string, aliases: string[], required: boolean, def?: number): AttrSpec => ({
  field, aliases, unit: 'ms', required, ...(def === undefined ? {} : { def }), min: 0, integer: false,
});

/** The attributes of each toxic type. */
const ATTRS: Readonly<Record<ToxicType, readonly AttrSpec[]>> = {
  latency: [ms('latencyMs', ['latency'], true), ms('jitterMs', ['jitter'], false, 0)],
  bandwidth: [{ field: 'bytesPerSecond', aliases: ['rate', 'bytes_per_second'], unit: 'bytes/s', required: true, min: 0, gt: true, integer: false }],
  stall: [ms('durationMs', ['duration'], true)],
  timeout: [ms('timeoutMs', ['timeout'], false, 0)],
  reset_peer: [ms('delayMs', ['delay', 'timeout'], false, 0)],
  slicer: [
    { field: 'averageSize', aliases: ['average_size', 'avg'], unit: 'bytes', required: true, min: 1, integer: true },
    { field: 'sizeVariation', aliases: ['size_variation', 'var'], unit: 'bytes', required: false, def: 0, min: 0, integer: true },
    ms('delayMs', ['delay'], false, 0),
  ],
  limit_data: [{ field: 'bytes', aliases: ['bytes'], unit: 'bytes', required: true, min: 0, integer: true }],
};

/** Toxic type names, in documentation order. */
export const TOXIC_TYPES: readonly ToxicType[] = ['latency', 'bandwidth', 'stall', 'timeout', 'reset_peer', 'slicer', 'limit_data'];

const STREAMS: readonly ToxicStream[] = ['upstream', 'downstream', 'both'];

/** Longest a toxic's time attribute may be (ms): Node's timer limit. */
const MAX_MS = 2 ** 31 - 1;

function isType(v: unknown): v is ToxicType {
  return typeof v === 'string' && (TOXIC_TYPES as readonly string[]).includes(v);
}

function checkNumber(v: unknown, a: AttrSpec, type: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) {
    throw new ToxicError(`${type}: ${a.aliases[0]} (${a.field}) must be a number of ${a.unit}, got ${JSON.stringify(v)}`);
  }
  if (a.integer && !Number.isSafeInteger(v)) throw new ToxicError(`${type}: ${a.aliases[0]} must be an integer, got ${String(v)}`);
  if (a.gt ? v <= a.min : v < a.min) {
    throw new ToxicError(`${type}: ${a.aliases[0]} must be ${a.gt ? '>' : '≥'} ${String(a.min)} ${a.unit}, got ${String(v)}`);
  }
  if (a.unit === 'ms' && v > MAX_MS) throw new ToxicError(`${type}: ${a.aliases[0]} must be at most ${String(MAX_MS)} ms, got ${String(v)}`);
  return v;
}

/**
 * Checks a toxic and fills in its defaults (`stream` `'downstream'`,
 * `toxicity` 1, `name` `<type>_<stream>`, optional attributes).
 * @throws ToxicError naming the field and the problem (unknown type or
 *   field, wrong stream, toxicity outside [0, 1], negative or missing attribute ...).
 */
export function checkToxic(input: unknown): Toxic {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw new ToxicError(`a toxic must be an object, got ${JSON.stringify(input)}`);
  }
  const o = input as Record<string, unknown>;
  if (!isType(o['type'])) {
    throw new ToxicError(`unknown toxic type ${JSON.stringify(o['type'])}; expected one of ${TOXIC_TYPES.join(', ')}`);
  }
  const type = o['type'];
  const stream = o['stream'] ?? 'downstream';
  if (typeof stream !== 'string' || !(STREAMS as readonly string[]).includes(stream)) {
    throw new ToxicError(`${type}: stream must be upstream, downstream or both, got ${JSON.stringify(stream)}`);
  }
  const toxicity = o['toxicity'] ?? 1;
  if (typeof toxicity !== 'number' || !Number.isFinite(toxicity) || toxicity < 0 || toxicity > 1) {
    throw new ToxicError(`${type}: toxicity must be a probability in [0, 1], got ${JSON.stringify(toxicity)}`);
  }
  const name = o['name'] ?? `${type}_${stream}`;
  if (typeof name !== 'string' || !/^[A-Za-z0-9._-]{1,64}$/.test(name)) {
    throw new ToxicError(`${type}: name must be 1-64 characters of [A-Za-z0-9._-], got ${JSON.stringify(name)}`);
  }
  const attrs = ATTRS[type];
  const known = new Set(['type', 'stream', 'toxicity', 'name', ...attrs.map((a) => a.field)]);
  for (const k of Object.keys(o)) {
    if (!known.has(k)) {
      throw new ToxicError(`${type}: unknown field ${JSON.stringify(k)}; fields: ${attrs.map((a) => a.field).join(', ') || '(none)'}`);
    }
  }
  const out: Record<string, unknown> = { type, name, stream, toxicity };
  for (const a of attrs) {
    const v = o[a.field];
    if (v === undefined) {
      if (a.required) throw new ToxicError(`${type}: ${a.aliases[0]} (${a.field}, ${a.unit}) is required`);
      out[a.field] = a.def;
    } else {
      out[a.field] = checkNumber(v, a, type);
    }
  }
  if (type === 'slicer' && (out['sizeVariation'] as number) >= (out['averageSize'] as number)) {
    throw new ToxicError(`slicer: size_variation (${String(out['sizeVariation'])}) must be below average_size (${String(out['averageSize'])})`);
  }
  return out as unknown as Toxic;
}

/** Attribute value of a spec or of Toxiproxy JSON, by its alias. */
function attrByAlias(type: ToxicType, key: string): AttrSpec | undefined {
  return ATTRS[type].find((a) => a.aliases.includes(key) || a.field === key);
}

/**
 * Parses a CLI toxic spec: `TYPE[:STREAM][:key=value,...]`, e.g.
 * `latency:downstream:latency=100,jitter=20`, `slicer:both:average_size=8,delay=1`,
 * `reset_peer:upstream:delay=500,toxicity=0.5,name=rst`. Keys are the
 * attribute names (Toxiproxy's where it has one; see {@link describeToxicSpecs})
 * plus `toxicity` and `name`. STREAM defaults to `downstream`.
 * @throws ToxicError naming the part of the spec that is wrong.
 */
export function parseToxicSpec(spec: string): Toxic {
  if (typeof spec !== 'string' || spec.trim() === '') throw new ToxicError('empty toxic spec; expected TYPE[:STREAM][:key=value,...]');
  const parts = spec.trim().split(':');
  if (parts.length > 3) throw new ToxicError(`too many ":" parts; expected TYPE[:STREAM][:key=value,...]`);
  const [typeText, second, third] = parts as [string, string | undefined, string | undefined];
  if (!isType(typeText)) {
    throw new ToxicError(`unknown toxic type ${JSON.stringify(typeText)}; expected one of ${TOXIC_TYPES.join(', ')}`);
  }
  const type = typeText;
  let streamText: string | undefined;
  let attrText: string | undefined;
  if (third !== undefined) {
    streamText = second;
    attrText = third;
  } else if (second !== undefined && second.includes('=')) {
    attrText = second;
  } else {
    streamText = second;
  }
  const o: Record<string, unknown> = { type };
  if (streamText !== undefined && streamText !== '') o['stream'] = streamText;
  if (attrText !== undefined && attrText !== '') {
    for (const pair of attrText.split(',')) {
      const eq = pair.indexOf('=');
      if (eq <= 0) throw new ToxicError(`${type}: ${JSON.stringify(pair)} is not key=value`);
      const key = pair.slice(0, eq).trim();
      const raw = pair.slice(eq + 1).trim();
      if (key === 'name') {
        o['name'] = raw;
        continue;
      }
      const num = raw === '' ? Number.NaN : Number(raw);
      if (!Number.isFinite(num)) throw new ToxicError(`${type}: ${key}=${raw} is not a number`);
      if (key === 'toxicity') {
        o['toxicity'] = num;
        continue;
      }
      const a = attrByAlias(type, key);
      if (!a) {
        throw new ToxicError(`${type}: unknown attribute ${JSON.stringify(key)}; attributes: ${ATTRS[type].map((x) => x.aliases[0]).join(', ')}, toxicity, name`);
      }
      if (o[a.field] !== undefined) throw new ToxicError(`${type}: ${key} given twice`);
      o[a.field] = num;
    }
  }
  return checkToxic(o);
}

/**
 * A toxic from JSON: the proxy's flat form (`{ "type": "latency",
 * "latencyMs": 100 }`) or Toxiproxy's (`{ "type": "latency", "stream":
 * "downstream", "toxicity": 1, "attributes": { "latency": 100, "jitter": 20 } }`).
 * @throws ToxicError naming the problem.
 */
export function toxicFromJson(body: unknown): Toxic {
  if (typeof body === 'object' && body !== null && !Array.isArray(body) && 'attributes' in body) {
    const { attributes, ...rest } = body as Record<string, unknown>;
    if (typeof attributes !== 'object' || attributes === null || Array.isArray(attributes)) {
      throw new ToxicError('attributes must be an object');
    }
    const type = rest['type'];
    if (!isType(type)) throw new ToxicError(`unknown toxic type ${JSON.stringify(type)}; expected one of ${TOXIC_TYPES.join(', ')}`);
    const o: Record<string, unknown> = { ...rest };
    for (const [k, v] of Object.entries(attributes as Record<string, unknown>)) {
      const a = attrByAlias(type, k);
      if (!a) throw new ToxicError(`${type}: unknown attribute ${JSON.stringify(k)}; attributes: ${ATTRS[type].map((x) => x.aliases[0]).join(', ')}`);
      o[a.field] = v;
    }
    return checkToxic(o);
  }
  return checkToxic(body);
}

/** One line per toxic type with its spec attributes, units and defaults (for `--help`). */
export function describeToxicSpecs(): string[] {
  return TOXIC_TYPES.map((type) => {
    const attrs = ATTRS[type]
      .map((a) => `${a.aliases[0]}=${a.unit}${a.required ? '' : ` (default ${String(a.def)})`}`)
      .join(', ');
    return `${type}: ${attrs || '(no attributes)'}`;
  });
}
