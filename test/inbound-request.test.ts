/**
 * How WeChatStrategy reads the request it is given: the callback URL WeChat is told to send the
 * user back to (resolved from the request when relative), and the request passport-oauth2 is shown
 * (no code or state from a body, no `?error=`), driven the way Passport drives a strategy, with
 * WeChat played by the local emulator.
 */
import type { Request } from 'express';
import type { Strategy } from 'passport-strategy';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { WeChatOptionsError } from '../lib/errors.js';
import { WeChatStrategy, type WeChatStrategyOptions } from '../lib/index.js';
import { DEMO_WEBSITE_APP, WeChatEmulator } from '../lib/testing/index.js';
import type { Outcome } from './helpers/passport.js';

let emulator: WeChatEmulator;

beforeAll(async () => {
  emulator = await WeChatEmulator.start();
});
afterEach(() => emulator.reset());
afterAll(() => emulator.close());

type Verify = (...args: unknown[]) => void;
const returnProfile: Verify = (...args) => (args.at(-1) as (err: null, user: unknown) => void)(null, args.at(-2));

/** The website app on the emulator, without the session state nonce (these requests carry no session). */
function strategy(options: Record<string, unknown> = {}, verify: Verify = returnProfile): WeChatStrategy {
  const all = { ...emulator.strategyOptions(DEMO_WEBSITE_APP.appid), callbackURL: '/auth/wechat/callback', state: false, ...options };
  return new WeChatStrategy(all as WeChatStrategyOptions, verify as never);
}

/** Runs `authenticate(req)` on a Passport-style per-request object and resolves with the action it took. */
function drive(target: Strategy, req: Record<string, unknown>): Promise<Outcome> {
  return new Promise((resolve) => {
    const delegate = Object.create(target) as Strategy & Record<string, unknown>;
    delegate.redirect = (url: string, status?: number) => resolve({ action: 'redirect', url, status });
    delegate.success = (user: unknown, info?: unknown) => resolve({ action: 'success', user, info });
    delegate.fail = (challenge?: unknown, status?: number) => resolve({ action: 'fail', challenge, status });
    delegate.error = (error: Error) => resolve({ action: 'error', error });
    delegate.pass = () => resolve({ action: 'pass' });
    delegate.authenticate(req as unknown as Request, {});
  });
}

/** A login start: GET /auth/wechat on shop.example.cn, with `extra` added or replaced. */
function start(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { method: 'GET', url: '/auth/wechat', headers: { host: 'shop.example.cn' }, query: {}, ...extra };
}

/** The redirect_uri WeChat is sent, from a login start that must redirect to the emulator's QR page. */
function redirectURI(outcome: Outcome): string | null {
  expect(outcome.action).toBe('redirect');
  const location = new URL((outcome as Extract<Outcome, { action: 'redirect' }>).url);
  expect(location.origin + location.pathname).toBe(emulator.endpoints.authorizationURL);
  return location.searchParams.get('redirect_uri');
}

const tokenCalls = () => emulator.calls.filter((call) => call.endpoint === 'access_token');
const aliceCode = () => emulator.issueCode({ appid: DEMO_WEBSITE_APP.appid, user: 'alice' });

describe('the callback URL WeChat sends the user back to', () => {
  it('is an absolute callbackURL as configured, even on a request without a Host header', async () => {
    const absolute = 'https://shop.example.cn/auth/wechat/callback';
    expect(redirectURI(await drive(strategy({ callbackURL: absolute }), start({ headers: {} })))).toBe(absolute);
  });

  it('resolves a relative callbackURL whose query holds a colon against the Host header', async () => {
    const outcome = await drive(strategy({ callbackURL: '/auth/wechat/callback?next=a:b' }), start());
    expect(redirectURI(outcome)).toBe('http://shop.example.cn/auth/wechat/callback?next=a:b');
  });

  it('resolves a path-relative callbackURL against the path of the request, as passport-oauth2 does', async () => {
    const outcome = await drive(strategy({ callbackURL: 'callback' }), start({ url: '/auth/wechat' }));
    expect(redirectURI(outcome)).toBe('http://shop.example.cn/auth/callback');
  });

  it('uses https for a request that came over TLS', async () => {
    const outcome = await drive(strategy(), start({ socket: { encrypted: true } }));
    expect(redirectURI(outcome)).toBe('https://shop.example.cn/auth/wechat/callback');
  });

  it('uses http for a request on a plain socket, outside any framework', async () => {
    const outcome = await drive(strategy(), start({ socket: { encrypted: false } }));
    expect(redirectURI(outcome)).toBe('http://shop.example.cn/auth/wechat/callback');
  });

  it('takes the first of comma-separated X-Forwarded-* values, spaces trimmed, with proxy: true', async () => {
    const headers = { host: 'internal:8080', 'x-forwarded-host': 'shop.example.cn , cdn.example.net', 'x-forwarded-proto': 'https , http' };
    const outcome = await drive(strategy({ proxy: true }), start({ headers }));
    expect(redirectURI(outcome)).toBe('https://shop.example.cn/auth/wechat/callback');
  });

  it('reads only the Host header and the socket of a request that is not Fastify\'s, whatever protocol and host fields it carries', async () => {
    // Fastify's own fields are trusted only on a Fastify request (it has `raw`); another framework's may echo X-Forwarded-*.
    const outcome = await drive(strategy(), start({ protocol: 'https', host: 'evil.example' }));
    expect(redirectURI(outcome)).toBe('http://shop.example.cn/auth/wechat/callback');
  });

  it('ends in a WeChatOptionsError naming callbackURL when a relative one meets a request without a Host header', async () => {
    const outcome = await drive(strategy(), start({ headers: {} }));
    expect(outcome.action).toBe('error');
    const { error } = outcome as Extract<Outcome, { action: 'error' }>;
    expect(error).toBeInstanceOf(WeChatOptionsError);
    expect(error.message).toContain('callbackURL');
    expect(emulator.calls).toEqual([]);
  });
});

