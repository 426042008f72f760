/**
 * @module seeded-random
 * A small seeded PRNG (mulberry32) with the `() => number` shape of `Math.random`, for tests and benches
 * that need weighted choices to be repeatable. Not for anything security-related.
 */

/** A generator of numbers in [0, 1), the same sequence for the same 32-bit seed. */
export function seededRandom(seed: number): () => number {
  if (!Number.isFinite(seed)) throw new TypeError(`seededRandom: seed must be a finite number, got ${seed}`);
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
