/**
 * The suite Stryker runs for each mutant (npm run mutation): every test that exercises lib/ from
 * source. Left out: tests of the built package or the examples (they import dist/, which holds no
 * mutant), the browser test and the Redis scale-out test (slow, and covered from source by the
 * duplicate-callback tests).
 */
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    exclude: [
      'test/demo.test.ts',
      'test/e2e.browser.test.ts',
      'test/fastify.test.ts',
      'test/nestjs.test.ts',
      'test/package.test.ts',
      'test/scale-out.test.ts',
      'test/types-hosts.test.ts',
      'test/docs-hosts.test.ts',
    ],
    testTimeout: 20_000,
    hookTimeout: 60_000,
  },
});
