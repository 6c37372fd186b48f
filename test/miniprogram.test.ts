/**
 * Mini Program sign-in: the code `wx.login()` gave the client, posted to the server, exchanged once
 * with sns/jscode2session. WeChat is mocked with nock at the network edge with exact queries; the
 * strategy is driven the way Passport drives it, and through a real Express 5 app.
 */
import { createCipheriv, randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { inspect } from 'node:util';
import { PassportStrategy } from '@nestjs/passport';
import express, { type NextFunction, type Request, type Response } from 'express';
import nock from 'nock';
import { Passport } from 'passport';
import { Strategy as PassportStrategyBase } from 'passport-strategy';
import request from 'supertest';
import { Agent, type Dispatcher } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_ENDPOINTS, WeChatClient } from '../lib/client.js';
import {
  WeChatCredentialsError,
  WeChatOptionsError,
  WeChatRequestError,
  WeChatResponseError,
  WeChatUserBlockedError,
  errorFromErrcode,
} from '../lib/errors.js';
import {
  WeChatMiniProgramStrategy,
  type WeChatMiniProgramStrategyOptions,
  type WeChatMiniProgramVerifyFunction,
} from '../lib/miniprogram.js';
import type { WeChatProfile } from '../lib/profile.js';
import { WeChatSessionKey, type WeChatDecryptedPhoneNumber } from '../lib/userdata.js';
import { useNockAtTheEdge } from './helpers/nock.js';
import { refusedURL } from './helpers/net.js';
import { authenticate, errorOf } from './helpers/passport.js';
import { expectNoSecrets } from './helpers/secrets.js';
import { TEXT, WECHAT_API } from './helpers/wechat.js';

const APPID = 'wx8f3c2a1b9d7e6f51';
const SECRET = '5d0c9e8f7a6b5c4d3e2f1a0b9c8d7e6f';
const JS_CODE = '0e3XyZ000Tq2bV1uPnH00wA9Kp3XyZ0S';
const SESSION_KEY = randomBytes(16).toString('base64');
const OPENID = 'oGZUI0egBJY1zhBYw2KhdUfwVJJE';
const UNIONID = 'ocMvos6NjeKLIBqg5Mr9QjxrP1FA';
const SECRETS = [SECRET, JS_CODE, SESSION_KEY];

const RID = ', rid: 66b1e3a2-4c5d7e8f-1a2b3c4d';

function sessionBody(extra: Record<string, unknown> = {}): string {
  return JSON.stringify({ session_key: SESSION_KEY, openid: OPENID, unionid: UNIONID, ...extra });
}

// Exact query matching: any parameter added, missing or misspelt makes the interceptor miss.
function mockSession(body = sessionBody(), code = JS_CODE) {
  return nock(WECHAT_API)
    .get('/sns/jscode2session')
    .query({ appid: APPID, secret: SECRET, js_code: code, grant_type: 'authorization_code' })
    .reply(200, body, TEXT);
}

function options(overrides: Record<string, unknown> = {}): WeChatMiniProgramStrategyOptions {
  return { clientID: APPID, clientSecret: SECRET, ...overrides } as WeChatMiniProgramStrategyOptions;
}

const returnProfile: WeChatMiniProgramVerifyFunction = (_sessionKey, profile, done) => done(null, profile);

function posted(body: unknown = { code: JS_CODE }) {
  return { method: 'POST', body, query: {}, url: '/auth/wechat/miniprogram' };
}

// A request that reached no interceptor (a retry, a call that should not happen) fails the test.
useNockAtTheEdge({ allowLocalhost: true, failOnUnmatched: true });

