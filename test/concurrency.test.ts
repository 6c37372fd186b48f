/**
 * Many interleaved logins on one shared strategy instance, against the WeChat emulator answering
 * each call after a random delay: every login must end with its own user (and a Mini Program
 * login with its own session key), and the shared strategy must hold nothing of any login
 * afterwards. Once for each kind of login, driven the way Passport drives a strategy; then
 * hundreds of website logins through a real Express 5 + express-session app, where every
 * browser session must keep its own user.
 *
 * All randomness (who logs in, the emulator's delays, the pauses between steps) comes from one
 * seed, printed on failure: TEST_SEED=<seed> replays the same plan (test/helpers/seed.ts).
 */
import { once } from 'node:events';
import http from 'node:http';
import { inspect } from 'node:util';
import type express from 'express';
import { Passport } from 'passport';
import type { Strategy } from 'passport-strategy';
import request from 'supertest';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { WeChatAppStrategy, WeChatMiniProgramStrategy, WeChatStrategy, type WeChatProfile } from '../lib/index.js';
import { DEMO_MINIPROGRAM_APP, DEMO_MOBILE_APP, DEMO_WEBSITE_APP, WeChatEmulator, type EmulatorApp } from '../lib/testing/index.js';
import { loginOnEmulator } from './helpers/emulator-login.js';
import { expressLoginApp } from './helpers/express-app.js';
import { authenticate, sessionWithState, type FakeRequest } from './helpers/passport.js';
import { randomForTest } from './helpers/seed.js';

const USERS = 120;
const CALLBACK_URL = 'http://localhost:3000/auth/wechat/callback';

/** What the apps here keep of a login. */
interface AppUser {
  id: string;
  openid: string;
  unionid: string | null;
  name: string;
  /** The Mini Program's session key, as verify received it. */
  key?: string;
}

let emulator: WeChatEmulator;

beforeAll(async () => {
  emulator = await WeChatEmulator.start();
  for (let i = 0; i < USERS; i++) {
    // Every third user has no unionid (then the id is the openid), a few have no avatar.
    emulator.registerUser({ id: `user${i}`, nickname: `User ${i} 用户`, unionid: i % 3 !== 0, ...(i % 7 === 0 ? { headimgurl: '' } : {}) });
  }
});
afterEach(() => emulator.reset());
afterAll(() => emulator.close());

function appUser(profile: WeChatProfile): AppUser {
  return { id: profile.id, openid: profile.openid, unionid: profile.unionid ?? null, name: profile.displayName };
}

/** The user `userId` must end up as in `app`: the ids WeChat gives that app, the name only when it read userinfo. */
function expectedUser(app: EmulatorApp, userId: string, withName = true): AppUser {
  const openid = emulator.openidFor(app.appid, userId);
  const unionid = emulator.unionidFor(userId) ?? null;
  return { id: unionid ?? openid, openid, unionid, name: withName ? `User ${userId.slice(4)} 用户` : '' };
}

/**
 * Queues one delay of 0-`maxMs` ms for each of the next `calls` API calls, from `random`: the
 * emulator's latency, but seeded (setLatency draws from Math.random).
 */
function queueDelays(random: () => number, calls: number, maxMs: number): void {
  for (let i = 0; i < calls; i++) emulator.failNext('any', { delayMs: Math.floor(random() * (maxMs + 1)) });
}

function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Runs `task` for 0..count-1, at most `width` at a time, and returns the results in order. */
async function pool<T>(count: number, width: number, task: (index: number) => Promise<T>): Promise<T[]> {
  const results: T[] = new Array<T>(count);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < count) {
      const index = next++;
      results[index] = await task(index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(width, count) }, worker));
  return results;
}

// ---------------------------------------------------------------------------
// Each kind of login, on one strategy instance
// ---------------------------------------------------------------------------

/** A verify that answers after a pause drawn from `random`, as a database lookup would. */
type Later = (then: () => void) => void;

interface LoginKind {
  name: string;
  app: EmulatorApp;
  /** The API calls one login makes. */
  calls: readonly string[];
  /** Whether the login reads userinfo (and so the nickname). */
  readsUserinfo: boolean;
  strategy(later: Later): Strategy;
  /** The request that brings `code` back to the app. */
  request(code: string): FakeRequest;
}

