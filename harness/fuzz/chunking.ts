/**
 * Protocol-neutral generators the fuzz programs of every protocol share:
 * how bytes are cut into writes (frames split at every byte boundary, at
 * chosen offsets, or coalesced in one write) and where a wait ends around a
 * timer of the profile.
 */
import fc from 'fast-check';

/** How bytes are cut into writes: one write (coalesced), at every byte boundary, or at chosen offsets. */
export type Chunking = { readonly type: 'whole' } | { readonly type: 'bytewise' } | { readonly type: 'splits'; readonly at: readonly number[] };

/**
 * Chunking strategies; chosen offsets lie in 1…`maxOffset` (bytes), so
 * inside the first frames. Shrinks towards one write.
 */
export function chunkings(maxOffset: number): fc.Arbitrary<Chunking> {
  return fc.oneof(
    { withCrossShrink: true },
    fc.constant<Chunking>({ type: 'whole' }),
    fc.constant<Chunking>({ type: 'bytewise' }),
    fc.uniqueArray(fc.integer({ min: 1, max: maxOffset }), { minLength: 1, maxLength: 4 }).map((at): Chunking => ({ type: 'splits', at: [...at].sort((a, b) => a - b) })),
  );
}

/**
 * A cap on byte-by-byte cutting: a run longer than `max` bytes is cut at
 * every byte of its first `head` bytes (a header), then the rest is one write.
 */
export interface BytewiseLimit {
  readonly max: number;
  readonly head: number;
  /** What the head is called in descriptions (e.g. `header`). */
  readonly headName: string;
}

/** Cuts `bytes` as `c` says; every piece is non-empty. */
export function cut(bytes: Uint8Array, c: Chunking, limit?: BytewiseLimit): Uint8Array[] {
  if (bytes.length === 0) return [];
  if (c.type === 'whole') return [bytes];
  const capped = limit !== undefined && bytes.length > limit.max;
  const at = c.type === 'bytewise' ? Array.from({ length: Math.min(bytes.length - 1, capped ? limit.head : Infinity) }, (_, i) => i + 1) : c.at;
  const points = [0, ...at.filter((x) => x > 0 && x < bytes.length), bytes.length];
  const out: Uint8Array[] = [];
  for (let i = 1; i < points.length; i++) out.push(bytes.subarray(points[i - 1]!, points[i]!));
  return out;
}

/** Text of a chunking of `length` bytes (0: unknown) into `n` writes, for descriptions. */
export function chunkingText(c: Chunking, n: number, length = 0, limit?: BytewiseLimit): string {
  if (c.type === 'whole' || n <= 1) return 'in one write';
  if (c.type === 'bytewise') {
    return limit !== undefined && length > limit.max ? `split at every byte of the first ${limit.headName}, then the rest (${n} writes)` : `split at every byte boundary (${n} writes)`;
  }
  return `split at offset${n > 2 ? 's' : ''} ${c.at.filter((x) => length === 0 || x < length).join(', ')} (${n} writes)`;
}

/**
 * Where a wait ends relative to a timer `T` of the profile (a field name),
 * outside the band `T ± toleranceMs` in which a SPEC lets the server act
 * either way: well before, just before, just after (fixture duration
 * expressions, harness/fixtures/format.ts).
 */
export const aroundTimer = (field: string): fc.Arbitrary<string> =>
  fc.constantFrom(`${field} - toleranceMs - 20`, `${field} + toleranceMs + 20`, `${field} / 2`);
