/**
 * The login through the NestJS example: a real Nest 12 app (platform-express, express-session)
 * listening on 127.0.0.1, `AuthGuard('wechat')` on the routes, and the local WeChat emulator
 * playing WeChat and the user. No mocks. (The example imports the built package: run
 * `npm run build` first.)
 *
 * @nestjs/passport registers strategies on Passport's global instance: the last strategy
 * constructed under a name is the one its guard runs. A test that registers one of its own puts
 * the app's strategy back afterwards, so the tests run in any order.
 */
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { PassportStrategy } from '@nestjs/passport';
import type { PassportStatic } from 'passport';
import type { Strategy } from 'passport-strategy';
import request from 'supertest';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { AppModule } from '../examples/nestjs/app.module.ts';
import { createApp } from '../examples/nestjs/main.ts';
import type { WeChatProfile } from '../lib/index.js';
import { DEMO_WEBSITE_APP, WeChatEmulator } from '../lib/testing/index.js';

const require = createRequire(import.meta.url);
/** Passport's global instance: the one @nestjs/passport registers strategies on. */
const globalPassport = createRequire(require.resolve('@nestjs/passport'))('passport') as PassportStatic & {
  _strategy(name: string): Strategy | undefined;
};

let emulator: WeChatEmulator;
let app: NestExpressApplication;
let baseUrl: string;

beforeAll(async () => {
  emulator = await WeChatEmulator.start();
  app = await createApp(
    AppModule.forRoot({
      login: { ...emulator.strategyOptions(DEMO_WEBSITE_APP.appid), callbackURL: 'http://localhost:3000/auth/wechat/callback' },
      token: { ...emulator.strategyOptions(DEMO_WEBSITE_APP.appid), callbackURL: 'http://localhost:3000/auth/wechat-token/callback' },
    }),
    { sessionSecret: 'test session secret', logger: false },
  );
  await app.listen(0, '127.0.0.1');
  baseUrl = `http://127.0.0.1:${(app.getHttpServer().address() as AddressInfo).port}`;
});
afterEach(() => emulator.reset());
afterAll(async () => {
  await app?.close();
  await emulator.close();
});

/**
 * Starts a login at `path` and lets the emulated user confirm or decline; returns the callback's
 * path and query. Written out, not test/helpers/emulator-login.ts: docs/hosts/nestjs.md shows it
 * to users as code to copy.
 */
async function wechatLogin(agent: ReturnType<typeof request.agent>, path: string, choice: { user?: string; decline?: boolean }) {
  const start = await agent.get(path).expect(302);
  const outcome = emulator.authorize(start.headers.location as string, choice);
  if (outcome.type !== 'redirect') throw new Error(`WeChat did not redirect back: ${outcome.type}`);
  const callback = new URL(outcome.location);
  return callback.pathname + callback.search;
}

