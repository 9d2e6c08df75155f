/**
 * Garou frame codec (pure, sans I/O). Wire format (GAROU-2.1, PROTOCOLS.md
 * § "Garou chat"): `[type:u8][len:u32 BE][payload: len bytes of UTF-8 JSON]`
 * on every stream and in every datagram; unidirectional streams start with a
 * stream header (GAROU-3.2): a stream-type byte, then a shard index (u8) or
 * a room id (u32 BE) for server streams.
 *
 * {@link StreamDecoder} is incremental (push bytes, get frames, h11 style)
 * and checks, in this order, as soon as the bytes allow: the stream header,
 * the frame type (defined, GAROU-2.2; allowed on this stream in this
 * direction, GAROU-3.3), the length (GAROU-2.3, before the payload comes),
 * UTF-8 and JSON (GAROU-2.4), the payload schema (GAROU-2.5). Malformed
 * input is reported with one error class per kind ({@link GarouCodecError}
 * subclasses), each naming the stream byte offset where the problem starts,
 * the rule and the application close code a server uses for it. Local
 * misuse (encoding a payload that breaks its schema, a length over the
 * limit) throws `RangeError`.
 */
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import frameSchema from './schemas/frames.schema.json' with { type: 'json' };
import { describeAjvErrors } from '../../harness/engine/schema-errors.js';
import {
  allowedOn,
  carrierTitle,
  CLOSE_CODES,
  FRAME_CODES,
  frameName,
  streamType,
  streamTypeOf,
  type Carrier,
  type DatagramName,
  type Direction,
  type Frame,
  type FrameName,
  type Payloads,
  type UniStreamKind,
} from './frames.js';

/** Bytes of a frame header: type (1) + length (4). */
export const FRAME_HEADER_SIZE = 5;
/** Largest value of the u32 length field. */
export const MAX_LENGTH_FIELD = 0xffff_ffff;
/** Default largest payload a receiver accepts (GAROU-2.3): 1 MiB. */
export const DEFAULT_MAX_FRAME_BYTES = 1_048_576;

// ---------------------------------------------------------------------------
// Schemas (GAROU-2.5): compiled once, each frame type's validator on first use.

const SCHEMA_ID = (frameSchema as { $id: string }).$id;
let ajv: Ajv2020 | undefined;
const validators = new Map<FrameName, ValidateFunction>();

function validatorOf(name: FrameName): ValidateFunction {
  let v = validators.get(name);
  if (!v) {
    if (!ajv) {
      ajv = new Ajv2020({ allErrors: true, strict: true });
      ajv.addSchema(frameSchema);
    }
    v = ajv.getSchema(`${SCHEMA_ID}#/$defs/${name}`);
    if (!v) throw new Error(`garou codec: no schema for frame ${name} in schemas/frames.schema.json`);
    validators.set(name, v);
  }
  return v;
}

/** The payload JSON Schema document (all frame types under `$defs`). */
export const payloadSchema: object = frameSchema;

/**
 * Checks a payload against its frame type's schema (GAROU-2.5).
 * @returns one line per problem (`/room_id: must be integer; got "7"`), empty when valid.
 */
export function validatePayload(name: FrameName, value: unknown): string[] {
  const v = validatorOf(name);
  if (v(value)) return [];
  try {
    return describeAjvErrors(v.errors, value);
  } catch {
    // A value too deep to render (JSON.stringify recursion): fall back to ajv's own words.
    return (v.errors ?? []).map((e) => `${e.instancePath || '(root)'}: ${e.message ?? e.keyword}`);
  }
}

// ---------------------------------------------------------------------------
// Errors

/** Stable codes of malformed-input errors. */
export type CodecErrorCode =
  | 'UNKNOWN_STREAM_TYPE'
  | 'STREAM_DIRECTION'
  | 'UNKNOWN_FRAME_TYPE'
  | 'FRAME_NOT_ALLOWED'
  | 'FRAME_TOO_LARGE'
  | 'INVALID_UTF8'
  | 'INVALID_JSON'
  | 'SCHEMA'
  | 'TRUNCATED'
  | 'DATAGRAM_LENGTH';

/** Malformed Garou bytes (peer misbehaviour). */
export abstract class GarouCodecError extends Error {
  abstract readonly code: CodecErrorCode;
  /** The rule broken, for reports (`GAROU-2.3`). */
  abstract readonly rule: string;
  /** The application close code a server closes with (GAROU-13.3): `0x4` for a frame too large, else `0x1`. */
  readonly closeCode: number = CLOSE_CODES.PROTOCOL_VIOLATION;

