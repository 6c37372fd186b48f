// Stops `npm run build` (and so `npm test`, `npm run demo`, the benchmarks) at once, with one line
// that says which Node this repository needs and how to get it, instead of a crash deep inside
// undici or vitest. Written for any Node that can run an ES module, old ones included.
import { readFileSync } from 'node:fs';

/** The oldest version a `>=X.Y[.Z]` engines range allows, as numbers. */
export function minimumOf(range) {
  const match = /^>=\s*(\d+)(?:\.(\d+))?(?:\.(\d+))?$/.exec(String(range).trim());
  if (!match) throw new Error(`engines.node must be ">=X.Y.Z", not ${JSON.stringify(range)}`);
  return [Number(match[1]), Number(match[2] ?? 0), Number(match[3] ?? 0)];
}

/** Why `version` (e.g. "v20.20.2") cannot run this repository, or undefined when it can. */
export function nodeVersionProblem(version, range) {
  const have = String(version).replace(/^v/, '').split('.').map(Number);
  const need = minimumOf(range);
  for (let i = 0; i < 3; i++) {
    if ((have[i] ?? 0) > need[i]) return undefined;
    if ((have[i] ?? 0) < need[i]) {
      return (
        `This repository needs Node ${need.join('.')} or later (engines: "${range}"); this is Node ${version}. ` +
        'Install Node 24 outside the repository and put it first on PATH: ' +
        'npm install --prefix "$HOME/.node24" node@24 && export PATH="$HOME/.node24/node_modules/.bin:$PATH" ' +
        '(or `nvm use`, which reads .nvmrc).'
      );
    }
  }
  return undefined;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { engines } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
  const problem = nodeVersionProblem(process.version, engines.node);
  if (problem) {
    console.error(problem);
    process.exit(1);
  }
}
