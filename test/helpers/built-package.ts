/**
 * The test files that load the built package (dist/) rather than lib/: the package test, and the
 * examples, which import `passport-wechat-oauth2` as users do. Before they run, dist/ must exist
 * and be built from the sources lib/ holds now; otherwise they would fail to resolve it, or pass
 * or fail on old code. `npm test` builds first (pretest); `npx vitest run` does not.
 *
 * scripts/build.mjs writes a stamp with a hash of every file it read; {@link staleBuildReason}
 * hashes the same files again and compares.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

/**
 * The test files that load dist/, run by the vitest project "dist" after the freshness check.
 * test/package.test.ts fails when a test file that loads dist/ is missing here.
 */
export const BUILT_PACKAGE_TESTS = [
  'test/debug-log.test.ts',
  'test/demo.test.ts',
  'test/e2e.browser.test.ts',
  'test/emulator.test.ts',
  'test/emulator-phone-demo.test.ts',
  'test/fastify.test.ts',
  'test/import-cost.test.ts',
  'test/nestjs.test.ts',
  'test/package.test.ts',
  'test/proxy-trust.test.ts',
  'test/scale-out.test.ts',
  'test/state-tabs-hosts.test.ts',
];

/** Where scripts/build.mjs writes its stamp (outside dist/, which is published). */
export const BUILD_STAMP = 'node_modules/.cache/passport-wechat-oauth2/build-stamp.json';

/** What the build reads besides lib/ (keep in step with scripts/build.mjs). */
const CONFIGS = ['tsconfig.json', 'tsconfig.build.json', 'tsconfig.build.cjs.json'];

/** The entry points package.json "exports" maps to. */
const ENTRY_POINTS = ['dist/esm/index.js', 'dist/cjs/index.js', 'dist/esm/testing/index.js', 'dist/cjs/testing/index.js'];

const REBUILD = 'Run `npm run build` (npm test builds first), then the tests again.';

/** Why dist/ under `root` cannot be tested as the current code, or undefined when it can. */
export function staleBuildReason(root: string): string | undefined {
  const missing = ENTRY_POINTS.filter((file) => !existsSync(path.join(root, file)));
  if (missing.length > 0) return `The built package is missing (${missing.join(', ')}). ${REBUILD}`;
  const stampFile = path.join(root, BUILD_STAMP);
  if (!existsSync(stampFile)) {
    return `dist/ has no build stamp (${BUILD_STAMP}): it was not built by \`npm run build\`, or that build failed. ${REBUILD}`;
  }
  const stamp = JSON.parse(readFileSync(stampFile, 'utf8')) as { builtAt: string; inputs: Record<string, string> };
  const now = hashInputs(root);
  const changed = [...new Set([...Object.keys(stamp.inputs), ...Object.keys(now)])]
    .filter((file) => stamp.inputs[file] !== now[file])
    .sort();
  if (changed.length === 0) return undefined;
  const shown = changed.length > 5 ? `${changed.slice(0, 5).join(', ')} and ${changed.length - 5} more` : changed.join(', ');
  return `dist/ is stale: built at ${stamp.builtAt}, and since then ${shown} changed (or appeared, or went). ${REBUILD}`;
}

function hashInputs(root: string): Record<string, string> {
  const lib = path.join(root, 'lib');
  const files = readdirSync(lib, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => path.relative(root, path.join(entry.parentPath, entry.name)).split(path.sep).join('/'));
  const hashes: Record<string, string> = {};
  for (const file of [...files, ...CONFIGS].sort()) {
    hashes[file] = createHash('sha256').update(readFileSync(path.join(root, file))).digest('hex');
  }
  return hashes;
}
