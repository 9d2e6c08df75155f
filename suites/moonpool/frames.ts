/**
 * Moonpool frames for fixtures (harness/fixtures): what a fixture's `write`
 * step may say instead of hex, and how the server's bytes are split for a
 * `frames` expectation. Wire format: SPEC.md §2.1
 * (`[correlation_id:u64 LE][len:u32 LE][payload]`).
 */
import { encodeHeader, FrameDecoder, MAX_CORRELATION_ID, MAX_LENGTH_FIELD } from './codec.js';

/**
 * A client frame, written in one write. `id` is the correlation id (a number,
 * or a decimal string for ids above 2^53); the payload is `payload` (text,
 * UTF-8) or `payloadHex`; `length` overrides the length field, to write
 * malformed frames: `{ "id": 1, "length": 1048577 }` is an oversized header
 * alone, `{ "id": 2, "length": 4, "payload": "PI" }` a truncated frame.
 * Examples: `{ "id": 1, "payload": "PING" }`, `{ "id": "18446744073709551615", "payloadHex": "" }`.
 */
export interface MoonpoolFrame {
  readonly id: number | string;
  readonly payload?: string;
  readonly payloadHex?: string;
  readonly length?: number;
}

/** A server frame as a `frames` expectation sees it: `{ "id": 1, "payload": "PONG" }` (printable ASCII) or `{ "id": 1, "payloadHex": "00ff" }`. */
export type DecodedFrame = { readonly id: number | string; readonly payload: string } | { readonly id: number | string; readonly payloadHex: string };

/** JSON Schema (draft 2020-12) of a {@link MoonpoolFrame}. */
export const frameSchema: object = {
  type: 'object',
  additionalProperties: false,
  required: ['id'],
  properties: {
    id: {
      description: 'Correlation id, a u64 (MOONPOOL-3.1): an integer, or a decimal string for large ids.',
      anyOf: [{ type: 'integer', minimum: 0, maximum: Number.MAX_SAFE_INTEGER }, { type: 'string', pattern: '^[0-9]{1,20}$' }],
    },
    payload: { type: 'string', description: 'Payload as UTF-8 text, e.g. "PING" (MOONPOOL-4.1).' },
    payloadHex: { type: 'string', pattern: '^([0-9a-fA-F]{2})*$', description: 'Payload as hex.' },
    length: { type: 'integer', minimum: 0, maximum: MAX_LENGTH_FIELD, description: 'Length field to write instead of the payload length (malformed frames, MOONPOOL-5).' },
  },
  not: { required: ['payload', 'payloadHex'] },
};

/**
 * Encodes a frame: header, then the payload bytes given.
 * @throws TypeError when `frame` is not a {@link MoonpoolFrame}; RangeError for an id outside u64.
 */
export function encodeFrame(frame: unknown): Uint8Array {
  if (typeof frame !== 'object' || frame === null || Array.isArray(frame)) throw new TypeError('moonpool frame: must be an object');
  const f = frame as MoonpoolFrame;
  if (typeof f.id !== 'number' && typeof f.id !== 'string') throw new TypeError('moonpool frame: id must be a number or a decimal string');
  const id = BigInt(f.id);
  if (id < 0n || id > MAX_CORRELATION_ID) throw new RangeError(`moonpool frame: id ${f.id} is not a u64`);
  const payload = f.payloadHex !== undefined ? new Uint8Array(Buffer.from(f.payloadHex, 'hex')) : new TextEncoder().encode(f.payload ?? '');
  const out = new Uint8Array(12 + payload.length);
  out.set(encodeHeader(id, f.length ?? payload.length), 0);
  out.set(payload, 12);
  return out;
}

/** Splits bytes the server sent into whole envelopes (a trailing partial one is left out). */
export function decodeFrames(bytes: Uint8Array): { readonly frame: DecodedFrame; readonly bytes: number }[] {
  const { envelopes } = new FrameDecoder(MAX_LENGTH_FIELD).push(bytes);
  return envelopes.map((e) => {
    const id = e.correlationId <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(e.correlationId) : e.correlationId.toString();
    const printable = e.payload.every((b) => b >= 0x20 && b < 0x7f);
    const frame: DecodedFrame = printable ? { id, payload: Buffer.from(e.payload).toString('latin1') } : { id, payloadHex: Buffer.from(e.payload).toString('hex') };
    return { frame, bytes: 12 + e.payload.length };
  });
}
