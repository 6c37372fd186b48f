/**
 * skipUserProfile in each form a user may give it — a function of the token, or one that answers
 * through a callback — decides whether WeChat's userinfo is called, as the emulator's call log
 * shows. And what counts as a promise-like when verify returns one.
 */
import { Passport } from 'passport';
import request from 'supertest';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { WeChatStrategy, type WeChatStrategyOptions } from '../lib/index.js';
import { isThenable } from '../lib/promise-callbacks.js';
import { DEMO_WEBSITE_APP, WeChatEmulator } from '../lib/testing/index.js';
import { loginOnEmulator } from './helpers/emulator-login.js';
import { expressLoginApp } from './helpers/express-app.js';

let emulator: WeChatEmulator;

beforeAll(async () => {
  emulator = await WeChatEmulator.start();
});
afterEach(() => emulator.reset());
afterAll(() => emulator.close());

/** Logs Alice in with `skipUserProfile`; the user verify saw and the WeChat endpoints called. */
async function logInWith(skipUserProfile: WeChatStrategyOptions['skipUserProfile']) {
  const passport = new Passport();
  passport.use(
    new WeChatStrategy(
      { ...emulator.strategyOptions(DEMO_WEBSITE_APP.appid), callbackURL: 'http://localhost:3000/auth/wechat/callback', skipUserProfile } as WeChatStrategyOptions,
      (_accessToken, _refreshToken, profile, done) => done(null, { openid: profile.openid, name: profile.displayName }),
    ),
  );
  passport.serializeUser((user, done) => done(null, JSON.stringify(user)));
  passport.deserializeUser((json: string, done) => done(null, JSON.parse(json) as Express.User));
  const agent = request.agent(expressLoginApp(passport, { sessionSecret: 'test', failurePath: '/failed' }));
  await agent.get(await loginOnEmulator(emulator, agent, { user: 'alice' })).expect(302).expect('location', '/me');
  return { user: (await agent.get('/me')).body.user as { openid: string; name: string }, endpoints: emulator.calls.map((call) => call.endpoint) };
}

describe('skipUserProfile as a function of the access token', () => {
  it('skips the userinfo call when it returns true, and verify still gets the openid', async () => {
    const tokens: string[] = [];
    const { user, endpoints } = await logInWith((token: string) => (tokens.push(token), true));
    expect(endpoints).toEqual(['access_token']);
    expect(user).toEqual({ openid: emulator.openidFor(DEMO_WEBSITE_APP.appid, 'alice'), name: '' });
    expect(tokens).toHaveLength(1);
    expect(tokens[0]).toMatch(/\S{16,}/);
  });

  it('calls userinfo when it returns false', async () => {
    const { user, endpoints } = await logInWith((_token: string) => false);
    expect(endpoints).toEqual(['access_token', 'userinfo']);
    expect(user.name).toBe('Alice 🐼');
  });
});

describe('skipUserProfile answering through a callback', () => {
  it('skips the userinfo call when it answers true', async () => {
    const { user, endpoints } = await logInWith((_token: string, done: (err: unknown, skip?: boolean) => void) => done(null, true));
    expect(endpoints).toEqual(['access_token']);
    expect(user.name).toBe('');
  });

  it('calls userinfo when it answers false', async () => {
    const { user, endpoints } = await logInWith((_token: string, done: (err: unknown, skip?: boolean) => void) => done(null, false));
    expect(endpoints).toEqual(['access_token', 'userinfo']);
    expect(user.name).toBe('Alice 🐼');
  });
});

describe('isThenable: what an async verify may return', () => {
  it('counts a function with a then method, as the Promises/A+ spec does', () => {
    const callableThenable = Object.assign(() => undefined, { then: () => undefined });
    expect(isThenable(callableThenable)).toBe(true);
    expect(isThenable(Promise.resolve())).toBe(true);
  });

  it('counts null, undefined and values without a then method as plain values', () => {
    for (const value of [null, undefined, 0, 'then', {}, { then: 'not a function' }, () => undefined]) expect(isThenable(value)).toBe(false);
  });
});