  constructor(
    /** What was being decoded: `control stream (c2s)`, `datagram (s2c)`, … */
    readonly where: string,
    /** Byte offset in the stream (or datagram) where the problem starts. */
    readonly offset: number,
    what: string,
  ) {
    super(`decode ${where} at byte ${offset}: ${what}`);
  }

  /** A close reason phrase naming the rule (GAROU-13.3), at most 200 bytes. */
  reason(): string {
    const r = `${this.rule} ${this.message}`;
    return r.length > 200 ? `${r.slice(0, 197)}...` : r;
  }
}

function hex(n: number, width = 2): string {
  return `0x${n.toString(16).padStart(width, '0')}`;
}

/** A unidirectional stream's first byte is no stream type (GAROU-3.3). */
export class UnknownStreamTypeError extends GarouCodecError {
  readonly code = 'UNKNOWN_STREAM_TYPE' as const;
  readonly rule = 'GAROU-3.3';
  constructor(where: string, offset: number, readonly byte: number) {
    super(where, offset, `unknown stream type ${hex(byte)}`);
    this.name = 'UnknownStreamTypeError';
  }
}

/** A stream type of the other direction: a client opened a server stream type or the reverse (GAROU-3.3). */
export class StreamDirectionError extends GarouCodecError {
  readonly code = 'STREAM_DIRECTION' as const;
  readonly rule = 'GAROU-3.3';
  constructor(where: string, offset: number, readonly byte: number, readonly kind: UniStreamKind) {
    super(where, offset, `stream type ${hex(byte)} (${streamTypeOf(kind).title}) is opened by the ${streamTypeOf(kind).dir === 'c2s' ? 'client' : 'server'} only`);
    this.name = 'StreamDirectionError';
  }
}

/** A frame type code the table does not define (GAROU-2.2). */
export class UnknownFrameTypeError extends GarouCodecError {
  readonly code = 'UNKNOWN_FRAME_TYPE' as const;
  readonly rule = 'GAROU-2.2';
  constructor(where: string, offset: number, readonly type: number) {
    super(where, offset, `unknown frame type ${hex(type)}`);
    this.name = 'UnknownFrameTypeError';
  }
}

/** A defined frame type this stream may not carry in this direction (GAROU-3.3). */
export class FrameNotAllowedError extends GarouCodecError {
  readonly code = 'FRAME_NOT_ALLOWED' as const;
  readonly rule = 'GAROU-3.3';
  constructor(where: string, offset: number, readonly type: number, readonly frame: FrameName) {
    super(where, offset, `frame ${hex(type)} ${frame} is not allowed here`);
    this.name = 'FrameNotAllowedError';
  }
}

/** A length field over the receiver's maximum, reported without waiting for the payload (GAROU-2.3). */
export class FrameTooLargeError extends GarouCodecError {
  readonly code = 'FRAME_TOO_LARGE' as const;
  readonly rule = 'GAROU-2.3';
  override readonly closeCode: number = CLOSE_CODES.FRAME_TOO_LARGE;
  constructor(where: string, offset: number, readonly frame: FrameName, readonly length: number, readonly max: number) {
    super(where, offset, `frame ${frame} announces ${length} payload bytes, over the limit of ${max}`);
    this.name = 'FrameTooLargeError';
  }
}

/** A payload that is not valid UTF-8; `offset` is the first bad byte (GAROU-2.4). */
export class InvalidUtf8Error extends GarouCodecError {
  readonly code = 'INVALID_UTF8' as const;
  readonly rule = 'GAROU-2.4';
  constructor(where: string, offset: number, readonly frame: FrameName) {
    super(where, offset, `payload of ${frame} is not valid UTF-8`);
    this.name = 'InvalidUtf8Error';
  }
}

/** A payload that is UTF-8 but not JSON; `offset` is the payload's first byte (GAROU-2.4). */
export class InvalidJsonError extends GarouCodecError {
  readonly code = 'INVALID_JSON' as const;
  readonly rule = 'GAROU-2.4';
  constructor(where: string, offset: number, readonly frame: FrameName, readonly detail: string) {
    super(where, offset, `payload of ${frame} is not JSON (${detail})`);
    this.name = 'InvalidJsonError';
  }
}

