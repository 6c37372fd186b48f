/**
 * On a Node older than `engines` (Node 20 is still common), the README's commands stop at once
 * with one line that names the Node needed and how to get it, not a crash deep in a dependency.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
// @ts-expect-error -- a plain .mjs script (it must run on old Nodes), without type declarations.
import { nodeVersionProblem } from '../scripts/require-node.mjs';

const check = nodeVersionProblem as (version: string, range: string) => string | undefined;
const engines = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { engines: { node: string } }).engines.node;

describe('the Node version check before every build', () => {
  it.each(['v20.20.2', 'v22.19.0', 'v18.20.8'])('refuses Node %s, naming the version needed and how to get it', (version) => {
    const problem = check(version, '>=22.20');
    expect(problem).toMatch(/needs Node 22\.20\.0 or later/);
    expect(problem).toContain(version);
    expect(problem).toContain('node@24');
  });

  it.each(['v22.20.0', 'v22.23.3', 'v24.21.0', 'v25.0.0'])('accepts Node %s', (version) => {
    expect(check(version, '>=22.20')).toBeUndefined();
  });

  it('agrees with the engines field that npm enforces (.npmrc engine-strict)', () => {
    expect(engines).toBe('>=22.20');
    expect(readFileSync(new URL('../.npmrc', import.meta.url), 'utf8')).toMatch(/^engine-strict=true$/m);
    expect(check(process.version, engines)).toBeUndefined();
  });

  it.skipIf(!existsSync('/usr/bin/node') || check(spawnSync('/usr/bin/node', ['--version']).stdout.toString().trim(), engines) === undefined)(
    "stops the system's older Node with exit code 1 and one line on stderr",
    () => {
      const run = spawnSync('/usr/bin/node', ['scripts/require-node.mjs'], { cwd: new URL('..', import.meta.url), encoding: 'utf8' });
      expect(run.status).toBe(1);
      expect(run.stdout).toBe('');
      expect(run.stderr.trim().split('\n')).toHaveLength(1);
      expect(run.stderr).toMatch(/needs Node 22\.20\.0 or later/);
    },
  );
});
