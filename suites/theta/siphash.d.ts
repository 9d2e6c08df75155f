/**
 * Types for the `siphash` npm package (SipHash-2-4, pure JavaScript; the
 * package ships none). Only what suites/theta uses.
 */
declare module 'siphash' {
  /** A 64-bit value as two unsigned 32-bit halves. */
  interface SipHash64 {
    readonly h: number;
    readonly l: number;
  }
  /** SipHash-2-4 of `message` (bytes, or a string taken as UTF-8) under a 128-bit key given as four little-endian u32 words. */
  function hash(key: readonly [number, number, number, number], message: Uint8Array | string): SipHash64;
  const SipHash: { hash: typeof hash };
  export default SipHash;
}