/** A JSON payload that breaks its frame type's schema; `offset` is the payload's first byte (GAROU-2.5). */
export class SchemaError extends GarouCodecError {
  readonly code = 'SCHEMA' as const;
  readonly rule = 'GAROU-2.5';
  constructor(
    where: string,
    offset: number,
    readonly frame: FrameName,
    /** One line per problem, JSON pointer first. */
    readonly problems: readonly string[],
    /** The parsed payload. */
    readonly value: unknown,
  ) {
    super(where, offset, `payload of ${frame} breaks its schema: ${problems.join('; ')}`);
    this.name = 'SchemaError';
  }

  /** The payload's `cmd_id` when it is a valid u32: the command can be refused with BAD_REQUEST (GAROU-2.5). */
  get cmdId(): number | undefined {
    const v = field(this.value, 'cmd_id');
    return typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= MAX_LENGTH_FIELD ? v : undefined;
  }

  /** The payload's `upload_id` when it is a non-empty string (GAROU-2.5). */
  get uploadId(): string | undefined {
    const v = field(this.value, 'upload_id');
    return typeof v === 'string' && v.length > 0 ? v : undefined;
  }
}

function field(value: unknown, key: string): unknown {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>)[key] : undefined;
}

/** The bytes end inside a stream header or a frame (GAROU-2.7); `offset` is where that header or frame starts. */
export class TruncatedFrameError extends GarouCodecError {
  readonly code = 'TRUNCATED' as const;
  readonly rule = 'GAROU-2.7';
  constructor(
    where: string,
    offset: number,
    /** Bytes of it present. */
    readonly have: number,
    /** Bytes it needs. */
    readonly need: number,
    /** What was cut: the stream header, a frame header or a payload. */
    readonly part: 'stream header' | 'frame header' | 'payload',
  ) {
    super(where, offset, `ends inside a ${part}: ${have} of ${need} bytes`);
    this.name = 'TruncatedFrameError';
  }
}

/** A datagram whose frame length is not the datagram's length − 5 (GAROU-11.1). */
export class DatagramLengthError extends GarouCodecError {
  readonly code = 'DATAGRAM_LENGTH' as const;
  readonly rule = 'GAROU-11.1';
  constructor(where: string, readonly length: number, readonly available: number) {
    super(where, 1, `frame length ${length} but the datagram holds ${available} payload bytes`);
    this.name = 'DatagramLengthError';
  }
}

// ---------------------------------------------------------------------------
// UTF-8 (RFC 3629: no overlongs, no surrogates, nothing above U+10FFFF)

/** Index of the first byte of the first invalid UTF-8 sequence in `b`, or −1 when `b` is valid UTF-8. */
export function firstInvalidUtf8(b: Uint8Array): number {
  let i = 0;
  const n = b.length;
  while (i < n) {
    const c = b[i]!;
    if (c < 0x80) {
      i++;
      continue;
    }
    let need: number;
    let lo = 0x80;
    let hi = 0xbf;
    if (c >= 0xc2 && c <= 0xdf) need = 1;
    else if (c >= 0xe0 && c <= 0xef) {
      need = 2;
      if (c === 0xe0) lo = 0xa0;
      else if (c === 0xed) hi = 0x9f;
    } else if (c >= 0xf0 && c <= 0xf4) {
      need = 3;
      if (c === 0xf0) lo = 0x90;
      else if (c === 0xf4) hi = 0x8f;
    } else return i;
    if (i + need >= n) return i; // the sequence is cut short
    const second = b[i + 1]!;
    if (second < lo || second > hi) return i;
    for (let k = 2; k <= need; k++) {
      const cc = b[i + k]!;
      if (cc < 0x80 || cc > 0xbf) return i;
    }
    i += need + 1;
  }
  return -1;
}

const utf8Fatal = new TextDecoder('utf-8', { ignoreBOM: true, fatal: true });
const utf8Encoder = new TextEncoder();

// ---------------------------------------------------------------------------
// Encoding

function u8(n: number, what: string): void {
  if (!Number.isInteger(n) || n < 0 || n > 0xff) throw new RangeError(`${what} must be an integer in [0, 255], got ${String(n)}`);
}

function u32(n: number, what: string): void {
  if (!Number.isInteger(n) || n < 0 || n > MAX_LENGTH_FIELD) throw new RangeError(`${what} must be an integer in [0, 2^32), got ${String(n)}`);
}