describe('signing in with a code from wx.login()', () => {
  it('exchanges the posted code and hands verify the session key and the profile', async () => {
    mockSession();
    const seen: { sessionKey?: WeChatSessionKey; profile?: WeChatProfile } = {};
    const strategy = new WeChatMiniProgramStrategy(options(), (sessionKey, profile, done) => {
      Object.assign(seen, { sessionKey, profile });
      done(null, { id: profile.id });
    });

    const outcome = await authenticate(strategy, posted());

    expect(outcome).toEqual({ action: 'success', user: { id: UNIONID }, info: {} });
    expect(seen.sessionKey).toBeInstanceOf(WeChatSessionKey);
    expect(seen.sessionKey?.reveal()).toBe(SESSION_KEY);
    expect(seen.sessionKey?.appid).toBe(APPID);
    expect(seen.profile).toEqual({
      provider: 'wechat',
      id: UNIONID,
      openid: OPENID,
      unionid: UNIONID,
      appid: APPID,
      displayName: '',
      privilege: [],
      _raw: JSON.stringify({ openid: OPENID, unionid: UNIONID }),
      _json: { openid: OPENID, unionid: UNIONID },
    });
  });

  it('keeps the session key out of the profile however it is shown, and shows the key as [redacted]', async () => {
    mockSession();
    let profile: WeChatProfile | undefined;
    let sessionKey: WeChatSessionKey | undefined;
    const strategy = new WeChatMiniProgramStrategy(options(), (key, p, done) => done(null, ((sessionKey = key), (profile = p))));

    await authenticate(strategy, posted());

    expect(profile?._raw).not.toContain(SESSION_KEY);
    expect(JSON.stringify(profile)).not.toContain(SESSION_KEY);
    expect(inspect(profile, { depth: 10, showHidden: true })).not.toContain(SESSION_KEY);
    expect(profile?._json).not.toHaveProperty('session_key');
    expect(inspect(sessionKey)).toContain('[redacted]');
    expect(inspect(sessionKey, { depth: 10, showHidden: true })).not.toContain(SESSION_KEY);
    expect(JSON.stringify({ sessionKey })).not.toContain(SESSION_KEY);
  });

  it('uses the openid as id when the Mini Program is not bound to an Open Platform account', async () => {
    mockSession(JSON.stringify({ session_key: SESSION_KEY, openid: OPENID }));
    const strategy = new WeChatMiniProgramStrategy(options(), returnProfile);

    const outcome = await authenticate(strategy, posted());

    expect(outcome).toMatchObject({ action: 'success', user: { id: OPENID, openid: OPENID } });
    expect((outcome as { user: object }).user).not.toHaveProperty('unionid');
  });

  it('accepts the documented success shape with errcode 0 next to the fields', async () => {
    mockSession(sessionBody({ errcode: 0, errmsg: 'ok' }));
    const strategy = new WeChatMiniProgramStrategy(options(), returnProfile);

    expect(await authenticate(strategy, posted())).toMatchObject({ action: 'success', user: { id: UNIONID } });
  });

  it('ignores a code in the query by default (login CSRF), saying to post it in the body without echoing it', async () => {
    const strategy = new WeChatMiniProgramStrategy(options(), returnProfile);

    const outcome = await authenticate(strategy, { body: {}, query: { code: JS_CODE } });

    expect(outcome).toMatchObject({ action: 'fail', status: 400, challenge: { code: 'WECHAT_MISSING_CODE' } });
    expect((outcome as { challenge: { message: string } }).challenge.message).toMatch(/post it in the request body/);
    expect(JSON.stringify(outcome)).not.toContain(JS_CODE);
  });

  it('reads the code from the query when the body has none with allowCodeInQuery: true', async () => {
    mockSession();
    const strategy = new WeChatMiniProgramStrategy(options({ allowCodeInQuery: true }), returnProfile);

    expect((await authenticate(strategy, { body: {}, query: { code: JS_CODE } })).action).toBe('success');
  });

  it('prefers the body over the query with allowCodeInQuery: true', async () => {
    mockSession();
    const strategy = new WeChatMiniProgramStrategy(options({ allowCodeInQuery: true }), returnProfile);

    expect((await authenticate(strategy, { body: { code: JS_CODE }, query: { code: 'fromTheQueryString' } })).action).toBe('success');
  });

  it('reads the code from the field named by codeField', async () => {
    mockSession();
    const strategy = new WeChatMiniProgramStrategy(options({ codeField: 'jsCode' }), returnProfile);

    expect((await authenticate(strategy, posted({ jsCode: JS_CODE, code: 'notThisOne' }))).action).toBe('success');
  });

  it('passes the request first with passReqToCallback, so verify can decrypt what the Mini Program posted', async () => {
    mockSession();
    const phone = { phoneNumber: '13580006666', purePhoneNumber: '13580006666', countryCode: '86', watermark: { appid: APPID, timestamp: 1 } };
    const iv = randomBytes(16);
    const cipher = createCipheriv('aes-128-cbc', Buffer.from(SESSION_KEY, 'base64'), iv);
    const encryptedData = Buffer.concat([cipher.update(JSON.stringify(phone)), cipher.final()]).toString('base64');
    const req = posted({ code: JS_CODE, encryptedData, iv: iv.toString('base64') });
    const strategy = new WeChatMiniProgramStrategy({ ...options(), passReqToCallback: true }, (r, sessionKey, profile, done) => {
      const body = r.body as { encryptedData: string; iv: string };
      const { purePhoneNumber } = sessionKey.decrypt<WeChatDecryptedPhoneNumber>(body.encryptedData, body.iv);
      done(null, { id: profile.id, phone: purePhoneNumber, same: r.body === req.body });
    });

    expect(await authenticate(strategy, req)).toMatchObject({ action: 'success', user: { id: UNIONID, phone: '13580006666', same: true } });
  });

  it("fails with verify's info when verify finds no user", async () => {
    mockSession();
    const strategy = new WeChatMiniProgramStrategy(options(), (_k, _p, done) => done(null, false, { message: 'not invited' }));

    expect(await authenticate(strategy, posted())).toEqual({ action: 'fail', challenge: { message: 'not invited' }, status: 401 });
  });

  it('turns a verify that throws into error()', async () => {
    mockSession();
    const throwing = new WeChatMiniProgramStrategy(options(), () => {
      throw new Error('database down');
    });
    expect(errorOf(await authenticate(throwing, posted())).message).toBe('database down');
  });

  it('turns an async verify that rejects into error()', async () => {
    mockSession();
    const rejecting = new WeChatMiniProgramStrategy(options(), (async () => {
      throw new Error('database down too');
    }) as never);
    expect(errorOf(await authenticate(rejecting, posted())).message).toBe('database down too');
  });
});

