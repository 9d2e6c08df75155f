/** Small arbitraries shared by the Proton generators. */
import fc from 'fast-check';
import { chunkings } from '../../../harness/fuzz/chunking.js';
import { MAX_ITEM } from '../codec.js';

/** Any 4-byte item value (0 … 2^32 − 1), shrinking towards 0. */
export const u32: fc.Arbitrary<number> = fc.tuple(fc.nat(0xffff), fc.nat(0xffff)).map(([hi, lo]) => hi * 0x1_0000 + lo);

/** Item values at the edges of the range (PROTON-1.3): 0, 1, 2^31 − 1, 2^31, 2^32 − 2, 2^32 − 1. */
export const edgeItem: fc.Arbitrary<number> = fc.constantFrom(0, 1, 0x7fff_ffff, 0x8000_0000, MAX_ITEM - 1, MAX_ITEM);

/** Strictly increasing Event ids above `after` (1–`max` of them), from gaps of 1–1000; undefined-free, capped at 2^32 − 1. */
export function increasingIds(after: number, gaps: readonly number[]): number[] {
  const ids: number[] = [];
  let last = after;
  for (const g of gaps) {
    if (last + g > MAX_ITEM) break;
    last += g;
    ids.push(last);
  }
  return ids;
}

/** Gaps between Event ids: 1–1000 (small ones more often), shrinking to 1 (consecutive ids). */
export const idGap: fc.Arbitrary<number> = fc.integer({ min: 1, max: 1000 });

/** An application error code for RESET_STREAM / STOP_SENDING (small, or an edge of the 62-bit range). */
export const streamCode: fc.Arbitrary<number> = fc.oneof(fc.nat(0xff), fc.constantFrom(0, 1, 0xffff, 2 ** 53 - 1));

/** Chunking strategies, offsets inside the first items (harness/fuzz/chunking.ts). */
export const chunking = chunkings(32);
export { aroundTimer, chunkingText, cut, type Chunking } from '../../../harness/fuzz/chunking.js';
