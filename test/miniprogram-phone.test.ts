/**
 * Mini Program sign-in with the user's phone number (docs/miniprogram.md#phone-number-sign-in) and
 * the app access token it needs (WeChatAppTokenProvider), at the HTTP edge: WeChat is mocked with
 * nock (exact queries and JSON bodies), the strategy runs in a real Express 5 app, and two
 * providers share the token through a real Redis server.
 */
import { inspect } from 'node:util';
import express, { type NextFunction, type Request, type Response } from 'express';
import nock from 'nock';
import { Passport } from 'passport';
import { createClient } from 'redis';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WeChatAppTokenProvider, WeChatMiniProgramStrategy, type WeChatProfile } from '../lib/index.js';
import { redisCallbackStore } from '../lib/redis.js';
import { useNockAtTheEdge } from './helpers/nock.js';
import { startTestRedis, type TestRedis } from './helpers/redis-server.js';
import { TEXT, WECHAT_API } from './helpers/wechat.js';

const APPID = 'wx8f3c2a1b9d7e6f51';
const SECRET = '5d0c9e8f7a6b5c4d3e2f1a0b9c8d7e6f';
const OPENID = 'oGZUI0egBJY1zhBYw2KhdUfwVJJE';
const TOKEN_1 = '86_appTokenOneAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA';
const TOKEN_2 = '86_appTokenTwoBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB';
const PHONE_CODE = 'e31968a7f94cc5ee25fafc2aef2773f0bb8c3937b22520eb8ee345274d00c144';
const RID = ', rid: 66b1e3a2-4c5d7e8f-1a2b3c4d';

useNockAtTheEdge({ allowLocalhost: true });

const jsCode = (n: number) => `0e3XyZ000Tq2bV1uPnH00wA9Kp3X${String(n).padStart(4, '0')}`;

function mockSession(code: string, times = 1) {
  return nock(WECHAT_API)
    .get('/sns/jscode2session')
    .query({ appid: APPID, secret: SECRET, js_code: code, grant_type: 'authorization_code' })
    .times(times)
    .reply(200, JSON.stringify({ session_key: 'tiihtNczf5v6AKRyjwEUhQ==', openid: OPENID }), TEXT);
}

function mockStableToken(token: string, options: { forceRefresh?: boolean; times?: number; expiresIn?: number; delayMs?: number } = {}) {
  return nock(WECHAT_API)
    .post('/cgi-bin/stable_token', { grant_type: 'client_credential', appid: APPID, secret: SECRET, force_refresh: options.forceRefresh ?? false })
    .times(options.times ?? 1)
    .delay(options.delayMs ?? 0)
    .reply(200, JSON.stringify({ access_token: token, expires_in: options.expiresIn ?? 7200 }), TEXT);
}

function phoneInfo(appid = APPID) {
  return { phoneNumber: '13800138000', purePhoneNumber: '13800138000', countryCode: 86, watermark: { timestamp: 1733467200, appid } };
}

function mockPhone(token: string, answer: object, options: { code?: string; times?: number } = {}) {
  return nock(WECHAT_API)
    .post('/wxa/business/getuserphonenumber', { code: options.code ?? PHONE_CODE })
    .query({ access_token: token })
    .times(options.times ?? 1)
    .reply(200, JSON.stringify(answer), TEXT);
}

/** An Express 5 app signing in at POST /auth with a Mini Program strategy; answers { profile } or { failure } or { error }. */
function app(options: Record<string, unknown>) {
  const passport = new Passport();
  const strategy = new WeChatMiniProgramStrategy({ clientID: APPID, clientSecret: SECRET, ...options } as never, (_key, profile, done) =>
    done(null, { profile }),
  );
  passport.use(strategy);
  const server = express();
  server.post('/auth', express.json(), (req: Request, res: Response, next: NextFunction) => {
    passport.authenticate('wechat-miniprogram', { session: false }, (err: Error & { code?: string; retryable?: boolean } | null, user: { profile: WeChatProfile } | false, info: unknown, status?: number) => {
      if (err) return res.status(500).json({ error: { name: err.name, code: err.code, retryable: err.retryable, message: err.message } });
      if (!user) return res.status(status ?? 401).json({ failure: info });
      res.json({ profile: user.profile });
    })(req, res, next);
  });
  return { server, strategy };
}

