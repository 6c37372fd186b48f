/**
 * Native-app sign-in: the iOS/Android app gets a code from WeChat's Open SDK (SendAuth) and posts
 * it; the server exchanges it with the Mobile Application's credentials through sns/oauth2/access_token
 * and sns/userinfo. WeChat is mocked with nock at the network edge with exact queries.
 */
import { inspect } from 'node:util';
import { PassportStrategy } from '@nestjs/passport';
import type { Request } from 'express';
import express from 'express';
import nock from 'nock';
import { Passport } from 'passport';
import { Strategy as PassportStrategyBase } from 'passport-strategy';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WeChatCredentialsError, WeChatOptionsError, WeChatTokenError } from '../lib/errors.js';
import { WeChatMiniProgramStrategy } from '../lib/miniprogram.js';
import { WeChatAppStrategy, type WeChatAppStrategyOptions } from '../lib/native-app.js';
import type { VerifyCallback, WeChatVerifyFunction } from '../lib/options.js';
import type { WeChatProfile } from '../lib/profile.js';
import { WeChatStrategy } from '../lib/strategy.js';
import {
  DEMO_MINIPROGRAM_APP,
  DEMO_MOBILE_APP,
  DEMO_OFFICIAL_ACCOUNT_APP,
  DEMO_WEBSITE_APP,
  WeChatEmulator,
  type EmulatorApp,
} from '../lib/testing/index.js';
import type { WeChatTokenResponse } from '../lib/client.js';
import { mockWeChatLogin, useNockAtTheEdge } from './helpers/nock.js';
import { authenticate, errorOf, sessionWithState } from './helpers/passport.js';
import { expectNoSecrets } from './helpers/secrets.js';
import { TEXT, WECHAT_API, tokenBody, userinfoBody, type WeChatTestLogin } from './helpers/wechat.js';

const APPID = 'wxd930ea5d5a258f4f'; // the Mobile Application
const SECRET = '8a6c4e2f0b9d7c5a3e1f9d7b5c3a1e0f';
const CODE = '061aBcDeF0gHiJ1kLmNo2pQrSt3uVwXy';
const ACCESS_TOKEN = '86_appAccessTokenAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA';
const REFRESH_TOKEN = '86_appRefreshTokenRRRRRRRRRRRRRRRRRRRRRRRRRRRRRRRRRRRRRRRRRRRRRRRRRRRRRRRRRR';
const OPENID = 'oAppQt2LF0SpCODdV4KhLuEoPgwg';
const UNIONID = 'oU5Yyt8X-WpQeBsNFS4HuvmDwEhs';
const SECRETS = [SECRET, CODE, ACCESS_TOKEN, REFRESH_TOKEN];
const RID = ', rid: 66b1e3a2-4c5d7e8f-1a2b3c4d';

const APP_LOGIN: WeChatTestLogin = {
  appid: APPID,
  secret: SECRET,
  code: CODE,
  accessToken: ACCESS_TOKEN,
  refreshToken: REFRESH_TOKEN,
  openid: OPENID,
  unionid: UNIONID,
  scope: 'snsapi_userinfo',
};
const USERINFO_BODY = userinfoBody(APP_LOGIN, 'App User');
const { mockToken, mockUserInfo } = mockWeChatLogin(APP_LOGIN, USERINFO_BODY);

function options(overrides: Record<string, unknown> = {}): WeChatAppStrategyOptions {
  return { clientID: APPID, clientSecret: SECRET, ...overrides } as WeChatAppStrategyOptions;
}

const returnProfile: WeChatVerifyFunction = (_a, _r, profile, done) => done(null, profile);

function posted(body: unknown = { code: CODE }) {
  return { method: 'POST', body, query: {}, url: '/auth/wechat/app' };
}

useNockAtTheEdge({ allowLocalhost: true, failOnUnmatched: true });

