/**
 * The login through the Fastify 5 example (@fastify/passport, @fastify/session): supertest drives
 * the app on 127.0.0.1, the local WeChat emulator plays WeChat and the user. No mocks.
 * (The example imports the built package: run `npm run build` first.)
 */
import type { FastifyInstance } from 'fastify';
import request from 'supertest';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../examples/fastify/app.ts';
import { DEMO_WEBSITE_APP, WeChatEmulator } from '../lib/testing/index.js';
import { callbackFrom, loginOnEmulator, type Agent, type LoginChoice } from './helpers/emulator-login.js';

let emulator: WeChatEmulator;
const apps: FastifyInstance[] = [];

beforeAll(async () => {
  emulator = await WeChatEmulator.start();
});
afterEach(async () => {
  emulator.reset();
  await Promise.all(apps.splice(0).map((app) => app.close()));
});
afterAll(() => emulator.close());

async function agentFor(strategy: { callbackURL?: string; proxy?: boolean } = {}) {
  return request.agent(await serverFor(strategy));
}

async function serverFor(strategy: { callbackURL?: string; proxy?: boolean } = {}) {
  const app = await buildApp({
    strategy: {
      ...emulator.strategyOptions(DEMO_WEBSITE_APP.appid),
      callbackURL: 'http://localhost:3000/auth/wechat/callback',
      ...strategy,
    },
    sessionSecret: 'a test session secret of 32+ characters',
  });
  apps.push(app);
  await app.ready();
  return app.server;
}

/** Starts a login and lets the emulated user confirm or decline; returns the callback's path and query. */
const wechatLogin = (agent: Agent, choice: LoginChoice) => loginOnEmulator(emulator, agent, choice);

describe('the Fastify example, logging in through the WeChat emulator', () => {
  it('sends "/auth/wechat" to the QR page with the callback URL, a state and a session cookie', async () => {
    const agent = await agentFor();
    const start = await agent.get('/auth/wechat').expect(302);
    const location = new URL(start.headers.location as string);
    expect(location.origin + location.pathname).toBe(emulator.endpoints.authorizationURL);
    expect(location.searchParams.get('redirect_uri')).toBe('http://localhost:3000/auth/wechat/callback');
    expect(location.searchParams.get('state')).toMatch(/^[A-Za-z0-9]{8,}$/);
    expect(location.hash).toBe('#wechat_redirect');
    expect(start.headers['set-cookie']?.[0]).toMatch(/^sessionId=.*HttpOnly; SameSite=Lax$/);
  });

  it('logs Alice in: confirm on WeChat, back to the callback, and the session holds her', async () => {
    const agent = await agentFor();
    await agent.get(await wechatLogin(agent, { user: 'alice' })).expect(302).expect('location', '/me');
    const me = await agent.get('/me').expect(200);
    expect(me.body).toEqual({ user: { id: emulator.unionidFor('alice'), name: 'Alice 🐼' } });
    expect(emulator.calls.map((call) => call.endpoint)).toEqual(['access_token', 'userinfo']);
  });

  it('sends a user who declined to failureRedirect with the reason, and logs nobody in', async () => {
    const agent = await agentFor();
    await agent.get(await wechatLogin(agent, { decline: true })).expect(302).expect('location', '/login/failed');
    expect((await agent.get('/login/failed')).body).toEqual({ messages: ['The WeChat login was declined or cancelled.'] });
    expect((await agent.get('/me')).body).toEqual({ user: null });
    expect(emulator.calls).toEqual([]);
  });

  it('sends a callback whose state this session never issued to failureRedirect, without spending the code', async () => {
    const agent = await agentFor();
    const otherBrowsersCallback = await wechatLogin(await agentFor(), { user: 'alice' });
    await agent.get('/auth/wechat').expect(302);
    await agent.get(otherBrowsersCallback).expect(302).expect('location', '/login/failed');
    expect(emulator.calls).toEqual([]);
  });

  it('resolves a relative callbackURL from the Host header (Fastify 5 has no req.connection)', async () => {
    const agent = await agentFor({ callbackURL: '/auth/wechat/callback' });
    const start = await agent.get('/auth/wechat').set('Host', 'localhost:3000').expect(302);
    const location = new URL(start.headers.location as string);
    expect(location.searchParams.get('redirect_uri')).toBe('http://localhost:3000/auth/wechat/callback');

    // The whole login works that way too: the token call sends the same redirect_uri WeChat saw.
    const callback = callbackFrom(emulator, location.href, { user: 'bob' });
    await agent.get(callback).set('Host', 'localhost:3000').expect(302).expect('location', '/me');
    expect((await agent.get('/me')).body.user.name).toBe('Bob');
  });

  it('ends a reload of the callback after the login as the login did, with one code exchange', async () => {
    const agent = await agentFor();
    const callback = await wechatLogin(agent, { user: 'alice' });
    await agent.get(callback).expect(302).expect('location', '/me');
    await agent.get(callback).expect(302).expect('location', '/me'); // @fastify/passport regenerated the session
    expect(emulator.calls.filter((call) => call.endpoint === 'access_token')).toHaveLength(1);
  });

  it("refuses another browser's replay of the callback, even one logged in itself", async () => {
    const server = await serverFor();
    const [alice, bob] = [request.agent(server), request.agent(server)];
    const callback = await wechatLogin(alice, { user: 'alice' });
    await alice.get(callback).expect(302).expect('location', '/me');
    await bob.get(await wechatLogin(bob, { user: 'bob' })).expect(302).expect('location', '/me');
    await bob.get(callback).expect(302).expect('location', '/login/failed');
    expect((await bob.get('/me')).body.user.name).toBe('Bob');
  });

  // One test, not two: docs/hosts/fastify.md quotes both halves together.
  it('ignores X-Forwarded-* for a relative callbackURL unless proxy: true', async () => {
    const forwarded = { Host: 'localhost:3000', 'X-Forwarded-Proto': 'https', 'X-Forwarded-Host': 'shop.example.cn' };
    const direct = await (await agentFor({ callbackURL: '/auth/wechat/callback' })).get('/auth/wechat').set(forwarded).expect(302);
    expect(new URL(direct.headers.location as string).searchParams.get('redirect_uri')).toBe('http://localhost:3000/auth/wechat/callback');

    const proxied = await (await agentFor({ callbackURL: '/auth/wechat/callback', proxy: true })).get('/auth/wechat').set(forwarded).expect(302);
    expect(new URL(proxied.headers.location as string).searchParams.get('redirect_uri')).toBe('https://shop.example.cn/auth/wechat/callback');
  });
});

