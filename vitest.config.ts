import { defineConfig } from 'vitest/config';
import { BUILT_PACKAGE_TESTS } from './test/helpers/built-package.ts';

export default defineConfig({
  test: {
    testTimeout: 20_000,
    hookTimeout: 60_000,
    projects: [
      {
        extends: true,
        test: {
          name: 'lib',
          include: ['test/**/*.test.ts'],
          exclude: BUILT_PACKAGE_TESTS,
          // The type-level tests (*.test-d.ts): checked by tsc, reported as tests, never run.
          typecheck: { enabled: true, include: ['test/**/*.test-d.ts'], tsconfig: './tsconfig.json' },
        },
      },
      {
        extends: true,
        test: {
          // The tests that load dist/: they wait for a check that it is built from lib/ as it is now.
          name: 'dist',
          include: BUILT_PACKAGE_TESTS,
          globalSetup: ['test/helpers/fresh-build.ts'],
        },
      },
    ],
  },
});
