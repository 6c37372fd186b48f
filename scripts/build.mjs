// Builds dist/esm (ESM) and dist/cjs (CommonJS), each with its own .d.ts. A package.json in each
// folder tells Node and TypeScript which module system the .js/.d.ts files there use.
//
// Then writes the build stamp: a hash of every file the build read (lib/ and the tsconfigs). The
// tests that load dist/ compare it with the sources first, and refuse to run on a stale or
// missing build (test/helpers/built-package.ts). It lives outside dist/, which is published.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

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
for (const [config, type] of [['tsconfig.build.json', 'module'], ['tsconfig.build.cjs.json', 'commonjs']]) {
  execFileSync(process.execPath, [tsc, '-p', config], { stdio: 'inherit' });
  const dir = type === 'module' ? 'dist/esm' : 'dist/cjs';
  writeFileSync(`${dir}/package.json`, `${JSON.stringify({ type }, null, 2)}\n`);
}
mkdirSync(dirname(STAMP), { recursive: true });
writeFileSync(STAMP, `${JSON.stringify({ builtAt: new Date().toISOString(), inputs }, null, 2)}\n`);
