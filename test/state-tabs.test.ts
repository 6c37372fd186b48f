/**
 * Several logins started in one browser (two tabs, a double click, the back button): whichever the
 * user finishes works; each is single-use and expires; at most five stay pending (docs/state.md).
 * Real Express 5 + express-session + Passport against the local emulator.
 */
import express from 'express';
import session from 'express-session';
import { Passport } from 'passport';
import request from 'supertest';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { WeChatStrategy, type WeChatStrategyOptions } from '../lib/index.js';
import { MAX_PENDING_LOGINS, PENDING_LOGIN_TTL_MS } from '../lib/state-store.js';
import { DEMO_OFFICIAL_ACCOUNT_APP, DEMO_WEBSITE_APP, WeChatEmulator } from '../lib/testing/index.js';
import { callbackFrom, type Agent } from './helpers/emulator-login.js';

let emulator: WeChatEmulator;
beforeAll(async () => {
  emulator = await WeChatEmulator.start();
});
afterEach(() => {
  emulator.reset();
  vi.useRealTimers();
});
afterAll(() => emulator.close());

/**
 * The README's app, whose callback answers JSON: `{ user, state }` on success (`state`: the app
 * state the login was started with), `{ failed: info }` (403) otherwise. `keepSessionInfo` is
 * Passport's option to keep the session's data when it regenerates the session at login.
 */
function buildApp(extra: Partial<WeChatStrategyOptions> = {}, { keepSessionInfo = false } = {}) {
  const passport = new Passport();
  const { clientID, clientSecret, authorizationURL } = emulator.strategyOptions(DEMO_OFFICIAL_ACCOUNT_APP.appid);
  passport.use(
    new WeChatStrategy(
      {
        ...emulator.strategyOptions(DEMO_WEBSITE_APP.appid),
        callbackURL: 'http://localhost:3000/auth/wechat/callback',
        officialAccount: { clientID, clientSecret, authorizationURL, scope: 'snsapi_userinfo' },
        ...extra,
      } as WeChatStrategyOptions,
      (_accessToken, _refreshToken, profile, done) => done(null, { id: profile.id, name: profile.displayName }),
    ),
  );
  passport.serializeUser((user, done) => done(null, JSON.stringify(user)));
  passport.deserializeUser((json: string, done) => done(null, JSON.parse(json) as Express.User));
  const app = express();
  app.use(session({ secret: 'tabs', resave: false, saveUninitialized: false }));
  app.use(passport.session());
  app.get('/auth/wechat', (req, res, next) => passport.authenticate('wechat', { state: req.query.tab ? { tab: req.query.tab } : undefined } as object)(req, res, next));
  app.get('/auth/wechat/official-account', passport.authenticate('wechat', { flow: 'official-account' }));
  app.get('/auth/wechat/callback', (req, res, next) => {
    passport.authenticate('wechat', (error: unknown, user: Express.User | false, info: { state?: unknown } | undefined) => {
      if (error) return next(error);
      if (!user) return res.status(403).json({ failed: info ?? null });
      req.logIn(user, { session: true, keepSessionInfo } as { session: boolean }, (loginError) => (loginError ? next(loginError) : res.json({ user, state: info?.state ?? null })));
    })(req, res, next);
  });
  return app;
}

/** Opens a login in one tab of `agent`'s browser; the user confirms on WeChat later, with `callback`. */
async function openTab(agent: Agent, user = 'alice', path = '/auth/wechat'): Promise<string> {
  const start = await agent.get(path).expect(302);
  return callbackFrom(emulator, start.headers.location as string, { user });
}

describe('two tabs in one browser', () => {
  it('finishes the older tab when the user confirms it first', async () => {
    const agent = request.agent(buildApp());
    const older = await openTab(agent);
    await openTab(agent);
    const res = await agent.get(older).expect(200);
    expect(res.body.user.name).toBe('Alice 🐼');
  });

  it('finishes the newer tab when the user confirms it first', async () => {
    const agent = request.agent(buildApp());
    await openTab(agent);
    const newer = await openTab(agent);
    expect((await agent.get(newer).expect(200)).body.user.name).toBe('Alice 🐼');
  });

  it('fails the other tab afterwards with WECHAT_STATE_MISSING, since Passport gave the browser a new session at login', async () => {
    const agent = request.agent(buildApp({ duplicateCallbacks: false }));
    const first = await openTab(agent);
    const second = await openTab(agent);
    await agent.get(first).expect(200);
    expect((await agent.get(second).expect(403)).body.failed.code).toBe('WECHAT_STATE_MISSING');
  });

  it("finishes the other tab too when login keeps the session's data (Passport's keepSessionInfo)", async () => {
    const agent = request.agent(buildApp({ duplicateCallbacks: false }, { keepSessionInfo: true }));
    const alice = await openTab(agent, 'alice');
    const bob = await openTab(agent, 'bob');
    await agent.get(alice).expect(200);
    expect((await agent.get(bob).expect(200)).body.user.name).toBe('Bob');
  });

  it('gives each tab back the app state it was started with', async () => {
    const agent = request.agent(buildApp({ store: true } as Partial<WeChatStrategyOptions>));
    const one = await openTab(agent, 'alice', '/auth/wechat?tab=one');
    await openTab(agent, 'alice', '/auth/wechat?tab=two');
    expect((await agent.get(one).expect(200)).body.state).toEqual({ tab: 'one' });
  });

  it('keeps a website login and an Official Account login of one browser apart, both pending', async () => {
    const agent = request.agent(buildApp());
    const website = await openTab(agent);
    await openTab(agent, 'alice', '/auth/wechat/official-account');
    expect((await agent.get(website).expect(200)).body.user.name).toBe('Alice 🐼');
  });
});