/**
 * Encodes a frame header `[type][len BE]`: 5 bytes. Any type and length (for
 * crafting malformed frames: unknown types, lying lengths).
 * @throws RangeError when `type` is not a u8 or `length` not a u32.
 */
export function encodeFrameHeader(type: number, length: number): Uint8Array {
  u8(type, 'encodeFrameHeader: type');
  u32(length, 'encodeFrameHeader: length');
  const out = new Uint8Array(FRAME_HEADER_SIZE);
  out[0] = type;
  new DataView(out.buffer).setUint32(1, length, false);
  return out;
}

/**
 * Encodes a frame with any type code and any payload bytes (a string is
 * UTF-8 encoded), unchecked: for fuzzing and malformed-input cases.
 * @throws RangeError when `type` is not a u8.
 */
export function encodeRawFrame(type: number, payload: Uint8Array | string): Uint8Array {
  const body = typeof payload === 'string' ? utf8Encoder.encode(payload) : payload;
  const out = new Uint8Array(FRAME_HEADER_SIZE + body.length);
  out.set(encodeFrameHeader(type, body.length), 0);
  out.set(body, FRAME_HEADER_SIZE);
  return out;
}

/** Options of {@link encodeFrame}. */
export interface EncodeOptions {
  /** Largest payload allowed (bytes); default the u32 limit. */
  readonly maxFrameBytes?: number;
  /** Check the payload against its schema first (default true). */
  readonly validate?: boolean;
}

/**
 * Encodes one frame: `[type][len][JSON.stringify(payload)]` (GAROU-2.1).
 * @throws RangeError when the payload breaks its schema (naming each
 * problem) or is longer than `maxFrameBytes`.
 */
export function encodeFrame<K extends FrameName>(name: K, payload: Payloads[K], opts: EncodeOptions = {}): Uint8Array {
  const code = FRAME_CODES[name];
  if (code === undefined) throw new RangeError(`encodeFrame: unknown frame name ${String(name)}`);
  if (opts.validate !== false) {
    const problems = validatePayload(name, payload);
    if (problems.length > 0) throw new RangeError(`encodeFrame ${name}: payload breaks its schema: ${problems.join('; ')}`);
  }
  const body = utf8Encoder.encode(JSON.stringify(payload));
  const max = opts.maxFrameBytes ?? MAX_LENGTH_FIELD;
  if (body.length > max) throw new RangeError(`encodeFrame ${name}: payload of ${body.length} bytes exceeds the maximum of ${max}`);
  return encodeRawFrame(code, body);
}

/** Encodes a frame given as `{name, payload}` (see {@link encodeFrame}). */
export function encodeFrameOf(frame: Frame, opts: EncodeOptions = {}): Uint8Array {
  return encodeFrame(frame.name, frame.payload as never, opts);
}

/** Concatenates byte arrays (`Buffer.concat`; one part is returned as is). */
export function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  return parts.length === 1 ? parts[0]! : Buffer.concat(parts);
}

/** A unidirectional stream's header, decoded (GAROU-3.2). */
export type StreamHeader =
  | { readonly kind: 'commands' | 'acks' | 'upload' }
  | { readonly kind: 'shard'; /** Shard index, u8. */ readonly shard: number }
  | { readonly kind: 'hot'; /** Room id, u32. */ readonly roomId: number };

/**
 * Encodes a unidirectional stream's header: the type byte, then the shard
 * index (1 byte) or room id (4 bytes BE) (GAROU-3.2).
 * @throws RangeError when the shard index is not a u8 or the room id not a u32.
 */
export function encodeStreamHeader(h: StreamHeader): Uint8Array {
  const byte = streamTypeOf(h.kind).byte;
  if (h.kind === 'shard') {
    u8(h.shard, 'encodeStreamHeader: shard');
    return new Uint8Array([byte, h.shard]);
  }
  if (h.kind === 'hot') {
    u32(h.roomId, 'encodeStreamHeader: room id');
    const out = new Uint8Array(5);
    out[0] = byte;
    new DataView(out.buffer).setUint32(1, h.roomId, false);
    return out;
  }
  return new Uint8Array([byte]);
}

/**
 * Encodes a datagram: exactly one frame of a datagram type (GAROU-11.1).
 * @throws RangeError as {@link encodeFrame}, or when `name` is not a datagram type.
 */
export function encodeDatagram<K extends DatagramName>(name: K, payload: Payloads[K], opts: EncodeOptions = {}): Uint8Array {
  if (!allowedOn('datagram', 'c2s', name)) throw new RangeError(`encodeDatagram: ${String(name)} is not a datagram frame type`);
  return encodeFrame(name, payload, opts);
}

