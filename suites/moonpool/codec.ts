/**
 * Moonpool envelope codec (pure). Wire format (MOONPOOL-2.1, PROTOCOLS.md):
 * `[correlation_id:u64 LE][len:u32 LE][payload:len bytes]`.
 *
 * Malformed data is reported with one error class per failure kind
 * ({@link TruncatedEnvelopeError}, {@link OversizedEnvelopeError},
 * {@link TrailingBytesError}); local misuse (an id out of range, a payload
 * over the limit when encoding) is a `RangeError`.
 */

/** Bytes of the header: 8 (correlation id) + 4 (length). */
export const HEADER_SIZE = 12;
/** Largest correlation id (2^64 − 1). */
export const MAX_CORRELATION_ID = 0xffff_ffff_ffff_ffffn;
/** Largest value of the u32 length field. */
export const MAX_LENGTH_FIELD = 0xffff_ffff;
/** Default maximum payload a receiver accepts (MOONPOOL-2.4): 1 MiB. */
export const DEFAULT_MAX_PAYLOAD = 1_048_576;

/** The ping payload, ASCII `PING` (MOONPOOL-4.1). */
export const PING: Uint8Array = new Uint8Array([0x50, 0x49, 0x4e, 0x47]);
/** The pong payload, ASCII `PONG` (MOONPOOL-4.1). */
export const PONG: Uint8Array = new Uint8Array([0x50, 0x4f, 0x4e, 0x47]);

/** One message: a correlation id and its payload. */
export interface Envelope {
  /** u64 correlation id (MOONPOOL-3.1). */
  readonly correlationId: bigint;
  /** Raw application bytes (may be empty, MOONPOOL-2.3). */
  readonly payload: Uint8Array;
}

/** Stable codes of malformed-data errors. */
export type EnvelopeErrorCode = 'TRUNCATED' | 'OVERSIZED' | 'TRAILING_BYTES';

/** Malformed envelope bytes (peer misbehaviour, MOONPOOL-5.1, 5.2). */
export abstract class EnvelopeError extends Error {
  abstract readonly code: EnvelopeErrorCode;
  /** The rule broken, for reports. */
  abstract readonly rule: string;
}

/** The bytes end inside an envelope: `have` of the `need` bytes it takes (MOONPOOL-5.2). */
export class TruncatedEnvelopeError extends EnvelopeError {
  readonly code = 'TRUNCATED' as const;
  readonly rule = 'MOONPOOL-5.2';
  constructor(
    /** Bytes of the envelope present. */
    readonly have: number,
    /** Bytes the envelope needs (12 while the header is incomplete, else 12 + len). */
    readonly need: number,
  ) {
    super(`decode envelope: truncated, ${have} of ${need} bytes${need === HEADER_SIZE ? ' of the header' : ''}`);
    this.name = 'TruncatedEnvelopeError';
  }
}

/** A length field over the receiver's maximum (MOONPOOL-2.4, 5.1). */
export class OversizedEnvelopeError extends EnvelopeError {
  readonly code = 'OVERSIZED' as const;
  readonly rule = 'MOONPOOL-5.1';
  constructor(
    /** The length field. */
    readonly length: number,
    /** The receiver's maximum payload. */
    readonly max: number,
    /** Correlation id of the offending header. */
    readonly correlationId: bigint,
  ) {
    super(`decode envelope: length ${length} exceeds the maximum payload of ${max} bytes (correlation id ${correlationId})`);
    this.name = 'OversizedEnvelopeError';
  }
}

/** Bytes left over after one whole envelope, when exactly one was expected. */
export class TrailingBytesError extends EnvelopeError {
  readonly code = 'TRAILING_BYTES' as const;
  readonly rule = 'MOONPOOL-2.1';
  constructor(
    /** Number of bytes after the envelope. */
    readonly extra: number,
  ) {
    super(`decode envelope: ${extra} trailing byte(s) after the envelope`);
    this.name = 'TrailingBytesError';
  }
}

function checkMax(max: number, fn: string): void {
  if (!Number.isInteger(max) || max < 0 || max > MAX_LENGTH_FIELD) {
    throw new RangeError(`${fn}: maxPayloadBytes must be an integer in [0, 2^32), got ${String(max)}`);
  }
}

/**
 * Encodes a header: 12 bytes. Used to craft frames, oversized ones included.
 * @throws RangeError when `correlationId` is not a u64 or `length` not a u32.
 */
