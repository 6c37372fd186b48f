/**
 * The state a login carries through WeChat: custom state stores of each arity passport-oauth2
 * knows, and the two-app strategy's bound states (the flow letter and its MAC) when the state
 * that comes back is not one the strategy issued.
 */
import { randomBytes } from 'node:crypto';
import express from 'express';
import session from 'express-session';
import { Passport } from 'passport';
import request from 'supertest';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { flowBindingKey } from '../lib/flow-state.js';
import { WeChatStrategy, type WeChatStrategyOptions } from '../lib/index.js';
import { DEMO_OFFICIAL_ACCOUNT_APP as OA, DEMO_WEBSITE_APP as WEB, WeChatEmulator } from '../lib/testing/index.js';
import { callbackFrom } from './helpers/emulator-login.js';

const CALLBACK = 'http://localhost:3000/auth/wechat/callback';

let emulator: WeChatEmulator;

beforeAll(async () => {
  emulator = await WeChatEmulator.start();
});
afterEach(() => emulator.reset());
afterAll(() => emulator.close());

/** The website app plus the emulator's Official Account. */
function bothApps(): WeChatStrategyOptions {
  const { clientID, clientSecret, authorizationURL } = emulator.strategyOptions(OA.appid);
  return {
    ...emulator.strategyOptions(WEB.appid),
    callbackURL: CALLBACK,
    officialAccount: { clientID, clientSecret, authorizationURL, scope: 'snsapi_userinfo' },
  } as WeChatStrategyOptions;
}

const websiteOnly = (extra: Partial<WeChatStrategyOptions> = {}) =>
  ({ ...emulator.strategyOptions(WEB.appid), callbackURL: CALLBACK, ...extra }) as WeChatStrategyOptions;

/** Login routes whose callback answers `{ user, state }` (Passport's authInfo.state) or the failure with its status. */
function buildApp(options: WeChatStrategyOptions) {
  const passport = new Passport();
  passport.use(new WeChatStrategy(options, (_accessToken, _refreshToken, profile, done) => done(null, { openid: profile.openid })));
  passport.serializeUser((user, done) => done(null, JSON.stringify(user)));
  passport.deserializeUser((json: string, done) => done(null, JSON.parse(json) as Express.User));
  const app = express();
  app.use(session({ secret: 'test session secret', resave: false, saveUninitialized: false }));
  app.use(passport.session());
  app.get('/auth/wechat', (req, res, next) =>
    passport.authenticate('wechat', { state: req.query.returnTo ? ({ returnTo: req.query.returnTo } as unknown as string) : undefined })(req, res, next),
  );
  app.get('/auth/wechat/callback', (req, res, next) => {
    passport.authenticate('wechat', (error: unknown, user: Express.User | false, info: unknown, status: unknown) => {
      if (error) return next(error);
      if (!user) return res.status(typeof status === 'number' ? status : 401).json({ failed: info ?? null });
      req.logIn(user, (loginError) => (loginError ? next(loginError) : res.json({ user, state: (info as { state?: unknown } | undefined)?.state ?? null })));
    })(req, res, next);
  });
  return app;
}

type Agent = ReturnType<typeof request.agent>;

async function startLogin(agent: Agent, path = '/auth/wechat'): Promise<string> {
  return (await agent.get(path).expect(302)).headers.location as string;
}

const stateOf = (url: string) => new URL(url, 'http://x').searchParams.get('state') ?? '';

