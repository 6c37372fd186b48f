/**
 * Mini Program and native-app sign-in end to end, against the local WeChat emulator (no nock):
 * an Express 5 app with WeChatMiniProgramStrategy and WeChatAppStrategy, a client that posts the
 * code `wx.login()` or the Open SDK gave it, and the emulator's real `sns/jscode2session` and
 * `sns/oauth2/*` on 127.0.0.1. Each test plays the client with `emulator.issueCode(…)`.
 */
import express, { type ErrorRequestHandler, type RequestHandler } from 'express';
import { Passport } from 'passport';
import request from 'supertest';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  WeChatAppStrategy,
  WeChatMiniProgramStrategy,
  WeChatStrategy,
  WeChatUserDataError,
  type WeChatDecryptedPhoneNumber,
  type WeChatDecryptedUserInfo,
  type WeChatMiniProgramVerifyFunctionWithRequest,
  type WeChatProfile,
} from '../lib/index.js';
import { DEMO_MINIPROGRAM_APP, DEMO_MOBILE_APP, DEMO_WEBSITE_APP, WeChatEmulator } from '../lib/testing/index.js';

const MP = DEMO_MINIPROGRAM_APP;
const MOBILE = DEMO_MOBILE_APP;

let emulator: WeChatEmulator;
/** Every session key a verify received, to look for it where it must never be. */
const sessionKeys: string[] = [];

beforeAll(async () => {
  emulator = await WeChatEmulator.start(); // the demo apps (website, Mini Program, mobile app) and users
});
afterEach(() => {
  emulator.reset();
  sessionKeys.length = 0;
});
afterAll(() => emulator.close());

/** What the Mini Program posts besides the code, when it has data to decrypt. */
interface PostedUserData {
  encryptedData?: string;
  iv?: string;
  rawData?: string;
  signature?: string;
}

/** What the verify callbacks make of a login: the ids, plus what the session key decrypted or checked. */
function userOf(profile: WeChatProfile, extra: Record<string, unknown> = {}) {
  return { id: profile.id, openid: profile.openid, unionid: profile.unionid ?? null, appid: profile.appid, ...extra };
}

/** The Mini Program verify: decrypts `encryptedData`/`iv` and checks `rawData`/`signature` when posted. */
const miniProgramVerify: WeChatMiniProgramVerifyFunctionWithRequest = (req, sessionKey, profile, done) => {
  sessionKeys.push(sessionKey.reveal());
  const body = req.body as PostedUserData;
  try {
    const decrypted = body.encryptedData === undefined ? undefined : sessionKey.decrypt(body.encryptedData, body.iv ?? '');
    const signed = body.rawData === undefined ? undefined : sessionKey.verifySignature(body.rawData, body.signature ?? '');
    done(null, userOf(profile, { decrypted, signed, profile }));
  } catch (error) {
    // One answer for every WeChatUserDataError: no padding oracle (docs/miniprogram.md).
    if (error instanceof WeChatUserDataError) return done(null, false, { code: 'WECHAT_USERDATA_REFUSED', message: 'Could not read the data.' });
    done(error);
  }
};

/** Answers a posted-code login with JSON, as a Mini Program or an app needs (docs/miniprogram.md). */
function authenticateJson(passport: InstanceType<typeof Passport>, name: string): RequestHandler {
  return (req, res, next) =>
    passport.authenticate(name, { session: false }, (err: unknown, user: unknown, info: { code?: string } | undefined, status?: number) => {
      if (err) return next(err);
      if (!user) return res.status(status ?? 401).json({ code: info?.code });
      res.json({ user });
    })(req, res, next);
}

const jsonErrors: ErrorRequestHandler = (error: { code?: string; retryable?: boolean }, _req, res, _next) => {
  res.status(error.retryable ? 503 : 500).json({ code: error.code, retryable: error.retryable });
};

/** An Express 5 app with the three logins, each pointed at the emulator. */
function buildApp(miniProgram = emulator.miniProgramStrategyOptions(MP.appid)) {
  const passport = new Passport();
  passport.use(new WeChatMiniProgramStrategy({ ...miniProgram, passReqToCallback: true }, miniProgramVerify));
  passport.use(new WeChatAppStrategy(emulator.appStrategyOptions(MOBILE.appid), (_accessToken, _refreshToken, profile, done) => {
    done(null, userOf(profile, { displayName: profile.displayName }));
  }));
  // The website login, for comparison: state off, so a test can call the callback with a code directly.
  passport.use(new WeChatStrategy({ ...emulator.strategyOptions(DEMO_WEBSITE_APP.appid), callbackURL: 'http://localhost/cb', state: false },
    (_accessToken, _refreshToken, profile, done) => done(null, userOf(profile))));

  const app = express();
  app.post('/auth/wechat/miniprogram', express.json(), authenticateJson(passport, 'wechat-miniprogram'));
  app.post('/auth/wechat/app', express.json(), authenticateJson(passport, 'wechat-app'));
  app.get('/auth/wechat/callback', passport.authenticate('wechat', { session: false }), (req, res) => {
    res.json({ user: req.user });
  });
  app.use(jsonErrors);
  return app;
}

