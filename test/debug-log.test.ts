/**
 * NODE_DEBUG=passport-wechat-oauth2 (docs/troubleshooting.md, "Switching on diagnostics"): a line
 * per WeChat call and per login outcome, never a secret. util.debuglog reads NODE_DEBUG when the
 * process starts, so the login runs in a child process (test/helpers/debug-login-child.ts), on the
 * built package.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));

/** A login and a declined login in a child process: its stderr, and the secrets it saw. */
function runLogins(nodeDebug: string | undefined): { stderr: string; secrets: string[] } {
  const env: NodeJS.ProcessEnv = { ...process.env, NODE_DEBUG: nodeDebug };
  if (nodeDebug === undefined) delete env.NODE_DEBUG;
  const child = spawnSync(process.execPath, ['test/helpers/debug-login-child.ts'], { cwd: root, env, encoding: 'utf8' });
  if (child.status !== 0) throw new Error(`the login child failed: ${child.stderr}`);
  return { stderr: child.stderr, secrets: JSON.parse(child.stdout.trim().split('\n').at(-1) ?? '[]') as string[] };
}

describe('NODE_DEBUG=passport-wechat-oauth2', () => {
  let on: { stderr: string; secrets: string[] };
  beforeAll(() => {
    on = runLogins('passport-wechat-oauth2');
  });

  it('prints a line for each WeChat call of a login, with its endpoint, outcome and duration', () => {
    expect(on.stderr).toMatch(/^PASSPORT-WECHAT-OAUTH2 \d+: access_token wx\w+ ok [\d.]+ms$/m);
    expect(on.stderr).toMatch(/^PASSPORT-WECHAT-OAUTH2 \d+: userinfo wx\w+ ok [\d.]+ms$/m);
  });

  it('prints how each login ended, with the failure code', () => {
    expect(on.stderr).toMatch(/^PASSPORT-WECHAT-OAUTH2 \d+: login wx\w+ succeeded$/m);
    expect(on.stderr).toMatch(/^PASSPORT-WECHAT-OAUTH2 \d+: login wx\w+ failed WECHAT_DECLINED \(HTTP 401\)$/m);
  });

  it('never prints the AppSecret, a code, a state or the user ids', () => {
    expect(on.secrets.length).toBeGreaterThanOrEqual(5); // secret, code, two states, an openid
    for (const secret of on.secrets) expect(on.stderr).not.toContain(secret);
  });

  it('prints nothing when NODE_DEBUG does not name the package', () => {
    expect(runLogins(undefined).stderr).not.toMatch(/PASSPORT-WECHAT-OAUTH2/);
  });
});