const STATE = 'abcDEF123456abcDEF123456';

const KINDS: LoginKind[] = [
  {
    name: 'WeChatStrategy (website QR login)',
    app: DEMO_WEBSITE_APP,
    calls: ['access_token', 'userinfo'],
    readsUserinfo: true,
    strategy: (later) =>
      new WeChatStrategy({ ...emulator.strategyOptions(DEMO_WEBSITE_APP.appid), callbackURL: CALLBACK_URL }, (_a, _r, profile, done) =>
        later(() => done(null, appUser(profile))),
      ),
    // The session as the redirect leg left it, under the key passport-oauth2 derives from the authorize page's host.
    request: (code) => ({ query: { code, state: STATE }, session: sessionWithState(STATE, `oauth2:${new URL(emulator.url).hostname}`) }),
  },
  {
    name: 'WeChatAppStrategy (native app, posted SendAuth code)',
    app: DEMO_MOBILE_APP,
    calls: ['access_token', 'userinfo'],
    readsUserinfo: true,
    strategy: (later) =>
      new WeChatAppStrategy(emulator.appStrategyOptions(DEMO_MOBILE_APP.appid), (_a, _r, profile, done) => later(() => done(null, appUser(profile)))),
    request: (code) => ({ method: 'POST', body: { code }, query: {}, url: '/auth/wechat/app' }),
  },
  {
    name: 'WeChatMiniProgramStrategy (posted wx.login() code)',
    app: DEMO_MINIPROGRAM_APP,
    calls: ['jscode2session'],
    readsUserinfo: false,
    strategy: (later) =>
      new WeChatMiniProgramStrategy(emulator.miniProgramStrategyOptions(DEMO_MINIPROGRAM_APP.appid), (sessionKey, profile, done) =>
        later(() => done(null, { ...appUser(profile), key: sessionKey.reveal() })),
      ),
    request: (code) => ({ method: 'POST', body: { code }, query: {}, url: '/auth/wechat/miniprogram' }),
  },
];

const LOGINS_PER_KIND = 200;

describe.each(KINDS)(`$name: ${LOGINS_PER_KIND} interleaved logins on one strategy instance, WeChat answering in 0-30 ms`, (kind) => {
  it('ends every login with its own user, and leaves the strategy as it was', async () => {
    const random = randomForTest();
    const strategy = kind.strategy((then) => setTimeout(then, random() * 5));
    const before = inspect(strategy, { depth: Infinity, showHidden: true });
    const plan = Array.from({ length: LOGINS_PER_KIND }, () => `user${Math.floor(random() * USERS)}`);
    queueDelays(random, LOGINS_PER_KIND * kind.calls.length, 30);

    const logins = plan.map((userId) => {
      const code = emulator.issueCode({ appid: kind.app.appid, user: userId });
      // The session key this code's jscode2session answer carries (Mini Programs only).
      const key = kind.app.kind === 'miniprogram' ? emulator.sessionKeyFor(kind.app.appid, userId) : undefined;
      return { userId, code, key };
    });
    const outcomes = await Promise.all(
      logins.map(async ({ code }) => {
        await pause(random() * 10); // start at different times
        return authenticate(strategy, kind.request(code));
      }),
    );

    outcomes.forEach((outcome, index) => {
      const { userId, key } = logins[index] as (typeof logins)[number];
      const user = { ...expectedUser(kind.app, userId, kind.readsUserinfo), ...(key === undefined ? {} : { key }) };
      expect(outcome, `login ${index} as ${userId}`).toEqual({ action: 'success', user, info: {} });
    });
    // WeChat saw each login's calls once, all answered.
    for (const endpoint of kind.calls) expect(emulator.calls.filter((call) => call.endpoint === endpoint)).toHaveLength(LOGINS_PER_KIND);
    expect(emulator.calls.filter((call) => call.status !== 200 || call.errcode !== undefined)).toEqual([]);
    expect(new Set(plan).size, 'the same users log in more than once, at the same time').toBeLessThan(LOGINS_PER_KIND);

    // Nothing a login learnt stayed on the shared strategy.
    const after = inspect(strategy, { depth: Infinity, showHidden: true });
    expect(after).toBe(before);
    for (const userId of new Set(plan)) expect(after).not.toContain(emulator.openidFor(kind.app.appid, userId));
  });
});

