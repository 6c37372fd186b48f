/**
 * The built package as users load it: `require()` from CommonJS (most NestJS apps) and `import`
 * from ESM, resolved by Node itself through package.json "exports" (self-reference by name).
 * Runs on the output of `npm run build` (npm test builds first).
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const root = new URL('..', import.meta.url);

function runNode(args: string[]): unknown {
  const out = execFileSync(process.execPath, args, { cwd: root, encoding: 'utf8' });
  return JSON.parse(out.trim().split('\n').at(-1) ?? 'null');
}

const PROBE = `
  const strategy = new m.WeChatStrategy({ clientID: 'wx1', clientSecret: 's'.repeat(32), callbackURL: 'https://a.example/cb' }, (a, r, p, d) => d(null, p));
  const OAuth2Strategy = OAuth2;
  console.log(JSON.stringify({
    exports: Object.keys(m).sort(),
    name: strategy.name,
    isOAuth2: strategy instanceof OAuth2Strategy,
    aliasSame: m.Strategy === m.WeChatStrategy,
    profileId: m.parseProfile({ openid: 'o1', unionid: 'u1', sex: 0 }).id,
    errorChain: new m.WeChatCodeError('x', { code: 'WECHAT_INVALID_CODE', errcode: 40029 }) instanceof m.WeChatError,
  }));
`;

describe('the built package', () => {
  it('has been built (npm test runs the build first)', () => {
    expect(existsSync(new URL('dist/cjs/index.js', root))).toBe(true);
    expect(existsSync(new URL('dist/esm/index.js', root))).toBe(true);
  });

  it('loads with require() and with import, with the same public API', () => {
    const cjs = runNode(['-e', `const m = require('passport-wechat-oauth2'); const OAuth2 = require('passport-oauth2'); ${PROBE}`]);
    const esm = runNode([
      '--input-type=module',
      '-e',
      `import * as m from 'passport-wechat-oauth2'; import OAuth2 from 'passport-oauth2'; ${PROBE}`,
    ]);
    expect(cjs).toEqual(esm);
    expect(cjs).toMatchObject({ name: 'wechat', isOAuth2: true, aliasSame: true, profileId: 'u1', errorChain: true });
    expect((cjs as { exports: string[] }).exports).toEqual(
      expect.arrayContaining(['WeChatStrategy', 'Strategy', 'parseProfile', 'WeChatError', 'WeChatCodeError', 'WeChatCredentialsError']),
    );
    expect((cjs as { exports: string[] }).exports).not.toContain('default');
  });
});