describe('NestJS', () => {
  it("works as PassportStrategy(WeChatMiniProgramStrategy, 'wechat-miniprogram') with validate(sessionKey, profile)", async () => {
    class MiniProgramStrategy extends PassportStrategy(WeChatMiniProgramStrategy, 'wechat-miniprogram-test') {
      constructor() {
        super(options());
      }
      validate(sessionKey: WeChatSessionKey, profile: WeChatProfile) {
        return { id: profile.id, key: String(sessionKey) };
      }
    }
    mockSession();

    expect(await authenticate(new MiniProgramStrategy(), posted())).toMatchObject({
      action: 'success',
      user: { id: UNIONID, key: '[redacted]' },
    });
  });

  it('gives validate the request first with passReqToCallback', async () => {
    class MiniProgramStrategy extends PassportStrategy(WeChatMiniProgramStrategy, 'wechat-miniprogram-req-test') {
      constructor() {
        super({ ...options(), passReqToCallback: true });
      }
      validate(req: Request, _sessionKey: WeChatSessionKey, profile: WeChatProfile) {
        return { id: profile.id, url: req.url };
      }
    }
    mockSession();

    expect(await authenticate(new MiniProgramStrategy(), posted())).toMatchObject({
      action: 'success',
      user: { id: UNIONID, url: '/auth/wechat/miniprogram' },
    });
  });
});