// ---------------------------------------------------------------------------
// Decoding

/** A frame as decoded from bytes: name, payload, and where it was. */
export type DecodedFrame = Frame & {
  /** The type code. */
  readonly type: number;
  /** Stream offset of its type byte. */
  readonly offset: number;
  /** Its size in bytes, header included. */
  readonly size: number;
};

/**
 * Decodes and checks one payload (UTF-8, JSON, schema; GAROU-2.4, 2.5).
 * @throws InvalidUtf8Error, InvalidJsonError or SchemaError (when `validate`).
 */
function decodePayload(where: string, offset: number, type: number, name: FrameName, bytes: Uint8Array, validate: boolean): DecodedFrame {
  let text: string;
  try {
    text = utf8Fatal.decode(bytes); // native check first; the offset is found only on failure
  } catch {
    throw new InvalidUtf8Error(where, offset + FRAME_HEADER_SIZE + Math.max(0, firstInvalidUtf8(bytes)), name);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new InvalidJsonError(where, offset + FRAME_HEADER_SIZE, name, err instanceof Error ? err.message : String(err));
  }
  if (validate) {
    const problems = validatePayload(name, value);
    if (problems.length > 0) throw new SchemaError(where, offset + FRAME_HEADER_SIZE, name, problems, value);
  }
  return { name, payload: value, type, offset, size: FRAME_HEADER_SIZE + bytes.length } as DecodedFrame;
}

/** Options of a {@link StreamDecoder}. */
export interface StreamDecoderOptions {
  /** The control stream (no header), or a unidirectional stream (its header is the first bytes pushed). */
  readonly stream: 'control' | 'uni';
  /** Who writes the bytes. */
  readonly dir: Direction;
  /** Largest payload accepted (GAROU-2.3); default 1 MiB. */
  readonly maxFrameBytes?: number;
  /** Check payloads against their schemas (default true). */
  readonly validate?: boolean;
}

/** What {@link StreamDecoder.push} returns. */
export interface PushResult {
  /** Frames completed by these bytes, in order. */
  readonly frames: DecodedFrame[];
  /** Set once, when these bytes completed a unidirectional stream's header. */
  readonly header?: StreamHeader;
  /** Set once, when these bytes made the stream malformed; later bytes are ignored. */
  readonly error?: GarouCodecError;
}

/**
 * Incremental decoder of one stream's bytes in one direction: push bytes
 * (split at any boundary, several frames per push), get frames. Every check
 * fires as soon as the bytes it needs are in: a frame type that is unknown or
 * not allowed at its first byte, an oversized length at its fifth, without
 * waiting for the payload. The first error fails the decoder, which then
 * ignores everything after. Buffers at most one frame header plus
 * `maxFrameBytes`.
 */
export class StreamDecoder {
  /** Bytes pushed so far: the stream offset of the next byte. */
  private pos = 0;
  /** The stream header being read (uni streams, before the first frame). */
  private headerBytes: number[] = [];
  private streamHeader: StreamHeader | undefined;
  private kind: Carrier | undefined;
  /** The frame header being read. */
  private readonly fh = new Uint8Array(FRAME_HEADER_SIZE);
  private fhLen = 0;
  private frameStart = 0;
  private current: { type: number; name: FrameName; len: number; chunks: Uint8Array[]; have: number } | undefined;
  private failure: GarouCodecError | undefined;
  private readonly maxFrameBytes: number;
  private readonly validate: boolean;

  constructor(readonly options: StreamDecoderOptions) {
    this.maxFrameBytes = options.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES;
    u32(this.maxFrameBytes, 'StreamDecoder: maxFrameBytes');
    this.validate = options.validate !== false;
    if (options.stream === 'control') this.kind = 'control';
  }

  /** The carrier: `control`, or the uni stream's kind once its header is read (else undefined). */
  get carrier(): Carrier | undefined {
    return this.kind;
  }

  /** The unidirectional stream's header, once read. */
  get header(): StreamHeader | undefined {
    return this.streamHeader;
  }

  /** Bytes pushed so far. */
  get offset(): number {
    return this.pos;
  }

  /** The error that failed the stream, if any. */
  get error(): GarouCodecError | undefined {
    return this.failure;
  }

