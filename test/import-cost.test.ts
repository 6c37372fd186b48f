/**
 * What importing the package costs (docs/benchmarks.md, "Import"): undici, most of the load time
 * of the package's dependencies, is not loaded by the import; a strategy loads it in the
 * background once the app's start-up code has run, and a login made before that waits for it.
 * Checked on the built package, in fresh processes, ESM and CommonJS.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));

/** Runs `body` in a fresh ESM process next to the built package; its stdout lines. */
function inFreshProcess(body: string): string[] {
  const script = `
import { createRequire } from 'node:module';
const require = createRequire(import.meta.url);
const undiciLoaded = () => Object.keys(require.cache).some((path) => path.includes('/node_modules/undici/'));
const undiciIndexLoaded = () => Object.keys(require.cache).some((path) => path.endsWith('/node_modules/undici/index.js'));
const say = (line) => process.stdout.write(line + '\\n');
${body}
`;
  // The bound catches a process kept alive by a timer: the default WeChat timeout is 10 s.
  const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd: root, encoding: 'utf8', timeout: 8_000 });
  if (child.error) throw child.error;
  if (child.status !== 0) throw new Error(`the child failed: ${child.stderr}`);
  return child.stdout.trim().split('\n');
}

const OPTIONS = "{ clientID: 'wx1f2e3d4c5b6a7980', clientSecret: 'c0ffee00c0ffee00c0ffee00c0ffee00', callbackURL: 'https://shop.example.cn/cb' }";
/** A fresh process's first WeChat call, made right after the strategy, against a local token endpoint. */
const REFRESH_AT_ONCE = `const { createServer } = await import('node:http');
const server = createServer((req, res) => res.writeHead(200, { 'content-type': 'text/plain' }).end('{"access_token":"a","openid":"o","expires_in":7200}'));
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const { WeChatStrategy } = await import('./dist/esm/index.js');
const strategy = new WeChatStrategy({ ...${OPTIONS}, refreshTokenURL: 'http://127.0.0.1:' + server.address().port + '/sns/oauth2/refresh_token' }, () => {});
const token = await strategy.refreshAccessToken('refresh-token-at-once');
say('token: ' + token.access_token);
`;

describe('importing the package', () => {
  it.each([
    ['ESM', "await import('./dist/esm/index.js')"],
    ['CommonJS', "require('./dist/cjs/index.js')"],
  ])('(%s) does not load undici; making a strategy loads it after the current tick', (_kind, load) => {
    const lines = inFreshProcess(`
const { WeChatStrategy } = ${load};
say('imported: ' + undiciLoaded());
new WeChatStrategy(${OPTIONS}, () => {});
say('constructed: ' + undiciLoaded());
await new Promise((resolve) => setTimeout(resolve, 500));
say('later: ' + undiciLoaded());
say('all of undici: ' + undiciIndexLoaded());
`);
    // The agent module alone: undici's index (fetch, WebSocket, its cache…) costs twice the load
    // time and megabytes of memory. If this fails after an undici upgrade, the agent module moved:
    // update UNDICI_AGENT_MODULE in lib/client.ts (logins still work: it falls back to the index).
    expect(lines).toEqual(['imported: false', 'constructed: false', 'later: true', 'all of undici: false']);
  });

  it("a WeChat call made at once waits for undici's load instead of failing, and leaves nothing that keeps the process alive", () => {
    const lines = inFreshProcess(`
${REFRESH_AT_ONCE}
server.close();
`);
    expect(lines).toEqual(['token: a']);
  });

  it("logs in through undici's index when its agent module is not where the package looks", () => {
    const lines = inFreshProcess(`
const { registerHooks } = await import('node:module');
registerHooks({
  resolve(specifier, context, next) {
    if (specifier === 'undici/lib/dispatcher/agent.js') throw Object.assign(new Error('moved'), { code: 'ERR_MODULE_NOT_FOUND' });
    return next(specifier, context);
  },
});
${REFRESH_AT_ONCE}
say('all of undici: ' + undiciIndexLoaded());
server.close();
`);
    expect(lines).toEqual(['token: a', 'all of undici: true']);
  });
});
