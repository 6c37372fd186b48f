/**
 * The WeChatStrategy constructor's option checks: each option given in a shape the strategy cannot
 * use is refused up front with a WeChatOptionsError that names the option to fix, and each option
 * given in a good shape is the one the strategy then uses.
 */
import { describe, expect, it } from 'vitest';
import { WeChatOptionsError, WeChatStrategy, type WeChatStrategyOptions } from '../lib/index.js';
import { mockWeChatLogin, useNockAtTheEdge } from './helpers/nock.js';
import { authenticate, errorOf, sessionWithState } from './helpers/passport.js';
import { APPID, CODE, SECRET, STATE, WEBSITE_LOGIN, userinfoBody } from './helpers/wechat.js';

const CALLBACK = 'https://example.com/auth/wechat/callback';
const OA_APPID = 'wx0a0b0c0d0e0f1a2b';
const OA_SECRET = 'c0ffee11c0ffee11c0ffee11c0ffee11';
const verify = (): void => {};

function options(overrides: Record<string, unknown> = {}): WeChatStrategyOptions {
  return { clientID: APPID, clientSecret: SECRET, callbackURL: CALLBACK, ...overrides } as WeChatStrategyOptions;
}

/** The WeChatOptionsError the constructor throws for `given`. */
function refusal(given: unknown): WeChatOptionsError {
  let caught: unknown;
  try {
    new WeChatStrategy(given as WeChatStrategyOptions, verify);
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(WeChatOptionsError);
  return caught as WeChatOptionsError;
}

useNockAtTheEdge();

describe('the options argument itself', () => {
  it.each([
    ['null', null],
    ['the AppID alone, as a string', APPID],
  ])('refuses %s with a WeChatOptionsError asking for an options object', (_name, given) => {
    expect(refusal(given).message).toMatch(/needs an options object/);
  });
});

describe('officialAccount', () => {
  const account = { clientID: OA_APPID, clientSecret: OA_SECRET, scope: 'snsapi_userinfo' };

  it.each([
    ['null', null],
    ['its AppID alone, as a string', OA_APPID],
  ])('refuses %s: officialAccount must be an object', (_name, officialAccount) => {
    expect(refusal(options({ officialAccount })).message).toMatch(/^officialAccount must be an object/);
  });

  it('refuses an Official Account at the top level paired with another officialAccount', () => {
    const error = refusal(options({ scope: 'snsapi_userinfo', officialAccount: account }));
    expect(error.message).toMatch(/^officialAccount pairs an Official Account .* with a website application/);
  });

  it('refuses an officialAccount that reuses the website application\'s AppID', () => {
    expect(refusal(options({ officialAccount: { ...account, clientID: APPID } })).message).toMatch(/^officialAccount needs its own AppID/);
  });
});

describe('options named in their errors', () => {
  it.each([
    ['clientID', { clientID: undefined }],
    ['tokenURL', { tokenURL: 'api.weixin.qq.com/sns/oauth2/access_token' }],
    ['callbackURL', { callbackURL: 42 }],
    ['timeout', { timeout: 1.5 }],
    ['scope', { scope: 'SNSAPI_LOGIN' }],
  ])('names the top-level option %s as it is spelt, with no prefix', (option, bad) => {
    expect(refusal(options(bad)).message).toMatch(new RegExp(`(^|\\s)${option}\\b`));
  });

  it.each([
    ['duplicateCallbacks.ttlSeconds', { ttlSeconds: 0 }],
    ['duplicateCallbacks.waitMs', { waitMs: -1 }],
  ])('names %s with its duplicateCallbacks. prefix', (option, duplicateCallbacks) => {
    expect(refusal(options({ duplicateCallbacks })).message).toContain(`${option} must be a positive whole number`);
  });

  it('points a QR page language given as lang to qrLang', () => {
    expect(refusal(options({ lang: 'cn' })).message).toMatch(/use qrLang for the QR page/);
  });
});

describe('callbackURL', () => {
  it('refuses an empty callbackURL at construction rather than at the first login', () => {
    expect(refusal(options({ callbackURL: '' })).message).toMatch(/^callbackURL must be a non-empty string/);
  });
});

describe('maxResponseBytes', () => {
  it('refuses a maxResponseBytes that is not a positive whole number', () => {
    expect(refusal(options({ maxResponseBytes: 0 })).message).toMatch(/^maxResponseBytes must be a positive whole number/);
  });

  it('stops a login whose WeChat answer is larger than maxResponseBytes', async () => {
    mockWeChatLogin(WEBSITE_LOGIN, userinfoBody(WEBSITE_LOGIN, '张三')).mockToken();
    const strategy = new WeChatStrategy(options({ maxResponseBytes: 64 }), (_a, _r, profile, done) => done(null, profile));

    const outcome = await authenticate(strategy, { query: { code: CODE, state: STATE }, session: sessionWithState(STATE) });

    expect(errorOf(outcome)).toMatchObject({ code: 'WECHAT_RESPONSE_TOO_LARGE' });
  });
});

describe('forcePopup', () => {
  it.each([
    ['an Official Account', { scope: 'snsapi_userinfo' }],
    ['a website application', {}],
  ])('refuses a forcePopup that is not a boolean, for %s', (_name, app) => {
    expect(refusal(options({ ...app, forcePopup: 'true' })).message).toMatch(/^forcePopup must be a boolean/);
  });
});

describe('authorizationURL behind a path prefix (a proxy in front of WeChat)', () => {
  it('refuses an Official Account scope on a QR page served under a prefix', () => {
    const error = refusal(options({ scope: 'snsapi_userinfo', authorizationURL: 'https://wechat-proxy.example.com/open/connect/qrconnect' }));
    expect(error.message).toMatch(/cannot be used with website QR login/);
  });

  it('refuses the website scope on an Official Account page served under a prefix', () => {
    const error = refusal(options({ authorizationURL: 'https://wechat-proxy.example.com/open/connect/oauth2/authorize' }));
    expect(error.message).toMatch(/cannot be used with the Official Account login/);
  });
});

describe('scope', () => {
  it.each([
    ['an empty list', []],
    ["OAuth's space-separated form", 'snsapi_base snsapi_userinfo'],
    ['a list with a number in it', ['snsapi_login', 42]],
    ['a list holding a list', [['snsapi_login']]],
  ])('refuses %s', (_name, scope) => {
    expect(refusal(options({ scope })).message).toMatch(/^scope must be a WeChat scope/);
  });
});

describe('duplicateCallbacks', () => {
  it.each([
    ['true', true],
    ['null', null],
  ])('refuses %s: it must be false or an object', (_name, duplicateCallbacks) => {
    expect(refusal(options({ duplicateCallbacks })).message).toMatch(/^duplicateCallbacks must be false or/);
  });

  it('refuses a store that lacks one of claim, set and get', () => {
    const store = { claim: async () => true, set: async () => {} };
    expect(refusal(options({ duplicateCallbacks: { store } })).message).toMatch(/^duplicateCallbacks\.store needs claim/);
  });
});

describe('dispatcher', () => {
  it('refuses a null dispatcher with a WeChatOptionsError, not a TypeError', () => {
    expect(refusal(options({ dispatcher: null })).message).toMatch(/^dispatcher must be an undici Dispatcher/);
  });
});

describe('credentials made of white space', () => {
  it.each([
    ['clientID', { clientID: '   ' }],
    ['clientSecret', { clientSecret: ' \t ' }],
  ])('refuses a %s of spaces only, naming it', (name, overrides) => {
    expect(refusal(options(overrides)).message).toContain(name);
  });
});