describe('what a body or a stray ?error= may do to a login', () => {
  it('starts a login when the host parsed the body as text', async () => {
    const outcome = await drive(strategy(), start({ method: 'POST', body: `code=${aliceCode()}` }));
    expect(redirectURI(outcome)).toBe('http://shop.example.cn/auth/wechat/callback');
  });

  it('starts a login, and never exchanges the code, when only a body carries a code (state off)', async () => {
    const outcome = await drive(strategy(), start({ method: 'POST', body: { code: aliceCode() } }));
    expect(redirectURI(outcome)).toBe('http://shop.example.cn/auth/wechat/callback');
    expect(tokenCalls()).toEqual([]);
  });

  it('refuses a callback whose state comes only in a body, even the state the session holds', async () => {
    const withState = new WeChatStrategy(
      { ...emulator.strategyOptions(DEMO_WEBSITE_APP.appid), callbackURL: '/auth/wechat/callback' } as WeChatStrategyOptions,
      returnProfile as never,
    );
    const state = 'abcDEF123456abcDEF123456';
    const session = { [`oauth2:${new URL(emulator.url).hostname}`]: { state } };
    const req = start({ method: 'POST', url: '/auth/wechat/callback', query: { code: aliceCode() }, body: { state }, session });
    expect((await drive(withState, req)).action).toBe('fail');
    expect(tokenCalls()).toEqual([]);
  });

  it('starts a login on a host without a query parser when a body carries a code', async () => {
    const outcome = await drive(strategy(), start({ method: 'POST', query: undefined, body: { code: aliceCode(), state: 'x' } }));
    expect(redirectURI(outcome)).toBe('http://shop.example.cn/auth/wechat/callback');
    expect(tokenCalls()).toEqual([]);
  });

  it('finishes a callback that also carries ?error=… (which WeChat never sends) with the code it carries', async () => {
    const code = aliceCode();
    const query = { code, error: 'access_denied', error_description: 'crafted text', error_uri: 'https://evil.example/' };
    const outcome = await drive(strategy(), start({ url: '/auth/wechat/callback', query }));
    expect(outcome.action).toBe('success');
    expect((outcome as Extract<Outcome, { action: 'success' }>).user).toMatchObject({ openid: emulator.openidFor(DEMO_WEBSITE_APP.appid, 'alice') });
    expect(tokenCalls()).toHaveLength(1);
  });

  it.each([
    ['a plain callback', {}],
    ['a callback with a stray ?error=', { error: 'access_denied' }],
  ])('hands a passReqToCallback verify the body the host parsed, on %s', async (_name, stray) => {
    const seen: unknown[] = [];
    const verify: Verify = (req, _a, _r, profile, done) => {
      seen.push((req as Request).body);
      (done as (err: null, user: unknown) => void)(null, profile);
    };
    const req = start({ method: 'POST', url: '/auth/wechat/callback', query: { code: aliceCode(), ...stray }, body: { remember: 'on' } });
    expect((await drive(strategy({ passReqToCallback: true }, verify), req)).action).toBe('success');
    expect(seen).toEqual([{ remember: 'on' }]);
  });

  it.each([
    ['a code in the body', { body: { code: 'posted' } }, {}],
    ['a state in the body', { body: { state: 'posted' } }, {}],
    ['?error= in the query', {}, { error: 'access_denied' }],
  ])('lets a passReqToCallback verify set a property on the request the next handler reads, also with %s', async (_name, extra, query) => {
    const verify: Verify = (req, _a, _r, profile, done) => {
      (req as Record<string, unknown>).wechatLogin = 'fresh';
      (done as (err: null, user: unknown) => void)(null, profile);
    };
    const req = start({ method: 'POST', url: '/auth/wechat/callback', query: { code: aliceCode(), ...query }, ...extra });
    expect((await drive(strategy({ passReqToCallback: true }, verify), req)).action).toBe('success');
    expect(req.wechatLogin).toBe('fresh');
  });

  it('lets a passReqToCallback verify set a property on the request that the next handler reads', async () => {
    const verify: Verify = (req, _a, _r, profile, done) => {
      (req as Record<string, unknown>).wechatLogin = 'fresh';
      (done as (err: null, user: unknown) => void)(null, profile);
    };
    const req = start({ url: '/auth/wechat/callback', query: { code: aliceCode() } });
    expect((await drive(strategy({ passReqToCallback: true }, verify), req)).action).toBe('success');
    expect(req.wechatLogin).toBe('fresh');
  });
});
