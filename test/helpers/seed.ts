/**
 * The randomness of a test, made reproducible: every generator and every fast-check property
 * starts from one seed, TEST_SEED when set, else a fixed default. A failing test prints the seed
 * it ran with, so `TEST_SEED=<seed> npx vitest run <file>` runs it with the same values again.
 */
import { onTestFailed } from 'vitest';

/** The seed when TEST_SEED is not set: the same run every time. */
export const DEFAULT_SEED = 20_240_601;

/** TEST_SEED as a 32-bit unsigned integer, or {@link DEFAULT_SEED}. */
export function testSeed(): number {
  const raw = process.env.TEST_SEED;
  if (raw === undefined || raw.trim() === '') return DEFAULT_SEED;
  const seed = Number(raw);
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffff_ffff) {
    throw new Error(`TEST_SEED must be an integer from 0 to ${0xffff_ffff}, got "${raw}"`);
  }
  return seed;
}

/** mulberry32: a small, fast generator of numbers in [0, 1) that a seed fully determines. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

/** Call inside a test: if the test fails, the seed it ran with is printed with how to rerun it. */
export function printSeedOnFailure(seed: number): void {
  onTestFailed(({ task }) => {
    console.error(`"${task.name}" ran with seed ${seed}; rerun it with the same values: TEST_SEED=${seed} npx vitest run ${task.file.name}`);
  });
}

/**
 * A seeded generator for the current test (call it inside the test), whose seed is printed if the
 * test fails.
 */
export function randomForTest(): () => number {
  const seed = testSeed();
  printSeedOnFailure(seed);
  return seededRandom(seed);
}

/**
 * fast-check parameters for `fc.assert` inside a test: the seed (printed on failure, next to
 * fast-check's own `{ seed, path }` report) and the number of runs.
 */
export function propertyParameters(numRuns: number): { seed: number; numRuns: number } {
  const seed = testSeed();
  printSeedOnFailure(seed);
  return { seed, numRuns };
}
