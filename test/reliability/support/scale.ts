/**
 * How big the reliability runs are. `RELIABILITY_SCALE=ci` (the default) keeps each file short; `full` runs the
 * counts the issue "Reliability and security proven" asks for. Every run also prints and records its seed
 * (`RELIABILITY_SEED`, else a fixed default) so a failure can be replayed exactly.
 */
export type ReliabilityScale = 'ci' | 'full';

export const scale: ReliabilityScale = process.env.RELIABILITY_SCALE === 'full' ? 'full' : 'ci';

/** The `ci` value or the `full` one, by the current scale. */
export function byScale<T>(ci: T, full: T): T {
  return scale === 'full' ? full : ci;
}

/** The seed of this run: RELIABILITY_SEED when set, else `fallback`. */
export function reliabilitySeed(fallback: number): number {
  const fromEnv = Number(process.env.RELIABILITY_SEED);
  return Number.isInteger(fromEnv) && process.env.RELIABILITY_SEED !== '' ? fromEnv : fallback;
}

/** A small seeded PRNG (mulberry32): the same seed gives the same schedule of deliveries, kills and cuts. */
export function prng(seed: number): () => number {
  let state = seed | 0;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let x = Math.imul(state ^ (state >>> 15), 1 | state);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** A whole number in [min, max] from `random`. */
export const between = (random: () => number, min: number, max: number): number => min + Math.floor(random() * (max - min + 1));

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