describe('phone number sign-in (phoneNumber: "required")', () => {
  it('gives verify phoneNumbers and phone_info, the watermark checked; the app token comes from stable_token', async () => {
    mockSession(jsCode(1));
    mockStableToken(TOKEN_1);
    mockPhone(TOKEN_1, { errcode: 0, errmsg: 'ok', phone_info: phoneInfo() });

    const { body } = await request(app({ phoneNumber: 'required' }).server).post('/auth').send({ code: jsCode(1), phoneCode: PHONE_CODE }).expect(200);

    expect(body.profile.id).toBe(OPENID);
    expect(body.profile.phoneNumbers).toEqual([{ value: '+8613800138000' }]);
    expect(body.profile._phoneInfo).toMatchObject({ purePhoneNumber: '13800138000', countryCode: '86', watermark: { appid: APPID } });
  });

  it('reads the phone code from the field named by phoneCodeField', async () => {
    mockSession(jsCode(2));
    mockStableToken(TOKEN_1);
    mockPhone(TOKEN_1, { errcode: 0, errmsg: 'ok', phone_info: phoneInfo() });

    const { body } = await request(app({ phoneNumber: 'required', phoneCodeField: 'mobileCode' }).server).post('/auth').send({ code: jsCode(2), mobileCode: PHONE_CODE }).expect(200);

    expect(body.profile.phoneNumbers).toEqual([{ value: '+8613800138000' }]);
  });

  it('fails with 400 WECHAT_MISSING_PHONE_CODE before any WeChat call when the phone code is missing', async () => {
    const { body } = await request(app({ phoneNumber: 'required' }).server).post('/auth').send({ code: jsCode(3) }).expect(400);

    expect(body.failure.code).toBe('WECHAT_MISSING_PHONE_CODE');
  });

  it('ignores a phone code in the query string (a cross-site POST can carry one), failing as without one', async () => {
    const { body } = await request(app({ phoneNumber: 'required' }).server).post(`/auth?phoneCode=${PHONE_CODE}`).send({ code: jsCode(13) }).expect(400);

    expect(body.failure.code).toBe('WECHAT_MISSING_PHONE_CODE');
  });

  it('fails with 400 WECHAT_MALFORMED_PHONE_CODE for a phone code WeChat never issues', async () => {
    const { body } = await request(app({ phoneNumber: 'required' }).server).post('/auth').send({ code: jsCode(4), phoneCode: { $gt: '' } }).expect(400);

    expect(body.failure.code).toBe('WECHAT_MALFORMED_PHONE_CODE');
  });

  it('fails with 401 WECHAT_INVALID_PHONE_CODE when WeChat refuses the phone code (invalid, used or expired: 40029)', async () => {
    mockSession(jsCode(5));
    mockStableToken(TOKEN_1);
    mockPhone(TOKEN_1, { errcode: 40029, errmsg: `invalid code${RID}` });

    const { body } = await request(app({ phoneNumber: 'required' }).server).post('/auth').send({ code: jsCode(5), phoneCode: PHONE_CODE }).expect(401);

    expect(body.failure).toMatchObject({ code: 'WECHAT_INVALID_PHONE_CODE', errcode: 40029 });
    expect(body.failure.message).toMatch(/phone number code/);
  });

  it('ends in a retryable WECHAT_SYSTEM_BUSY error when WeChat is busy (-1), naming no secret', async () => {
    mockSession(jsCode(6));
    mockStableToken(TOKEN_1);
    mockPhone(TOKEN_1, { errcode: -1, errmsg: `system error${RID}` });

    const { body } = await request(app({ phoneNumber: 'required' }).server).post('/auth').send({ code: jsCode(6), phoneCode: PHONE_CODE }).expect(500);

    expect(body.error).toMatchObject({ code: 'WECHAT_SYSTEM_BUSY', retryable: true });
    for (const secret of [SECRET, TOKEN_1, PHONE_CODE, jsCode(6)]) expect(JSON.stringify(body)).not.toContain(secret);
  });

  it("refuses a phone number whose watermark names another app (WECHAT_PHONE_WRONG_APPID), never attaching it", async () => {
    mockSession(jsCode(7));
    mockStableToken(TOKEN_1);
    mockPhone(TOKEN_1, { errcode: 0, errmsg: 'ok', phone_info: phoneInfo('wx0000000000000000') });

    const { body } = await request(app({ phoneNumber: 'required' }).server).post('/auth').send({ code: jsCode(7), phoneCode: PHONE_CODE }).expect(500);

    expect(body.error.code).toBe('WECHAT_PHONE_WRONG_APPID');
  });

  it('refreshes the app token once and retries when it expires in the middle of the login (42001)', async () => {
    const { server, strategy } = app({ phoneNumber: 'required' });
    mockStableToken(TOKEN_1);
    await strategy._phone?.appToken.token(); // cached from an earlier login
    mockSession(jsCode(8));
    mockPhone(TOKEN_1, { errcode: 42001, errmsg: `access_token expired${RID}` });
    mockStableToken(TOKEN_2);
    mockPhone(TOKEN_2, { errcode: 0, errmsg: 'ok', phone_info: phoneInfo() });

    const { body } = await request(server).post('/auth').send({ code: jsCode(8), phoneCode: PHONE_CODE }).expect(200);

    expect(body.profile.phoneNumbers).toEqual([{ value: '+8613800138000' }]);
    expect(await strategy._phone?.appToken.token()).toBe(TOKEN_2);
  });

  it('forces a new token when WeChat keeps handing out the one it refused (40001)', async () => {
    const { server } = app({ phoneNumber: 'required' });
    mockSession(jsCode(9));
    mockStableToken(TOKEN_1);
    mockPhone(TOKEN_1, { errcode: 40001, errmsg: `invalid credential, access_token is invalid or not latest${RID}` });
    mockStableToken(TOKEN_1); // the normal mode still answers the refused token
    mockStableToken(TOKEN_2, { forceRefresh: true });
    mockPhone(TOKEN_2, { errcode: 0, errmsg: 'ok', phone_info: phoneInfo() });

    await request(server).post('/auth').send({ code: jsCode(9), phoneCode: PHONE_CODE }).expect(200);
  });

  it('makes one stable_token call for 50 concurrent sign-ins', async () => {
    const { server } = app({ phoneNumber: 'required' });
    // WeChat takes its time: every sign-in needs the token while the one fetch is under way.
    const stable = mockStableToken(TOKEN_1, { times: 1, delayMs: 500 });
    for (let i = 0; i < 50; i++) mockSession(jsCode(100 + i));
    mockPhone(TOKEN_1, { errcode: 0, errmsg: 'ok', phone_info: phoneInfo() }, { times: 50 });

    const answers = await Promise.all(
      Array.from({ length: 50 }, (_, i) => request(server).post('/auth').send({ code: jsCode(100 + i), phoneCode: PHONE_CODE })),
    );

    expect(answers.map((answer) => answer.status)).toEqual(Array.from({ length: 50 }, () => 200));
    expect(stable.isDone()).toBe(true);
  });
});