describe('signing in with a code from the WeChat SDK', () => {
  it("exchanges the posted code with the Mobile Application's credentials, reads the profile and hands both to verify", async () => {
    mockToken();
    mockUserInfo();
    const seen: unknown[] = [];
    const strategy = new WeChatAppStrategy(options(), (accessToken, refreshToken, profile, done) => {
      seen.push(accessToken, refreshToken, profile);
      done(null, { id: profile.id, name: profile.displayName });
    });

    expect(await authenticate(strategy, posted())).toEqual({ action: 'success', user: { id: UNIONID, name: 'App User' }, info: {} });
    expect(seen.slice(0, 2)).toEqual([ACCESS_TOKEN, REFRESH_TOKEN]);
    expect(seen[2]).toMatchObject({
      provider: 'wechat',
      id: UNIONID,
      openid: OPENID,
      unionid: UNIONID,
      appid: APPID,
      displayName: 'App User',
      photos: [{ value: 'https://thirdwx.qlogo.cn/mmopen/vi_32/Q0j4TwGTfTK/132' }],
      _raw: USERINFO_BODY,
    });
  });

  it('ignores a code in the query by default: no code, 400', async () => {
    expect(await authenticate(new WeChatAppStrategy(options(), returnProfile), { query: { code: CODE } }))
      .toMatchObject({ action: 'fail', status: 400, challenge: { code: 'WECHAT_MISSING_CODE' } });
  });

  it('reads the code from the query with allowCodeInQuery: true', async () => {
    mockToken();
    mockUserInfo();
    const fromQuery = new WeChatAppStrategy(options({ allowCodeInQuery: true }), returnProfile);
    expect((await authenticate(fromQuery, { query: { code: CODE } })).action).toBe('success');
  });

  it('reads the code from the field named by codeField', async () => {
    mockToken();
    mockUserInfo();
    const custom = new WeChatAppStrategy(options({ codeField: 'authCode' }), returnProfile);
    expect((await authenticate(custom, posted({ authCode: CODE }))).action).toBe('success');
  });

  it('passes the token response as params to a five-argument verify', async () => {
    mockToken();
    mockUserInfo();
    const strategy = new WeChatAppStrategy(options(), (_a: string, _r: string, params: WeChatTokenResponse, profile: WeChatProfile, done: VerifyCallback) =>
      done(null, { scope: params.scope, expires: params.expires_in, id: profile.id }),
    );

    expect(await authenticate(strategy, posted())).toMatchObject({ user: { scope: 'snsapi_userinfo', expires: 7200, id: UNIONID } });
  });

  it('passes the request first with passReqToCallback', async () => {
    const req = posted();
    mockToken();
    mockUserInfo();
    const five = new WeChatAppStrategy({ ...options(), passReqToCallback: true }, (r, _a, _rt, profile, done) =>
      done(null, { same: r.body === req.body, id: profile.id }),
    );
    expect(await authenticate(five, req)).toMatchObject({ action: 'success', user: { same: true, id: UNIONID } });
  });

  it('passes the request first and the token response as params to a six-argument verify with passReqToCallback', async () => {
    mockToken();
    mockUserInfo();
    const six = new WeChatAppStrategy(
      { ...options(), passReqToCallback: true },
      (_r: Request, _a: string, _rt: string, params: WeChatTokenResponse, profile: WeChatProfile, done: VerifyCallback) =>
        done(null, { openid: params.openid, id: profile.id }),
    );
    expect(await authenticate(six, posted())).toMatchObject({ action: 'success', user: { openid: OPENID, id: UNIONID } });
  });

  it('skips the userinfo call with skipUserProfile: true, and still gives the ids', async () => {
    mockToken();
    const skipping = new WeChatAppStrategy(options({ skipUserProfile: true }), returnProfile);
    expect(await authenticate(skipping, posted())).toMatchObject({
      action: 'success',
      user: { provider: 'wechat', id: UNIONID, openid: OPENID, appid: APPID, displayName: '' },
    });
  });

  it('lets a skipUserProfile callback decide per token', async () => {
    mockToken();
    const seen: string[] = [];
    const deciding = new WeChatAppStrategy(
      options({ skipUserProfile: (token: string, done: (e: null, s: boolean) => void) => done(null, seen.push(token) > 0) }),
      returnProfile,
    );
    expect((await authenticate(deciding, posted())).action).toBe('success');
    expect(seen).toEqual([ACCESS_TOKEN]);
  });

  it('makes no userinfo call for a token without snsapi_userinfo', async () => {
    mockToken(tokenBody(APP_LOGIN, { scope: 'snsapi_base', unionid: undefined }));
    const strategy = new WeChatAppStrategy(options(), returnProfile);

    expect(await authenticate(strategy, posted())).toMatchObject({ action: 'success', user: { id: OPENID, displayName: '' } });
  });

  it('asks userinfo in the configured language', async () => {
    mockToken();
    mockUserInfo(USERINFO_BODY, { access_token: ACCESS_TOKEN, openid: OPENID, lang: 'en' });

    expect((await authenticate(new WeChatAppStrategy(options({ lang: 'en' }), returnProfile), posted())).action).toBe('success');
  });

  it('turns a verify that throws into error()', async () => {
    mockToken();
    mockUserInfo();
    const strategy = new WeChatAppStrategy(options(), () => {
      throw new Error('database down');
    });

    expect(errorOf(await authenticate(strategy, posted())).message).toBe('database down');
  });
});

