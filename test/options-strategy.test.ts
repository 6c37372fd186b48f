/**
 * What the strategy does with its options at request time: two apps' logins pending in one
 * session, a callback whose state names neither app, a flow the route names wrongly, the
 * embedded QR code's options, and how long a duplicate callback waits by default.
 */
import type { Request } from 'express';
import { describe, expect, it, vi } from 'vitest';
import { WeChatOptionsError, WeChatStrategy, type WeChatStrategyOptions, type WeChatVerifyFunction } from '../lib/index.js';
import { mockWeChatLogin, useNockAtTheEdge } from './helpers/nock.js';
import { authenticate, errorOf, sessionWithState, type FakeRequest, type Outcome } from './helpers/passport.js';
import { APPID, CODE, OPENID, SECRET, STATE, UNIONID, WEBSITE_LOGIN, userinfoBody } from './helpers/wechat.js';

const CALLBACK = 'https://example.com/auth/wechat/callback';
const OA_APPID = 'wx0a0b0c0d0e0f1a2b';
const OA_SECRET = 'c0ffee11c0ffee11c0ffee11c0ffee11';
const profileAsUser: WeChatVerifyFunction = (_a, _r, profile, done) => done(null, profile);

function options(overrides: Record<string, unknown> = {}): WeChatStrategyOptions {
  return { clientID: APPID, clientSecret: SECRET, callbackURL: CALLBACK, ...overrides } as WeChatStrategyOptions;
}

const bothApps = () => options({ officialAccount: { clientID: OA_APPID, clientSecret: OA_SECRET, scope: 'snsapi_userinfo' } });

function redirectState(outcome: Outcome): string {
  expect(outcome.action).toBe('redirect');
  return new URL((outcome as Extract<Outcome, { action: 'redirect' }>).url).searchParams.get('state') ?? '';
}

useNockAtTheEdge();

describe('a strategy with a website application and an Official Account', () => {
  it('finishes a website login although an Official Account login was started later in the same session', async () => {
    const strategy = new WeChatStrategy(bothApps(), profileAsUser);
    const session: Record<string, unknown> = {};
    const websiteState = redirectState(await authenticate(strategy, { session }, { flow: 'website' }));
    const officialState = redirectState(await authenticate(strategy, { session }, { flow: 'official-account' }));
    expect([websiteState[0], officialState[0]]).toEqual(['w', 'o']);
    const { mockToken, mockUserInfo } = mockWeChatLogin(WEBSITE_LOGIN, userinfoBody(WEBSITE_LOGIN, '张三'));
    mockToken();
    mockUserInfo();

    const outcome = await authenticate(strategy, { session, query: { code: CODE, state: websiteState } });

    expect(outcome).toMatchObject({ action: 'success', user: { id: UNIONID, openid: OPENID, appid: APPID } });
  });

  it.each([
    ['a state naming neither app', { code: CODE, state: `x${STATE}` }],
    ['no state at all', { code: CODE }],
  ])('fails a callback with %s as WECHAT_STATE_MISMATCH (403), without calling WeChat', async (_name, query) => {
    const strategy = new WeChatStrategy(bothApps(), profileAsUser);

    const outcome = await authenticate(strategy, { session: {}, query });

    expect(outcome).toEqual({
      action: 'fail',
      status: 403,
      challenge: { code: 'WECHAT_STATE_MISMATCH', message: 'This login link does not match the login started in this browser. Please start the login again.' },
    });
  });

  it('ends a login whose route names an unknown flow in error(), naming the flow option', async () => {
    const strategy = new WeChatStrategy(bothApps(), profileAsUser);

    const error = errorOf(await authenticate(strategy, { session: {} }, { flow: 'mini-program' }));

    expect(error).toBeInstanceOf(WeChatOptionsError);
    expect(error.message).toMatch(/^flow must be "website" or "official-account"/);
  });
});

describe('wxLoginOptions()', () => {
  const request = (extra: FakeRequest = {}) => ({ headers: { host: 'example.com' }, url: '/login', session: {}, ...extra }) as unknown as Request;

  it('gives the QR box the strategy\'s qrLang when the page names no lang', async () => {
    const strategy = new WeChatStrategy(options({ qrLang: 'en' }), profileAsUser);

    await expect(strategy.wxLoginOptions(request(), { id: 'wechat-qr' })).resolves.toMatchObject({ lang: 'en' });
  });

  it('rejects, naming callbackURL, when neither the strategy nor the call gives one', async () => {
    const strategy = new WeChatStrategy(options({ callbackURL: undefined }), profileAsUser);

    const error = await strategy.wxLoginOptions(request(), { id: 'wechat-qr' }).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(WeChatOptionsError);
    expect((error as Error).message).toMatch(/needs a callbackURL/);
  });

  it('rejects style options wxLogin.js cannot use (no element id) with a WeChatOptionsError', async () => {
    const strategy = new WeChatStrategy(options(), profileAsUser);

    await expect(strategy.wxLoginOptions(request(), { id: '' })).rejects.toBeInstanceOf(WeChatOptionsError);
  });

  it('rejects with the state store\'s error when the app has no session, instead of a QR code without state', async () => {
    const strategy = new WeChatStrategy(options(), profileAsUser);

    await expect(strategy.wxLoginOptions(request({ session: undefined }), { id: 'wechat-qr' })).rejects.toThrow(/requires session support/);
  });
});

describe('how long a duplicate callback waits for the first request by default', () => {
  it('waits twice the timeout plus one second, then fails with WECHAT_DUPLICATE_CALLBACK', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    try {
      // As if another request of the same browser holds the callback's claim and never finishes.
      const records = new Map<string, string>();
      const store = {
        claim: (key: string, value: string) => {
          records.set(key, value);
          return false;
        },
        set: (key: string, value: string) => {
          records.set(key, value);
        },
        get: (key: string) => records.get(key) ?? null,
      };
      const strategy = new WeChatStrategy(options({ timeout: 100, duplicateCallbacks: { store } }), profileAsUser);
      let outcome: Outcome | undefined;
      const callback = { query: { code: CODE, state: STATE }, session: sessionWithState(STATE), sessionID: 'session-1' } as FakeRequest;
      void authenticate(strategy, callback).then((ended) => {
        outcome = ended;
      });

      await vi.advanceTimersByTimeAsync(1_150);
      expect(outcome, 'still waiting before 2 × 100 ms + 1 s').toBeUndefined();
      await vi.advanceTimersByTimeAsync(100);
      expect(outcome).toMatchObject({ action: 'fail', status: 401, challenge: { code: 'WECHAT_DUPLICATE_CALLBACK' } });
    } finally {
      vi.useRealTimers();
    }
  });
});
