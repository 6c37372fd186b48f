// Mutation testing of lib/ (not the emulator in lib/testing): `npm run mutation`. Not part of CI:
// a full run takes about half an hour on a 2-core machine. Incremental runs reuse
// reports/stryker-incremental.json and only test mutants whose code or tests changed.
/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  packageManager: 'npm',
  testRunner: 'vitest',
  vitest: { configFile: 'vitest.mutation.config.ts' },
  checkers: ['typescript'],
  tsconfigFile: 'tsconfig.json',
  coverageAnalysis: 'perTest',
  mutate: ['lib/**/*.ts', '!lib/testing/**', '!lib/index.ts'],
  ignoreStatic: true,
  concurrency: 2,
  timeoutMS: 15_000,
  incremental: true,
  incrementalFile: 'reports/stryker-incremental.json',
  reporters: ['clear-text', 'progress', 'html', 'json'],
  htmlReporter: { fileName: 'reports/mutation/index.html' },
  jsonReporter: { fileName: 'reports/mutation/mutation.json' },
  thresholds: { high: 90, low: 85, break: null },
  tempDirName: '.stryker-tmp',
};
