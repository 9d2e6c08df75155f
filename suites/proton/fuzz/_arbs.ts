/** Small arbitraries shared by the Proton generators. */
import fc from 'fast-check';
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

/**
 * Where a wait ends relative to a timer `T` of the profile, outside the
 * band `T ± toleranceMs` in which the SPEC lets the server act either way:
 * well before, just before, just after.
 */
export const aroundTimer = (field: string): fc.Arbitrary<string> =>
  fc.constantFrom(`${field} - toleranceMs - 20`, `${field} + toleranceMs + 20`, `${field} / 2`);

/** How bytes are cut into writes: one write (coalesced), at every byte boundary, or at chosen offsets. */
export type Chunking = { readonly type: 'whole' } | { readonly type: 'bytewise' } | { readonly type: 'splits'; readonly at: readonly number[] };

/** Chunking strategies. */
export const chunking: fc.Arbitrary<Chunking> = fc.oneof(
  { withCrossShrink: true },
  fc.constant<Chunking>({ type: 'whole' }),
  fc.constant<Chunking>({ type: 'bytewise' }),
  fc.uniqueArray(fc.integer({ min: 1, max: 32 }), { minLength: 1, maxLength: 4 }).map((at): Chunking => ({ type: 'splits', at: [...at].sort((a, b) => a - b) })),
);

/** Cuts `bytes` as `c` says; every piece is non-empty. */
export function cut(bytes: Uint8Array, c: Chunking): Uint8Array[] {
  if (bytes.length === 0) return [];
  if (c.type === 'whole') return [bytes];
  if (c.type === 'bytewise') return [...bytes].map((b) => Uint8Array.of(b));
  const points = [0, ...c.at.filter((x) => x > 0 && x < bytes.length), bytes.length];
  const out: Uint8Array[] = [];
  for (let i = 1; i < points.length; i++) out.push(bytes.subarray(points[i - 1]!, points[i]!));
  return out;
}

/** Text of a chunking for descriptions. */
export function chunkingText(c: Chunking, n: number): string {
  if (c.type === 'whole' || n <= 1) return 'in one write';
  if (c.type === 'bytewise') return `split at every byte boundary (${n} writes)`;
  return `split at offsets ${c.at.join(', ')} (${n} writes)`;
}
