/**
 * WeChat sometimes delivers the same callback twice. The second request must end as the first
 * did (same user, success) instead of failing on a used code — and must never let another
 * browser ride on someone's login.
 */
import { createHash } from 'node:crypto';
import express from 'express';
import session from 'express-session';
import { Passport } from 'passport';
import request from 'supertest';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { callbackKey, memoryCallbackKey } from '../lib/duplicates.js';
import { MemoryCallbackStore, WeChatStrategy, type WeChatCallbackStore, type WeChatStrategyOptions } from '../lib/index.js';
import { DEMO_WEBSITE_APP, WeChatEmulator } from '../lib/testing/index.js';
import { loginOnEmulator, type Agent } from './helpers/emulator-login.js';
import { expressLoginApp } from './helpers/express-app.js';

let emulator: WeChatEmulator;

beforeAll(async () => {
  emulator = await WeChatEmulator.start();
});
afterEach(() => emulator.reset());
afterAll(() => emulator.close());

function buildApp(extra: Partial<WeChatStrategyOptions> = {}) {
  const passport = new Passport();
  passport.use(
    new WeChatStrategy(
      {
        ...emulator.strategyOptions(DEMO_WEBSITE_APP.appid),
        callbackURL: 'http://localhost:3000/auth/wechat/callback',
        ...extra,
      } as WeChatStrategyOptions,
      (_accessToken, _refreshToken, profile, done) => done(null, { id: profile.id, name: profile.displayName }),
    ),
  );
  passport.serializeUser((user, done) => done(null, JSON.stringify(user)));
  passport.deserializeUser((json: string, done) => done(null, JSON.parse(json) as Express.User));
  return expressLoginApp(passport, { sessionSecret: 'test', failurePath: '/failed' });
}

/** Starts a login in `agent` and lets `user` confirm on the emulator; the callback's path and query. */
const callbackPath = (agent: Agent, user = 'alice') => loginOnEmulator(emulator, agent, { user });

const tokenCalls = () => emulator.calls.filter((call) => call.endpoint === 'access_token').length;

/** The session id in express-session's signed cookie (`connect.sid=s:<id>.<signature>`). */
function sessionIdOf(setCookie: string | string[] | undefined): string {
  const cookie = [setCookie ?? []].flat().find((line) => line.startsWith('connect.sid='));
  const value = decodeURIComponent(cookie?.split(';')[0]?.slice('connect.sid='.length) ?? '');
  return value.startsWith('s:') ? value.slice(2, value.lastIndexOf('.')) : '';
}