  /** `control stream (c2s)`, `shard stream (s2c)`, `unidirectional stream (c2s)` before the header. */
  get where(): string {
    const what = this.kind ? carrierTitle(this.kind) : 'unidirectional stream';
    return `${what} (${this.options.dir})`;
  }

  /** True when no partial header or frame is held. */
  get idle(): boolean {
    return this.kind !== undefined && this.fhLen === 0 && this.current === undefined;
  }

  /** The incomplete stream header or frame held, if any: which part, its bytes in and needed, and the frame's name once its type byte is in. */
  get partial(): { readonly part: 'stream header' | 'frame header' | 'payload'; readonly have: number; readonly need: number; readonly frame?: FrameName } | undefined {
    if (this.failure) return undefined;
    if (this.kind === undefined) {
      if (this.headerBytes.length === 0) return undefined;
      const st = streamType(this.headerBytes[0]!);
      return { part: 'stream header', have: this.headerBytes.length, need: 1 + (st?.paramBytes ?? 0) };
    }
    if (this.current) return { part: 'payload', have: FRAME_HEADER_SIZE + this.current.have, need: FRAME_HEADER_SIZE + this.current.len, frame: this.current.name };
    if (this.fhLen > 0) {
      const name = frameName(this.fh[0]!);
      return { part: 'frame header', have: this.fhLen, need: FRAME_HEADER_SIZE, ...(name ? { frame: name } : {}) };
    }
    return undefined;
  }

  /** Appends bytes; returns the frames they complete, the stream header once, and, once, the error that fails the stream. */
  push(bytes: Uint8Array): PushResult {
    const frames: DecodedFrame[] = [];
    let header: StreamHeader | undefined;
    if (this.failure) return { frames };
    const fail = (e: GarouCodecError): PushResult => {
      this.failure = e;
      return header ? { frames, header, error: e } : { frames, error: e };
    };
    let i = 0;
    while (i < bytes.length) {
      if (this.kind === undefined) {
        // Stream header (GAROU-3.2).
        const b = bytes[i]!;
        this.headerBytes.push(b);
        i++;
        this.pos++;
        const st = streamType(this.headerBytes[0]!);
        if (!st) return fail(new UnknownStreamTypeError(this.where, 0, this.headerBytes[0]!));
        if (st.dir !== this.options.dir) return fail(new StreamDirectionError(this.where, 0, st.byte, st.kind));
        if (this.headerBytes.length < 1 + st.paramBytes) continue;
        const hb = this.headerBytes;
        this.streamHeader =
          st.kind === 'shard'
            ? { kind: 'shard', shard: hb[1]! }
            : st.kind === 'hot'
              ? { kind: 'hot', roomId: ((hb[1]! << 24) >>> 0) + (hb[2]! << 16) + (hb[3]! << 8) + hb[4]! }
              : { kind: st.kind as 'commands' | 'acks' | 'upload' };
        this.kind = st.kind;
        header = this.streamHeader;
        continue;
      }
      const carrier = this.kind;
      if (!this.current) {
        if (this.fhLen === 0) {
          // A frame's first byte: its type is checked at once.
          this.frameStart = this.pos;
          const type = bytes[i]!;
          const name = frameName(type);
          if (name === undefined) return fail(new UnknownFrameTypeError(this.where, this.pos, type));
          if (!allowedOn(carrier, this.options.dir, name)) return fail(new FrameNotAllowedError(this.where, this.pos, type, name));
        }
        const take = Math.min(FRAME_HEADER_SIZE - this.fhLen, bytes.length - i);
        this.fh.set(bytes.subarray(i, i + take), this.fhLen);
        this.fhLen += take;
        i += take;
        this.pos += take;
        if (this.fhLen < FRAME_HEADER_SIZE) break;
        this.fhLen = 0;
        const type = this.fh[0]!;
        const name = frameName(type)!;
        const fh = this.fh;
        const len = fh[1]! * 0x100_0000 + ((fh[2]! << 16) | (fh[3]! << 8) | fh[4]!);
        if (len > this.maxFrameBytes) return fail(new FrameTooLargeError(this.where, this.frameStart, name, len, this.maxFrameBytes));
        this.current = { type, name, len, chunks: [], have: 0 };
      }
      const cur = this.current;
      if (cur.have === 0 && bytes.length - i >= cur.len) {
        // The whole payload is in this push: decode it in place (it is parsed now, nothing keeps a view).
        const payload = bytes.subarray(i, i + cur.len);
        i += cur.len;
        this.pos += cur.len;
        this.current = undefined;
        try {
          frames.push(decodePayload(this.where, this.frameStart, cur.type, cur.name, payload, this.validate));
        } catch (err) {
          if (err instanceof GarouCodecError) return fail(err);
          throw err;
        }
        continue;
      }
      const take = Math.min(cur.len - cur.have, bytes.length - i);
      // A copy: the caller may reuse its buffer (a Buffer's own slice() would be a view).
      if (take > 0) cur.chunks.push(Uint8Array.prototype.slice.call(bytes, i, i + take));
      cur.have += take;
      i += take;
      this.pos += take;
      if (cur.have === cur.len) {
        this.current = undefined;
        try {
          frames.push(decodePayload(this.where, this.frameStart, cur.type, cur.name, concatBytes(cur.chunks.length ? cur.chunks : [new Uint8Array(0)]), this.validate));
        } catch (err) {
          if (err instanceof GarouCodecError) return fail(err);
          throw err;
        }
      }
    }
    return header ? { frames, header } : { frames };
  }

