import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { inspect } from 'node:util';
import type { Request } from 'express';
import nock from 'nock';
import OAuth2Strategy from 'passport-oauth2';
import { describe, expect, it } from 'vitest';
import {
  Strategy,
  WeChatCredentialsError,
  WeChatOptionsError,
  WeChatRequestError,
  WeChatStrategy,
  WeChatTokenError,
  type WeChatProfile,
  type VerifyCallback,
  type WeChatStrategyOptions,
  type WeChatStrategyOptionsWithRequest,
  type WeChatTokenResponse,
  type WeChatVerifyFunction,
} from '../lib/index.js';
import { mockWeChatLogin, useNockAtTheEdge } from './helpers/nock.js';
import { refusedURL } from './helpers/net.js';
import { authenticate, errorOf, sessionWithState, type Outcome } from './helpers/passport.js';
import { expectNoSecrets, expectNoSecretsIn } from './helpers/secrets.js';
import {
  ACCESS_TOKEN,
  APPID,
  CODE,
  OPENID,
  REFRESH_TOKEN,
  SECRET,
  STATE,
  TEXT,
  UNIONID,
  WEBSITE_LOGIN,
  WECHAT_API,
  tokenBody,
  userinfoBody,
} from './helpers/wechat.js';

const CALLBACK = 'https://example.com/auth/wechat/callback';
const SECRETS = [SECRET, CODE, ACCESS_TOKEN, REFRESH_TOKEN];

const api = () => nock(WECHAT_API);
const USERINFO_BODY = userinfoBody(WEBSITE_LOGIN, '张三');
const { mockToken, mockUserInfo } = mockWeChatLogin(WEBSITE_LOGIN, USERINFO_BODY);

function options(overrides: Partial<Record<string, unknown>> = {}): WeChatStrategyOptions {
  return { clientID: APPID, clientSecret: SECRET, callbackURL: CALLBACK, ...overrides } as WeChatStrategyOptions;
}

function optionsWithRequest(): WeChatStrategyOptionsWithRequest {
  return { clientID: APPID, clientSecret: SECRET, callbackURL: CALLBACK, passReqToCallback: true };
}

function callback(query: Record<string, unknown> = { code: CODE, state: STATE }) {
  return { query, session: sessionWithState(STATE), url: '/auth/wechat/callback' };
}

useNockAtTheEdge();