describe('the same callback delivered twice', () => {
  it('logs the user in on both requests when they arrive at once, with one code exchange', async () => {
    const agent = request.agent(buildApp());
    const path = await callbackPath(agent);
    emulator.setLatency({ minMs: 100, maxMs: 150 }); // the first is still exchanging when the second arrives
    const [first, second] = await Promise.all([agent.get(path), agent.get(path)]);
    expect([first.status, second.status]).toEqual([302, 302]);
    expect([first.headers.location, second.headers.location]).toEqual(['/me', '/me']);
    expect(tokenCalls()).toBe(1);
    expect((await agent.get('/me')).body.user).toEqual({ id: emulator.unionidFor('alice'), name: 'Alice 🐼' });
  });

  it('logs the user in again when the duplicate comes after the first finished', async () => {
    const agent = request.agent(buildApp());
    const path = await callbackPath(agent);
    await agent.get(path).expect(302).expect('location', '/me');
    await agent.get(path).expect(302).expect('location', '/me');
    expect(tokenCalls()).toBe(1);
    expect((await agent.get('/me')).body.user.id).toBe(emulator.unionidFor('alice'));
  });

  it('ends a duplicate of a failed login in the same failure', async () => {
    const agent = request.agent(buildApp());
    const path = await callbackPath(agent);
    emulator.failNext('access_token', { errcode: 40029 });
    await agent.get(path).expect(302).expect('location', '/failed');
    await agent.get(path).expect(302).expect('location', '/failed');
    expect(tokenCalls()).toBe(1);
    const messages = (await agent.get('/failed')).body.messages as string[];
    expect(messages).toHaveLength(2);
    expect(new Set(messages).size).toBe(1);
  });

  it('fails the duplicate with a used code when duplicate handling is turned off', async () => {
    const agent = request.agent(buildApp({ duplicateCallbacks: false }));
    const path = await callbackPath(agent);
    await agent.get(path).expect(302).expect('location', '/me');
    await agent.get(path).expect(302).expect('location', '/failed');
  });

  it('never lets another browser replay someone\'s callback', async () => {
    const app = buildApp();
    const victim = request.agent(app);
    const attacker = request.agent(app);
    const path = await callbackPath(victim);
    await callbackPath(attacker); // the attacker has a session of his own, with another state
    await victim.get(path).expect(302).expect('location', '/me');
    await attacker.get(path).expect(302).expect('location', '/failed');
    expect((await attacker.get('/me')).body.user).toBeNull();
    expect(tokenCalls()).toBe(1);
  });

  it('leaves a browser logged in as someone else as that someone when it replays another user\'s callback', async () => {
    const app = buildApp();
    const alice = request.agent(app);
    const bob = request.agent(app);
    await bob.get(await callbackPath(bob, 'bob')).expect(302).expect('location', '/me');
    const alicePath = await callbackPath(alice, 'alice');
    await alice.get(alicePath).expect(302).expect('location', '/me');
    await bob.get(alicePath).expect(302);
    expect((await bob.get('/me')).body.user.name).toBe('Bob');
    expect((await alice.get('/me')).body.user.name).toBe('Alice 🐼');
  });

  it('still logs users in when the callback store is down', async () => {
    const broken: WeChatCallbackStore = {
      claim: () => Promise.reject(new Error('store unreachable')),
      set: () => Promise.reject(new Error('store unreachable')),
      get: () => Promise.reject(new Error('store unreachable')),
    };
    const agent = request.agent(buildApp({ duplicateCallbacks: { store: broken } }));
    await agent.get(await callbackPath(agent)).expect(302).expect('location', '/me');
  });

  it('keeps only hashes in the store: no code, state or session id', async () => {
    const seen: string[] = [];
    const memory = new MemoryCallbackStore();
    const recording: WeChatCallbackStore = {
      claim: (key, value, ttl) => (seen.push(key, value), memory.claim(key, value, ttl)),
      set: (key, value, ttl) => (seen.push(key, value), memory.set(key, value, ttl)),
      get: (key) => memory.get(key),
    };
    const agent = request.agent(buildApp({ duplicateCallbacks: { store: recording } }));
    const start = await agent.get('/auth/wechat').expect(302);
    const sessionId = sessionIdOf(start.headers['set-cookie']);
    const outcome = emulator.authorize(start.headers.location as string, { user: 'alice' });
    if (outcome.type !== 'redirect') throw new Error(outcome.type);
    const callback = new URL(outcome.location);
    const login = await agent.get(callback.pathname + callback.search).expect(302);
    const regenerated = sessionIdOf(login.headers['set-cookie']);
    await vi.waitFor(() => expect(seen.length).toBeGreaterThanOrEqual(6)); // claim, outcome, the regenerated session
    const stored = seen.join('\n');
    expect(stored).not.toContain(callback.searchParams.get('code'));
    expect(stored).not.toContain(callback.searchParams.get('state'));
    for (const id of [sessionId, regenerated]) {
      expect(id.length).toBeGreaterThan(10);
      expect(stored).not.toContain(id);
      expect(stored).toContain(createHash('sha256').update(id).digest('hex'));
    }
    expect(seen[0]).toMatch(/^wechat:callback:[0-9a-f]{64}$/);
  });
});

describe('MemoryCallbackStore', () => {
  it('forgets entries after their time to live', async () => {
    let now = 1_000_000;
    const store = new MemoryCallbackStore({ now: () => now });
    expect(await store.claim('k', 'v', 60)).toBe(true);
    expect(await store.claim('k', 'w', 60)).toBe(false);
    now += 60_001;
    expect(await store.get('k')).toBeUndefined();
    expect(await store.claim('k', 'w', 60)).toBe(true);
  });

  it('holds at most maxEntries, dropping the oldest', async () => {
    const store = new MemoryCallbackStore({ maxEntries: 100 });
    for (let i = 0; i < 1_000; i++) await store.set(`k${i}`, 'v', 60);
    expect(store.size).toBe(100);
    expect(await store.get('k0')).toBeUndefined();
    expect(await store.get('k999')).toBe('v');
  });

  it('keys differ per app, code and state', () => {
    const keys = new Set([
      callbackKey('wx1', 'code', 'state'),
      callbackKey('wx2', 'code', 'state'),
      callbackKey('wx1', 'code2', 'state'),
      callbackKey('wx1', 'code', 'state2'),
    ]);
    expect(keys.size).toBe(4);
  });

  it("keys of the in-memory store are the same hash, as 32 one-byte characters, differing per app, code and state", () => {
    const key = memoryCallbackKey('wx1', 'code', 'state');
    expect(key).toHaveLength(32);
    expect(Buffer.from(key, 'latin1').toString('hex')).toBe(callbackKey('wx1', 'code', 'state').slice('wechat:callback:'.length));
    const keys = new Set([key, memoryCallbackKey('wx2', 'code', 'state'), memoryCallbackKey('wx1', 'code2', 'state'), memoryCallbackKey('wx1', 'code', 'state2')]);
    expect(keys.size).toBe(4);
  });
});

