// Builds dist/esm (ESM) and dist/cjs (CommonJS), each with its own .d.ts. A package.json in each
// folder tells Node and TypeScript which module system the .js/.d.ts files there use.
import { execFileSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
rmSync('dist', { recursive: true, force: true });
for (const [config, type] of [['tsconfig.build.json', 'module'], ['tsconfig.build.cjs.json', 'commonjs']]) {
  execFileSync(process.execPath, [tsc, '-p', config], { stdio: 'inherit' });
  const dir = type === 'module' ? 'dist/esm' : 'dist/cjs';
  writeFileSync(`${dir}/package.json`, `${JSON.stringify({ type }, null, 2)}\n`);
}