describe('starting a login', () => {
  it('redirects to WeChat with the parameters in WeChat order, no client_id, and #wechat_redirect last', async () => {
    const session: Record<string, unknown> = {};
    const strategy = new WeChatStrategy(options(), (_a, _r, profile, done) => done(null, profile));
    const outcome = await authenticate(strategy, { session });
    expect(outcome.action).toBe('redirect');
    const state = (session['oauth2:open.weixin.qq.com'] as { pending: { handle: string }[] }).pending[0]?.handle;
    expect(state).toMatch(/^[A-Za-z0-9]{24}$/);
    expect(outcome).toMatchObject({
      url:
        `https://open.weixin.qq.com/connect/qrconnect?appid=${APPID}` +
        '&redirect_uri=https%3A%2F%2Fexample.com%2Fauth%2Fwechat%2Fcallback' +
        `&response_type=code&scope=snsapi_login&state=${state}#wechat_redirect`,
    });
  });

  it('puts the QR page language after state', async () => {
    const strategy = new WeChatStrategy(options({ qrLang: 'en', state: false }), (_a, _r, p, done) => done(null, p));
    const outcome = await authenticate(strategy, {});
    expect(outcome).toMatchObject({
      url: `https://open.weixin.qq.com/connect/qrconnect?appid=${APPID}&redirect_uri=https%3A%2F%2Fexample.com%2Fauth%2Fwechat%2Fcallback&response_type=code&scope=snsapi_login&lang=en#wechat_redirect`,
    });
  });

  it('joins scopes given to passport.authenticate with WeChat\'s comma', async () => {
    const strategy = new WeChatStrategy(
      options({ state: false, authorizationURL: 'https://open.weixin.qq.com/connect/oauth2/authorize', scope: 'snsapi_base' }),
      (_a, _r, p, d) => d(null, p),
    );
    const outcome = await authenticate(strategy, {}, { scope: ['snsapi_base', 'snsapi_userinfo'] });
    expect((outcome as { url: string }).url).toContain('&scope=snsapi_base,snsapi_userinfo#wechat_redirect');
  });

  it('sends no state when the app turned state off', async () => {
    const strategy = new WeChatStrategy(options({ state: false }), (_a, _r, p, done) => done(null, p));
    const outcome = await authenticate(strategy, {});
    expect(outcome.action).toBe('redirect');
    expect((outcome as { url: string }).url).not.toContain('state=');
  });

  it('resolves a relative callbackURL from the Host header without touching req.connection', async () => {
    const strategy = new WeChatStrategy(options({ callbackURL: '/auth/wechat/callback', state: false }), (_a, _r, p, d) => d(null, p));
    const outcome = await authenticate(strategy, { headers: { host: 'shop.example.cn' }, url: '/auth/wechat' });
    expect((outcome as { url: string }).url).toContain('redirect_uri=http%3A%2F%2Fshop.example.cn%2Fauth%2Fwechat%2Fcallback&');
  });

  const forwarded = { host: 'internal:8080', 'x-forwarded-proto': 'https', 'x-forwarded-host': 'shop.example.cn' };

  it('trusts X-Forwarded-Proto and X-Forwarded-Host with proxy: true', async () => {
    const trusting = new WeChatStrategy(options({ callbackURL: '/cb', state: false, proxy: true }), (_a, _r, p, d) => d(null, p));
    expect(((await authenticate(trusting, { headers: forwarded })) as { url: string }).url).toContain('redirect_uri=https%3A%2F%2Fshop.example.cn%2Fcb&');
  });

  it('ignores X-Forwarded-Proto and X-Forwarded-Host without proxy: true', async () => {
    const wary = new WeChatStrategy(options({ callbackURL: '/cb', state: false }), (_a, _r, p, d) => d(null, p));
    expect(((await authenticate(wary, { headers: forwarded })) as { url: string }).url).toContain('redirect_uri=http%3A%2F%2Finternal%3A8080%2Fcb&');
  });

  it('refuses a state that WeChat would reject instead of sending the user to a broken page', async () => {
    const strategy = new WeChatStrategy(options({ state: false }), (_a, _r, p, d) => d(null, p));
    const outcome = await authenticate(strategy, {}, { state: 'not/alnum' });
    expect(outcome.action).toBe('error');
    expect((outcome as { error: Error }).error).toBeInstanceOf(WeChatOptionsError);
  });

  it('errors when there is no callbackURL at all', async () => {
    const strategy = new WeChatStrategy(options({ callbackURL: undefined, state: false }), (_a, _r, p, d) => d(null, p));
    const outcome = await authenticate(strategy, {});
    expect(outcome.action).toBe('error');
    expect((outcome as { error: Error }).error.message).toMatch(/callbackURL/);
  });

  it('errors, rather than crashing, when state is on and the app has no session', async () => {
    const strategy = new WeChatStrategy(options(), (_a, _r, p, d) => d(null, p));
    const outcome = await authenticate(strategy, {});
    expect(outcome.action).toBe('error');
    expect((outcome as { error: Error }).error.message).toMatch(/session/);
  });
});