/** `wx.login()` in the Mini Program. */
function wxLogin(user: string): string {
  return emulator.issueCode({ appid: MP.appid, user });
}

describe('WeChatMiniProgramStrategy against the emulator', () => {
  it("signs Alice in: profile.id is her unionid, the id her website and native-app logins give too", async () => {
    const app = buildApp();
    const miniProgram = await request(app).post('/auth/wechat/miniprogram').send({ code: wxLogin('alice') }).expect(200);
    const unionid = emulator.unionidFor('alice');
    expect(miniProgram.body.user).toMatchObject({ id: unionid, unionid, openid: emulator.openidFor(MP.appid, 'alice'), appid: MP.appid });

    const website = await request(app).get(`/auth/wechat/callback?code=${emulator.issueCode({ appid: DEMO_WEBSITE_APP.appid, user: 'alice' })}`).expect(200);
    const nativeApp = await request(app).post('/auth/wechat/app').send({ code: emulator.issueCode({ appid: MOBILE.appid, user: 'alice' }) }).expect(200);
    expect([website.body.user.id, nativeApp.body.user.id]).toEqual([unionid, unionid]);
    expect(new Set([miniProgram.body.user.openid, website.body.user.openid, nativeApp.body.user.openid]).size).toBe(3); // one openid per app
    expect(emulator.calls.map((call) => call.endpoint)).toEqual(['jscode2session', 'access_token', 'userinfo', 'access_token', 'userinfo']);
  });

  it('signs Bob in by his openid: he has no unionid', async () => {
    const response = await request(buildApp()).post('/auth/wechat/miniprogram').send({ code: wxLogin('bob') }).expect(200);
    const openid = emulator.openidFor(MP.appid, 'bob');
    expect(response.body.user).toMatchObject({ id: openid, openid, unionid: null });
  });

  it('answers a reused code with 401 WECHAT_INVALID_CODE (40163): the Mini Program must wx.login() again', async () => {
    const app = buildApp();
    const code = wxLogin('alice');
    await request(app).post('/auth/wechat/miniprogram').send({ code }).expect(200);
    const again = await request(app).post('/auth/wechat/miniprogram').send({ code }).expect(401);
    expect(again.body).toEqual({ code: 'WECHAT_INVALID_CODE' });
    expect(emulator.calls.map((call) => call.errcode)).toEqual([undefined, 40163]);
  });

  it('answers a made-up or expired code with 401 WECHAT_INVALID_CODE (40029), and no code with 400 without calling WeChat', async () => {
    const app = buildApp();
    expect((await request(app).post('/auth/wechat/miniprogram').send({ code: '0e3XyZ000Tq2bV1uPnH00wA9Kp3XyZ0S' }).expect(401)).body)
      .toEqual({ code: 'WECHAT_INVALID_CODE' });
    expect((await request(app).post('/auth/wechat/miniprogram').send({}).expect(400)).body).toEqual({ code: 'WECHAT_MISSING_CODE' });
    expect(emulator.calls.map((call) => call.errcode)).toEqual([40029]);
  });

  it('answers a high-risk user with 403 WECHAT_USER_BLOCKED (40226)', async () => {
    emulator.registerUser({ id: 'mallory', nickname: 'Mallory', highRisk: true });
    const response = await request(buildApp()).post('/auth/wechat/miniprogram').send({ code: wxLogin('mallory') }).expect(403);
    expect(response.body).toEqual({ code: 'WECHAT_USER_BLOCKED' });
    expect(emulator.calls.map((call) => call.errcode)).toEqual([40226]);
  });

  it("ends in a retryable error when WeChat is busy (-1), and the code is not sent twice", async () => {
    emulator.failNext('jscode2session', { errcode: -1 });
    const response = await request(buildApp()).post('/auth/wechat/miniprogram').send({ code: wxLogin('alice') }).expect(503);
    expect(response.body).toEqual({ code: 'WECHAT_SYSTEM_BUSY', retryable: true });
    expect(emulator.calls).toHaveLength(1);
  });

  it('ends in a non-retryable WECHAT_BAD_CREDENTIALS error with the wrong AppSecret (40125)', async () => {
    const app = buildApp({ ...emulator.miniProgramStrategyOptions(MP.appid), clientSecret: 'not-the-secret-of-this-mini-program' });
    const response = await request(app).post('/auth/wechat/miniprogram').send({ code: wxLogin('alice') }).expect(500);
    expect(response.body).toEqual({ code: 'WECHAT_BAD_CREDENTIALS', retryable: false });
  });

  it('decrypts emulator.encryptUserData(…) with the session key in verify (passReqToCallback)', async () => {
    const code = wxLogin('alice');
    const phone = { phoneNumber: '13580006666', purePhoneNumber: '13580006666', countryCode: '86' };
    const { encryptedData, iv } = emulator.encryptUserData(MP.appid, 'alice', phone);
    const response = await request(buildApp()).post('/auth/wechat/miniprogram').send({ code, encryptedData, iv }).expect(200);
    const decrypted = response.body.user.decrypted as WeChatDecryptedPhoneNumber;
    expect(decrypted).toEqual({ ...phone, watermark: { appid: MP.appid, timestamp: expect.any(Number) as unknown } });
  });

  it('checks and decrypts wx.getUserInfo() data: "微信用户", her openId and unionId', async () => {
    const code = wxLogin('alice');
    const { rawData, signature, encryptedData, iv } = emulator.userInfoData(MP.appid, 'alice');
    const response = await request(buildApp()).post('/auth/wechat/miniprogram').send({ code, rawData, signature, encryptedData, iv }).expect(200);
    expect(response.body.user.signed).toBe(true);
    const decrypted = response.body.user.decrypted as WeChatDecryptedUserInfo;
    expect(decrypted).toMatchObject({ nickName: '微信用户', openId: emulator.openidFor(MP.appid, 'alice'), unionId: emulator.unionidFor('alice') });
  });

  it('refuses data made with the key of an earlier wx.login(): each login makes a new session key', async () => {
    wxLogin('alice');
    const stale = emulator.encryptUserData(MP.appid, 'alice', { purePhoneNumber: '13580006666' });
    const code = wxLogin('alice'); // a second wx.login() before posting: a new session key
    const response = await request(buildApp()).post('/auth/wechat/miniprogram').send({ code, ...stale }).expect(401);
    expect(response.body).toEqual({ code: 'WECHAT_USERDATA_REFUSED' });
  });

  it('never shows the session key: not in the answer (profile, _raw, _json included), not in emulator.calls', async () => {
    const response = await request(buildApp()).post('/auth/wechat/miniprogram').send({ code: wxLogin('alice') }).expect(200);
    expect(sessionKeys).toHaveLength(1);
    const [sessionKey = ''] = sessionKeys;
    expect(sessionKey).toBe(emulator.sessionKeyFor(MP.appid, 'alice'));
    expect(response.body.user.profile._json).toEqual({ openid: emulator.openidFor(MP.appid, 'alice'), unionid: emulator.unionidFor('alice') });
    expect(response.text).not.toContain(sessionKey);
    expect(JSON.stringify(emulator.calls)).not.toContain(sessionKey);
    expect(emulator.calls[0]?.query).toMatchObject({ secret: '[redacted]', js_code: '[redacted]' });
  });
});