describe("a Nest app with PassportStrategy(WeChatStrategy, 'wechat')", () => {
  it('redirects GET /auth/wechat to the QR page with its callback URL and a state', async () => {
    const start = await request(baseUrl).get('/auth/wechat').expect(302);
    const location = new URL(start.headers.location as string);
    expect(location.origin + location.pathname).toBe(emulator.endpoints.authorizationURL);
    expect(location.searchParams.get('redirect_uri')).toBe('http://localhost:3000/auth/wechat/callback');
    expect(location.searchParams.get('state')).toMatch(/^[A-Za-z0-9]{8,}$/);
  });

  it('logs Alice in: the callback handler gets the user that validate(accessToken, refreshToken, profile) returned', async () => {
    const agent = request.agent(baseUrl);
    const callback = await agent.get(await wechatLogin(agent, '/auth/wechat', { user: 'alice' })).expect(200);
    expect(callback.body).toEqual({ user: { id: emulator.unionidFor('alice'), name: 'Alice 🐼' } });
  });

  it('answers a declined login with 401, without running the handler or calling WeChat', async () => {
    const agent = request.agent(baseUrl);
    const declined = await agent.get(await wechatLogin(agent, '/auth/wechat', { decline: true })).expect(401);
    expect(declined.body).toEqual({ statusCode: 401, message: 'Unauthorized' });
    expect(emulator.calls).toEqual([]);
  });

  it('answers a callback whose state this session never issued with 401', async () => {
    const otherBrowsersCallback = await wechatLogin(request.agent(baseUrl), '/auth/wechat', { user: 'alice' });
    const agent = request.agent(baseUrl);
    await agent.get('/auth/wechat').expect(302);
    await agent.get(otherBrowsersCallback).expect(401);
    expect(emulator.calls).toEqual([]);
  });

  it('ends a reload of the callback as the login did, without calling WeChat again', async () => {
    const agent = request.agent(baseUrl);
    const callback = await wechatLogin(agent, '/auth/wechat', { user: 'alice' });
    const first = await agent.get(callback).expect(200);
    const reload = await agent.get(callback).expect(200);
    expect(reload.body).toEqual(first.body);
    expect(emulator.calls.filter((call) => call.endpoint === 'access_token')).toHaveLength(1);
  });

  it('answers a spent code with 401 (WeChat says 40163), so the user can simply log in again', async () => {
    const agent = request.agent(baseUrl);
    const callback = await wechatLogin(agent, '/auth/wechat', { user: 'bob' });
    await agent.get(callback).expect(200);
    const replay = new URL(callback, baseUrl);
    const start = await agent.get('/auth/wechat').expect(302);
    replay.searchParams.set('state', new URL(start.headers.location as string).searchParams.get('state') ?? '');
    await agent.get(replay.pathname + replay.search).expect(401);
    expect(emulator.calls.at(-1)?.errcode).toBe(40163);
  });

  it('answers a WeChat outage with 500, not with a login failure', async () => {
    const agent = request.agent(baseUrl);
    const callback = await wechatLogin(agent, '/auth/wechat', { user: 'alice' });
    emulator.failNext('access_token', { status: 502, html: true });
    await agent.get(callback).expect(500);
  });
});

describe("a second strategy of the same class: PassportStrategy(WeChatStrategy, 'wechat-token', true)", () => {
  it('uses its own callback URL', async () => {
    const start = await request(baseUrl).get('/auth/wechat-token').expect(302);
    expect(new URL(start.headers.location as string).searchParams.get('redirect_uri')).toBe(
      'http://localhost:3000/auth/wechat-token/callback',
    );
  });

  it('hands validate(accessToken, refreshToken, params, profile) the token response', async () => {
    const agent = request.agent(baseUrl);
    const callback = await agent.get(await wechatLogin(agent, '/auth/wechat-token', { user: 'alice' })).expect(200);
    expect(callback.body).toEqual({
      user: {
        id: emulator.unionidFor('alice'),
        openid: emulator.openidFor(DEMO_WEBSITE_APP.appid, 'alice'),
        refreshToken: expect.stringMatching(/^\S{20,}$/),
      },
    });
  });

  it('answers a declined login with 401 too', async () => {
    const agent = request.agent(baseUrl);
    await agent.get(await wechatLogin(agent, '/auth/wechat-token', { decline: true })).expect(401);
  });
});

