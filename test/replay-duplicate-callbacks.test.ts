/**
 * Duplicate callbacks as an app sees them, through Express and the WeChat emulator: who a
 * replayed callback answers, how a login ends when the callback store misbehaves, and what the
 * store keeps for a login reloaded many times.
 */
import { createHash } from 'node:crypto';
import express from 'express';
import session from 'express-session';
import { Passport } from 'passport';
import request from 'supertest';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { MemoryCallbackStore, WeChatStrategy, type WeChatCallbackStore, type WeChatStrategyOptions, type WeChatVerifyFunction } from '../lib/index.js';
import { DEMO_WEBSITE_APP, WeChatEmulator } from '../lib/testing/index.js';
import { loginOnEmulator } from './helpers/emulator-login.js';
import { jsonCallback } from './helpers/express-app.js';

let emulator: WeChatEmulator;

beforeAll(async () => {
  emulator = await WeChatEmulator.start();
});
afterEach(() => emulator.reset());
afterAll(() => emulator.close());

type Verify = WeChatVerifyFunction;
const logsIn: Verify = (_accessToken, _refreshToken, profile, done) => done(null, { id: profile.id, name: profile.displayName });

/**
 * An app whose callback answers what Passport handed it: `{ user }` on success, the failure info
 * under `failed` with the failure's status otherwise.
 */
function jsonApp(extra: Partial<WeChatStrategyOptions> = {}, verify: Verify = logsIn) {
  const passport = new Passport();
  passport.use(
    new WeChatStrategy(
      { ...emulator.strategyOptions(DEMO_WEBSITE_APP.appid), callbackURL: 'http://localhost:3000/auth/wechat/callback', ...extra } as WeChatStrategyOptions,
      verify,
    ),
  );
  passport.serializeUser((user, done) => done(null, JSON.stringify(user)));
  passport.deserializeUser((json: string, done) => done(null, JSON.parse(json) as Express.User));
  const app = express();
  app.use(session({ secret: 'test', resave: false, saveUninitialized: false }));
  app.use(passport.session());
  app.get('/auth/wechat', passport.authenticate('wechat'));
  app.get('/auth/wechat/callback', jsonCallback(passport, 'failed'));
  return app;
}

const tokenCalls = () => emulator.calls.filter((call) => call.endpoint === 'access_token').length;
const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/** The session id in express-session's signed cookie (`connect.sid=s:<id>.<signature>`). */
function sessionIdOf(setCookie: string | string[] | undefined): string {
  const cookie = [setCookie ?? []].flat().find((line) => line.startsWith('connect.sid='));
  const value = decodeURIComponent(cookie?.split(';')[0]?.slice('connect.sid='.length) ?? '');
  return value.startsWith('s:') ? value.slice(2, value.lastIndexOf('.')) : '';
}

/** A state store that keeps nothing per browser: it accepts any state it is shown, as a signed-state store may. */
function statelessStateStore() {
  return {
    store(_req: unknown, _meta: unknown, callback: (err: Error | null, handle?: string) => void) {
      callback(null, 'stateless0handle');
    },
    verify(_req: unknown, _state: string, callback: (err: Error | null, ok: boolean) => void) {
      callback(null, true);
    },
  } as unknown as WeChatStrategyOptions['store'];
}

describe('a replayed callback whose state verifies in any browser', () => {
  it("refuses another browser like a forged state (403) and never hands it the owner's user", async () => {
    const app = jsonApp({ store: statelessStateStore() });
    const alice = request.agent(app);
    const path = await loginOnEmulator(emulator, alice, { user: 'alice' });
    expect((await alice.get(path).expect(200)).body.user.name).toBe('Alice 🐼');

    const replayed = await request(app).get(path);
    expect(replayed.status).toBe(403);
    expect(replayed.body).toEqual({ failed: { code: 'WECHAT_STATE_MISMATCH', message: 'This login link does not match the login started in this browser. Please start the login again.' } });
    expect(tokenCalls()).toBe(1);
  });
});

describe('a callback store that misbehaves', () => {
  it('ends the login with WECHAT_DUPLICATE_CALLBACK (401) when the store says the callback is taken but cannot be read', async () => {
    const takenButUnreadable: WeChatCallbackStore = {
      claim: () => Promise.resolve(false),
      set: () => Promise.resolve(),
      get: () => Promise.reject(new Error('store unreachable')),
    };
    const agent = request.agent(jsonApp({ duplicateCallbacks: { store: takenButUnreadable } }));
    const answer = await agent.get(await loginOnEmulator(emulator, agent, { user: 'alice' }));
    expect(answer.status).toBe(401);
    expect(answer.body.failed).toMatchObject({ code: 'WECHAT_DUPLICATE_CALLBACK' });
    expect(tokenCalls()).toBe(0);
  });
});

describe("verify's own refusal", () => {
  const refuses: Verify = (_accessToken, _refreshToken, _profile, done) => done(null, false, { message: 'This WeChat account is not allowed here.' });

  it('reaches the browser as verify gave it, not as an unfinished duplicate', async () => {
    const agent = request.agent(jsonApp({ duplicateCallbacks: { waitMs: 100 } }, refuses));
    const answer = await agent.get(await loginOnEmulator(emulator, agent, { user: 'alice' }));
    expect(answer.status).toBe(401);
    expect(answer.body).toEqual({ failed: { message: 'This WeChat account is not allowed here.' } });
  });

  it('is what a duplicate of that callback gets too, with one code exchange', async () => {
    const agent = request.agent(jsonApp({ duplicateCallbacks: { waitMs: 100 } }, refuses));
    const path = await loginOnEmulator(emulator, agent, { user: 'alice' });
    await agent.get(path).expect(401);
    const duplicate = await agent.get(path);
    expect(duplicate.status).toBe(401);
    expect(duplicate.body).toEqual({ failed: { message: 'This WeChat account is not allowed here.' } });
    expect(tokenCalls()).toBe(1);
  });
});

describe('a login reloaded again and again', () => {
  it('keeps five owners in the record: the claiming session and the last four the browser was given', async () => {
    const memory = new MemoryCallbackStore();
    let record: { sessions: string[] } | undefined;
    const recording: WeChatCallbackStore = {
      claim: (key, value, ttl) => memory.claim(key, value, ttl),
      set: (key, value, ttl) => ((record = JSON.parse(value) as { sessions: string[] }), memory.set(key, value, ttl)),
      get: (key) => memory.get(key),
    };
    const alice = request.agent(jsonApp({ duplicateCallbacks: { store: recording } }));
    const start = await alice.get('/auth/wechat').expect(302);
    const claimer = sessionIdOf(start.headers['set-cookie']);
    const outcome = emulator.authorize(start.headers.location as string, { user: 'alice' });
    if (outcome.type !== 'redirect') throw new Error(outcome.type);
    const path = new URL(outcome.location).pathname + new URL(outcome.location).search;

    const given: string[] = [];
    for (let i = 0; i < 6; i++) {
      const answer = await alice.get(path).expect(200); // the login, then five reloads
      const id = sessionIdOf(answer.headers['set-cookie']);
      given.push(id);
      await vi.waitFor(() => expect(record?.sessions).toContain(sha256(id)));
    }
    expect(new Set([claimer, ...given]).size).toBe(7);
    expect(record?.sessions).toEqual([claimer, ...given.slice(-4)].map(sha256));
    expect(tokenCalls()).toBe(1);
  });
});
