/** Small arbitraries shared by the Moonpool generators (SPEC §2–§4). */
import fc from 'fast-check';
import { MAX_CORRELATION_ID, MAX_LENGTH_FIELD, PING } from '../codec.js';

const ascii = (s: string): Uint8Array => new TextEncoder().encode(s);

/**
 * Correlation ids (u64, MOONPOOL-3.1): small ones most often (readable
 * listings), the edges (0, 1, 2^53 − 1, 2^53, 2^53 + 1, 2^63, 2^64 − 1:
 * where a JS number or a signed i64 breaks), and any u64; shrinking towards 1.
 */
export const correlationId: fc.Arbitrary<bigint> = fc.oneof(
  { withCrossShrink: true },
  { arbitrary: fc.bigInt({ min: 1n, max: 100n }), weight: 4 },
  { arbitrary: fc.constantFrom(0n, 1n, 2n ** 53n - 1n, 2n ** 53n, 2n ** 53n + 1n, 2n ** 63n, MAX_CORRELATION_ID), weight: 2 },
  { arbitrary: fc.bigInt({ min: 0n, max: MAX_CORRELATION_ID }), weight: 1 },
);

/** A request payload: `PING` (MOONPOOL-4.1) four times in seven, else one that is not a ping (4.3). */
export const payload: fc.Arbitrary<Uint8Array> = fc.oneof(
  { withCrossShrink: true },
  { arbitrary: fc.constant(PING), weight: 4 },
  { arbitrary: otherPayload(), weight: 3 },
);

/**
 * Payloads that are not a ping (MOONPOOL-4.3): empty (2.3), near misses
 * (`ping`, `PIN`, `PINGPING`, `PONG`, `PING\0`, ` PING`) and short binary.
 */
export function otherPayload(): fc.Arbitrary<Uint8Array> {
  return fc.oneof(
    fc.constantFrom(new Uint8Array(0), ascii('ping'), ascii('PIN'), ascii('PINGPING'), ascii('PONG'), ascii('PING\0'), ascii(' PING')),
    fc.uint8Array({ minLength: 1, maxLength: 16 }).filter((b) => !(b.length === 4 && b[0] === 0x50 && b[1] === 0x49 && b[2] === 0x4e && b[3] === 0x47)),
  );
}

/** A u32 length field above `max` (MOONPOOL-5.1): just above it, 2^31, 2^32 − 1, or anything between. */
export function oversizedLength(max: number): fc.Arbitrary<number> {
  if (max >= MAX_LENGTH_FIELD) return fc.constant(MAX_LENGTH_FIELD); // No u32 is over the limit: the header is then merely announced.
  return fc.oneof(
    { withCrossShrink: true },
    fc.constantFrom(max + 1, MAX_LENGTH_FIELD, ...(max < 0x8000_0000 ? [0x8000_0000] : [])),
    fc.integer({ min: max + 1, max: MAX_LENGTH_FIELD }),
  );
}

/**
 * Where a wait ends relative to a timer `T` of the profile (a field name),
 * outside the band `T ± toleranceMs` in which the SPEC lets the server act
 * either way: well before, just before, just after (fixture duration
 * expressions, harness/fixtures/format.ts).
 */
export const aroundTimer = (field: string): fc.Arbitrary<string> =>
  fc.constantFrom(`${field} - toleranceMs - 20`, `${field} + toleranceMs + 20`, `${field} / 2`);

/** How bytes are cut into writes: one write (coalesced), at every byte boundary, or at chosen offsets. */
export type Chunking = { readonly type: 'whole' } | { readonly type: 'bytewise' } | { readonly type: 'splits'; readonly at: readonly number[] };

/** Chunking strategies (offsets up to 40: inside the first envelopes). */
export const chunking: fc.Arbitrary<Chunking> = fc.oneof(
  { withCrossShrink: true },
  fc.constant<Chunking>({ type: 'whole' }),
  fc.constant<Chunking>({ type: 'bytewise' }),
  fc.uniqueArray(fc.integer({ min: 1, max: 40 }), { minLength: 1, maxLength: 4 }).map((at): Chunking => ({ type: 'splits', at: [...at].sort((a, b) => a - b) })),
);

/** Runs of at most this many bytes are cut at every byte boundary; longer ones at every header byte (the first 12), then the rest whole. */
const BYTEWISE_MAX = 64;

/** Cuts `bytes` as `c` says; every piece is non-empty. */
export function cut(bytes: Uint8Array, c: Chunking): Uint8Array[] {
  if (bytes.length === 0) return [];
  if (c.type === 'whole') return [bytes];
  const at = c.type === 'bytewise' ? Array.from({ length: Math.min(bytes.length - 1, bytes.length <= BYTEWISE_MAX ? Infinity : 12) }, (_, i) => i + 1) : c.at;
  const points = [0, ...at.filter((x) => x > 0 && x < bytes.length), bytes.length];
  const out: Uint8Array[] = [];
  for (let i = 1; i < points.length; i++) out.push(bytes.subarray(points[i - 1]!, points[i]!));
  return out;
}

/** Text of a chunking of `length` bytes into `n` writes, for descriptions. */
export function chunkingText(c: Chunking, n: number, length = 0): string {
  if (c.type === 'whole' || n <= 1) return 'in one write';
  if (c.type === 'bytewise') return length > BYTEWISE_MAX ? `split at every byte of the first header, then the rest (${n} writes)` : `split at every byte boundary (${n} writes)`;
  return `split at offset${n > 2 ? 's' : ''} ${c.at.filter((x) => length === 0 || x < length).join(', ')} (${n} writes)`;
}