describe('finishing a login', () => {
  it('exchanges the code, reads the profile with the token\'s openid and hands both to verify', async () => {
    mockToken();
    mockUserInfo();
    const seen: unknown[] = [];
    const strategy = new WeChatStrategy(options(), (accessToken, refreshToken, profile, done) => {
      seen.push(accessToken, refreshToken);
      done(null, { id: profile.id, name: profile.displayName });
    });
    const outcome = await authenticate(strategy, callback());
    expect(outcome).toEqual({ action: 'success', user: { id: UNIONID, name: '张三' }, info: {} });
    expect(seen).toEqual([ACCESS_TOKEN, REFRESH_TOKEN]);
  });

  it('gives verify the normalized post-2021 profile', async () => {
    mockToken();
    mockUserInfo();
    let profile: WeChatProfile | undefined;
    const strategy = new WeChatStrategy(options(), (_a, _r, p, done) => {
      profile = p;
      done(null, {});
    });
    await authenticate(strategy, callback());
    expect(profile).toMatchObject({
      provider: 'wechat',
      id: UNIONID,
      openid: OPENID,
      unionid: UNIONID,
      displayName: '张三',
      photos: [{ value: 'https://thirdwx.qlogo.cn/mmopen/vi_32/Q0j4TwGTfTK/132' }],
      privilege: [],
    });
    expect(profile).not.toHaveProperty('gender');
    expect(profile).not.toHaveProperty('city');
    expect(profile?._raw).toBe(USERINFO_BODY);
  });

  it('keeps a unionid that only the token response carried', async () => {
    mockToken();
    mockUserInfo(USERINFO_BODY.replace(`,"unionid":"${UNIONID}"`, ''));
    let profile: WeChatProfile | undefined;
    const strategy = new WeChatStrategy(options(), (_a, _r, p, done) => done(null, (profile = p)));
    await authenticate(strategy, callback());
    expect(profile).toMatchObject({ id: UNIONID, unionid: UNIONID, openid: OPENID });
  });

  it('uses the openid as id when the app has no unionid', async () => {
    mockToken(tokenBody(WEBSITE_LOGIN, { unionid: undefined }));
    mockUserInfo(USERINFO_BODY.replace(`,"unionid":"${UNIONID}"`, ''));
    let profile: WeChatProfile | undefined;
    const strategy = new WeChatStrategy(options(), (_a, _r, p, done) => done(null, (profile = p)));
    await authenticate(strategy, callback());
    expect(profile?.id).toBe(OPENID);
    expect(profile).not.toHaveProperty('unionid');
  });

  it('asks userinfo in the configured language', async () => {
    mockToken();
    mockUserInfo(USERINFO_BODY, { access_token: ACCESS_TOKEN, openid: OPENID, lang: 'en' });
    const strategy = new WeChatStrategy(options({ lang: 'en' }), (_a, _r, p, done) => done(null, p));
    expect((await authenticate(strategy, callback())).action).toBe('success');
  });

  it('passes the token response as params to a five-argument verify', async () => {
    mockToken();
    mockUserInfo();
    let params: WeChatTokenResponse | undefined;
    // A five-argument verify needs its parameters annotated: TypeScript picks the overload by arity.
    const strategy = new WeChatStrategy(options(), (_a: string, _r: string, p: WeChatTokenResponse, _profile: WeChatProfile, done: VerifyCallback) => {
      params = p;
      done(null, {});
    });
    await authenticate(strategy, callback());
    expect(params).toMatchObject({ openid: OPENID, unionid: UNIONID, scope: 'snsapi_login', expires_in: 7200 });
  });

  it('passes the request first with passReqToCallback', async () => {
    const req = callback();
    mockToken();
    mockUserInfo();
    const five = new WeChatStrategy(optionsWithRequest(), (r, _a, _rt, profile, done) =>
      done(null, { same: r.query === req.query, id: profile.id }),
    );
    expect(await authenticate(five, req)).toMatchObject({ action: 'success', user: { same: true, id: UNIONID } });
  });

  it('passes the request first and the token response as params to a six-argument verify with passReqToCallback', async () => {
    mockToken();
    mockUserInfo();
    const six = new WeChatStrategy(
      optionsWithRequest(),
      (_r: Request, _a: string, _rt: string, params: WeChatTokenResponse, profile: WeChatProfile, done: VerifyCallback) =>
        done(null, { openid: params.openid, id: profile.id }),
    );
    expect(await authenticate(six, callback())).toMatchObject({ action: 'success', user: { openid: OPENID, id: UNIONID } });
  });

  it('calls a NestJS-style verify (declared with no parameters) as (accessToken, refreshToken, profile, done)', async () => {
    mockToken();
    mockUserInfo();
    const nestCallback = async (...params: unknown[]) => {
      const done = params[3] as (e: null, u: unknown) => void;
      done(null, { args: params.length, profileId: (params[2] as WeChatProfile).id });
    };
    const strategy = new WeChatStrategy(options(), nestCallback as never);
    expect(await authenticate(strategy, callback())).toMatchObject({ action: 'success', user: { args: 4, profileId: UNIONID } });
  });

  it('skips the userinfo call with skipUserProfile and still gives the ids', async () => {
    mockToken();
    let profile: WeChatProfile | undefined;
    const strategy = new WeChatStrategy(options({ skipUserProfile: true }), (_a, _r, p, done) => done(null, (profile = p)));
    expect((await authenticate(strategy, callback())).action).toBe('success');
    expect(profile).toMatchObject({ provider: 'wechat', id: UNIONID, openid: OPENID, displayName: '' });
  });

  it('lets skipUserProfile decide per token, also through a callback', async () => {
    mockToken();
    const seen: string[] = [];
    const strategy = new WeChatStrategy(
      options({
        skipUserProfile: (token: string, done: (e: null, s: boolean) => void) => {
          seen.push(token);
          done(null, true);
        },
      }),
      (_a, _r, p, done) => done(null, p),
    );
    expect((await authenticate(strategy, callback())).action).toBe('success');
    expect(seen).toEqual([ACCESS_TOKEN]);
  });

  it('fails when verify returns no user, with verify\'s info', async () => {
    mockToken();
    mockUserInfo();
    const strategy = new WeChatStrategy(options(), (_a, _r, _p, done) => done(null, false, { message: 'not invited' }));
    expect(await authenticate(strategy, callback())).toMatchObject({ action: 'fail', challenge: { message: 'not invited' } });
  });

  it('turns a verify that throws into error(), not a crash', async () => {
    mockToken();
    mockUserInfo();
    const strategy = new WeChatStrategy(options(), () => {
      throw new Error('database down');
    });
    expect(await authenticate(strategy, callback())).toMatchObject({ action: 'error', error: { message: 'database down' } });
  });
});