/**
 * An app whose callback answers what Passport handed it, so a test sees what a replay would leak:
 * the user and `req.authInfo` (verify's info, and with `store: true` the app state). Failures answer
 * their status with the failure info.
 */
function authInfoApp(extra: Partial<WeChatStrategyOptions> = {}) {
  const passport = new Passport();
  passport.use(
    new WeChatStrategy(
      { ...emulator.strategyOptions(DEMO_WEBSITE_APP.appid), callbackURL: 'http://localhost:3000/auth/wechat/callback', ...extra } as WeChatStrategyOptions,
      (_accessToken, _refreshToken, profile, done) =>
        done(null, { id: profile.id, name: profile.displayName }, { message: `private note for ${profile.displayName}` }),
    ),
  );
  passport.serializeUser((user, done) => done(null, JSON.stringify(user)));
  passport.deserializeUser((json: string, done) => done(null, JSON.parse(json) as Express.User));
  const app = express();
  app.use(session({ secret: 'test', resave: false, saveUninitialized: false }));
  app.use(passport.session());
  // App state travels as an object (a string state would be sent to WeChat as is).
  const appState = (req: express.Request) => (req.query.returnTo ? ({ returnTo: req.query.returnTo } as unknown as string) : undefined);
  app.get('/auth/wechat', (req, res, next) => passport.authenticate('wechat', { state: appState(req) })(req, res, next));
  app.get('/auth/wechat/callback', (req, res, next) => {
    passport.authenticate('wechat', (error: unknown, user: Express.User | false, info: unknown, status: unknown) => {
      if (error) return next(error);
      if (!user) return res.status(typeof status === 'number' ? status : 401).json({ failed: info ?? null });
      req.logIn(user, (loginError) => (loginError ? next(loginError) : res.json({ user, info })));
    })(req, res, next);
  });
  app.get('/me', (req, res) => res.json({ user: req.user ?? null }));
  return app;
}

describe('attacks on duplicate handling', () => {
  it("never hands another logged-in browser the victim's info when it replays the victim's callback", async () => {
    const app = authInfoApp({ store: true });
    const alice = request.agent(app);
    const mallory = request.agent(app);
    await mallory.get(await loginOnEmulator(emulator, mallory, { user: 'bob' })).expect(200);
    const alicePath = await loginOnEmulator(emulator, alice, { user: 'alice' }, '/auth/wechat?returnTo=alicesCart');
    const alices = await alice.get(alicePath).expect(200);
    expect(alices.body.info).toMatchObject({ message: 'private note for Alice 🐼', state: { returnTo: 'alicesCart' } });

    const replayed = await mallory.get(alicePath);
    expect(replayed.status).toBe(403);
    expect(JSON.stringify(replayed.body)).not.toMatch(/Alice|alicesCart/);
    expect((await mallory.get('/me')).body.user.name).toBe('Bob');
    expect(tokenCalls()).toBe(2);
  });

  it('still replays to the browser that logged in, under the session id Passport gave it', async () => {
    const app = authInfoApp();
    const alice = request.agent(app);
    const path = await loginOnEmulator(emulator, alice, { user: 'alice' });
    const first = await alice.get(path).expect(200);
    const reload = await alice.get(path).expect(200); // the cookie now names the regenerated session
    expect(reload.body).toEqual(first.body);
    expect(tokenCalls()).toBe(1);
  });

  it("does not let a cookieless request of a leaked callback spoil the owner's login", async () => {
    const app = authInfoApp();
    const alice = request.agent(app);
    const path = await loginOnEmulator(emulator, alice, { user: 'alice' });
    await request(app).get(path).expect(403);
    const owner = await alice.get(path).expect(200);
    expect(owner.body.user.name).toBe('Alice 🐼');
    expect(tokenCalls()).toBe(1);
  });

  it("does not let another browser's request of a leaked callback spoil the owner's login", async () => {
    const app = authInfoApp();
    const alice = request.agent(app);
    const mallory = request.agent(app);
    await mallory.get('/auth/wechat').expect(302); // a session of her own, with a state of her own
    const path = await loginOnEmulator(emulator, alice, { user: 'alice' });
    await mallory.get(path).expect(403);
    await alice.get(path).expect(200);
    expect(tokenCalls()).toBe(1);
  });

  it('refuses another browser at once while the first request is still exchanging the code', async () => {
    const app = authInfoApp();
    const alice = request.agent(app);
    const mallory = request.agent(app);
    await mallory.get('/auth/wechat').expect(302);
    const path = await loginOnEmulator(emulator, alice, { user: 'alice' });
    emulator.setLatency({ minMs: 200, maxMs: 200 });
    const owner = alice.get(path).then((res) => res);
    await new Promise((resolve) => setTimeout(resolve, 50)); // Alice's request has claimed the callback
    const replayed = await mallory.get(path);
    expect(replayed.status).toBe(403);
    expect((await owner).status).toBe(200);
    expect(tokenCalls()).toBe(1);
  });

  it('ends a duplicate that waits longer than waitMs with WECHAT_DUPLICATE_CALLBACK, then the first still succeeds', async () => {
    const app = authInfoApp({ duplicateCallbacks: { waitMs: 100 } });
    const alice = request.agent(app);
    const path = await loginOnEmulator(emulator, alice, { user: 'alice' });
    emulator.setLatency({ minMs: 600, maxMs: 600 });
    const [first, second] = await Promise.all([alice.get(path), alice.get(path)]);
    const byStatus = [first, second].sort((a, b) => a.status - b.status);
    expect(byStatus.map((res) => res.status)).toEqual([200, 401]);
    expect(byStatus[1]?.body.failed).toMatchObject({ code: 'WECHAT_DUPLICATE_CALLBACK' });
    expect(tokenCalls()).toBe(1);
  });
});

