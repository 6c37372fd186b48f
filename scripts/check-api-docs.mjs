// `npm run docs:api:check`: regenerates the API reference (typedoc.json) into a temporary
// folder and compares it with docs/api/. Exits 1 when docs/api/ is stale: run `npm run docs:api`.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const committed = path.join(root, 'docs', 'api');
const fresh = mkdtempSync(path.join(tmpdir(), 'api-docs-'));

try {
  const typedoc = path.join(root, 'node_modules', 'typedoc', 'bin', 'typedoc');
  const run = spawnSync(process.execPath, [typedoc, '--out', fresh, '--logLevel', 'Warn'], { cwd: root, stdio: 'inherit' });
  if (run.status !== 0) {
    console.error(`docs:api:check: typedoc failed (exit ${run.status ?? run.signal}).`);
    process.exit(1);
  }
  const problems = compare(fresh, committed);
  if (problems.length > 0) {
    console.error(`docs/api/ is stale: ${problems.length} file(s) differ from the TSDoc in lib/.`);
    for (const problem of problems) console.error(`  ${problem}`);
    console.error('Run `npm run docs:api` and commit docs/api/.');
    process.exit(1);
  }
  console.log('docs/api/ is up to date.');
} finally {
  rmSync(fresh, { recursive: true, force: true });
}

/** Every file that is missing, extra or different, with the first line that differs. */
function compare(expectedDir, actualDir) {
  const expected = filesUnder(expectedDir);
  const actual = filesUnder(actualDir);
  const problems = [];
  for (const file of expected) {
    if (!actual.includes(file)) {
      problems.push(`missing: docs/api/${file}`);
      continue;
    }
    const want = readFileSync(path.join(expectedDir, file), 'utf8').split('\n');
    const have = readFileSync(path.join(actualDir, file), 'utf8').split('\n');
    const line = want.findIndex((text, i) => text !== have[i]);
    if (line !== -1 || want.length !== have.length) {
      const at = line === -1 ? Math.min(want.length, have.length) : line;
      problems.push(`changed: docs/api/${file}:${at + 1}: expected ${JSON.stringify(want[at] ?? '<end of file>')}`);
    }
  }
  for (const file of actual) {
    if (!expected.includes(file)) problems.push(`extra: docs/api/${file}`);
  }
  return problems;
}

/** Paths of the files under `dir`, relative and with forward slashes, sorted; [] if it is absent. */
function filesUnder(dir) {
  let entries;
  try {
    entries = readdirSync(dir, { recursive: true, withFileTypes: true });
  } catch (error) {
    if (error.code === 'ENOENT') return [];
    throw error;
  }
  return entries
    .filter((entry) => entry.isFile())
    .map((entry) => path.relative(dir, path.join(entry.parentPath, entry.name)).split(path.sep).join('/'))
    .sort();
}