describe('logins that do not end in success', () => {
  it('fails a callback with state but no code as a declined login and never sends the user back to WeChat', async () => {
    const strategy = new WeChatStrategy(options(), (_a, _r, p, d) => d(null, p));
    const outcome = await authenticate(strategy, callback({ state: STATE }));
    expect(outcome).toEqual({
      action: 'fail',
      challenge: { code: 'WECHAT_DECLINED', message: 'The WeChat login was declined or cancelled.' },
      status: 401,
    });
  });

  it('treats an empty code as no code', async () => {
    const strategy = new WeChatStrategy(options(), (_a, _r, p, d) => d(null, p));
    expect(await authenticate(strategy, callback({ code: '', state: STATE }))).toMatchObject({
      action: 'fail',
      challenge: { code: 'WECHAT_DECLINED' },
    });
  });

  it.each([
    ['an array', [CODE, CODE]],
    ['513 characters', 'x'.repeat(513)],
    ['a space', 'has space'],
    ['an object', { $gt: '' }],
  ])('fails a malformed code (%s) with 400 without calling WeChat', async (_case, code) => {
    const strategy = new WeChatStrategy(options(), (_a, _r, p, d) => d(null, p));
    expect(await authenticate(strategy, callback({ code, state: STATE }))).toMatchObject({
      action: 'fail',
      challenge: { code: 'WECHAT_MALFORMED_CODE' },
      status: 400,
    });
  });

  it('fails when the state does not match the session, without calling WeChat', async () => {
    const strategy = new WeChatStrategy(options(), (_a, _r, p, d) => d(null, p));
    const outcome = await authenticate(strategy, { ...callback({ code: CODE, state: 'forged' }) });
    expect(outcome).toMatchObject({ action: 'fail', status: 403 });
  });

  it.each([
    [40029, 'invalid code'],
    [40163, 'code been used'],
    [42003, 'code timeout'],
  ])('fails (so failureRedirect applies) when WeChat answers %i', async (errcode, errmsg) => {
    mockToken(JSON.stringify({ errcode, errmsg: `${errmsg}, rid: 65a33cd8-023106e1-2dc7e2f6` }));
    const strategy = new WeChatStrategy(options(), (_a, _r, p, d) => d(null, p));
    const outcome = await authenticate(strategy, callback());
    expect(outcome).toMatchObject({ action: 'fail', status: 401, challenge: { code: 'WECHAT_INVALID_CODE', errcode } });
    expectNoSecretsIn(outcome, SECRETS);
  });

  it('errors with a message for the operator when WeChat rejects the AppSecret', async () => {
    mockToken(JSON.stringify({ errcode: 40125, errmsg: 'invalid appsecret, rid: 6a1b2c3d-4e5f6a7b-8c9d0e1f' }));
    const strategy = new WeChatStrategy(options(), (_a, _r, p, d) => d(null, p));
    const outcome = await authenticate(strategy, callback());
    expect(outcome.action).toBe('error');
    const error = (outcome as Extract<Outcome, { action: 'error' }>).error;
    expect(error).toBeInstanceOf(WeChatCredentialsError);
    expect(error).toMatchObject({ code: 'WECHAT_BAD_CREDENTIALS', errcode: 40125, errmsg: 'invalid appsecret', rid: '6a1b2c3d-4e5f6a7b-8c9d0e1f' });
    expect(error.message).toMatch(/clientSecret/);
    expectNoSecrets(error, SECRETS);
  });

  it('errors with a typed error when WeChat cannot be reached, and keeps the secrets out of it', async () => {
    // A port this test bound and closed again: the connection is refused.
    const strategy = new WeChatStrategy(options({ tokenURL: await refusedURL('/sns/oauth2/access_token') }), (_a, _r, p, d) => d(null, p));
    nock.enableNetConnect('127.0.0.1');
    let outcome: Outcome;
    try {
      outcome = await authenticate(strategy, callback());
    } finally {
      nock.disableNetConnect();
    }
    const error = errorOf(outcome);
    expect(error).toMatchObject({ code: 'WECHAT_NETWORK_ERROR', retryable: true });
    expect(error).toBeInstanceOf(WeChatRequestError);
    expectNoSecrets(error, SECRETS);
  });

  it('errors with WECHAT_TIMEOUT when WeChat does not answer within the timeout', async () => {
    // A real socket that accepts the request and never answers (nock's delayed replies and
    // undici's abort do not mix).
    const silent = http.createServer(() => {});
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    nock.enableNetConnect('127.0.0.1');
    try {
      const { port } = silent.address() as AddressInfo;
      const strategy = new WeChatStrategy(options({ timeout: 100, tokenURL: `http://127.0.0.1:${port}/sns/oauth2/access_token` }), (_a, _r, p, d) =>
        d(null, p),
      );
      const outcome = await authenticate(strategy, callback());
      expect(outcome).toMatchObject({ action: 'error', error: { code: 'WECHAT_TIMEOUT' } });
      expectNoSecrets(errorOf(outcome), SECRETS);
    } finally {
      nock.disableNetConnect();
      silent.closeAllConnections();
      await new Promise((resolve) => silent.close(resolve));
    }
  });

  it('errors when userinfo rejects the access token', async () => {
    mockToken();
    mockUserInfo(JSON.stringify({ errcode: 40001, errmsg: 'invalid credential, access_token is invalid or not latest, rid: 1-2-3' }));
    const strategy = new WeChatStrategy(options(), (_a, _r, p, d) => d(null, p));
    const outcome = await authenticate(strategy, callback());
    const error = errorOf(outcome);
    expect(error).toBeInstanceOf(WeChatTokenError);
    expectNoSecrets(error, SECRETS);
  });

  it('errors when userinfo describes another user than the token', async () => {
    mockToken();
    mockUserInfo(USERINFO_BODY.replace(OPENID, 'oSomebodyElse0000000000000000'));
    const strategy = new WeChatStrategy(options(), (_a, _r, p, d) => d(null, p));
    const outcome = await authenticate(strategy, callback());
    expect(outcome).toMatchObject({ action: 'error', error: { code: 'WECHAT_MALFORMED_RESPONSE' } });
  });

  it.each([1, '1'])('refuses a virtual snapshot-page user (is_snapshotuser: %o) instead of logging in a ghost account', async (flag) => {
    mockToken(tokenBody(WEBSITE_LOGIN, { is_snapshotuser: flag }));
    const strategy = new WeChatStrategy(options(), (_a, _r, p, d) => d(null, p));
    expect(await authenticate(strategy, callback())).toMatchObject({
      action: 'fail',
      status: 401,
      challenge: { code: 'WECHAT_SNAPSHOT_USER' },
    });
  });

  it('reads 40001 on the code exchange as a wrong AppSecret, not as a user token problem', async () => {
    mockToken(JSON.stringify({ errcode: 40001, errmsg: 'invalid credential, access_token is invalid or not latest, rid: 1-2-3' }));
    const strategy = new WeChatStrategy(options(), (_a, _r, p, d) => d(null, p));
    const outcome = await authenticate(strategy, callback());
    expect((outcome as Extract<Outcome, { action: 'error' }>).error).toBeInstanceOf(WeChatCredentialsError);
  });

  it('does not retry the code exchange after a WeChat system error (codes are single-use)', async () => {
    const scope = mockToken(JSON.stringify({ errcode: -1, errmsg: 'system error' }));
    const strategy = new WeChatStrategy(options(), (_a, _r, p, d) => d(null, p));
    const outcome = await authenticate(strategy, callback());
    expect(outcome).toMatchObject({ action: 'error', error: { code: 'WECHAT_SYSTEM_BUSY', retryable: true } });
    expect(scope.isDone()).toBe(true);
  });
});

