/**
 * Attacks from a second red-team pass, over the day's changes: the pending-logins state store,
 * WECHAT_STATE_MISSING / _MISMATCH, the Redis callback store, NODE_DEBUG and diagnostics_channel,
 * the passportView proxy and the emulator's avatars. At the HTTP edge (Express 5 through supertest,
 * the local WeChat emulator, a real Redis at REDIS_URL, default 127.0.0.1:6391).
 *
 * Every test here failed when it was written: each names the safe behaviour, and a comment says
 * what happens today. The owner fixes lib/; nothing here is skipped.
 */
import { spawnSync } from 'node:child_process';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { fileURLToPath } from 'node:url';
import express from 'express';
import session from 'express-session';
import { Passport } from 'passport';
import { createClient as createClientV4 } from 'redis4';
import request from 'supertest';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { WECHAT_CALL_START_CHANNEL } from '../lib/diagnostics.js';
import { callbackKey } from '../lib/duplicates.js';
import { WeChatStrategy, type WeChatStrategyOptions, type WeChatVerifyFunction } from '../lib/index.js';
import { redisCallbackStore } from '../lib/redis.js';
import { DEMO_WEBSITE_APP, WeChatEmulator } from '../lib/testing/index.js';
import { callbackFrom, loginOnEmulator } from './helpers/emulator-login.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const CALLBACK = 'http://localhost:3000/auth/wechat/callback';
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6391';

let emulator: WeChatEmulator;
beforeAll(async () => {
  emulator = await WeChatEmulator.start();
});
afterEach(() => emulator.reset());
afterAll(() => emulator.close());

const logsIn: WeChatVerifyFunction = (_accessToken, _refreshToken, profile, done) =>
  done(null, { id: profile.id, name: profile.displayName, avatar: profile.photos?.[0]?.value ?? null });

interface AppOptions {
  /** Middleware mounted before Passport (after express-session). */
  before?: express.RequestHandler;
  /** An express-session store; express-session's MemoryStore by default. */
  store?: session.Store;
  /** Options of `passport.authenticate` at the login start. */
  start?: object;
  /** Whether the callback logs the user in (Passport regenerates the session) or only answers JSON, as an app issuing a token does. */
  logIn?: boolean;
  verify?: WeChatVerifyFunction;
  emulator?: WeChatEmulator;
}

/**
 * An app whose callback answers JSON: `{ user, state }` (state: `info.state`, the app state) on
 * success, `{ failed: info }` with the failure's status otherwise, and `{ error }` (500) on error.
 */
function buildApp(extra: Partial<WeChatStrategyOptions> = {}, options: AppOptions = {}) {
  const wechat = options.emulator ?? emulator;
  const passport = new Passport();
  passport.use(
    new WeChatStrategy(
      { ...wechat.strategyOptions(DEMO_WEBSITE_APP.appid), callbackURL: CALLBACK, ...extra } as WeChatStrategyOptions,
      options.verify ?? logsIn,
    ),
  );
  passport.serializeUser((user, done) => done(null, JSON.stringify(user)));
  passport.deserializeUser((json: string, done) => done(null, JSON.parse(json) as Express.User));
  const app = express();
  app.use(session({ secret: 'attacks-2', resave: false, saveUninitialized: false, ...(options.store ? { store: options.store } : {}) }));
  if (options.before) app.use(options.before);
  app.use(passport.session());
  app.get('/auth/wechat', passport.authenticate('wechat', options.start ?? {}));
  app.get('/auth/wechat/callback', (req, res, next) => {
    passport.authenticate('wechat', (error: unknown, user: Express.User | false, info: { state?: unknown } | undefined, status: unknown) => {
      if (error) return res.status(500).json({ error: String(error) });
      if (!user) return res.status(typeof status === 'number' ? status : 401).json({ failed: info ?? null });
      if (!options.logIn) return res.json({ user, state: info?.state ?? null });
      req.logIn(user, (loginError) => (loginError ? next(loginError) : res.json({ user, state: info?.state ?? null })));
    })(req, res, next);
  });
  return app;
}

/** A custom passport-oauth2 state store that hands out one handle and refuses every state, with no info. */
function refusingStore(refuse: (callback: (err: Error | null, ok: boolean) => void) => void) {
  return {
    store(_req: unknown, _meta: unknown, callback: (err: Error | null, handle?: string) => void) {
      callback(null, 'customhandle0123');
    },
    verify(_req: unknown, _state: string, callback: (err: Error | null, ok: boolean) => void) {
      refuse(callback);
    },
  } as unknown as WeChatStrategyOptions['store'];
}

