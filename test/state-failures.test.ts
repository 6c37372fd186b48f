/**
 * A callback whose state does not verify fails with a stable `code` and a sentence for the person
 * at the browser, never passport-oauth2's developer wording (README, "What reaches
 * failureRedirect"). Real Express 5 + express-session + Passport against the local emulator.
 */
import express from 'express';
import session from 'express-session';
import { Passport } from 'passport';
import request from 'supertest';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { WeChatStrategy, type WeChatStrategyOptions } from '../lib/index.js';
import { DEMO_WEBSITE_APP, WeChatEmulator } from '../lib/testing/index.js';
import { loginOnEmulator } from './helpers/emulator-login.js';
import { jsonCallback } from './helpers/express-app.js';

let emulator: WeChatEmulator;
beforeAll(async () => {
  emulator = await WeChatEmulator.start();
});
afterEach(() => emulator.reset());
afterAll(() => emulator.close());

const PASSPORT_WORDING = /authorization request state/;

/**
 * An app whose /auth/wechat/callback answers the failure as JSON (`{ status, info }`), and whose
 * /redirecting-callback uses failureRedirect + failureMessage, as the README does.
 */
function buildApp(extra: Partial<WeChatStrategyOptions> = {}, verifyFails?: object) {
  const passport = new Passport();
  passport.use(
    new WeChatStrategy(
      { ...emulator.strategyOptions(DEMO_WEBSITE_APP.appid), callbackURL: 'http://localhost:3000/auth/wechat/callback', ...extra } as WeChatStrategyOptions,
      (_accessToken, _refreshToken, profile, done) => (verifyFails ? done(null, false, verifyFails) : done(null, { id: profile.id })),
    ),
  );
  passport.serializeUser((user, done) => done(null, JSON.stringify(user)));
  passport.deserializeUser((json: string, done) => done(null, JSON.parse(json) as Express.User));
  const app = express();
  app.use(session({ secret: 'test', resave: false, saveUninitialized: false }));
  app.use(passport.session());
  app.get('/auth/wechat', passport.authenticate('wechat'));
  app.get('/auth/wechat/callback', jsonCallback(passport, 'info'));
  app.get('/redirecting-callback', passport.authenticate('wechat', { failureRedirect: '/failed', failureMessage: true }), (_req, res) => res.redirect('/'));
  app.get('/failed', (req, res) => res.json({ messages: (req.session as unknown as { messages?: string[] }).messages ?? [] }));
  return app;
}

describe('a callback whose state does not verify', () => {
  it('fails with WECHAT_STATE_MISSING when opened in a browser that started no login', async () => {
    const app = buildApp();
    const path = await loginOnEmulator(emulator, request.agent(app), { user: 'alice' });
    const res = await request.agent(app).get(path).expect(403);
    expect(res.body.info.code).toBe('WECHAT_STATE_MISSING');
    expect(res.body.info.message).toBe('This login link has expired or was opened in another browser. Please start the login again.');
  });

  it('fails with WECHAT_STATE_MISSING when the state was already used (duplicate handling off)', async () => {
    const agent = request.agent(buildApp({ duplicateCallbacks: false }));
    const path = await loginOnEmulator(emulator, agent, { user: 'alice' });
    await agent.get(path).expect(200);
    const res = await agent.get(path).expect(403);
    expect(res.body.info.code).toBe('WECHAT_STATE_MISSING');
  });

  it('fails with WECHAT_STATE_MISMATCH when the state differs from the one this browser holds', async () => {
    const agent = request.agent(buildApp());
    const path = await loginOnEmulator(emulator, agent, { user: 'alice' });
    const edited = path.replace(/state=([^&]+)/, (_m, state: string) => `state=${state.slice(0, -1)}${state.endsWith('A') ? 'B' : 'A'}`);
    const res = await agent.get(edited).expect(403);
    expect(res.body.info.code).toBe('WECHAT_STATE_MISMATCH');
    expect(res.body.info.message).toBe('This login link does not match the login started in this browser. Please start the login again.');
  });

  it('fails with WECHAT_STATE_MISMATCH when a custom state store refuses the state with its own wording', async () => {
    const store = {
      store: (_req: unknown, _meta: unknown, done: (err: null, handle: string) => void) => done(null, 'handle1'),
      verify: (_req: unknown, _state: string, done: (err: null, ok: false, info: object) => void) => done(null, false, { message: 'nope' }),
    };
    const agent = request.agent(buildApp({ store } as Partial<WeChatStrategyOptions>));
    const path = await loginOnEmulator(emulator, agent, { user: 'alice' });
    const res = await agent.get(path).expect(403);
    expect(res.body.info).toEqual({
      code: 'WECHAT_STATE_MISMATCH',
      message: 'This login link does not match the login started in this browser. Please start the login again.',
    });
  });

  it('passes on a failure a custom state store gives its own stable code', async () => {
    const store = {
      store: (_req: unknown, _meta: unknown, done: (err: null, handle: string) => void) => done(null, 'handle1'),
      verify: (_req: unknown, _state: string, done: (err: null, ok: false, info: object) => void) =>
        done(null, false, { code: 'APP_LOGIN_EXPIRED', message: 'Your login link expired.' }),
    };
    const agent = request.agent(buildApp({ store } as Partial<WeChatStrategyOptions>));
    const path = await loginOnEmulator(emulator, agent, { user: 'alice' });
    const res = await agent.get(path).expect(403);
    expect(res.body.info).toEqual({ code: 'APP_LOGIN_EXPIRED', message: 'Your login link expired.' });
  });

  it("puts the person's sentence, not passport-oauth2's wording, into failureMessage's session messages", async () => {
    const app = buildApp();
    const path = (await loginOnEmulator(emulator, request.agent(app), { user: 'alice' })).replace('/auth/wechat/callback', '/redirecting-callback');
    const other = request.agent(app);
    await other.get(path).expect(302).expect('location', '/failed');
    const { messages } = (await other.get('/failed')).body as { messages: string[] };
    expect(messages).toEqual(['This login link has expired or was opened in another browser. Please start the login again.']);
    expect(messages.join()).not.toMatch(PASSPORT_WORDING);
  });

  it('never calls WeChat', async () => {
    const app = buildApp();
    const path = await loginOnEmulator(emulator, request.agent(app), { user: 'alice' });
    await request.agent(app).get(path).expect(403);
    expect(emulator.calls.filter((call) => call.endpoint === 'access_token')).toHaveLength(0);
  });
});

describe("a failure the app's verify reports after the state verified", () => {
  it("reaches the failure handler as the app's own info, without a state code", async () => {
    const agent = request.agent(buildApp({}, { message: 'Your account is suspended.', reason: 'suspended' }));
    const path = await loginOnEmulator(emulator, agent, { user: 'alice' });
    const res = await agent.get(path).expect(401);
    expect(res.body.info).toEqual({ message: 'Your account is suspended.', reason: 'suspended' });
  });
});
