/**
 * Seeded randomness of the chaos proxy: pure-rand's xoroshiro128+ (the
 * generator fast-check uses), one independent generator per purpose, each
 * seeded from the proxy's seed and a salt (connection index, direction,
 * toxic name), so one connection's draws never depend on another's timing.
 */
import { xoroshiro128plus } from 'pure-rand/generator/xoroshiro128plus';
import { uniformFloat64 } from 'pure-rand/distribution/uniformFloat64';
import { uniformInt } from 'pure-rand/distribution/uniformInt';

/** A seeded random source. */
export interface Rng {
  /** Uniform in [0, 1). */
  float(): number;
  /** Uniform integer in [from, to] (both included). */
  int(from: number, to: number): number;
}

/** FNV-1a (32 bit) of a string: mixes a seed and its salt into a generator seed. */
function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h | 0;
}

/** A generator for `seed` and `salt` (deterministic: same inputs, same draws). */
export function createRng(seed: number, ...salt: ReadonlyArray<string | number>): Rng {
  const g = xoroshiro128plus(fnv1a(`${String(seed)}|${salt.join('|')}`));
  return {
    float: () => uniformFloat64(g),
    int: (from, to) => uniformInt(g, from, to),
  };
}