/** Runs `fn` with unhandled rejections recorded instead of handed to vitest (or, in production, crashing Node). */
async function catchingUnhandled<T>(fn: () => Promise<T>, settleMs = 300): Promise<{ result: T; unhandled: string[] }> {
  const saved = process.listeners('unhandledRejection');
  process.removeAllListeners('unhandledRejection');
  const unhandled: string[] = [];
  const record = (reason: unknown) => unhandled.push(String(reason));
  process.on('unhandledRejection', record);
  try {
    const result = await fn();
    await new Promise((resolve) => setTimeout(resolve, settleMs));
    return { result, unhandled };
  } finally {
    process.removeListener('unhandledRejection', record);
    for (const listener of saved) process.on('unhandledRejection', listener);
  }
}

/**
 * An express-session store that keeps sessions as structured clones, not JSON (as connect-mongo
 * with `stringify: false` keeps BSON, or a store with a v8 serializer): numbers like Infinity stay.
 */
class StructuredCloneStore extends session.Store {
  readonly #sessions = new Map<string, unknown>();
  override get(sid: string, callback: (err: unknown, data?: session.SessionData | null) => void): void {
    const stored = this.#sessions.get(sid);
    callback(null, stored === undefined ? null : (structuredClone(stored) as session.SessionData));
  }
  override set(sid: string, data: session.SessionData, callback?: (err?: unknown) => void): void {
    const { cookie, ...rest } = data as session.SessionData & Record<string, unknown>;
    this.#sessions.set(sid, structuredClone({ ...rest, cookie: { ...cookie } }));
    callback?.();
  }
  override destroy(sid: string, callback?: (err?: unknown) => void): void {
    this.#sessions.delete(sid);
    callback?.();
  }
}

describe('a custom state store that refuses a state without saying why', () => {
  // Today: stateFailure() reads `.code` of the undefined challenge passport-oauth2 passes on, and
  // throws a TypeError: the callback answers 500 instead of the documented WECHAT_STATE_MISMATCH.
  it('fails the callback with WECHAT_STATE_MISMATCH (403), as docs/state.md says a refusal does', async () => {
    const agent = request.agent(buildApp({ store: refusingStore((callback) => callback(null, false)) }));
    const callback = await loginOnEmulator(emulator, agent, { user: 'alice' });
    const res = await agent.get(callback);
    expect(res.status).toBe(403);
    expect(res.body.failed?.code).toBe('WECHAT_STATE_MISMATCH');
  });

  // Today: a store that answers asynchronously (Redis, a database) makes the same TypeError throw
  // in its promise chain: the request never gets an answer, and the rejection is unhandled, which
  // ends a Node 24 process by default. Anyone can send ?code=x&state=y: a remote crash.
  it('answers a callback it refuses asynchronously, and leaves no unhandled rejection to crash the process', async () => {
    const store = refusingStore((callback) => void Promise.resolve(false).then((ok) => callback(null, ok)));
    const agent = request.agent(buildApp({ store }));
    const callback = await loginOnEmulator(emulator, agent, { user: 'alice' });
    const { result, unhandled } = await catchingUnhandled(() =>
      agent
        .get(callback)
        .timeout(3_000)
        .then((res) => res.status, (error: Error) => error.message),
    );
    expect(unhandled).toEqual([]);
    expect(result).toBe(403);
  });
});