  /**
   * The stream ended (FIN). Returns a {@link TruncatedFrameError} when it
   * ended inside a stream header or a frame (GAROU-2.7), else undefined.
   * A unidirectional stream that ended before its first byte is not an error.
   */
  finish(): TruncatedFrameError | undefined {
    const p = this.partial;
    if (!p) return undefined;
    return new TruncatedFrameError(this.where, p.part === 'stream header' ? 0 : this.frameStart, p.have, p.need, p.part);
  }
}

/** Options of {@link decodeDatagram}. */
export interface DatagramOptions {
  /** Largest payload accepted (GAROU-2.3); default 1 MiB. */
  readonly maxFrameBytes?: number;
  /** Check the payload against its schema (default true). */
  readonly validate?: boolean;
}

/**
 * Decodes one datagram: exactly one frame of a datagram type (GAROU-11.1).
 * Offsets in errors count from the datagram's first byte.
 * @throws TruncatedFrameError (fewer than 5 bytes), UnknownFrameTypeError,
 * FrameNotAllowedError (not `0x80`–`0x84`), FrameTooLargeError,
 * DatagramLengthError (length ≠ datagram length − 5), InvalidUtf8Error,
 * InvalidJsonError, SchemaError.
 */
export function decodeDatagram(bytes: Uint8Array, dir: Direction, opts: DatagramOptions = {}): DecodedFrame {
  const where = `datagram (${dir})`;
  const max = opts.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES;
  if (bytes.length === 0) throw new TruncatedFrameError(where, 0, 0, FRAME_HEADER_SIZE, 'frame header');
  const type = bytes[0]!;
  const name = frameName(type);
  if (name === undefined) throw new UnknownFrameTypeError(where, 0, type);
  if (!allowedOn('datagram', dir, name)) throw new FrameNotAllowedError(where, 0, type, name);
  if (bytes.length < FRAME_HEADER_SIZE) throw new TruncatedFrameError(where, 0, bytes.length, FRAME_HEADER_SIZE, 'frame header');
  const len = new DataView(bytes.buffer, bytes.byteOffset, bytes.length).getUint32(1, false);
  if (len > max) throw new FrameTooLargeError(where, 0, name, len, max);
  if (len !== bytes.length - FRAME_HEADER_SIZE) throw new DatagramLengthError(where, len, bytes.length - FRAME_HEADER_SIZE);
  return decodePayload(where, 0, type, name, bytes.subarray(FRAME_HEADER_SIZE), opts.validate !== false);
}

/**
 * Decodes a whole stream's bytes (header included for a uni stream) at once.
 * @returns the frames, the header, and the first error, a truncation at the end included.
 */
export function decodeStream(bytes: Uint8Array, options: StreamDecoderOptions): { frames: DecodedFrame[]; header?: StreamHeader; error?: GarouCodecError } {
  const d = new StreamDecoder(options);
  const r = d.push(bytes);
  const error = r.error ?? d.finish();
  return { frames: r.frames, ...(r.header ? { header: r.header } : {}), ...(error ? { error } : {}) };
}

// ---------------------------------------------------------------------------
// explain

/** Where the bytes given to {@link explain} were written. */
export interface ExplainContext {
  /** `control` (default), `uni` (bytes start with the stream header) or `datagram`. */
  readonly on?: 'control' | 'uni' | 'datagram';
  /** Who wrote them; default `c2s` (a client write). */
  readonly dir?: Direction;
  /** Frame size limit; default 1 MiB. */
  readonly maxFrameBytes?: number;
}

