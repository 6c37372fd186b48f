/**
 * The whole login through a real Express 4 app (installed as the `express4` alias) with
 * express-session and passport 0.7. The local WeChat emulator plays WeChat and the user; no
 * network, no mocks. Express 5 runs the same flow in express.test.ts.
 */
import express, { type NextFunction, type Request, type RequestHandler, type Response } from 'express4';
import expressSession, { type SessionOptions } from 'express-session';
import { Passport } from 'passport';
import request from 'supertest';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_WEBSITE_APP, WeChatEmulator } from '../lib/testing/index.js';
import { WeChatStrategy } from '../lib/index.js';
import { loginOnEmulator, type Agent, type LoginChoice } from './helpers/emulator-login.js';

declare module 'express-session' {
  interface SessionData { messages?: string[] }
}

// The one cast: @types/express-session is typed against this repo's Express 5 types. In an
// Express 4 project both resolve to @types/express@4 and `app.use(session(…))` compiles as is.
const session = expressSession as unknown as (options: SessionOptions) => RequestHandler;

let emulator: WeChatEmulator;

beforeAll(async () => {
  emulator = await WeChatEmulator.start();
});
afterEach(() => emulator.reset());
afterAll(() => emulator.close());

/** What this app keeps of a WeChat login. */
interface AppUser {
  id: string;
  name: string;
}

function buildApp() {
  const passport = new Passport();
  passport.use(
    new WeChatStrategy(
      { ...emulator.strategyOptions(DEMO_WEBSITE_APP.appid), callbackURL: 'http://localhost:3000/auth/wechat/callback' },
      (_accessToken, _refreshToken, profile, done) => done(null, { id: profile.id, name: profile.displayName }),
    ),
  );
  passport.serializeUser((user, done) => done(null, JSON.stringify(user)));
  passport.deserializeUser((json: string, done) => done(null, JSON.parse(json) as AppUser));

  const app = express();
  app.use(session({ secret: 'test session secret', resave: false, saveUninitialized: false }));
  app.use(passport.session());
  app.get('/auth/wechat', passport.authenticate('wechat'));
  app.get(
    '/auth/wechat/callback',
    passport.authenticate('wechat', { failureRedirect: '/login', failureMessage: true }),
    (_req, res) => res.redirect('/me'),
  );
  app.get('/me', (req, res) => {
    res.json({ user: req.user ?? null });
  });
  app.get('/login', (req, res) => {
    res.json({ messages: req.session.messages ?? [] });
  });
  app.use((err: Error & { code?: string }, _req: Request, res: Response, _next: NextFunction) => {
    res.status(500).json({ error: err.name, code: err.code });
  });
  return app;
}

/** Starts a login and lets the emulated user confirm or decline; returns the callback's path and query. */
const wechatLogin = (agent: Agent, choice: LoginChoice) => loginOnEmulator(emulator, agent, choice);

describe('an Express 4 app with express-session', () => {
  it('runs on Express 4, not the Express 5 the other tests use', async () => {
    const { version } = (await import('express4/package.json', { with: { type: 'json' } })).default as { version: string };
    expect(version).toMatch(/^4\./);
  });

  it('logs Alice in: redirect to WeChat, confirm, callback, and the session holds her', async () => {
    const agent = request.agent(buildApp());
    await agent.get(await wechatLogin(agent, { user: 'alice' })).expect(302).expect('location', '/me');
    const me = await agent.get('/me').expect(200);
    expect(me.body).toEqual({ user: { id: emulator.unionidFor('alice'), name: 'Alice 🐼' } });
  });

  it('sends a user who declined to failureRedirect with the reason, not back to WeChat', async () => {
    const agent = request.agent(buildApp());
    await agent.get(await wechatLogin(agent, { decline: true })).expect(302).expect('location', '/login');
    expect((await agent.get('/login')).body).toEqual({ messages: ['The WeChat login was declined or cancelled.'] });
    expect((await agent.get('/me')).body).toEqual({ user: null });
  });

  it('sends a callback whose state this session never issued to failureRedirect', async () => {
    const agent = request.agent(buildApp());
    const callback = await wechatLogin(request.agent(buildApp()), { user: 'alice' }); // another browser's login
    await agent.get('/auth/wechat').expect(302);
    await agent.get(callback).expect(302).expect('location', '/login');
    expect(emulator.calls).toEqual([]); // the code was never spent
  });

  it('sends a spent code to failureRedirect (WeChat answers 40163)', async () => {
    const agent = request.agent(buildApp());
    const callback = await wechatLogin(agent, { user: 'bob' });
    await agent.get(callback).expect(302).expect('location', '/me');
    // The same code again, under a fresh state of this session (a reload after a new login start).
    const replay = new URL(callback, 'http://localhost');
    const state = new URL((await agent.get('/auth/wechat')).headers.location as string).searchParams.get('state') ?? '';
    replay.searchParams.set('state', state);
    await agent.get(replay.pathname + replay.search).expect(302).expect('location', '/login');
    expect(emulator.calls.map((call) => call.errcode).at(-1)).toBe(40163);
  });
});