describe('phone number sign-in (phoneNumber: "optional")', () => {
  it('signs in without a phone number when none is posted, with no phone call', async () => {
    mockSession(jsCode(10));

    const { body } = await request(app({ phoneNumber: 'optional' }).server).post('/auth').send({ code: jsCode(10) }).expect(200);

    expect(body.profile.phoneNumbers).toBeUndefined();
    expect(body.profile.phoneNumberError).toBeUndefined();
  });

  it('signs in without the phone number when WeChat refuses the phone code, saying why', async () => {
    mockSession(jsCode(11));
    mockStableToken(TOKEN_1);
    mockPhone(TOKEN_1, { errcode: 40029, errmsg: `invalid code${RID}` });

    const { body } = await request(app({ phoneNumber: 'optional' }).server).post('/auth').send({ code: jsCode(11), phoneCode: PHONE_CODE }).expect(200);

    expect(body.profile.phoneNumbers).toBeUndefined();
    expect(body.profile.phoneNumberError).toEqual({ code: 'WECHAT_INVALID_PHONE_CODE', retryable: false });
  });

  it('does not call WeChat for the phone number when the login code itself is refused', async () => {
    nock(WECHAT_API)
      .get('/sns/jscode2session')
      .query(true)
      .reply(200, JSON.stringify({ errcode: 40029, errmsg: `invalid code${RID}` }), TEXT);

    const { body } = await request(app({ phoneNumber: 'optional' }).server).post('/auth').send({ code: jsCode(12), phoneCode: PHONE_CODE }).expect(401);

    expect(body.failure.code).toBe('WECHAT_INVALID_CODE');
  });
});