export function encodeHeader(correlationId: bigint, length: number): Uint8Array {
  if (typeof correlationId !== 'bigint' || correlationId < 0n || correlationId > MAX_CORRELATION_ID) {
    throw new RangeError(`encodeHeader: correlation id must be a u64 bigint, got ${String(correlationId)}`);
  }
  if (!Number.isInteger(length) || length < 0 || length > MAX_LENGTH_FIELD) {
    throw new RangeError(`encodeHeader: length must be an integer in [0, 2^32), got ${String(length)}`);
  }
  const out = new Uint8Array(HEADER_SIZE);
  const dv = new DataView(out.buffer);
  dv.setBigUint64(0, correlationId, true);
  dv.setUint32(8, length, true);
  return out;
}

/**
 * Encodes one envelope (MOONPOOL-2.1).
 * @throws RangeError when the id is not a u64 or the payload is longer than `maxPayloadBytes` (default: the u32 limit).
 */
export function encodeEnvelope(env: Envelope, maxPayloadBytes: number = MAX_LENGTH_FIELD): Uint8Array {
  checkMax(maxPayloadBytes, 'encodeEnvelope');
  if (env.payload.length > maxPayloadBytes) {
    throw new RangeError(`encodeEnvelope: payload of ${env.payload.length} bytes exceeds the maximum of ${maxPayloadBytes}`);
  }
  const out = new Uint8Array(HEADER_SIZE + env.payload.length);
  out.set(encodeHeader(env.correlationId, env.payload.length), 0);
  out.set(env.payload, HEADER_SIZE);
  return out;
}