describe('MemoryCallbackStore under concurrency', () => {
  it('lets exactly one of many simultaneous claims of a key win', async () => {
    const store = new MemoryCallbackStore();
    const results = await Promise.all(Array.from({ length: 5 }, (_, i) => store.claim('k', `v${i}`, 60)));
    expect(results.filter(Boolean)).toHaveLength(1);
    expect(await store.get('k')).toBe(`v${results.indexOf(true)}`);
  });
});

describe('how long a callback is remembered', () => {
  it('keeps the expiry of the claim when a reload after the login adds the new session', async () => {
    const writes: Array<{ ttl: number; expiresAt: unknown }> = [];
    const memory = new MemoryCallbackStore();
    const record = (value: string, ttl: number) => writes.push({ ttl, expiresAt: (JSON.parse(value) as { expiresAt?: unknown }).expiresAt });
    const recording: WeChatCallbackStore = {
      claim: (key, value, ttl) => (record(value, ttl), memory.claim(key, value, ttl)),
      set: (key, value, ttl) => (record(value, ttl), memory.set(key, value, ttl)),
      get: (key) => memory.get(key),
    };
    const alice = request.agent(authInfoApp({ duplicateCallbacks: { store: recording, ttlSeconds: 30 } }));
    const path = await loginOnEmulator(emulator, alice, { user: 'alice' });
    await alice.get(path).expect(200);
    await alice.get(path).expect(200);
    await vi.waitFor(() => expect(writes.length).toBeGreaterThanOrEqual(4)); // claim, outcome, two new sessions
    expect(writes[0]?.ttl).toBe(30);
    expect(new Set(writes.map((write) => write.expiresAt)).size).toBe(1);
    for (const write of writes) expect(write.ttl).toBeLessThanOrEqual(30);
  });
});

describe('the time a callback is remembered (ttlSeconds)', () => {
  /** Alice logs in on an app whose callback store runs on a clock the test moves. */
  async function loggedIn() {
    const clock = { now: Date.now() };
    const store = new MemoryCallbackStore({ now: () => clock.now });
    const alice = request.agent(authInfoApp({ duplicateCallbacks: { store, ttlSeconds: 5 } }));
    const path = await loginOnEmulator(emulator, alice, { user: 'alice' });
    await alice.get(path).expect(200);
    return { alice, path, clock };
  }

  it('replays a reload that comes within ttlSeconds', async () => {
    const { alice, path, clock } = await loggedIn();
    clock.now += 4_999;
    await alice.get(path).expect(200);
    expect(tokenCalls()).toBe(1);
  });

  it('forgets the callback after ttlSeconds: a later reload fails the used-up state', async () => {
    const { alice, path, clock } = await loggedIn();
    clock.now += 5_001;
    const late = await alice.get(path).expect(403);
    expect(late.body.failed).toMatchObject({ code: 'WECHAT_STATE_MISSING' });
    expect(tokenCalls()).toBe(1);
  });
});