describe('codes WeChat never issued: 400, and no call to WeChat', () => {
  const strategy = new WeChatMiniProgramStrategy(options(), returnProfile);

  it.each([
    ['no body and no query', { query: {} }],
    ['an empty body', { body: {}, query: {} }],
    ['an empty code', { body: { code: '' }, query: {} }],
    ['a null code', { body: { code: null }, query: {} }],
  ])('fails %s as a missing code', async (_case, req) => {
    expect(await authenticate(strategy, req)).toMatchObject({ action: 'fail', status: 400, challenge: { code: 'WECHAT_MISSING_CODE' } });
  });

  it('says to mount a body parser when no body was parsed', async () => {
    const outcome = await authenticate(strategy, { query: {} });

    expect((outcome as { challenge: { message: string } }).challenge.message).toMatch(/express\.json\(\)/);
  });

  it.each([
    ['an array', [JS_CODE, JS_CODE]],
    ['an object', { $gt: '' }],
    ['a number', 12345],
    ['513 characters', 'x'.repeat(513)],
    ['a space', 'has space'],
    ['a non-ASCII character', 'código'],
  ])('fails a code that is %s as malformed', async (_case, code) => {
    expect(await authenticate(strategy, posted({ code }))).toMatchObject({
      action: 'fail',
      status: 400,
      challenge: { code: 'WECHAT_MALFORMED_CODE' },
    });
  });

  it('accepts a 512-character code', async () => {
    const code = 'x'.repeat(512);
    mockSession(sessionBody(), code);

    expect((await authenticate(strategy, posted({ code }))).action).toBe('success');
  });
});

describe('WeChat refuses the code or the app', () => {
  const strategy = () => new WeChatMiniProgramStrategy(options(), returnProfile);

  it.each([
    [40029, 'invalid code'],
    [40163, 'code been used'],
  ])('fails with WECHAT_INVALID_CODE (401) when WeChat answers %i', async (errcode, errmsg) => {
    mockSession(JSON.stringify({ errcode, errmsg: errmsg + RID }));

    const outcome = await authenticate(strategy(), posted());

    expect(outcome).toEqual({
      action: 'fail',
      status: 401,
      challenge: { code: 'WECHAT_INVALID_CODE', errcode, message: expect.stringMatching(/wx\.login\(\)/) },
    });
  });

  it('fails with WECHAT_USER_BLOCKED (403) when WeChat blocks a high-risk user (40226)', async () => {
    mockSession(JSON.stringify({ errcode: 40226, errmsg: `code blocked${RID}` }));

    expect(await authenticate(strategy(), posted())).toEqual({
      action: 'fail',
      status: 403,
      challenge: { code: 'WECHAT_USER_BLOCKED', errcode: 40226, message: expect.stringMatching(/high-risk/) },
    });
  });

  it.each([
    [45011, 'api minute-quota reach limit, must slower, retry next minute', 'WECHAT_RATE_LIMITED'],
    [-1, 'system error', 'WECHAT_SYSTEM_BUSY'],
  ])('errors as retryable on %i, and calls WeChat only once (codes are single-use)', async (errcode, errmsg, code) => {
    const scope = mockSession(JSON.stringify({ errcode, errmsg: errmsg + RID }));

    const error = errorOf(await authenticate(strategy(), posted()));

    expect(error).toMatchObject({ code, errcode, retryable: true });
    expect(scope.isDone()).toBe(true);
    expectNoSecrets(error, SECRETS);
  });

  it.each([
    [40125, 'invalid appsecret'],
    [40013, 'invalid appid'],
  ])('errors with a WeChatCredentialsError that points at the Mini Program settings on %i', async (errcode, errmsg) => {
    mockSession(JSON.stringify({ errcode, errmsg: errmsg + RID }));

    const error = errorOf(await authenticate(strategy(), posted()));

    expect(error).toBeInstanceOf(WeChatCredentialsError);
    expect(error).toMatchObject({ code: 'WECHAT_BAD_CREDENTIALS', retryable: false, errcode });
    expect(error.message).toMatch(/Mini Program/);
    expectNoSecrets(error, SECRETS);
  });

  it('errors when the answer lacks the session_key', async () => {
    mockSession(JSON.stringify({ openid: OPENID }));

    const error = errorOf(await authenticate(strategy(), posted()));

    expect(error).toBeInstanceOf(WeChatResponseError);
    expect(error.message).toMatch(/lacks session_key/);
  });

  it("errors on a proxy's HTML page", async () => {
    nock(WECHAT_API).get('/sns/jscode2session').query(true).reply(502, '<html><body>502 Bad Gateway</body></html>');

    expect(errorOf(await authenticate(strategy(), posted()))).toMatchObject({ code: 'WECHAT_HTTP_ERROR', retryable: true });
  });

  it('redacts the AppSecret, the code and the session key when WeChat echoes them', async () => {
    const errmsg = `invalid code ${JS_CODE} for ${SECRET} with ${SESSION_KEY}${RID}`;
    mockSession(JSON.stringify({ errcode: 40029, errmsg, session_key: SESSION_KEY }));
    const client = new WeChatClient({ appId: APPID, appSecret: SECRET, endpoints: DEFAULT_ENDPOINTS, timeout: 5_000, maxResponseBytes: 65_536 });

    const error = await client.codeToSession(JS_CODE).catch((e: unknown) => e as Error);

    expect(error).toMatchObject({ errmsg: 'invalid code [redacted] for [redacted] with [redacted]' });
    expectNoSecrets(error, SECRETS);
  });
});