describe('NestJS', () => {
  it("calls a validate declared with no parameters as (accessToken, refreshToken, profile)", async () => {
    class AppStrategy extends PassportStrategy(WeChatAppStrategy, 'wechat-app-test') {
      constructor() {
        super(options());
      }
      validate(accessToken: string, _refreshToken: string, profile: WeChatProfile) {
        return { id: profile.id, token: accessToken === ACCESS_TOKEN };
      }
    }
    mockToken();
    mockUserInfo();

    expect(await authenticate(new AppStrategy(), posted())).toMatchObject({ action: 'success', user: { id: UNIONID, token: true } });
  });

  it('gives validate(accessToken, refreshToken, params, profile) the token response when asked with PassportStrategy(..., true)', async () => {
    class AppTokenStrategy extends PassportStrategy(WeChatAppStrategy, 'wechat-app-token-test', true) {
      constructor() {
        super(options());
      }
      validate(_accessToken: string, refreshToken: string, params: WeChatTokenResponse, profile: WeChatProfile) {
        return { id: profile.id, openid: params.openid, refreshToken };
      }
    }
    mockToken();
    mockUserInfo();

    expect(await authenticate(new AppTokenStrategy(), posted())).toMatchObject({
      action: 'success',
      user: { id: UNIONID, openid: OPENID, refreshToken: REFRESH_TOKEN },
    });
  });
});

describe('logins that do not end in success', () => {
  const strategy = () => new WeChatAppStrategy(options(), returnProfile);

  it.each([
    ['no code', posted({}), 'WECHAT_MISSING_CODE'],
    ['an array', posted({ code: [CODE, CODE] }), 'WECHAT_MALFORMED_CODE'],
    ['an object', posted({ code: { $ne: null } }), 'WECHAT_MALFORMED_CODE'],
    ['513 characters', posted({ code: 'c'.repeat(513) }), 'WECHAT_MALFORMED_CODE'],
  ])('fails %s with 400 without calling WeChat', async (_case, req, code) => {
    expect(await authenticate(strategy(), req)).toMatchObject({ action: 'fail', status: 400, challenge: { code } });
  });

  it.each([
    [40029, 'invalid code'],
    [40163, 'code been used'],
    [42003, 'code timeout'],
  ])('fails with WECHAT_INVALID_CODE (401) when WeChat answers %i', async (errcode, errmsg) => {
    mockToken(JSON.stringify({ errcode, errmsg: errmsg + RID }));

    const outcome = await authenticate(strategy(), posted());

    expect(outcome).toMatchObject({ action: 'fail', status: 401, challenge: { code: 'WECHAT_INVALID_CODE', errcode } });
    expect(JSON.stringify(outcome)).not.toContain(CODE);
  });

  it('errors with a WeChatCredentialsError when WeChat rejects the AppSecret', async () => {
    mockToken(JSON.stringify({ errcode: 40125, errmsg: `invalid appsecret${RID}` }));

    const error = errorOf(await authenticate(strategy(), posted()));

    expect(error).toBeInstanceOf(WeChatCredentialsError);
    expectNoSecrets(error, SECRETS);
  });

  it('errors as retryable on -1 and does not retry the single-use code', async () => {
    const scope = mockToken(JSON.stringify({ errcode: -1, errmsg: `system error${RID}` }));

    expect(errorOf(await authenticate(strategy(), posted()))).toMatchObject({ code: 'WECHAT_SYSTEM_BUSY', retryable: true });
    expect(scope.isDone()).toBe(true);
  });

  it('errors when userinfo rejects the access token, without showing it', async () => {
    mockToken();
    mockUserInfo(JSON.stringify({ errcode: 40001, errmsg: `invalid credential, access_token is invalid or not latest${RID}` }));

    const error = errorOf(await authenticate(strategy(), posted()));

    expect(error).toBeInstanceOf(WeChatTokenError);
    expectNoSecrets(error, SECRETS);
  });

  it('errors when userinfo describes another user than the token', async () => {
    mockToken();
    mockUserInfo(USERINFO_BODY.replace(OPENID, 'oSomebodyElse0000000000000000'));

    expect(errorOf(await authenticate(strategy(), posted()))).toMatchObject({ code: 'WECHAT_MALFORMED_RESPONSE' });
  });
});