describe('NODE_DEBUG=passport-wechat-oauth2 changes no login', () => {
  // Today: debugFailure() reads `.code` of the undefined info that passport-oauth2 passes to fail()
  // when the verify says done(null, false) — the usual way to refuse a user — and throws: with the
  // debug log on, the refusal becomes a 500 (and, in a verify that calls done later, an uncaught
  // exception). Switching diagnostics on to troubleshoot must not change what users get.
  it("still ends a login the app's verify refuses (done(null, false)) in Passport's failure redirect", () => {
    // util.debuglog reads NODE_DEBUG at start-up: the app runs in a child process, on lib/ itself
    // (a resolve hook maps lib's .js imports to its .ts files; Node strips the types).
    const script = `
      import { registerHooks } from 'node:module';
      registerHooks({ resolve(specifier, context, next) {
        try { return next(specifier, context); } catch (error) {
          if (specifier.startsWith('.') && specifier.endsWith('.js')) return next(specifier.slice(0, -3) + '.ts', context);
          throw error;
        }
      } });
      const { once } = await import('node:events');
      const { default: express } = await import('express');
      const { default: session } = await import('express-session');
      const { Passport } = await import('passport');
      const { WeChatStrategy } = await import('./lib/index.ts');
      const { WeChatEmulator, DEMO_WEBSITE_APP } = await import('./lib/testing/index.ts');
      const emulator = await WeChatEmulator.start();
      const passport = new Passport();
      passport.use(new WeChatStrategy({ ...emulator.strategyOptions(DEMO_WEBSITE_APP.appid), callbackURL: '${CALLBACK}' },
        (_accessToken, _refreshToken, _profile, done) => done(null, false)));
      const app = express();
      app.use(session({ secret: 'debug', resave: false, saveUninitialized: false }));
      app.get('/auth/wechat', passport.authenticate('wechat'));
      app.get('/auth/wechat/callback', passport.authenticate('wechat', { failureRedirect: '/refused' }));
      app.use((error, _req, res, _next) => res.status(500).end(String(error)));
      const server = app.listen(0, '127.0.0.1');
      await once(server, 'listening');
      const base = 'http://127.0.0.1:' + server.address().port;
      const start = await fetch(base + '/auth/wechat', { redirect: 'manual' });
      const cookie = start.headers.getSetCookie().map((line) => line.split(';')[0]).join('; ');
      const outcome = emulator.authorize(start.headers.get('location'), { user: 'alice' });
      const back = new URL(outcome.location);
      const res = await fetch(base + back.pathname + back.search, { redirect: 'manual', headers: { cookie } });
      console.log(JSON.stringify({ status: res.status, location: res.headers.get('location'), body: await res.text() }));
      server.close();
      await emulator.close();
    `;
    const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
      cwd: root,
      env: { ...process.env, NODE_DEBUG: 'passport-wechat-oauth2' },
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(child.status, child.stderr).toBe(0);
    const answer = JSON.parse(child.stdout.trim().split('\n').at(-1) ?? '{}') as { status: number; location: string | null; body: string };
    expect(answer).toMatchObject({ status: 302, location: '/refused' });
  });
});

describe('redisCallbackStore on a node-redis v4 client in legacyMode (what connect-redis v6 needs)', () => {
  let legacy: ReturnType<typeof createClientV4>;
  beforeAll(async () => {
    legacy = createClientV4({ url: REDIS_URL, legacyMode: true } as Parameters<typeof createClientV4>[0]);
    legacy.on('error', () => {});
    await legacy.connect();
  });
  afterAll(async () => {
    await legacy?.disconnect();
  });

  // Today: in legacyMode, sendCommand is node-redis' callback-style one and returns undefined; the
  // store reads `undefined !== null` as "claimed", so every claim of the same key wins: two
  // deliveries of one callback both exchange the code, which duplicate handling exists to stop.
  // (It should use client.v4.sendCommand, or refuse the client, and count only "OK" as a claim.)
  it('refuses a second claim of the same key', async () => {
    const store = redisCallbackStore(legacy as unknown as Parameters<typeof redisCallbackStore>[0]);
    const key = `attacks-2:${Math.random()}`;
    expect(await store.claim(key, 'first', 60)).toBe(true);
    expect(await store.claim(key, 'second', 60)).toBe(false);
    expect(await store.get(key)).toBe('first');
  });

  // Today: get() always reads null, so the record of the finished login is never found: the reload
  // fails with 403 WECHAT_STATE_MISSING instead of answering as the first delivery did.
  it("answers a reload of the callback after the login with the login's user, as with any other client", async () => {
    const store = redisCallbackStore(legacy as unknown as Parameters<typeof redisCallbackStore>[0]);
    const agent = request.agent(buildApp({ duplicateCallbacks: { store } }, { logIn: true }));
    const callback = await loginOnEmulator(emulator, agent, { user: 'alice' });
    expect((await agent.get(callback)).status).toBe(200);
    // The session Passport gave the browser at login joins the record once that answer is out
    // (docs/production.md): the reload is sent after it has.
    const query = new URL(callback, 'http://x').searchParams;
    const key = callbackKey(DEMO_WEBSITE_APP.appid, query.get('code') ?? '', query.get('state') ?? '');
    for (let waited = 0; ; waited += 10) {
      const record = JSON.parse((await store.get(key)) ?? '{"sessions":[]}') as { sessions: string[] };
      if (record.sessions.length >= 2 || waited > 2_000) break;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    const reload = await agent.get(callback);
    expect(reload.status).toBe(200);
    expect(reload.body.user?.name).toBe('Alice 🐼');
  });
});

describe('a login passport-oauth2 started before the upgrade', () => {
  // Today: store() copies the legacy login into `pending` with expiresAt: Infinity and also leaves
  // it in the session's `state`. A JSON session store turns Infinity into null and drops the copy;
  // a store that keeps numbers (structured clone, BSON) keeps both, so the legacy state verifies
  // twice — the second time with another WeChat code — and its copy never expires.
  it('verifies the legacy state only once, also after the browser started another login', async () => {
    const app = express();
    const store = new StructuredCloneStore();
    app.use(session({ secret: 'attacks-2', resave: false, saveUninitialized: false, store }));
    // Leaves the session as passport-oauth2's NonceStore left it at the start of a login.
    app.get('/legacy-start', (req, res) => {
      (req.session as unknown as Record<string, unknown>)['oauth2:127.0.0.1'] = { state: 'legacyhandle0123456789ab' };
      res.end();
    });
    app.use(buildApp({}, { store }));
    const agent = request.agent(app);
    await agent.get('/legacy-start').expect(200);
    const start = new URL((await agent.get('/auth/wechat').expect(302)).headers.location as string); // another login
    start.searchParams.set('state', 'legacyhandle0123456789ab');
    const first = await agent.get(callbackFrom(emulator, start.toString(), { user: 'alice' }));
    expect(first.status).toBe(200);
    const again = await agent.get(callbackFrom(emulator, start.toString(), { user: 'bob' }));
    expect(again.status).toBe(403);
    expect(again.body.user).toBeUndefined();
  });
});

describe('the passportView proxy', () => {
  // Today: an app that pins req.query with Object.defineProperty(req, 'query', { value }) (a way
  // round Express 5's getter; non-writable and non-configurable by default) makes the proxy break
  // its invariant on any ?error=: "'get' on proxy: property 'query' is a read-only and
  // non-configurable data property…" — a 500 for anyone adding ?error=x to the login link. The
  // Object.create view it replaced had no such invariant.
  it('starts a login whose link carries ?error= when the app made req.query a read-only property', async () => {
    const pinQuery: express.RequestHandler = (req, _res, next) => {
      Object.defineProperty(req, 'query', { value: { ...req.query }, enumerable: true });
      next();
    };
    const agent = request.agent(buildApp({}, { before: pinQuery }));
    const res = await agent.get('/auth/wechat?error=x');
    expect(res.status).toBe(302);
    expect(res.headers.location).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/connect\/qrconnect\?/);
  });
});