describe('the client call: WeChatClient.codeToSession', () => {
  const client = () => new WeChatClient({ appId: APPID, appSecret: SECRET, endpoints: DEFAULT_ENDPOINTS, timeout: 5_000, maxResponseBytes: 65_536 });

  it('sends appid, secret, js_code and grant_type, and parses a text/plain answer', async () => {
    mockSession(sessionBody({ extra: 'kept' }));

    await expect(client().codeToSession(JS_CODE)).resolves.toEqual({
      openid: OPENID,
      unionid: UNIONID,
      session_key: SESSION_KEY,
      extra: 'kept',
    });
  });

  it('leaves an absent or empty unionid out', async () => {
    mockSession(JSON.stringify({ openid: OPENID, session_key: SESSION_KEY, unionid: '' }));

    expect(await client().codeToSession(JS_CODE)).not.toHaveProperty('unionid');
  });

  it.each([
    ['not JSON', 'oops'],
    ['a JSON array', '[]'],
    ['no openid', JSON.stringify({ session_key: SESSION_KEY })],
    ['an empty session_key', JSON.stringify({ openid: OPENID, session_key: '' })],
  ])('refuses an answer that is %s, without showing the session key', async (_case, body) => {
    mockSession(body);

    const error = await client().codeToSession(JS_CODE).catch((e: unknown) => e);

    expect(error).toMatchObject({ code: 'WECHAT_MALFORMED_RESPONSE' });
    expectNoSecrets(error, SECRETS);
  });
});