function brief(payload: unknown, max = 60): string {
  let s: string;
  try {
    s = JSON.stringify(payload);
  } catch {
    s = '(unprintable)';
  }
  return s.length > max ? `${s.slice(0, max - 1)}…` : s;
}

function headerText(h: StreamHeader): string {
  const st = streamTypeOf(h.kind);
  const param = h.kind === 'shard' ? ` ${h.shard}` : h.kind === 'hot' ? ` ${h.roomId}` : '';
  return `stream ${hex(st.byte)} ${st.title}${param}`;
}

const errText = (e: GarouCodecError): string => `${e.code} at byte ${e.offset} (${e.rule}): ${e.message.replace(/^decode [^:]*: /, '')}`;

const partialText = (p: NonNullable<StreamDecoder['partial']>): string => `${p.have} of ${p.need} bytes of a ${p.part}${p.frame ? ` of ${p.frame}` : ''} (incomplete)`;

/** What a write means: one phrase per part, in wire order, and the error it caused, if any. */
export interface ExplainedWrite {
  /** e.g. `stream 0x01 chat commands`, `SendMessage {"cmd_id":1,…}`, `3 of 5 bytes of a frame header of Ping (incomplete)`. */
  readonly parts: readonly string[];
  /** The codec error these bytes caused. */
  readonly error?: GarouCodecError;
}

/**
 * Explains bytes written on a stream after what `decoder` has already read
 * (the bytes are pushed into it): the stream header, whole frames, the
 * error, the incomplete rest. For fuzz builders that explain write by write.
 * Never throws on any bytes.
 */
export function explainWrite(decoder: StreamDecoder, bytes: Uint8Array): ExplainedWrite {
  if (decoder.error) return { parts: [`${bytes.length} byte(s) after ${decoder.error.code} (ignored)`] };
  const before = decoder.partial;
  const r = decoder.push(bytes);
  const parts: string[] = [];
  if (r.header) parts.push(headerText(r.header));
  const resumed = before !== undefined && before.part !== 'stream header';
  r.frames.forEach((f, i) => parts.push(`${i === 0 && resumed ? 'completes ' : ''}${f.name} ${brief(f.payload)}`));
  if (r.error) parts.push(`${parts.length > 0 ? 'then ' : ''}${errText(r.error)}`);
  else {
    const p = decoder.partial;
    if (p) parts.push(`${parts.length > 0 ? 'then ' : ''}${partialText(p)}`);
  }
  return r.error ? { parts, error: r.error } : { parts };
}

/** Explains the end (FIN) of a stream after what `decoder` read: clean, or inside a header or frame (GAROU-2.7). */
export function explainEnd(decoder: StreamDecoder): string {
  if (decoder.error) return `FIN after ${decoder.error.code}`;
  const t = decoder.finish();
  return t ? `FIN inside a ${t.part} at byte ${t.offset}, ${t.have} of ${t.need} bytes (GAROU-2.7)` : `FIN on ${decoder.where} after whole frames`;
}

/**
 * One line saying what a write from the start of a stream (or one datagram)
 * means, for fuzz builders and reports, e.g.
 * `control (c2s): Hello {"version":1,"client":"x"}; Auth {"username":"a"}`
 * or `uni (c2s): stream 0x01 chat commands; SendMessage {…}; then UNKNOWN_FRAME_TYPE at byte 31 (GAROU-2.2): unknown frame type 0x2a`.
 * Never throws on any bytes.
 */
export function explain(bytes: Uint8Array, ctx: ExplainContext = {}): string {
  const on = ctx.on ?? 'control';
  const dir = ctx.dir ?? 'c2s';
  const max = ctx.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES;
  if (on === 'datagram') {
    let text: string;
    try {
      const f = decodeDatagram(bytes, dir, { maxFrameBytes: max });
      text = `${f.name} ${brief(f.payload)}`;
    } catch (err) {
      text = err instanceof GarouCodecError ? errText(err) : `unexpected ${String(err)}`;
    }
    return `datagram (${dir}): ${text}`;
  }
  if (bytes.length === 0) return `${on} (${dir}): nothing`;
  return `${on} (${dir}): ${explainWrite(new StreamDecoder({ stream: on, dir, maxFrameBytes: max }), bytes).parts.join('; ')}`;
}