describe('diagnostics_channel subscribers', () => {
  // Today: end() assigns durationMs/ok to the event object; a subscriber that froze it at start
  // (an APM keeping it immutable) makes that assignment throw, observeCall rejects with the
  // TypeError, and the login answers 500 — after WeChat has already spent the code.
  it('cannot break a login by freezing the call event', async () => {
    const freeze = (event: unknown) => Object.freeze(event);
    subscribe(WECHAT_CALL_START_CHANNEL, freeze);
    try {
      const agent = request.agent(buildApp());
      const callback = await loginOnEmulator(emulator, agent, { user: 'alice' });
      const res = await agent.get(callback);
      expect(res.status).toBe(200);
      expect(res.body.user?.name).toBe('Alice 🐼');
    } finally {
      unsubscribe(WECHAT_CALL_START_CHANNEL, freeze);
    }
  });
});

describe('app state of store: true', () => {
  // Today: WeChatAuthenticateOptions types `state` as a string ("kept in the session by the state
  // store, needs store: true"), but passport-oauth2 1.8 sends a string state to WeChat as it is and
  // stores nothing: no nonce for that login, and its callback always fails WECHAT_STATE_MISSING.
  it('gives back a string app state passed to passport.authenticate, with the login finished', async () => {
    const agent = request.agent(buildApp({ store: true } as Partial<WeChatStrategyOptions>, { start: { state: 'tab1' } }));
    const start = await agent.get('/auth/wechat').expect(302);
    expect(new URL(start.headers.location as string).searchParams.get('state')).not.toBe('tab1'); // a nonce goes to WeChat, not the app's text
    const res = await agent.get(callbackFrom(emulator, start.headers.location as string, { user: 'alice' }));
    expect(res.status).toBe(200);
    expect(res.body.state).toBe('tab1');
  });
});

describe("the emulator's avatars", () => {
  // Today: an emulator started with host '0.0.0.0' (to reach it from a phone on the LAN, e.g. for
  // the Official Account flow) answers headimgurl http://0.0.0.0:<port>/mmopen/…; 0.0.0.0 is not in
  // the loopback list, so parseProfile upgrades it to https://, where the emulator serves no TLS:
  // the avatar is broken.
  it('gives a profile avatar that loads when the emulator listens on 0.0.0.0', async () => {
    const wide = await WeChatEmulator.start({ host: '0.0.0.0' });
    try {
      const agent = request.agent(buildApp({}, { emulator: wide }));
      const callback = await loginOnEmulator(wide, agent, { user: 'alice' });
      const avatar = (await agent.get(callback).expect(200)).body.user.avatar as string;
      const status = await fetch(avatar).then(
        (res) => res.status,
        (error: Error) => `${error.message}: ${String(error.cause)}`,
      );
      expect(status).toBe(200);
    } finally {
      await wide.close();
    }
  });
});
