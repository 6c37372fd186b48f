/**
 * A secret pasted into the wrong option must not come back in the constructor's error: those
 * messages end up in logs, crash reports and CI output. Each message names the option instead.
 */
import { describe, expect, it } from 'vitest';
import { WeChatAppStrategy, WeChatMiniProgramStrategy, WeChatOptionsError, WeChatStrategy } from '../lib/index.js';
import { authenticate, errorOf } from './helpers/passport.js';
import { expectNoSecrets } from './helpers/secrets.js';
import { APPID, SECRET } from './helpers/wechat.js';

const PASTED = `not a url ${SECRET}`;
const verify = (): void => {};

/** The WeChatOptionsError the constructor throws. */
function thrownBy(construct: () => unknown): WeChatOptionsError {
  let caught: unknown;
  try {
    construct();
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(WeChatOptionsError);
  return caught as WeChatOptionsError;
}

const website = (bad: Record<string, unknown>) => () =>
  new WeChatStrategy({ clientID: APPID, clientSecret: SECRET, callbackURL: 'https://example.com/cb', ...bad } as never, verify);
const nativeApp = (bad: Record<string, unknown>) => () => new WeChatAppStrategy({ clientID: APPID, clientSecret: SECRET, ...bad } as never, verify);
const miniProgram = (bad: Record<string, unknown>) => () => new WeChatMiniProgramStrategy({ clientID: APPID, clientSecret: SECRET, ...bad } as never, verify);

describe('an option holding a pasted secret', () => {
  it.each([
    ['WeChatStrategy', 'tokenURL', website({ tokenURL: PASTED })],
    ['WeChatStrategy', 'refreshTokenURL', website({ refreshTokenURL: PASTED })],
    ['WeChatStrategy', 'userProfileURL', website({ userProfileURL: PASTED })],
    ['WeChatStrategy', 'checkTokenURL', website({ checkTokenURL: PASTED })],
    ['WeChatStrategy', 'authorizationURL', website({ authorizationURL: PASTED })],
    ['WeChatStrategy', 'officialAccount.authorizationURL', website({ officialAccount: { clientID: 'wx0a0b0c0d0e0f1a2b', clientSecret: 'c0ffee11c0ffee11c0ffee11c0ffee11', authorizationURL: PASTED } })],
    ['WeChatStrategy', 'lang', website({ lang: PASTED })],
    ['WeChatStrategy', 'qrLang', website({ qrLang: PASTED })],
    ['WeChatAppStrategy', 'tokenURL', nativeApp({ tokenURL: PASTED })],
    ['WeChatAppStrategy', 'lang', nativeApp({ lang: PASTED })],
    ['WeChatMiniProgramStrategy', 'sessionURL', miniProgram({ sessionURL: PASTED })],
  ])('%s names %s but never shows its value', (_strategy, option, construct) => {
    const error = thrownBy(construct);

    expect(error.message).toContain(option);
    expect(error.message).not.toContain('not a url');
    expectNoSecrets(error, [SECRET]);
  });

  it('names the scope option without its value when the scope mixes website and Official Account scopes', () => {
    const pastedScope = 'deadbeefdeadbeefdeadbeefdeadbeef'.replace(/[0-9]/g, 'a');
    const error = thrownBy(website({ scope: ['snsapi_base', pastedScope] }));

    expect(error.message).toMatch(/^scope mixes website/);
    expect(error.message).not.toContain(pastedScope);
  });

  it('names the scope option without its value when a website scope meets the Official Account page', () => {
    const pastedScope = 'abcdefabcdefabcdefabcdefabcdefab';
    const error = thrownBy(website({ scope: pastedScope, authorizationURL: 'https://open.weixin.qq.com/connect/oauth2/authorize' }));

    expect(error.message).toContain('scope');
    expect(error.message).not.toContain(pastedScope);
  });
});

describe('a value passed at request time', () => {
  it('names the flow, not the value, when loadUserProfile is asked for a flow the strategy lacks', async () => {
    const strategy = website({})() as WeChatStrategy;
    const call = strategy.loadUserProfile({ access_token: 'a'.repeat(20), openid: 'o'.repeat(20) }, { flow: PASTED as never });
    const error = await call.then(
      () => undefined,
      (reason: unknown) => reason,
    );
    expect(error).toBeInstanceOf(WeChatOptionsError);
    expect((error as Error).message).toContain('flow');
    expectNoSecrets(error, [SECRET]);
  });

  it('names the scope, not the value, when passport.authenticate passes a scope that does not fit', async () => {
    const outcome = await authenticate(website({ state: false })() as WeChatStrategy, {}, { scope: `snsapi_base_${SECRET}` });
    const error = errorOf(outcome);
    expect(error).toBeInstanceOf(WeChatOptionsError);
    expect(error.message).toMatch(/^The scope given does not fit the website login/);
    expectNoSecrets(error, [SECRET]);
  });
});
