/**
 * Seeds for the random tests: each prints the seed it runs with (one line on stderr), and
 * MDEVCTL_TEST_SEED=N runs it again with N, so that whatever a run met can be met again.
 */

/** The variable that replays a seed. */
export const SEED_VAR = 'MDEVCTL_TEST_SEED';

/** The seed for SUITE: MDEVCTL_TEST_SEED when set, else a new one; printed either way. */
export function testSeed(suite: string): number {
  const given = process.env[SEED_VAR];
  let seed: number;
  if (given !== undefined && given !== '') {
    seed = Number(given);
    if (!Number.isSafeInteger(seed)) throw new Error(`${SEED_VAR}='${given}' is not an integer`);
  } else {
    seed = (Date.now() ^ (Math.random() * 0x7fffffff)) | 0;
  }
  process.stderr.write(`${suite}: seed ${seed} (run again with ${SEED_VAR}=${seed})\n`);
  return seed;
}

/** A small, fast PRNG (mulberry32) from SEED: numbers in [0, 1), the same sequence for a seed. */
export function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