describe('WeChatAppStrategy against the emulator', () => {
  it('signs Alice in with an Open SDK code: the token exchange, then her profile', async () => {
    const response = await request(buildApp()).post('/auth/wechat/app').send({ code: emulator.issueCode({ appid: MOBILE.appid, user: 'alice' }) }).expect(200);
    expect(response.body.user).toEqual({
      id: emulator.unionidFor('alice'),
      openid: emulator.openidFor(MOBILE.appid, 'alice'),
      unionid: emulator.unionidFor('alice'),
      appid: MOBILE.appid,
      displayName: 'Alice 🐼',
    });
    expect(emulator.calls.map((call) => [call.endpoint, call.query.appid])).toEqual([['access_token', MOBILE.appid], ['userinfo', undefined]]);
  });

  it('answers a reused app code, or a Mini Program code, with 401 WECHAT_INVALID_CODE', async () => {
    const app = buildApp();
    const code = emulator.issueCode({ appid: MOBILE.appid, user: 'bob' });
    expect((await request(app).post('/auth/wechat/app').send({ code }).expect(200)).body.user.id).toBe(emulator.openidFor(MOBILE.appid, 'bob'));
    expect((await request(app).post('/auth/wechat/app').send({ code }).expect(401)).body).toEqual({ code: 'WECHAT_INVALID_CODE' });
    expect((await request(app).post('/auth/wechat/app').send({ code: wxLogin('bob') }).expect(401)).body).toEqual({ code: 'WECHAT_INVALID_CODE' });
    expect(emulator.calls.map((call) => call.errcode)).toEqual([undefined, undefined, 40163, 40029]);
  });

  it('refreshes and checks the app tokens with the strategy', async () => {
    const strategy = new WeChatAppStrategy(emulator.appStrategyOptions(MOBILE.appid), (_a, _r, profile, done) => done(null, profile));
    const tokenURL = new URL(emulator.endpoints.tokenURL);
    tokenURL.search = new URLSearchParams({
      appid: MOBILE.appid,
      secret: MOBILE.secret,
      code: emulator.issueCode({ appid: MOBILE.appid, user: 'alice' }),
      grant_type: 'authorization_code',
    }).toString();
    const token = JSON.parse(await (await fetch(tokenURL)).text()) as { access_token: string; refresh_token: string; openid: string };
    const refreshed = await strategy.refreshAccessToken(token.refresh_token);
    expect(refreshed.openid).toBe(token.openid);
    expect(await strategy.checkAccessToken(refreshed.access_token, token.openid)).toBe(true);
    expect(await strategy.checkAccessToken(refreshed.access_token, emulator.openidFor(MOBILE.appid, 'bob'))).toBe(false);
  });
});
