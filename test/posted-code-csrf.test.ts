/**
 * Login CSRF against the posted-code strategies, at the HTTP edge: a real Express 5 app with
 * express-session, `express.json()` and a session login (`req.logIn`), WeChat played by the local
 * emulator. The attack: another site makes the victim's browser send
 * `POST /auth/wechat/miniprogram?code=<the attacker's code>` with a `text/plain` body — a simple
 * cross-site request, no CORS preflight. `express.json()` skips that body; if the strategy read
 * the query, the victim's browser would end up signed in as the attacker.
 */
import express, { type ErrorRequestHandler, type RequestHandler } from 'express';
import session from 'express-session';
import { Passport } from 'passport';
import request from 'supertest';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { WeChatAppStrategy, WeChatMiniProgramStrategy, type WeChatProfile } from '../lib/index.js';
import { DEMO_MINIPROGRAM_APP, DEMO_MOBILE_APP, WeChatEmulator } from '../lib/testing/index.js';

const MP = DEMO_MINIPROGRAM_APP;
const MOBILE = DEMO_MOBILE_APP;
const EVIL_ORIGIN = 'https://evil.example';

let emulator: WeChatEmulator;

beforeAll(async () => {
  emulator = await WeChatEmulator.start();
});
afterEach(() => emulator.reset());
afterAll(() => emulator.close());

interface SessionUser {
  id: string;
  appid: string | undefined;
}

function userOf(profile: WeChatProfile): SessionUser {
  return { id: profile.id, appid: profile.appid };
}

/**
 * Passport with a custom callback that signs the browser in with `req.logIn` (a session login),
 * and answers a failure with Passport's status and the strategy's info as JSON.
 */
function sessionLogin(passport: InstanceType<typeof Passport>, name: string): RequestHandler {
  return (req, res, next) =>
    passport.authenticate(name, (err: unknown, user: SessionUser | false, info: unknown, status?: number) => {
      if (err) return next(err);
      if (!user) return res.status(status ?? 401).json(info);
      req.logIn(user, (loginError) => (loginError ? next(loginError) : res.json({ user })));
    })(req, res, next);
}

const jsonErrors: ErrorRequestHandler = (error: { message?: string }, _req, res, _next) => {
  res.status(500).json({ message: error.message });
};

/** Both posted-code logins behind express-session, as an app that keeps browser sessions wires them. */
function buildApp(allowCodeInQuery?: boolean) {
  const passport = new Passport();
  passport.serializeUser((user, done) => done(null, JSON.stringify(user)));
  passport.deserializeUser((json: string, done) => done(null, JSON.parse(json) as Express.User));
  const toggle = allowCodeInQuery === undefined ? {} : { allowCodeInQuery };
  passport.use(new WeChatMiniProgramStrategy({ ...emulator.miniProgramStrategyOptions(MP.appid), ...toggle }, (_key, profile, done) => {
    done(null, userOf(profile));
  }));
  passport.use(new WeChatAppStrategy({ ...emulator.appStrategyOptions(MOBILE.appid), ...toggle }, (_a, _r, profile, done) => {
    done(null, userOf(profile));
  }));

  const app = express();
  app.use(session({ secret: 'posted-code csrf test secret', resave: false, saveUninitialized: false }));
  app.use(passport.session());
  app.post('/auth/wechat/miniprogram', express.json(), sessionLogin(passport, 'wechat-miniprogram'));
  app.post('/auth/wechat/app', express.json(), sessionLogin(passport, 'wechat-app'));
  app.get('/me', (req, res) => {
    res.json({ user: req.user ?? null });
  });
  app.use(jsonErrors);
  return app;
}

/** What an attacker's page makes the victim's browser send: a simple request, no preflight. */
function crossSitePost(agent: ReturnType<typeof request.agent>, route: string, code: string) {
  return agent
    .post(`${route}?code=${encodeURIComponent(code)}`)
    .set('Origin', EVIL_ORIGIN)
    .set('Content-Type', 'text/plain')
    .send('{"not":"parsed"}');
}

const LOGINS = [
  { strategy: 'WeChatMiniProgramStrategy', route: '/auth/wechat/miniprogram', appid: MP.appid },
  { strategy: 'WeChatAppStrategy', route: '/auth/wechat/app', appid: MOBILE.appid },
] as const;

describe.each(LOGINS)('login CSRF through a query-string code: $strategy', ({ route, appid }) => {
  it("does not sign the victim's browser in as the attacker: 400 WECHAT_MISSING_CODE, WeChat never called", async () => {
    const victim = request.agent(buildApp());
    const attackersCode = emulator.issueCode({ appid, user: 'bob' }); // the attacker's own wx.login()/SendAuth

    const attack = await crossSitePost(victim, route, attackersCode).expect(400);

    expect(attack.body).toMatchObject({ code: 'WECHAT_MISSING_CODE', message: expect.stringMatching(/post it in the request body/) as unknown });
    expect(attack.text).not.toContain(attackersCode);
    expect(attack.headers['set-cookie']).toBeUndefined(); // no session was started
    expect((await victim.get('/me').expect(200)).body).toEqual({ user: null });
    expect(emulator.calls).toEqual([]); // the code never reached WeChat
  });

  it('still signs in with the code posted as JSON, and keeps the session (the route works)', async () => {
    const client = request.agent(buildApp());
    const code = emulator.issueCode({ appid, user: 'alice' });

    await client.post(route).send({ code }).expect(200);

    expect((await client.get('/me').expect(200)).body).toEqual({ user: { id: emulator.unionidFor('alice'), appid } });
  });

  it('reads the query code with allowCodeInQuery: true — the risk the option documents', async () => {
    const client = request.agent(buildApp(true));
    const code = emulator.issueCode({ appid, user: 'bob' });

    await crossSitePost(client, route, code).expect(200);

    expect((await client.get('/me').expect(200)).body).toEqual({ user: { id: emulator.openidFor(appid, 'bob'), appid } });
  });
});
