/** Small arbitraries shared by the Moonpool generators (SPEC §2–§4). */
import fc from 'fast-check';
import { chunkings, chunkingText as describeChunking, cut as cutBytes, type BytewiseLimit, type Chunking } from '../../../harness/fuzz/chunking.js';
import { HEADER_SIZE, MAX_CORRELATION_ID, MAX_LENGTH_FIELD, PING } from '../codec.js';

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

/** Chunking strategies, offsets up to 40: inside the first envelopes (harness/fuzz/chunking.ts). */
export const chunking = chunkings(40);

/** Runs over 64 bytes are cut at every byte of their first header (12 bytes), then the rest whole. */
const BYTEWISE: BytewiseLimit = { max: 64, head: HEADER_SIZE, headName: 'header' };

/** Cuts `bytes` as `c` says (long runs: bytewise over the first header only). */
export const cut = (bytes: Uint8Array, c: Chunking): Uint8Array[] => cutBytes(bytes, c, BYTEWISE);

/** Text of a chunking of `length` bytes into `n` writes, for descriptions. */
export const chunkingText = (c: Chunking, n: number, length = 0): string => describeChunking(c, n, length, BYTEWISE);

export { aroundTimer, type Chunking } from '../../../harness/fuzz/chunking.js';
