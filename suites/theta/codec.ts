/**
 * Theta's wire below the FlatBuffers messages (../shared/PROTOCOLS.md §
 * "Theta session"): the streams by QUIC stream id, the `[len:u32 BE][payload]`
 * frame on every stream with its size limit, the schema hash, and the close
 * codes. Pure; no I/O. Messages themselves: ./messages.ts.
 */
import SipHash from 'siphash';

/** Client-opened bidirectional streams by QUIC stream id (PROTOCOLS.md: the seed's "Stream 0, 1, 2"). */
export const Stream = { control: 0, replication: 4, assets: 8 } as const;
/** A stream's role, or undefined for any other stream id (a violation, THETA-1.2). */
export type StreamRole = keyof typeof Stream;

/** The role of QUIC stream `id`, or undefined when Theta does not use it. */
export function streamRole(id: number): StreamRole | undefined {
  return id === Stream.control ? 'control' : id === Stream.replication ? 'replication' : id === Stream.assets ? 'assets' : undefined;
}

/** Bytes of a frame's length prefix. */
export const FRAME_HEADER = 4;
/** Default largest payload a frame may announce (bytes): 16 MiB (PROTOCOLS.md). */
export const DEFAULT_MAX_FRAME = 16 * 1024 * 1024;

/** Application close codes (PROTOCOLS.md § Theta session). */
export const CloseCode = {
  NO_ERROR: 0x0,
  VERSION_MISMATCH: 0x1,
  SCHEMA_MISMATCH: 0x2,
  BAD_KEY: 0x3,
  BAD_NONCE: 0x4,
  PROTOCOL_VIOLATION: 0x5,
  HEARTBEAT_TIMEOUT: 0x6,
  HANDSHAKE_TIMEOUT: 0x7,
} as const;

/** Name of a close code (`0x5 PROTOCOL_VIOLATION`), or its hex for an unknown one. */
export function closeCodeName(code: number): string {
  const name = Object.entries(CloseCode).find(([, v]) => v === code)?.[0];
  return `0x${code.toString(16)}${name === undefined ? '' : ` ${name}`}`;
}

/** Encodes one frame: the 4-byte big-endian payload length, then the payload. */
export function encodeFrame(payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(FRAME_HEADER + payload.byteLength);
  new DataView(out.buffer).setUint32(0, payload.byteLength, false);
  out.set(payload, FRAME_HEADER);
  return out;
}

/** A frame whose length field exceeds the limit (THETA-2.2); `offset` is the stream byte offset of its length field. */
export class OversizedFrameError extends Error {
  readonly code = 'OVERSIZED_FRAME' as const;
  constructor(
    readonly length: number,
    readonly limit: number,
    readonly offset: number,
  ) {
    super(`frame at stream byte ${offset} announces ${length} bytes, over the limit of ${limit}`);
    this.name = 'OversizedFrameError';
  }
}

/**
 * Incremental decoder of one stream's frames (h11-style: `push` buffers,
 * returns the whole frames completed). Holds at most one partial frame.
 */
export class FrameDecoder {
  private buf = new Uint8Array(0);
  /** Stream byte offset of `buf[0]`. */
  private base = 0;

  /** @param maxFrame largest payload accepted (bytes). */
  constructor(readonly maxFrame: number = DEFAULT_MAX_FRAME) {}

  /** Bytes buffered that do not yet make a whole frame. */
  get partial(): number {
    return this.buf.byteLength;
  }

  /**
   * Adds stream bytes; returns the payloads of the frames they complete, in order.
   * @throws OversizedFrameError as soon as a length field over the limit is read
   *   (the frame's bytes need not have arrived).
   */
  push(bytes: Uint8Array): Uint8Array[] {
    const all = this.buf.byteLength === 0 ? bytes : concat(this.buf, bytes);
    const out: Uint8Array[] = [];
    let at = 0;
    while (all.byteLength - at >= FRAME_HEADER) {
      const len = ((all[at] as number) * 0x100_0000) + (((all[at + 1] as number) << 16) | ((all[at + 2] as number) << 8) | (all[at + 3] as number));
      if (len > this.maxFrame) throw new OversizedFrameError(len, this.maxFrame, this.base + at);
      if (all.byteLength - at - FRAME_HEADER < len) break;
      out.push(all.slice(at + FRAME_HEADER, at + FRAME_HEADER + len));
      at += FRAME_HEADER + len;
    }
    this.buf = all.slice(at);
    this.base += at;
    return out;
  }
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.byteLength + b.byteLength);
  out.set(a, 0);
  out.set(b, a.byteLength);
  return out;
}

/** SipHash-2-4 key for the schema hash: 16 zero bytes (PROTOCOLS.md). */
const ZERO_KEY = [0, 0, 0, 0] as const;

/**
 * The schema hash of a component manifest: SipHash-2-4 with a key of 16
 * zero bytes over the manifest's UTF-8 bytes, as an unsigned 64-bit value
 * (PROTOCOLS.md § Theta session; seed 003 § "Session Handshake").
 */
export function schemaHash(manifest: string): bigint {
  return sipHash24(ZERO_KEY, new TextEncoder().encode(manifest));
}

/** SipHash-2-4 of `message` under `key` (four little-endian u32 words), as a u64. */
export function sipHash24(key: readonly [number, number, number, number], message: Uint8Array): bigint {
  const r = SipHash.hash(key, message);
  return (BigInt(r.h >>> 0) << 32n) | BigInt(r.l >>> 0);
}