describe('constructing the strategy', () => {
  const verify: WeChatVerifyFunction = (_a, _r, p, d) => d(null, p);

  it('is a passport-oauth2 strategy named "wechat", also exported as Strategy', () => {
    const strategy = new Strategy(options(), verify);
    expect(strategy).toBeInstanceOf(OAuth2Strategy);
    expect(strategy.name).toBe('wechat');
  });

  it('accepts passport-wechat\'s appID/appSecret names', async () => {
    mockToken();
    mockUserInfo();
    const strategy = new WeChatStrategy({ appID: APPID, appSecret: SECRET, callbackURL: CALLBACK }, verify);
    expect((await authenticate(strategy, callback())).action).toBe('success');
  });

  it.each([
    [{ clientID: undefined }, /clientID/],
    [{ clientSecret: '' }, /clientSecret/],
    [{ appID: APPID }, /either clientID or appID/],
    [{ clientID: ` ${APPID}` }, /white space/],
    [{ lang: 'zh-CN' }, /"zh_CN", "zh_TW" or "en"/],
    [{ qrLang: 'zh_CN' }, /"cn" or "en"/],
    [{ scope: 'snsapi_base', authorizationURL: 'https://open.weixin.qq.com/connect/qrconnect' }, /only grants snsapi_login/],
    [{ authorizationURL: 'https://open.weixin.qq.com/connect/oauth2/authorize' }, /snsapi_base or snsapi_userinfo there/],
    [{ scope: ['snsapi_login', 'snsapi_base'] }, /mixes website/],
    [{ forcePopup: true }, /forcePopup only applies to Official Account/],
    [{ timeout: 0 }, /timeout/],
    [{ tokenURL: 'api.weixin.qq.com/sns' }, /absolute URL/],
    [{ dispatcher: {} }, /undici Dispatcher/],
  ])('rejects %o with a WeChatOptionsError that names the option', (bad, message) => {
    expect(() => new WeChatStrategy(options(bad), verify)).toThrow(WeChatOptionsError);
    expect(() => new WeChatStrategy(options(bad), verify)).toThrow(message);
  });

  it('rejects a missing verify callback', () => {
    expect(() => new WeChatStrategy(options(), undefined as never)).toThrow(/verify callback/);
  });

  it('does not show the AppSecret in util.inspect or JSON', () => {
    const strategy = new WeChatStrategy(options(), verify);
    expect(inspect(strategy, { depth: 10, showHidden: true })).not.toContain(SECRET);
    expect(JSON.stringify(strategy)).not.toContain(SECRET);
  });

  it('explains that userProfile needs the token response when called directly', async () => {
    const strategy = new WeChatStrategy(options(), verify);
    const error = await new Promise((resolve) => strategy.userProfile(ACCESS_TOKEN, resolve));
    expect(error).toBeInstanceOf(WeChatOptionsError);
    expect((error as Error).message).toMatch(/loadUserProfile/);
  });
});

