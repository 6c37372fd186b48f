/**
 * Red-team tests for the cookie state store (`state: { cookie: { secret } }`). Each `it` states the
 * safe behaviour; a comment says what happens today. Failing tests are findings, not regressions.
 */
import express from 'express';
import { Passport } from 'passport';
import request from 'supertest';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { WeChatStrategy, type WeChatStrategyOptions } from '../lib/index.js';
import { DEMO_WEBSITE_APP, WeChatEmulator } from '../lib/testing/index.js';

const SECRET = 'a cookie-state secret of 32+ characters';

let emulator: WeChatEmulator;
beforeAll(async () => {
  emulator = await WeChatEmulator.start();
});
afterEach(() => emulator.reset());
afterAll(() => emulator.close());

/** No session; the login start puts `?returnTo=` into the app state, as apps commonly do. */
function buildApp(extra: Partial<WeChatStrategyOptions> = {}, trustProxy = false) {
  const passport = new Passport();
  passport.use(
    new WeChatStrategy(
      {
        ...emulator.strategyOptions(DEMO_WEBSITE_APP.appid),
        callbackURL: 'http://localhost:3000/auth/wechat/callback',
        state: { cookie: { secret: SECRET } },
        ...extra,
      } as WeChatStrategyOptions,
      (_a, _r, profile, done) => done(null, { id: profile.id }),
    ),
  );
  const app = express();
  app.set('trust proxy', trustProxy);
  app.get('/', (_req, res) => res.send('home'));
  app.get('/auth/wechat', (req, res, next) =>
    passport.authenticate('wechat', { session: false, state: req.query.returnTo ? { returnTo: req.query.returnTo } : undefined } as object)(req, res, next),
  );
  app.use(((error, _req, res, _next) => res.status(500).json({ error: (error as Error).name })) as express.ErrorRequestHandler);
  return app;
}

function stateCookieLines(res: { headers: Record<string, unknown> }): string[] {
  const header = res.headers['set-cookie'];
  return (Array.isArray(header) ? (header as string[]) : []).filter((line) => line.includes('wechat-state-'));
}

describe('cookie bomb through attacker-chosen app state', () => {
  // Found: state cookies could be up to 4 KB each and a browser kept five, ~20 KB in all. Links to
  // /auth/wechat?returnTo=<2.9 KB> (top-level navigations store SameSite=Lax cookies) pushed the
  // browser's Cookie header past Node's 16 KB header limit: every request to the site answered 431
  // for 10 minutes. App state is now capped at 512 bytes encoded.
  it('refuses app state over 512 bytes at the login start, so the site stays reachable', async () => {
    const server = buildApp().listen(0);
    try {
      const agent = request.agent(server);
      const statuses: number[] = [];
      for (let i = 0; i < 5; i += 1) statuses.push((await agent.get(`/auth/wechat?returnTo=${'x'.repeat(2900)}`)).status);
      expect(statuses).toEqual([500, 500, 500, 500, 500]);
      expect((await agent.get('/')).status).toBe(200);
    } finally {
      server.close();
    }
  });

  it('keeps five logins with the largest app state allowed within the header limit', async () => {
    const server = buildApp().listen(0);
    try {
      const agent = request.agent(server);
      const statuses: number[] = [];
      for (let i = 0; i < 6; i += 1) statuses.push((await agent.get(`/auth/wechat?returnTo=${'x'.repeat(360)}`)).status);
      expect(statuses).toEqual([302, 302, 302, 302, 302, 302]);
      expect((await agent.get('/')).status).toBe(200);
    } finally {
      server.close();
    }
  });
});

describe('a callback URL that resolves to http on a site served over https', () => {
  // Found: a relative callbackURL behind a TLS-ending proxy the host does not trust resolved to
  // http://…, so a real https site got state cookies without Secure and without __Host-, which a
  // sibling subdomain can plant (login CSRF). An http callback is now refused, except on loopback.
  it('refuses to set a state cookie without Secure and __Host- for an http callback on a public host', async () => {
    const app = buildApp({ callbackURL: '/auth/wechat/callback' });
    const start = await request(app).get('/auth/wechat').set('Host', 'example.com').set('X-Forwarded-Proto', 'https').expect(500);
    expect(start.body.error).toBe('WeChatOptionsError');
    expect(stateCookieLines(start)).toEqual([]);
  });

  it('sets a Secure, __Host- state cookie when the host trusts the proxy that says https', async () => {
    const app = buildApp({ callbackURL: '/auth/wechat/callback' }, true);
    const start = await request(app).get('/auth/wechat').set('Host', 'example.com').set('X-Forwarded-Proto', 'https').expect(302);
    const [line = ''] = stateCookieLines(start);
    expect(line).toMatch(/^__Host-wechat-state-/);
    expect(line.toLowerCase()).toContain('; secure');
  });
});