/** Encodes several envelopes back to back (coalesced, MOONPOOL-2.2). */
export function encodeEnvelopes(envs: readonly Envelope[], maxPayloadBytes: number = MAX_LENGTH_FIELD): Uint8Array {
  const parts = envs.map((e) => encodeEnvelope(e, maxPayloadBytes));
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Reads the correlation id and length of a header starting at `offset` (≥ 12 bytes must be there). */
function readHeader(bytes: Uint8Array, offset: number): { id: bigint; len: number } {
  const dv = new DataView(bytes.buffer, bytes.byteOffset + offset, HEADER_SIZE);
  return { id: dv.getBigUint64(0, true), len: dv.getUint32(8, true) };
}

/**
 * Decodes exactly one envelope from `bytes` (the seed's `deserialize`).
 * @throws TruncatedEnvelopeError, OversizedEnvelopeError (checked as soon as the header is there) or TrailingBytesError.
 */
export function decodeEnvelope(bytes: Uint8Array, maxPayloadBytes: number = DEFAULT_MAX_PAYLOAD): Envelope {
  checkMax(maxPayloadBytes, 'decodeEnvelope');
  if (bytes.length < HEADER_SIZE) throw new TruncatedEnvelopeError(bytes.length, HEADER_SIZE);
  const { id, len } = readHeader(bytes, 0);
  if (len > maxPayloadBytes) throw new OversizedEnvelopeError(len, maxPayloadBytes, id);
  if (bytes.length < HEADER_SIZE + len) throw new TruncatedEnvelopeError(bytes.length, HEADER_SIZE + len);
  if (bytes.length > HEADER_SIZE + len) throw new TrailingBytesError(bytes.length - HEADER_SIZE - len);
  return { correlationId: id, payload: bytes.slice(HEADER_SIZE) };
}

/** What {@link FrameDecoder.push} returns. */
export interface DecodeResult {
  /** Envelopes completed by these bytes, in order. */
  readonly envelopes: Envelope[];
  /** Set once, when these bytes made the stream malformed; later bytes are ignored. */
  readonly error?: EnvelopeError;
}

/** A piece of a push as {@link FrameDecoder} read it (for {@link FrameDecoder.explain}). */
type Segment =
  /** Header bytes `from`+1 … `from`+`took` of 12; `done` once complete; `last` when the push ended there. */
  | { readonly type: 'header'; readonly from: number; readonly took: number; readonly done?: { readonly id: bigint; readonly len: number }; readonly last: boolean }
  /** Payload bytes `before`+1 … `before`+`took` of `len`; `envelope` when they complete it. */
  | { readonly type: 'payload'; readonly id: bigint; readonly len: number; readonly before: number; readonly took: number; readonly envelope?: Envelope }
  /** Bytes never read: after the oversized header in the same push (`afterError`), or in a later push. */
  | { readonly type: 'ignored'; readonly bytes: number; readonly afterError: boolean };

/**
 * Incremental decoder of a byte stream into envelopes: keeps a partial
 * envelope between pushes (split at any byte boundary, several per push,
 * MOONPOOL-2.2). An oversized length is reported as soon as its header is
 * complete, without waiting for the payload (MOONPOOL-5.1); the decoder is
 * then failed and ignores everything after. Buffers at most one header plus
 * `maxPayloadBytes`.
 */
export class FrameDecoder {
  private readonly header = new Uint8Array(HEADER_SIZE);
  private headerLen = 0;
  /** The envelope being read: its header fields and the payload chunks so far (never allocated from the length field). */
  private current: { id: bigint; len: number; chunks: Uint8Array[]; have: number } | undefined;
  private failure: EnvelopeError | undefined;

  constructor(
    /** Largest payload accepted (MOONPOOL-2.4). */
    readonly maxPayloadBytes: number = DEFAULT_MAX_PAYLOAD,
  ) {
    checkMax(maxPayloadBytes, 'FrameDecoder');
  }

  /** Bytes of an incomplete envelope held (0 between envelopes). */
  get partial(): number {
    return this.current ? HEADER_SIZE + this.current.have : this.headerLen;
  }

  /** Bytes the incomplete envelope needs in all (undefined between envelopes; 12 while the header is incomplete). */
  get need(): number | undefined {
    if (this.current) return HEADER_SIZE + this.current.len;
    return this.headerLen > 0 ? HEADER_SIZE : undefined;
  }

  /** The error that failed the stream, if any. */
  get error(): EnvelopeError | undefined {
    return this.failure;
  }

  /** Appends bytes; returns the envelopes they complete and, once, the error that fails the stream. */
  push(bytes: Uint8Array): DecodeResult {
    return this.read(bytes);
  }

  /** A copy in the same state (payload chunks are shared, never written), e.g. to explain bytes without taking them. */
  clone(): FrameDecoder {
    const d = new FrameDecoder(this.maxPayloadBytes);
    d.header.set(this.header);
    d.headerLen = this.headerLen;
    d.current = this.current ? { ...this.current, chunks: [...this.current.chunks] } : undefined;
    d.failure = this.failure;
    return d;
  }

  /**
   * Appends bytes like {@link push} and says what they mean to a receiver
   * (SPEC §2, §4, §5): which header and payload bytes they carry, which
   * envelopes they complete (a PING, an empty payload, the maximum size),
   * a length field over the maximum (MOONPOOL-5.1) and the bytes never read
   * after it. One phrase per part, e.g. `header bytes 1–5 of 12`,
   * `PING #7`, `header (#8 len 65537, over maxPayloadBytes 65536: ParseError, MOONPOOL-5.1)`.
   */
  explain(bytes: Uint8Array): DecodeResult & { readonly parts: readonly string[] } {
    const parts: string[] = [];
    const range = (what: string, from: number, to: number) => (to > from ? `${what}s ${from}–${to}` : `${what} ${to}`);
    const bytesText = (n: number) => `${n} byte${n > 1 ? 's' : ''}`;
    const max = this.maxPayloadBytes;
    /** The current envelope's header is already named (in an earlier write, or in a part of this one). */
    let headerNamed = this.current !== undefined;
    const result = this.read(bytes, (seg) => {
      switch (seg.type) {
        case 'ignored':
          parts.push(seg.afterError ? `${bytesText(seg.bytes)} after it (never read: the server closes)` : `${bytesText(seg.bytes)} after the oversized header (never read: the server closes)`);
          return;
        case 'header': {
          if (seg.done === undefined) {
            parts.push(`${range('header byte', seg.from + 1, seg.from + seg.took)} of 12`);
            return;
          }
          const { id, len } = seg.done;
          const lead = seg.from > 0 ? `${range('header byte', seg.from + 1, HEADER_SIZE)} (completes it: ` : 'header (';
          headerNamed = false;
          if (len > max) parts.push(`${lead}#${id} len ${len}, over maxPayloadBytes ${max}: ParseError, MOONPOOL-5.1)`);
          else if (seg.from > 0 || (seg.last && len > 0)) {
            parts.push(`${lead}#${id} len ${len})`);
            headerNamed = true;
          }
          return;
        }
        case 'payload': {
          const { id, len } = seg;
          if (seg.envelope) {
            const payload = seg.envelope.payload;
            const what = len === 4 && isPing(payload)
              ? `PING #${id}`
              : len === 0
                ? `#${id} with an empty payload (MOONPOOL-2.3, not a ping)`
                : `#${id} payload ${describePayload(payload.subarray(0, 16))}${len > 16 ? ` (${len} bytes${len === max ? ', the maximum: MOONPOOL-2.4' : ''})` : ''}, not a ping`;
            parts.push(len === 0 || !headerNamed ? what : `${range('payload byte', seg.before + 1, seg.before + seg.took)} of ${len} (completes ${what})`);
            headerNamed = false;
          } else if (seg.took > 0) {
            parts.push(`${headerNamed ? '' : `header #${id} len ${len} + `}${range('payload byte', seg.before + 1, seg.before + seg.took)} of ${len}`);
            headerNamed = true;
          }
          return;
        }
      }
    });
    return { ...result, parts };
  }

  /** The one decoding loop: {@link push} and {@link explain} both run it; `seen` hears every piece read. */
  private read(bytes: Uint8Array, seen?: (seg: Segment) => void): DecodeResult {
    const envelopes: Envelope[] = [];
    if (this.failure) {
      if (bytes.length > 0) seen?.({ type: 'ignored', bytes: bytes.length, afterError: false });
      return { envelopes };
    }
    let i = 0;
    while (i < bytes.length) {
      if (!this.current) {
        const from = this.headerLen;
        const take = Math.min(HEADER_SIZE - this.headerLen, bytes.length - i);
        this.header.set(bytes.subarray(i, i + take), this.headerLen);
        this.headerLen += take;
        i += take;
        if (this.headerLen < HEADER_SIZE) {
          seen?.({ type: 'header', from, took: take, last: true });
          break;
        }
        const { id, len } = readHeader(this.header, 0);
        this.headerLen = 0;
        seen?.({ type: 'header', from, took: take, done: { id, len }, last: i === bytes.length });
        if (len > this.maxPayloadBytes) {
          this.failure = new OversizedEnvelopeError(len, this.maxPayloadBytes, id);
          if (i < bytes.length) seen?.({ type: 'ignored', bytes: bytes.length - i, afterError: true });
          return { envelopes, error: this.failure };
        }
        this.current = { id, len, chunks: [], have: 0 };
        if (i === bytes.length && len > 0) break;
      }
      const cur = this.current;
      const take = Math.min(cur.len - cur.have, bytes.length - i);
      if (take > 0) cur.chunks.push(bytes.slice(i, i + take));
      const before = cur.have;
      cur.have += take;
      i += take;
      if (cur.have === cur.len) {
        const envelope = { correlationId: cur.id, payload: concat(cur.chunks, cur.len) };
        envelopes.push(envelope);
        this.current = undefined;
        seen?.({ type: 'payload', id: cur.id, len: cur.len, before, took: take, envelope });
      } else seen?.({ type: 'payload', id: cur.id, len: cur.len, before, took: take });
    }
    return { envelopes };
  }

  /**
   * The stream ended (EOF). Returns a {@link TruncatedEnvelopeError} when it
   * ended inside an envelope (MOONPOOL-5.2), else undefined.
   */
  finish(): TruncatedEnvelopeError | undefined {
    if (this.failure) return undefined;
    const need = this.need;
    return need === undefined ? undefined : new TruncatedEnvelopeError(this.partial, need);
  }
}

function concat(chunks: readonly Uint8Array[], total: number): Uint8Array {
  if (chunks.length === 1) return chunks[0]!;
  const out = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

/** True when `a` and `b` hold the same bytes. */
export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** True for the payload `PING` exactly (MOONPOOL-4.1). */
export function isPing(payload: Uint8Array): boolean {
  return bytesEqual(payload, PING);
}

/** Short printable form of a payload for reports: ASCII when printable, else hex; long payloads cut. */
export function describePayload(payload: Uint8Array, max = 16): string {
  const head = payload.subarray(0, max);
  const printable = head.every((b) => b >= 0x20 && b < 0x7f);
  const text = printable ? JSON.stringify(Buffer.from(head).toString('latin1')) : `0x${Buffer.from(head).toString('hex')}`;
  return payload.length > max ? `${text}… (${payload.length} bytes)` : payload.length === 0 ? '(empty)' : text;
}

/** `#42` — a correlation id the way reports show it. */
export function idText(id: bigint): string {
  return `#${id.toString()}`;
}
