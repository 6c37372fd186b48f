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
function buildApp(extra: Partial<WeChatStrategyOptions> = {}) {
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
  app.get('/', (_req, res) => res.send('home'));
  app.get('/auth/wechat', (req, res, next) =>
    passport.authenticate('wechat', { session: false, state: req.query.returnTo ? { returnTo: req.query.returnTo } : undefined } as object)(req, res, next),
  );
  return app;
}

function stateCookieLines(res: { headers: Record<string, unknown> }): string[] {
  const header = res.headers['set-cookie'];
  return (Array.isArray(header) ? (header as string[]) : []).filter((line) => line.includes('wechat-state-'));
}

describe('cookie bomb through attacker-chosen app state', () => {
  it("keeps the state cookies a browser can hold within Node's 16 KB request-header limit, so the site stays reachable", async () => {
    // Today: each state cookie may be up to 4 KB and a browser keeps five, ~20 KB in all. An attacker
    // who links a victim to /auth/wechat?returnTo=<2.9 KB> a few times (top-level navigations: the
    // SameSite=Lax cookies are stored) makes every later request from that browser carry a Cookie
    // header above Node's default max-http-header-size (16 KB): the whole site answers
    // 431 Request Header Fields Too Large for 10 minutes. Suggested fix: cap the payload well below
    // 4 KB (e.g. 1 KB) and/or the total bytes of pending cookies per browser (evict by size, not only count).
    const app = buildApp();
    const server = app.listen(0);
    try {
      const agent = request.agent(server);
      const big = 'x'.repeat(2900);
      const statuses: number[] = [];
      for (let i = 0; i < 5; i += 1) statuses.push((await agent.get(`/auth/wechat?returnTo=${big}`)).status);
      const home = await agent.get('/');
      expect({ statuses, home: home.status }).toEqual({ statuses: [302, 302, 302, 302, 302], home: 200 });
    } finally {
      server.close();
    }
  });
});

describe('relative callbackURL behind a TLS-terminating proxy', () => {
  it('sets a Secure, __Host- state cookie when the login start came over https through a proxy (X-Forwarded-Proto: https)', async () => {
    // Today: isHttps() looks only at meta.callbackURL. A relative callbackURL is resolved by
    // passport-oauth2 from the request, which without `trust proxy` is http://…, so on a real https
    // site the cookie is set with no Secure flag and no __Host- prefix. The callback then also looks
    // for the un-prefixed name, so a sibling subdomain (or an http MITM) can toss its own valid
    // login cookie into the victim's browser (Domain=.example.com) and log the victim into the
    // attacker's account (login CSRF) — exactly what the __Host- rule is meant to stop.
    // Suggested fix: with the cookie store, require an absolute callbackURL (or decide Secure from
    // req.secure / req.protocol as well, and default to __Host-/Secure unless the callback is
    // explicitly http://), and document `trust proxy`.
    const app = buildApp({ callbackURL: '/auth/wechat/callback' });
    const start = await request(app).get('/auth/wechat').set('Host', 'example.com').set('X-Forwarded-Proto', 'https').expect(302);
    const [line = ''] = stateCookieLines(start);
    expect(line).toMatch(/^__Host-wechat-state-/);
    expect(line.toLowerCase()).toContain('; secure');
  });
});