describe('the logins one browser has pending', () => {
  it(`keeps the last ${MAX_PENDING_LOGINS}: the newest finishes`, async () => {
    const agent = request.agent(buildApp());
    const tabs: string[] = [];
    for (let i = 0; i <= MAX_PENDING_LOGINS; i++) tabs.push(await openTab(agent));
    expect((await agent.get(tabs[MAX_PENDING_LOGINS] as string).expect(200)).body.user.name).toBe('Alice 🐼');
  });

  it(`forgets the oldest when a browser starts more than ${MAX_PENDING_LOGINS}: it fails with WECHAT_STATE_MISMATCH`, async () => {
    const agent = request.agent(buildApp());
    const tabs: string[] = [];
    for (let i = 0; i <= MAX_PENDING_LOGINS; i++) tabs.push(await openTab(agent));
    expect((await agent.get(tabs[0] as string).expect(403)).body.failed.code).toBe('WECHAT_STATE_MISMATCH');
  });

  it(`keeps the second oldest of ${MAX_PENDING_LOGINS + 1}`, async () => {
    const agent = request.agent(buildApp());
    const tabs: string[] = [];
    for (let i = 0; i <= MAX_PENDING_LOGINS; i++) tabs.push(await openTab(agent));
    expect((await agent.get(tabs[1] as string).expect(200)).body.user.name).toBe('Alice 🐼');
  });

  it('fails a login started more than 10 minutes ago with WECHAT_STATE_MISSING', async () => {
    vi.useFakeTimers({ toFake: ['Date'], now: Date.now() });
    const agent = request.agent(buildApp());
    const callback = await openTab(agent);
    vi.setSystemTime(Date.now() + PENDING_LOGIN_TTL_MS + 1_000);
    expect((await agent.get(callback).expect(403)).body.failed.code).toBe('WECHAT_STATE_MISSING');
  });

  it('finishes a login started 9 minutes ago', async () => {
    vi.useFakeTimers({ toFake: ['Date'], now: Date.now() });
    const agent = request.agent(buildApp());
    const callback = await openTab(agent);
    vi.setSystemTime(Date.now() + 9 * 60 * 1000);
    expect((await agent.get(callback).expect(200)).body.user.name).toBe('Alice 🐼');
  });

  it('fails an expired login with WECHAT_STATE_MISMATCH while another is still pending, and still finishes that one', async () => {
    vi.useFakeTimers({ toFake: ['Date'], now: Date.now() });
    const agent = request.agent(buildApp());
    const old = await openTab(agent);
    vi.setSystemTime(Date.now() + PENDING_LOGIN_TTL_MS - 60_000);
    const recent = await openTab(agent);
    vi.setSystemTime(Date.now() + 120_000);
    expect((await agent.get(old).expect(403)).body.failed.code).toBe('WECHAT_STATE_MISMATCH');
    expect((await agent.get(recent).expect(200)).body.user.name).toBe('Alice 🐼');
  });

  it('uses a state once: the same callback again (duplicate handling off) fails, and calls WeChat once', async () => {
    const agent = request.agent(buildApp({ duplicateCallbacks: false }, { keepSessionInfo: true }));
    const callback = await openTab(agent);
    await openTab(agent); // another login stays pending
    await agent.get(callback).expect(200);
    expect((await agent.get(callback).expect(403)).body.failed.code).toBe('WECHAT_STATE_MISMATCH');
    expect(emulator.calls.filter((call) => call.endpoint === 'access_token')).toHaveLength(1);
  });

  it("refuses a state from another browser's pending login, and leaves this browser's logins pending", async () => {
    const app = buildApp();
    const mine = request.agent(app);
    const theirs = request.agent(app);
    const myCallback = await openTab(mine);
    const theirCallback = await openTab(theirs, 'bob');
    const forged = myCallback.replace(/state=[^&]+/, /state=[^&]+/.exec(theirCallback)?.[0] ?? '');
    expect((await mine.get(forged).expect(403)).body.failed.code).toBe('WECHAT_STATE_MISMATCH');
    expect((await mine.get(myCallback).expect(200)).body.user.name).toBe('Alice 🐼');
  });
});

describe('sessions written by passport-oauth2 before an upgrade', () => {
  it.each([
    ["a handle (passport-oauth2's NonceStore)", 'legacyhandle0123456789ab'],
    ["{ handle, state } (passport-oauth2's StateStore)", { handle: 'legacyhandle0123456789ab', state: { tab: 'old' } }],
  ])('still finishes a login whose state the session holds as %s', async (_name, stored) => {
    const app = express();
    app.use(session({ secret: 'tabs', resave: false, saveUninitialized: false }));
    // Leaves the session as passport-oauth2's store left it at the start of a login.
    app.get('/legacy-start', (req, res) => {
      (req.session as unknown as Record<string, unknown>)['oauth2:127.0.0.1'] = { state: stored };
      res.end();
    });
    app.use(buildApp({ officialAccount: undefined }));
    const agent = request.agent(app);
    await agent.get('/legacy-start').expect(200);
    const start = new URL((await agent.get('/auth/wechat').expect(302)).headers.location as string);
    start.searchParams.set('state', 'legacyhandle0123456789ab');
    const res = await agent.get(callbackFrom(emulator, start.toString(), { user: 'alice' })).expect(200);
    expect(res.body.user.name).toBe('Alice 🐼');
    expect(res.body.state).toEqual(typeof stored === 'string' ? null : { tab: 'old' });
  });
});
