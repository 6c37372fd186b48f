/**
 * One reading of the request decides whether it starts a login or finishes one, and
 * passport-oauth2 sees the same: WeChat sends the user back with a GET, so the code and state
 * come from the query only. A body must not turn a login start into a callback that skips the
 * strategy's checks (a plausible code, the duplicate-callback claim).
 */
import express from 'express';
import session from 'express-session';
import { Passport } from 'passport';
import request from 'supertest';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { WeChatStrategy, type WeChatStrategyOptions } from '../lib/index.js';
import { DEMO_WEBSITE_APP, WeChatEmulator } from '../lib/testing/index.js';
import { loginOnEmulator } from './helpers/emulator-login.js';

let emulator: WeChatEmulator;

beforeAll(async () => {
  emulator = await WeChatEmulator.start();
});
afterEach(() => emulator.reset());
afterAll(() => emulator.close());

/** Login routes that also accept POST with a JSON body, as an app with a login form might mount them. */
function buildApp() {
  const passport = new Passport();
  const options = { ...emulator.strategyOptions(DEMO_WEBSITE_APP.appid), callbackURL: 'http://localhost:3000/auth/wechat/callback' };
  passport.use(new WeChatStrategy(options as WeChatStrategyOptions, (_a, _r, profile, done) => done(null, { id: profile.id })));
  passport.serializeUser((user, done) => done(null, JSON.stringify(user)));
  passport.deserializeUser((json: string, done) => done(null, JSON.parse(json) as Express.User));
  const app = express();
  app.use(session({ secret: 'test', resave: false, saveUninitialized: false }));
  app.use(express.json());
  app.use(passport.session());
  const finish = passport.authenticate('wechat', { failureRedirect: '/failed' });
  app.get('/auth/wechat', finish, (_req, res) => res.redirect('/me'));
  app.post('/auth/wechat', finish, (_req, res) => res.redirect('/me'));
  app.get('/me', (req, res) => res.json({ user: req.user ?? null }));
  return app;
}

const stateIn = (path: string) => new URL(path, 'http://x').searchParams.get('state') ?? '';
const codeIn = (path: string) => new URL(path, 'http://x').searchParams.get('code') ?? '';
const tokenCalls = () => emulator.calls.filter((call) => call.endpoint === 'access_token').length;

describe('a code or state outside the query', () => {
  it('starts a login when ?code= is empty and the body carries a code, without calling WeChat', async () => {
    const agent = request.agent(buildApp());
    const state = stateIn(await loginOnEmulator(emulator, agent, { user: 'alice' }));
    const oversized = 'A'.repeat(600); // a code the callback checks would refuse before WeChat sees it
    const answer = await agent.post('/auth/wechat?code=').send({ code: oversized, state }).expect(302);
    expect(new URL(answer.headers.location as string).origin).toBe(new URL(emulator.endpoints.authorizationURL).origin);
    expect(tokenCalls()).toBe(0);
  });

  it('never exchanges a code that arrives only in a body', async () => {
    const agent = request.agent(buildApp());
    const path = await loginOnEmulator(emulator, agent, { user: 'alice' });
    const answer = await agent.post('/auth/wechat').send({ code: codeIn(path), state: stateIn(path) }).expect(302);
    expect(answer.headers.location).not.toBe('/me');
    expect(tokenCalls()).toBe(0);
    expect((await agent.get('/me')).body.user).toBeNull();
  });

});

describe('an async verify', () => {
  /** The callback route with `verify`, an error handler that answers 500 with the message. */
  function appWithVerify(verify: (profile: { id: string }, done: (err: unknown, user?: Express.User) => void) => unknown) {
    const passport = new Passport();
    const options = { ...emulator.strategyOptions(DEMO_WEBSITE_APP.appid), callbackURL: 'http://localhost:3000/auth/wechat/callback' };
    passport.use(new WeChatStrategy(options as WeChatStrategyOptions, (_a, _r, profile, done) => verify(profile, done)));
    passport.serializeUser((user, done) => done(null, JSON.stringify(user)));
    passport.deserializeUser((json: string, done) => done(null, JSON.parse(json) as Express.User));
    const app = express();
    app.use(session({ secret: 'test', resave: false, saveUninitialized: false }));
    app.use(passport.session());
    app.get('/auth/wechat', passport.authenticate('wechat'));
    app.get('/auth/wechat/callback', passport.authenticate('wechat'), (_req, res) => res.redirect('/me'));
    app.use((error: Error, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
      res.status(500).json({ error: error.message });
    });
    return app;
  }

  it('ends the login in an error when its promise rejects, with no unhandled rejection', async () => {
    const unhandled: unknown[] = [];
    const record = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', record);
    try {
      // An async function: it returns a promise that rejects, and never calls done.
      const agent = request.agent(appWithVerify(async () => Promise.reject(new Error('the user database is down'))));
      const answer = await agent.get(await loginOnEmulator(emulator, agent, { user: 'alice' })).expect(500);
      expect(answer.body).toEqual({ error: 'the user database is down' });
      await new Promise((resolve) => setImmediate(resolve));
      expect(unhandled).toEqual([]);
    } finally {
      process.removeListener('unhandledRejection', record);
    }
  });

  it('logs the user in when it calls done and then resolves', async () => {
    const agent = request.agent(appWithVerify(async (profile, done) => done(null, { id: profile.id })));
    await agent.get(await loginOnEmulator(emulator, agent, { user: 'alice' })).expect(302).expect('location', '/me');
  });

  it('ends the login once when it calls done and then rejects', async () => {
    const agent = request.agent(
      appWithVerify(async (profile, done) => {
        done(null, { id: profile.id });
        throw new Error('after done');
      }),
    );
    await agent.get(await loginOnEmulator(emulator, agent, { user: 'alice' })).expect(302).expect('location', '/me');
  });
});
