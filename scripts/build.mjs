// Builds dist/esm (ESM) and dist/cjs (CommonJS): the JavaScript bundled by rolldown, one file per
// entry point (index, testing/index, redis) plus the chunks they share (so an error class is one
// class across entries), and the .d.ts files from tsc, one per module. A package.json in each
// folder tells Node and TypeScript which module system the .js/.d.ts files there use.
//
// Why bundled: Node loads each ES module file on its own (resolve, read, parse, link), about as
// long as passport-oauth2's whole import for this package's thirty modules; one file per entry
// keeps the import within 1.5x passport-oauth2's (docs/benchmarks.md). Dependencies stay
// imports (external), undici's among them a dynamic one (lib/client.ts loads it lazily).
//
// Then writes the build stamp: a hash of every file the build read (lib/ and the tsconfigs). The
// tests that load dist/ compare it with the sources first, and refuse to run on a stale or
// missing build (test/helpers/built-package.ts). It lives outside dist/, which is published.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { build } from 'rolldown';

const STAMP = 'node_modules/.cache/passport-wechat-oauth2/build-stamp.json';
const CONFIGS = ['tsconfig.json', 'tsconfig.build.json', 'tsconfig.build.cjs.json'];

/** sha256 of each input, keyed by its path with forward slashes. */
function hashInputs() {
  const files = [...readdirSync('lib', { recursive: true, withFileTypes: true })]
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name).split('\\').join('/'));
  const hashes = {};
  for (const file of [...files, ...CONFIGS].sort()) hashes[file] = createHash('sha256').update(readFileSync(file)).digest('hex');
  return hashes;
}

const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
rmSync(STAMP, { force: true }); // a build that fails leaves no stamp
// Hashed before compiling: a file edited while tsc runs then no longer matches the stamp.
const inputs = hashInputs();
rmSync('dist', { recursive: true, force: true });
const ENTRIES = { index: 'lib/index.ts', 'testing/index': 'lib/testing/index.ts', redis: 'lib/redis.ts' };
const LIB = resolve('lib');
for (const [config, type] of [['tsconfig.build.json', 'module'], ['tsconfig.build.cjs.json', 'commonjs']]) {
  // Declarations only (tsconfig.build.json says emitDeclarationOnly): the JavaScript is rolldown's.
  execFileSync(process.execPath, [tsc, '-p', config], { stdio: 'inherit' });
  const dir = type === 'module' ? 'dist/esm' : 'dist/cjs';
  await build({
    input: ENTRIES,
    platform: 'node',
    // Only the package's own files are bundled; every package and node: built-in stays an import.
    external: (id, importer) => !(id.startsWith('.') && (importer === undefined || importer.startsWith(LIB))) && !resolve(id).startsWith(LIB),
    logLevel: 'warn',
    // No comments: the .d.ts files carry the documentation, and every comment is text Node must scan at import.
    output: { dir, format: type === 'module' ? 'es' : 'cjs', entryFileNames: '[name].js', chunkFileNames: 'chunks/[name].js', comments: false },
  });
  writeFileSync(`${dir}/package.json`, `${JSON.stringify({ type }, null, 2)}\n`);
}
mkdirSync(dirname(STAMP), { recursive: true });
writeFileSync(STAMP, `${JSON.stringify({ builtAt: new Date().toISOString(), inputs }, null, 2)}\n`);