describe('a CommonJS app', () => {
  /** The app's own 'wechat' strategy, put back after each test here. */
  let appStrategy: Strategy | undefined;
  beforeAll(() => {
    appStrategy = globalPassport._strategy('wechat');
  });
  afterEach(() => {
    if (appStrategy !== undefined) globalPassport.use('wechat', appStrategy);
  });

  it("gets the CommonJS build from require('passport-wechat-oauth2')", () => {
    expect(require.resolve('passport-wechat-oauth2')).toMatch(/dist[\\/]cjs[\\/]index\.js$/);
  });

  it("logs in through Nest's guard with a strategy built from the CommonJS build", async () => {
    const { WeChatStrategy } = require('passport-wechat-oauth2') as typeof import('../lib/index.js');
    class CommonJSLoginStrategy extends PassportStrategy(WeChatStrategy, 'wechat') {
      validate(_accessToken: string, _refreshToken: string, profile: WeChatProfile) {
        return { id: profile.id, loadedWith: 'require' };
      }
    }
    const strategy = new CommonJSLoginStrategy({ ...emulator.strategyOptions(DEMO_WEBSITE_APP.appid), callbackURL: 'http://localhost:3000/auth/wechat/callback' });
    expect(globalPassport._strategy('wechat'), "the guard's strategy is now this one").toBe(strategy);

    const agent = request.agent(baseUrl);
    const callback = await agent.get(await wechatLogin(agent, '/auth/wechat', { user: 'bob' })).expect(200);
    expect(callback.body).toEqual({ user: { id: emulator.openidFor(DEMO_WEBSITE_APP.appid, 'bob'), loadedWith: 'require' } });
  });

  it("leaves the app's own strategy to the guard once that test is over", async () => {
    expect(appStrategy).toBeDefined();
    expect(globalPassport._strategy('wechat')).toBe(appStrategy);
    const agent = request.agent(baseUrl);
    const callback = await agent.get(await wechatLogin(agent, '/auth/wechat', { user: 'alice' })).expect(200);
    expect(callback.body).toEqual({ user: { id: emulator.unionidFor('alice'), name: 'Alice 🐼' } });
  });
});

describe('a Nest API issuing tokens, with the cookie state store and no express-session', () => {
  let jwtApp: NestExpressApplication;
  let jwtBaseUrl: string;
  beforeAll(async () => {
    const { createJwtApp } = await import('../examples/nestjs/wechat-jwt.ts');
    jwtApp = await createJwtApp(
      {
        strategy: {
          ...emulator.strategyOptions(DEMO_WEBSITE_APP.appid),
          callbackURL: 'http://localhost:3000/auth/wechat-jwt/callback',
          state: { cookie: { secret: 'a cookie-state secret of 32+ characters' } },
        },
        jwtSecret: 'a test JWT secret',
      },
      false,
    );
    await jwtApp.listen(0, '127.0.0.1');
    jwtBaseUrl = `http://127.0.0.1:${(jwtApp.getHttpServer().address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await jwtApp?.close();
  });

  /** Where WeChat sends the browser back once Alice confirms the login `start` redirected to. */
  function callbackOf(start: { headers: Record<string, unknown> }): string {
    const outcome = emulator.authorize(start.headers.location as string, { user: 'alice' });
    if (outcome.type !== 'redirect') throw new Error(`WeChat did not redirect back: ${outcome.type}`);
    const callback = new URL(outcome.location);
    return callback.pathname + callback.search;
  }

  it('logs Alice in and answers a token signed for her, with only the state cookie set and cleared', async () => {
    const { signJwt } = await import('../examples/nestjs/wechat-jwt.ts');
    const agent = request.agent(jwtBaseUrl);
    const start = await agent.get('/auth/wechat-jwt').expect(302);
    expect(start.headers['set-cookie']).toEqual([expect.stringMatching(/^wechat-state-/)]);
    const res = await agent.get(callbackOf(start)).expect(200);
    expect(res.body).toEqual({ token: signJwt({ sub: emulator.unionidFor('alice'), name: 'Alice 🐼' }, 'a test JWT secret') });
    expect(res.headers['set-cookie']).toEqual([expect.stringMatching(/^wechat-state-[^=]+=; Max-Age=0;/)]);
  });

  it('answers a callback opened in another browser with 401, without calling WeChat', async () => {
    const start = await request(jwtBaseUrl).get('/auth/wechat-jwt').expect(302);
    await request(jwtBaseUrl).get(callbackOf(start)).expect(401);
    expect(emulator.calls).toEqual([]);
  });
});