describe('token helpers', () => {
  const strategy = () => new WeChatStrategy(options(), (_a, _r, p, d) => d(null, p));

  it('refreshes a token without sending the AppSecret, keeping the openid', async () => {
    api()
      .get('/sns/oauth2/refresh_token')
      .query({ appid: APPID, grant_type: 'refresh_token', refresh_token: REFRESH_TOKEN })
      .reply(200, JSON.stringify({ access_token: 'new', expires_in: 7200, refresh_token: REFRESH_TOKEN, openid: OPENID, scope: 'snsapi_login' }), TEXT);
    await expect(strategy().refreshAccessToken(REFRESH_TOKEN)).resolves.toMatchObject({ access_token: 'new', openid: OPENID });
  });

  it('rejects an expired refresh token with a WeChatTokenError', async () => {
    api()
      .get('/sns/oauth2/refresh_token')
      .query(true)
      .reply(200, JSON.stringify({ errcode: 40030, errmsg: 'invalid refresh_token, rid: 1-2-3' }), TEXT);
    const error = await strategy().refreshAccessToken(REFRESH_TOKEN).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'WECHAT_INVALID_REFRESH_TOKEN' });
    expectNoSecrets(error, SECRETS);
  });

  it('checks a token with sns/auth: true when WeChat answers errcode 0', async () => {
    api().get('/sns/auth').query({ access_token: ACCESS_TOKEN, openid: OPENID }).reply(200, '{"errcode":0,"errmsg":"ok"}', TEXT);
    await expect(strategy().checkAccessToken(ACCESS_TOKEN, OPENID)).resolves.toBe(true);
  });

  it('checks a token with sns/auth: false when WeChat says the token or openid is invalid', async () => {
    api().get('/sns/auth').query({ access_token: 'stale', openid: OPENID }).reply(200, '{"errcode":40003,"errmsg":"invalid openid"}', TEXT);
    await expect(strategy().checkAccessToken('stale', OPENID)).resolves.toBe(false);
  });

  it('loads a profile from a stored token response', async () => {
    mockUserInfo();
    await expect(strategy().loadUserProfile({ access_token: ACCESS_TOKEN, openid: OPENID })).resolves.toMatchObject({ id: UNIONID });
  });
});