describe('token helpers', () => {
  const strategy = () => new WeChatAppStrategy(options(), returnProfile);

  it('refreshes a token without sending the AppSecret', async () => {
    nock(WECHAT_API)
      .get('/sns/oauth2/refresh_token')
      .query({ appid: APPID, grant_type: 'refresh_token', refresh_token: REFRESH_TOKEN })
      .reply(200, JSON.stringify({ access_token: 'new', expires_in: 7200, refresh_token: REFRESH_TOKEN, openid: OPENID, scope: 'snsapi_userinfo' }), TEXT);

    await expect(strategy().refreshAccessToken(REFRESH_TOKEN)).resolves.toMatchObject({ access_token: 'new', openid: OPENID });
  });

  it('checks a token with sns/auth: true when WeChat answers errcode 0', async () => {
    nock(WECHAT_API).get('/sns/auth').query({ access_token: ACCESS_TOKEN, openid: OPENID }).reply(200, '{"errcode":0,"errmsg":"ok"}', TEXT);

    await expect(strategy().checkAccessToken(ACCESS_TOKEN, OPENID)).resolves.toBe(true);
  });

  it('checks a token with sns/auth: false when WeChat says the token or openid is invalid', async () => {
    nock(WECHAT_API).get('/sns/auth').query({ access_token: 'stale', openid: OPENID }).reply(200, '{"errcode":40003,"errmsg":"invalid openid"}', TEXT);

    await expect(strategy().checkAccessToken('stale', OPENID)).resolves.toBe(false);
  });

  it('loads a profile from a stored token response, with the app as appid', async () => {
    mockUserInfo();

    await expect(strategy().loadUserProfile({ access_token: ACCESS_TOKEN, openid: OPENID })).resolves.toMatchObject({ id: UNIONID, appid: APPID });
  });
});

describe('constructing the strategy', () => {
  it('is a passport-strategy Strategy named "wechat-app"', () => {
    const strategy = new WeChatAppStrategy(options(), returnProfile);

    expect(strategy).toBeInstanceOf(PassportStrategyBase);
    expect(strategy.name).toBe('wechat-app');
  });

  it.each([
    [{ clientID: '' }, /clientID \(the AppID of your Mobile Application\)/],
    [{ appSecret: SECRET }, /either clientSecret or appSecret/],
    [{ lang: 'zh-CN' }, /"zh_CN", "zh_TW" or "en"/],
    [{ skipUserProfile: 'yes' }, /skipUserProfile/],
    [{ tokenURL: '/sns/oauth2/access_token' }, /tokenURL must be an absolute/],
    [{ userProfileURL: 42 }, /userProfileURL/],
    [{ timeout: -1 }, /timeout/],
    [{ codeField: 'code[]' }, /codeField/],
    [{ allowCodeInQuery: 1 }, /allowCodeInQuery must be a boolean/],
  ])('rejects %o with a WeChatOptionsError that names the option', (bad, message) => {
    expect(() => new WeChatAppStrategy(options(bad), returnProfile)).toThrow(WeChatOptionsError);
    expect(() => new WeChatAppStrategy(options(bad), returnProfile)).toThrow(message);
  });

  it('does not show the AppSecret in util.inspect or JSON', () => {
    const strategy = new WeChatAppStrategy(options(), returnProfile);

    expect(inspect(strategy, { depth: 10, showHidden: true })).not.toContain(SECRET);
    expect(JSON.stringify(strategy)).not.toContain(SECRET);
  });
});