// ---------------------------------------------------------------------------
// Website logins through Express 5 and express-session
// ---------------------------------------------------------------------------

const LOGINS = 500;
const CONCURRENCY = 50;

describe(`${LOGINS} interleaved logins through an Express 5 app with express-session, ${CONCURRENCY} at a time, WeChat answering in 0-20 ms`, () => {
  let server: http.Server;
  let strategy: WeChatStrategy;
  /** The verify's pause before it answers; set by the test, from its seed. */
  let verifyPause: () => number = () => 0;

  beforeAll(async () => {
    const passport = new Passport();
    strategy = new WeChatStrategy({ ...emulator.strategyOptions(DEMO_WEBSITE_APP.appid), callbackURL: CALLBACK_URL }, (_a, _r, profile, done) =>
      // A little asynchronous work, as a database lookup would do, to interleave even more.
      setTimeout(() => done(null, appUser(profile)), verifyPause()),
    );
    passport.use(strategy);
    passport.serializeUser((user, done) => done(null, user));
    passport.deserializeUser((user: AppUser, done) => done(null, user));
    const app = expressLoginApp(passport, { sessionSecret: 'concurrency test secret', failurePath: '/failed', failureStatus: 401 });
    app.use(((error, _req, res, _next) => {
      res.status(500).json({ error: String((error as Error).message) });
    }) as express.ErrorRequestHandler);
    server = http.createServer(app);
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
  });

  afterAll(async () => {
    const closed = new Promise((resolve) => server.close(resolve));
    server.closeAllConnections();
    await closed;
  });

  it('ends every browser session with its own user, and leaves the strategy as it was', async () => {
    const random = randomForTest();
    verifyPause = () => random() * 5;
    const before = inspect(strategy, { depth: Infinity, showHidden: true });
    const plan = Array.from({ length: LOGINS }, () => `user${Math.floor(random() * USERS)}`);
    queueDelays(random, LOGINS * 2, 20);

    const agents = await pool(LOGINS, CONCURRENCY, async (index) => {
      const userId = plan[index] as string;
      const agent = request.agent(server);
      const callback = await loginOnEmulator(emulator, agent, { user: userId });
      // Let the other logins run between the steps of this one.
      await pause(random() * 10);
      await agent.get(callback).expect(302).expect('location', '/me');
      const me = await agent.get('/me').expect(200);
      expect(me.body.user, `login ${index} as ${userId}`).toEqual(expectedUser(DEMO_WEBSITE_APP, userId));
      return { agent, userId };
    });

    // Ask again once every login is over: a session that had been crossed with another shows now.
    await pool(agents.length, CONCURRENCY, async (index) => {
      const { agent, userId } = agents[index] as (typeof agents)[number];
      const me = await agent.get('/me').expect(200);
      expect(me.body.user, `session ${index} of ${userId}`).toEqual(expectedUser(DEMO_WEBSITE_APP, userId));
    });

    // WeChat saw exactly one code exchange and one userinfo call per login, all answered.
    const calls = emulator.calls;
    expect(calls.filter((call) => call.endpoint === 'access_token')).toHaveLength(LOGINS);
    expect(calls.filter((call) => call.endpoint === 'userinfo')).toHaveLength(LOGINS);
    expect(calls.filter((call) => call.status !== 200 || call.errcode !== undefined)).toEqual([]);
    expect(new Set(plan).size).toBeGreaterThan(USERS / 2);

    // Nothing a login learnt stayed on the shared strategy.
    const after = inspect(strategy, { depth: Infinity, showHidden: true });
    expect(after).toBe(before);
    for (const userId of new Set(plan)) expect(after).not.toContain(emulator.openidFor(DEMO_WEBSITE_APP.appid, userId));
  });
});