describe('timeouts, size cap, dispatcher and endpoint override', () => {
  let server: http.Server;
  let base = '';
  const requests: string[] = [];

  beforeAll(async () => {
    server = http.createServer((req, res) => {
      requests.push(req.url ?? '');
      if (req.url?.startsWith('/silent')) return; // never answers
      if (req.url?.startsWith('/huge')) {
        res.writeHead(200, TEXT);
        return res.end(`{"openid":"${OPENID}","session_key":"${SESSION_KEY}","pad":"${'x'.repeat(4096)}"}`);
      }
      res.writeHead(200, TEXT);
      res.end(sessionBody());
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  it('calls the sessionURL override through the given dispatcher', async () => {
    const dispatched: string[] = [];
    class RecordingAgent extends Agent {
      override dispatch(opts: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler): boolean {
        dispatched.push(String(opts.path));
        return super.dispatch(opts, handler);
      }
    }
    const dispatcher = new RecordingAgent();
    const strategy = new WeChatMiniProgramStrategy(options({ sessionURL: `${base}/sns/jscode2session`, dispatcher }), returnProfile);

    expect(await authenticate(strategy, posted())).toMatchObject({ action: 'success', user: { id: UNIONID } });
    expect(dispatched).toHaveLength(1);
    expect(dispatched[0]).toMatch(/^\/sns\/jscode2session\?appid=wx8f3c2a1b9d7e6f51&secret=.+&js_code=.+&grant_type=authorization_code$/);
    await dispatcher.close();
  });

  it('errors with WECHAT_TIMEOUT when WeChat does not answer within the timeout', async () => {
    const strategy = new WeChatMiniProgramStrategy(options({ sessionURL: `${base}/silent`, timeout: 100 }), returnProfile);

    const error = errorOf(await authenticate(strategy, posted()));

    expect(error).toBeInstanceOf(WeChatRequestError);
    expect(error).toMatchObject({ code: 'WECHAT_TIMEOUT', retryable: true });
    expectNoSecrets(error, SECRETS);
  });

  it('refuses an answer larger than maxResponseBytes', async () => {
    const strategy = new WeChatMiniProgramStrategy(options({ sessionURL: `${base}/huge`, maxResponseBytes: 1024 }), returnProfile);

    const error = errorOf(await authenticate(strategy, posted()));

    expect(error).toMatchObject({ code: 'WECHAT_RESPONSE_TOO_LARGE' });
    expectNoSecrets(error, SECRETS);
  });

  it('errors with WECHAT_NETWORK_ERROR when WeChat cannot be reached', async () => {
    // A port this test bound and closed again: the connection is refused.
    const strategy = new WeChatMiniProgramStrategy(options({ sessionURL: await refusedURL('/sns/jscode2session') }), returnProfile);

    const error = errorOf(await authenticate(strategy, posted()));

    expect(error).toMatchObject({ code: 'WECHAT_NETWORK_ERROR', retryable: true });
    expectNoSecrets(error, SECRETS);
  });
});

describe('constructing the strategy', () => {
  it('is a passport-strategy Strategy named "wechat-miniprogram"', () => {
    const strategy = new WeChatMiniProgramStrategy(options(), returnProfile);

    expect(strategy).toBeInstanceOf(PassportStrategyBase);
    expect(strategy.name).toBe('wechat-miniprogram');
  });

  it("accepts passport-wechat's appID/appSecret names", async () => {
    mockSession();
    const strategy = new WeChatMiniProgramStrategy({ appID: APPID, appSecret: SECRET }, returnProfile);

    expect((await authenticate(strategy, posted())).action).toBe('success');
  });

  it.each([
    [{ clientID: undefined }, /clientID \(the AppID of your Mini Program\)/],
    [{ clientSecret: '' }, /clientSecret/],
    [{ appID: APPID }, /either clientID or appID/],
    [{ clientID: ` ${APPID}` }, /white space/],
    [{ codeField: '' }, /codeField/],
    [{ codeField: 'a b' }, /codeField/],
    [{ passReqToCallback: 'yes' }, /passReqToCallback/],
    [{ allowCodeInQuery: 'true' }, /allowCodeInQuery must be a boolean/],
    [{ timeout: 0 }, /timeout/],
    [{ maxResponseBytes: 1.5 }, /maxResponseBytes/],
    [{ dispatcher: {} }, /undici Dispatcher/],
    [{ sessionURL: 'api.weixin.qq.com/sns/jscode2session' }, /sessionURL must be an absolute URL/],
    [{ sessionURL: 'ftp://api.weixin.qq.com/' }, /sessionURL/],
  ])('rejects %o with a WeChatOptionsError that names the option', (bad, message) => {
    expect(() => new WeChatMiniProgramStrategy(options(bad), returnProfile)).toThrow(WeChatOptionsError);
    expect(() => new WeChatMiniProgramStrategy(options(bad), returnProfile)).toThrow(message);
  });

  it('rejects a missing verify callback', () => {
    expect(() => new WeChatMiniProgramStrategy(options(), undefined as never)).toThrow(/verify callback/);
  });

  it('rejects missing options', () => {
    expect(() => new WeChatMiniProgramStrategy(undefined as never, returnProfile)).toThrow(/options object/);
  });

  it('does not show the AppSecret in util.inspect or JSON', () => {
    const strategy = new WeChatMiniProgramStrategy(options(), returnProfile);

    expect(inspect(strategy, { depth: 10, showHidden: true })).not.toContain(SECRET);
    expect(JSON.stringify(strategy)).not.toContain(SECRET);
  });
});

describe('an Express 5 app', () => {
  function buildApp() {
    const passport = new Passport();
    passport.use(
      new WeChatMiniProgramStrategy(options(), (sessionKey, profile, done) => {
        // What an app does: keep the key server-side (here: a map), answer with its own token.
        keys.set(profile.openid, sessionKey.reveal());
        done(null, { id: profile.id, openid: profile.openid });
      }),
    );
    const app = express();
    app.use(passport.initialize());
    app.post('/auth/wechat/miniprogram', express.json(), passport.authenticate('wechat-miniprogram', { session: false }), (req, res) => {
      res.json({ user: req.user, token: 'app-issued-token' });
    });
    // A route without a body parser, the usual mistake.
    app.post('/no-parser', passport.authenticate('wechat-miniprogram', { session: false }), (_req, res) => res.json({}));
    app.use((err: Error & { code?: string; retryable?: boolean }, _req: Request, res: Response, _next: NextFunction) => {
      res.status(500).json({ error: err.name, code: err.code, retryable: err.retryable });
    });
    return app;
  }
  const keys = new Map<string, string>();

  it('signs the user in from a posted JSON code and never sends the session key back', async () => {
    mockSession();

    const response = await request(buildApp()).post('/auth/wechat/miniprogram').send({ code: JS_CODE }).expect(200);

    expect(response.body).toEqual({ user: { id: UNIONID, openid: OPENID }, token: 'app-issued-token' });
    expect(response.text).not.toContain(SESSION_KEY);
    expect(keys.get(OPENID)).toBe(SESSION_KEY);
  });

  it.each([
    [401, 'a used code', 40163, 'code been used'],
    [403, 'a blocked user', 40226, 'code blocked'],
  ])('answers %i for %s', async (status, _case, errcode, errmsg) => {
    mockSession(JSON.stringify({ errcode, errmsg: errmsg + RID }));
    await request(buildApp()).post('/auth/wechat/miniprogram').send({ code: JS_CODE }).expect(status);
  });

  it('answers 400 for no code, without calling WeChat', async () => {
    await request(buildApp()).post('/auth/wechat/miniprogram').send({}).expect(400);
  });

  it('answers 400 on a route without a body parser, without calling WeChat', async () => {
    await request(buildApp()).post('/no-parser').send({ code: JS_CODE }).expect(400);
  });

  it('hands a rate-limited exchange to the error handler as retryable', async () => {
    mockSession(JSON.stringify({ errcode: 45011, errmsg: `api minute-quota reach limit, must slower, retry next minute${RID}` }));

    const response = await request(buildApp()).post('/auth/wechat/miniprogram').send({ code: JS_CODE }).expect(500);

    expect(response.body).toEqual({ error: 'WeChatAPIError', code: 'WECHAT_RATE_LIMITED', retryable: true });
  });

  it('fails a blocked user with an info the app can recognise', async () => {
    mockSession(JSON.stringify({ errcode: 40226, errmsg: `code blocked${RID}` }));
    const passport = new Passport();
    passport.use(new WeChatMiniProgramStrategy(options(), returnProfile));
    const app = express();
    app.post('/login', express.json(), (req, res, next) => {
      passport.authenticate('wechat-miniprogram', { session: false }, (err: unknown, user: unknown, info: { code?: string }) => {
        if (err) return next(err);
        res.status(user ? 200 : 403).json({ reason: info?.code });
      })(req, res, next);
    });

    expect((await request(app).post('/login').send({ code: JS_CODE }).expect(403)).body).toEqual({ reason: 'WECHAT_USER_BLOCKED' });
  });
});

describe('errcode classification for code2Session', () => {
  it('reads 40226 on jscode2session as a blocked user, and leaves it unknown elsewhere', () => {
    const blocked = errorFromErrcode('jscode2session', 40226, `code blocked${RID}`);

    expect(blocked).toBeInstanceOf(WeChatUserBlockedError);
    expect(blocked).toMatchObject({ code: 'WECHAT_USER_BLOCKED', retryable: false, errcode: 40226, errmsg: 'code blocked' });
    expect(errorFromErrcode('access_token', 40226, 'code blocked')).toMatchObject({ code: 'WECHAT_API_ERROR' });
  });

  it("points credential errors at the Mini Program's settings on jscode2session only", () => {
    expect(errorFromErrcode('jscode2session', 40125, 'invalid appsecret').message).toMatch(/Mini Program/);
    expect(errorFromErrcode('access_token', 40125, 'invalid appsecret').message).toMatch(/website or mobile application/);
  });
});