describe('the cookie state store on Fastify, with no session saved', () => {
  /**
   * @fastify/passport hands a strategy only the request, which has no public way to its reply:
   * the app's `onRequest` hook fastifyStateCookies gives the store the reply for its cookie.
   * passport.initialize() needs a session plugin registered (its @fastify/flash requires
   * `request.session`); with `saveUninitialized: false` and `session: false` none is ever saved.
   */
  async function cookieStateServer({ hook }: { hook: boolean }) {
    const { Authenticator } = await import('@fastify/passport');
    const { default: fastifyCookie } = await import('@fastify/cookie');
    const { default: fastifySession } = await import('@fastify/session');
    const { default: Fastify } = await import('fastify');
    const { WeChatStrategy, fastifyStateCookies } = await import('passport-wechat-oauth2');
    const passport = new Authenticator();
    passport.use(
      'wechat',
      new WeChatStrategy(
        {
          ...emulator.strategyOptions(DEMO_WEBSITE_APP.appid),
          callbackURL: 'http://localhost:3000/auth/wechat/callback',
          state: { cookie: { secret: 'a cookie-state secret of 32+ characters' } },
        },
        (_accessToken, _refreshToken, profile, done) => done(null, { id: profile.id, name: profile.displayName }),
      ),
    );
    const app = Fastify();
    if (hook) app.addHook('onRequest', fastifyStateCookies);
    await app.register(fastifyCookie);
    await app.register(fastifySession, { secret: 'a test session secret of 32+ characters', saveUninitialized: false, cookie: { secure: false } });
    await app.register(passport.initialize());
    app.get('/auth/wechat', { preValidation: passport.authenticate('wechat', { session: false }) }, async () => {});
    app.get(
      '/auth/wechat/callback',
      { preValidation: passport.authenticate('wechat', { session: false, assignProperty: 'wechatUser' }) },
      async (request) => ({ user: (request as unknown as { wechatUser: unknown }).wechatUser }),
    );
    apps.push(app);
    await app.ready();
    return app.server;
  }

  it('logs Alice in through the state cookie when the app adds the fastifyStateCookies hook', async () => {
    const agent = request.agent(await cookieStateServer({ hook: true }));
    const start = await agent.get('/auth/wechat').expect(302);
    expect(start.headers['set-cookie']).toEqual([expect.stringMatching(/^wechat-state-\w+-\w+=.*; HttpOnly; SameSite=Lax$/)]);
    const callback = await agent.get(callbackFrom(emulator, start.headers.location as string, { user: 'alice' })).expect(200);
    expect(callback.body).toEqual({ user: { id: emulator.unionidFor('alice'), name: 'Alice 🐼' } });
    expect(callback.headers['set-cookie']).toEqual([expect.stringMatching(/^wechat-state-\w+-\w+=; Max-Age=0;/)]);
  });

  it('refuses a callback from another browser with 403 (WECHAT_STATE_MISSING), without calling WeChat', async () => {
    const server = await cookieStateServer({ hook: true });
    const start = await request(server).get('/auth/wechat').expect(302);
    await request(server).get(callbackFrom(emulator, start.headers.location as string, { user: 'alice' })).expect(403);
    expect(emulator.calls).toEqual([]);
  });

  it('without the hook, answers the login start with a WeChatOptionsError (500) that says what to add, and keeps serving', async () => {
    const server = await cookieStateServer({ hook: false });
    const start = await request(server).get('/auth/wechat').expect(500);
    expect(start.body).toMatchObject({ code: 'WECHAT_INVALID_OPTIONS', message: expect.stringContaining('fastifyStateCookies') });
    await request(server).get('/auth/wechat').expect(500);
  });
});