describe('WeChatAppTokenProvider', () => {
  it('keeps the AppSecret out of util.inspect and JSON', () => {
    const provider = new WeChatAppTokenProvider({ clientID: APPID, clientSecret: SECRET });

    expect(inspect(provider, { depth: 5, showHidden: true })).not.toContain(SECRET);
    expect(JSON.stringify(provider)).not.toContain(SECRET);
  });

  it('reports a wrong AppSecret (40125) as WECHAT_BAD_CREDENTIALS without the secret in the error', async () => {
    nock(WECHAT_API).post('/cgi-bin/stable_token').reply(200, JSON.stringify({ errcode: 40125, errmsg: `invalid appsecret${RID}` }), TEXT);
    const provider = new WeChatAppTokenProvider({ clientID: APPID, clientSecret: SECRET });

    const error = (await provider.token().catch((caught: unknown) => caught)) as Error & { code?: string };

    expect(error.code).toBe('WECHAT_BAD_CREDENTIALS');
    expect(inspect(error, { depth: 5 })).not.toContain(SECRET);
  });

  it('uses the cached token until shortly before it expires, then fetches a new one', async () => {
    const provider = new WeChatAppTokenProvider({ clientID: APPID, clientSecret: SECRET, refreshBeforeSeconds: 300 });
    mockStableToken(TOKEN_1, { expiresIn: 301 }); // 1 s of use before the 300 s margin

    expect(await provider.token()).toBe(TOKEN_1);
    expect(await provider.token()).toBe(TOKEN_1); // cached: no second call
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    mockStableToken(TOKEN_2);
    expect(await provider.token()).toBe(TOKEN_2);
  });

  it('fetches from WeChat when its store fails or answers garbage, and still works', async () => {
    const broken = { get: () => Promise.reject(new Error('store down')), set: () => Promise.reject(new Error('store down')) };
    const garbled = { get: () => Promise.resolve('{"token":'), set: () => Promise.resolve() };
    mockStableToken(TOKEN_1, { times: 2 });

    expect(await new WeChatAppTokenProvider({ clientID: APPID, clientSecret: SECRET, store: broken }).token()).toBe(TOKEN_1);
    expect(await new WeChatAppTokenProvider({ clientID: APPID, clientSecret: SECRET, store: garbled }).token()).toBe(TOKEN_1);
  });

  it('refuses a stable_token answer without a token or a lifetime (WECHAT_MALFORMED_RESPONSE)', async () => {
    nock(WECHAT_API).post('/cgi-bin/stable_token').reply(200, JSON.stringify({ access_token: TOKEN_1 }), TEXT);
    const provider = new WeChatAppTokenProvider({ clientID: APPID, clientSecret: SECRET });

    await expect(provider.token()).rejects.toMatchObject({ code: 'WECHAT_MALFORMED_RESPONSE' });
  });

  it('rejects every waiting caller once when the fetch fails, and fetches again on the next call', async () => {
    nock(WECHAT_API).post('/cgi-bin/stable_token').reply(200, JSON.stringify({ errcode: -1, errmsg: `system error${RID}` }), TEXT);
    const provider = new WeChatAppTokenProvider({ clientID: APPID, clientSecret: SECRET });

    const outcomes = await Promise.allSettled([provider.token(), provider.token(), provider.token()]);

    expect(outcomes.map((outcome) => outcome.status)).toEqual(['rejected', 'rejected', 'rejected']);
    mockStableToken(TOKEN_1);
    expect(await provider.token()).toBe(TOKEN_1);
  });
});

describe('two instances sharing the app token through a real Redis', () => {
  let redis: TestRedis;
  let client: ReturnType<typeof createClient>;
  beforeAll(async () => {
    redis = await startTestRedis();
    client = createClient(redis.url ? { url: redis.url } : { socket: { path: redis.socketPath as string, tls: false as const } });
    await client.connect();
  });
  afterAll(async () => {
    await client.quit();
    redis.stop();
  });

  it('fetches once: the second instance reads the first one\'s token, and a refusal refreshes it for both', async () => {
    const prefix = `test:app-token:${Date.now()}:`;
    const store = redisCallbackStore(client, { prefix });
    const first = new WeChatAppTokenProvider({ clientID: APPID, clientSecret: SECRET, store });
    const second = new WeChatAppTokenProvider({ clientID: APPID, clientSecret: SECRET, store: redisCallbackStore(client, { prefix }) });
    mockStableToken(TOKEN_1, { times: 1 });

    expect(await first.token()).toBe(TOKEN_1);
    expect(await second.token()).toBe(TOKEN_1);

    mockStableToken(TOKEN_2, { times: 1 });
    expect(await first.refresh(TOKEN_1)).toBe(TOKEN_2);
    expect(await second.refresh(TOKEN_1)).toBe(TOKEN_2); // from Redis, no second fetch
  });
});