describe('a custom state store', () => {
  /** Single-use handles in a map, holding the app state; `calls` records what each method was given. */
  function handleMap() {
    const handles = new Map<string, unknown>();
    const calls: Array<{ method: string; args: unknown[] }> = [];
    return { handles, calls, issue: (state: unknown) => (handles.set(randomBytes(12).toString('hex'), state), [...handles.keys()].at(-1) as string) };
  }

  it("written for passport-oauth2's five-argument store(req, verifier, state, meta, done) gets the app state and the app's meta", async () => {
    const { handles, calls, issue } = handleMap();
    const store = {
      store(req: unknown, verifier: unknown, state: unknown, meta: unknown, done: (err: Error | null, handle?: string) => void) {
        calls.push({ method: 'store', args: [verifier, state, meta] });
        done(null, issue(state));
      },
      verify(_req: unknown, handle: string, done: (err: Error | null, ok: boolean, state?: unknown) => void) {
        const known = handles.has(handle);
        const state = handles.get(handle);
        handles.delete(handle);
        done(null, known, state);
      },
    };
    const agent = request.agent(buildApp(websiteOnly({ store: store as unknown as WeChatStrategyOptions['store'] })));
    const location = await startLogin(agent, '/auth/wechat?returnTo=cart');
    expect([...handles.keys()]).toEqual([stateOf(location)]);
    expect(calls).toEqual([{ method: 'store', args: [undefined, { returnTo: 'cart' }, expect.objectContaining({ clientID: WEB.appid, callbackURL: CALLBACK })] }]);
    const answer = await agent.get(callbackFrom(emulator, location, { user: 'alice' })).expect(200);
    expect(answer.body).toEqual({ user: { openid: emulator.openidFor(WEB.appid, 'alice') }, state: { returnTo: 'cart' } });
  });

  it("written with a four-argument verify(req, state, meta, done) gets the handle it issued and the app's meta", async () => {
    const { handles, calls, issue } = handleMap();
    const store = {
      store(_req: unknown, _meta: unknown, done: (err: Error | null, handle?: string) => void) {
        done(null, issue(undefined));
      },
      verify(_req: unknown, handle: string, meta: unknown, done: (err: Error | null, ok: boolean) => void) {
        calls.push({ method: 'verify', args: [handle, meta] });
        done(null, handles.delete(handle));
      },
    };
    const agent = request.agent(buildApp(websiteOnly({ store: store as unknown as WeChatStrategyOptions['store'] })));
    const location = await startLogin(agent);
    const answer = await agent.get(callbackFrom(emulator, location, { user: 'alice' })).expect(200);
    expect(answer.body.user).toEqual({ openid: emulator.openidFor(WEB.appid, 'alice') });
    expect(calls).toEqual([{ method: 'verify', args: [stateOf(location), expect.objectContaining({ clientID: WEB.appid, callbackURL: CALLBACK })] }]);
  });
});

describe('a two-app strategy given a state it did not issue', () => {
  it('refuses a state that names neither app with WECHAT_STATE_MISMATCH (403), without calling WeChat', async () => {
    const agent = request.agent(buildApp(bothApps()));
    const state = stateOf(await startLogin(agent));
    const code = emulator.issueCode({ appid: WEB.appid, user: 'alice' });
    for (const unnamed of [`x${state.slice(1)}`, `W${state.slice(1)}`, `O${state.slice(1)}`]) {
      const refused = await agent.get(`/auth/wechat/callback?code=${code}&state=${unnamed}`);
      expect(refused.status, unnamed).toBe(403);
      expect(refused.body.failed, unnamed).toMatchObject({ code: 'WECHAT_STATE_MISMATCH' });
    }
    expect(emulator.calls).toEqual([]);
  });

  it('refuses a state with a garbled tag without using up the state the browser really holds', async () => {
    const agent = request.agent(buildApp(bothApps()));
    const location = await startLogin(agent);
    const callback = callbackFrom(emulator, location, { user: 'alice' });
    const state = stateOf(callback);
    const garbled = `${state.slice(0, -1)}${state.endsWith('0') ? '1' : '0'}`;
    await agent.get(callback.replace(`state=${state}`, `state=${garbled}`)).expect(403);
    const answer = await agent.get(callback).expect(200);
    expect(answer.body.user).toEqual({ openid: emulator.openidFor(WEB.appid, 'alice') });
  });
});

describe('flowBindingKey', () => {
  it('derives different keys for AppSecrets that only concatenate alike', () => {
    expect(flowBindingKey(['secretA', 'secretB'])).toEqual(flowBindingKey(['secretA', 'secretB']));
    expect(flowBindingKey(['ab', 'c']).equals(flowBindingKey(['a', 'bc']))).toBe(false);
  });
});
