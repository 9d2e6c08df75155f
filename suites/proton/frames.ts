/**
 * Proton frames for fixtures (harness/fixtures): what a fixture's `write`
 * step may say instead of hex, and how the server's bytes are split for a
 * `frames` expectation. Wire format: SPEC.md §3 (discriminator byte), §1.3
 * (4-byte big-endian items).
 */
import { DISCRIMINATORS, ITEM_SIZE, ItemDecoder, MAX_ITEM, STREAM_KINDS, streamBytes, type StreamKind } from './codec.js';

/**
 * A client frame: an optional discriminator (a stream type name or any byte
 * value, PROTON-3.1) followed by items (PROTON-1.3), written in one write.
 * Examples: `{ "discriminator": "event", "items": [1, 2] }` (discriminator
 * then ids), `{ "items": [3] }` (an id on an identified stream),
 * `{ "discriminator": 7 }` (an unknown discriminator).
 */
export interface ProtonFrame {
  readonly discriminator?: StreamKind | number;
  readonly items?: readonly number[];
}

/** JSON Schema (draft 2020-12) of a {@link ProtonFrame}. */
export const frameSchema: object = {
  type: 'object',
  additionalProperties: false,
  minProperties: 1,
  properties: {
    discriminator: {
      description: 'Stream type (event, commit, action, reset) or a byte value 0-255 (PROTON-3.1).',
      anyOf: [{ enum: [...STREAM_KINDS] }, { type: 'integer', minimum: 0, maximum: 255 }],
    },
    items: {
      description: '4-byte unsigned big-endian items (PROTON-1.3).',
      type: 'array',
      items: { type: 'integer', minimum: 0, maximum: MAX_ITEM },
    },
  },
};


/**
 * Encodes a frame: the discriminator byte (when given), then the items.
 * @throws TypeError when `frame` is not a {@link ProtonFrame} (callers validate against {@link frameSchema} first).
 * @throws RangeError for an item outside [0, 2^32) or a byte outside [0, 255].
 */
export function encodeFrame(frame: unknown): Uint8Array {
  if (typeof frame !== 'object' || frame === null || Array.isArray(frame)) throw new TypeError('proton frame: must be an object');
  const f = frame as ProtonFrame;
  const items = f.items ?? [];
  if (!Array.isArray(items)) throw new TypeError('proton frame: items must be an array');
  if (f.discriminator === undefined) {
    const full = streamBytes(0, items);
    return full.subarray(1);
  }
  const disc = typeof f.discriminator === 'string' ? DISCRIMINATORS[f.discriminator] : f.discriminator;
  if (disc === undefined) throw new TypeError(`proton frame: unknown discriminator ${JSON.stringify(f.discriminator)}`);
  return streamBytes(disc, items);
}

/**
 * Splits bytes the server sent on a stream into items (every Proton server
 * frame is a 4-byte item, PROTON-4.3, 5.1, 6.2); a trailing partial item is
 * left out.
 */
export function decodeFrames(bytes: Uint8Array): { readonly frame: number; readonly bytes: number }[] {
  const dec = new ItemDecoder();
  return dec.push(bytes.subarray(0, bytes.length - (bytes.length % ITEM_SIZE))).map((frame) => ({ frame, bytes: ITEM_SIZE }));
}