describe('one person across website, Official Account, Mini Program and app', () => {
  // The emulator derives each openid from the app and the user, and each unionid from the user and
  // the Open Platform account: the ids below come from what it answers each app's strategy.
  let emulator: WeChatEmulator;
  const CALLBACK = 'http://localhost:3000/auth/wechat/callback';
  const APPS = [DEMO_WEBSITE_APP, DEMO_OFFICIAL_ACCOUNT_APP, DEMO_MINIPROGRAM_APP, DEMO_MOBILE_APP];

  beforeAll(async () => {
    emulator = await WeChatEmulator.start();
  });
  afterAll(() => emulator.close());

  const keep: WeChatVerifyFunction = (_a, _r, profile, done) => done(null, profile);

  /** Signs `user` in to `app` with the strategy for its kind, from a code WeChat issued for that app. */
  async function profileIn(app: EmulatorApp, user: string): Promise<WeChatProfile> {
    const code = emulator.issueCode({ appid: app.appid, user });
    // The session as the redirect leg left it, under the key passport-oauth2 derives from the authorize page's host.
    const callback = () => ({
      query: { code, state: 'abcDEF123456' },
      session: sessionWithState('abcDEF123456', `oauth2:${new URL(emulator.url).hostname}`),
    });
    const outcome = await (() => {
      switch (app.kind) {
        case 'website':
          return authenticate(new WeChatStrategy({ ...emulator.strategyOptions(app.appid), callbackURL: CALLBACK }, keep), callback());
        case 'official-account':
          return authenticate(new WeChatStrategy({ ...emulator.strategyOptions(app.appid), callbackURL: CALLBACK, scope: 'snsapi_userinfo' }, keep), callback());
        case 'miniprogram':
          return authenticate(new WeChatMiniProgramStrategy(emulator.miniProgramStrategyOptions(app.appid), (_k, profile, done) => done(null, profile)), posted({ code }));
        case 'mobile-app':
          return authenticate(new WeChatAppStrategy(emulator.appStrategyOptions(app.appid), keep), posted({ code }));
      }
    })();
    if (outcome.action !== 'success') throw new Error(`${app.name}: ${JSON.stringify(outcome)}`);
    return outcome.user as WeChatProfile;
  }

  it('gives Alice one profile.id in all four apps of an Open Platform account: her unionid', async () => {
    const profiles = await Promise.all(APPS.map((app) => profileIn(app, 'alice')));

    const unionid = emulator.unionidFor('alice');
    expect(unionid).toMatch(/^\S{28}$/);
    expect(profiles.map((profile) => profile.id)).toEqual(APPS.map(() => unionid));
  });

  it("gives each app's profile that app's appid and its own openid for Alice", async () => {
    const profiles = await Promise.all(APPS.map((app) => profileIn(app, 'alice')));

    expect(profiles.map((profile) => [profile.appid, profile.openid])).toEqual(APPS.map((app) => [app.appid, emulator.openidFor(app.appid, 'alice')]));
    expect(new Set(profiles.map((profile) => profile.openid)).size).toBe(APPS.length);
  });

  it('gives Bob, who has no unionid, a different profile.id in each app: his openid there', async () => {
    const profiles = await Promise.all(APPS.map((app) => profileIn(app, 'bob')));

    expect(profiles.map((profile) => profile.id)).toEqual(APPS.map((app) => emulator.openidFor(app.appid, 'bob')));
    expect(new Set(profiles.map((profile) => profile.id)).size).toBe(APPS.length);
  });

  it("gives Alice another profile.id in an app of another Open Platform account, where WeChat gives her another unionid", async () => {
    const elsewhere = emulator.registerApp({ appid: 'wx0d1c2b3a49586776', secret: '0f1e2d3c4b5a69788796a5b4c3d2e1f0', name: 'Another company', kind: 'mobile-app', unionGroup: 'another-account' });

    const profile = await profileIn(elsewhere, 'alice');

    expect(profile.id).toBe(emulator.unionidFor('alice', 'another-account'));
    expect(profile.id).not.toBe(emulator.unionidFor('alice'));
  });
});

describe('an Express 5 app', () => {
  function buildApp() {
    const passport = new Passport();
    passport.use(new WeChatAppStrategy(options(), (_a, _r, profile, done) => done(null, { id: profile.id, name: profile.displayName })));
    const app = express();
    app.post('/auth/wechat/app', express.json(), passport.authenticate('wechat-app', { session: false }), (req, res) => {
      res.json({ user: req.user });
    });
    return app;
  }

  it('signs the user in from a posted JSON code', async () => {
    mockToken();
    mockUserInfo();

    const response = await request(buildApp()).post('/auth/wechat/app').send({ code: CODE }).expect(200);

    expect(response.body).toEqual({ user: { id: UNIONID, name: 'App User' } });
  });

  it('answers 401 for a spent code', async () => {
    mockToken(JSON.stringify({ errcode: 40163, errmsg: `code been used${RID}` }));
    await request(buildApp()).post('/auth/wechat/app').send({ code: CODE }).expect(401);
  });

  it('answers 400 for no code, without calling WeChat', async () => {
    await request(buildApp()).post('/auth/wechat/app').send({}).expect(400);
  });
});
