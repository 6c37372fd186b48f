import { readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { inspect } from 'node:util';
import nock from 'nock';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_ENDPOINTS, WeChatClient, type WeChatClientOptions } from '../lib/client.js';
import {
  WeChatAPIError,
  WeChatCodeError,
  WeChatCredentialsError,
  WeChatError,
  WeChatRequestError,
  WeChatResponseError,
  WeChatTokenError,
  WeChatUserBlockedError,
  type WeChatErrorCode,
} from '../lib/errors.js';
import { useNockAtTheEdge } from './helpers/nock.js';
import { rejectionWithoutSecrets } from './helpers/secrets.js';
import { TEXT, WECHAT_API } from './helpers/wechat.js';

/** A recorded WeChat body, exactly as WeChat sends it. */
function fixture(name: string): string {
  return readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8');
}

const TOKEN = JSON.parse(fixture('token-with-unionid.json')) as Record<string, string>;
const REFRESHED = JSON.parse(fixture('token-refresh.json')) as Record<string, string>;

const APP_ID = 'wx8f3c2a1b9d7e6f50';
const APP_SECRET = '3b9f0c7e2d5a4f1e8c6b0a9d7e5f3c21';
const CODE = '001HKCFa1UWlqz0ZsPHa1zrEwD2HKCF3';
const ACCESS_TOKEN = TOKEN.access_token!;
const REFRESH_TOKEN = TOKEN.refresh_token!;
const OPENID = TOKEN.openid!;
const UNIONID = TOKEN.unionid!;
/** What must never appear in an error, whatever the call. */
const SECRETS = [APP_SECRET, CODE, ACCESS_TOKEN, REFRESH_TOKEN, REFRESHED.access_token!];

function newClient(options: Partial<WeChatClientOptions> = {}): WeChatClient {
  return new WeChatClient({
    appId: APP_ID,
    appSecret: APP_SECRET,
    endpoints: DEFAULT_ENDPOINTS,
    timeout: 5_000,
    maxResponseBytes: 64 * 1024,
    ...options,
  });
}

// Exact query matching: any parameter added, missing or misspelt makes the interceptor miss.
const tokenCall = () =>
  nock(WECHAT_API)
    .get('/sns/oauth2/access_token')
    .query({ appid: APP_ID, secret: APP_SECRET, code: CODE, grant_type: 'authorization_code' });
const refreshCall = () =>
  nock(WECHAT_API)
    .get('/sns/oauth2/refresh_token')
    .query({ appid: APP_ID, grant_type: 'refresh_token', refresh_token: REFRESH_TOKEN });
const userinfoCall = (query: Record<string, string> = {}) =>
  nock(WECHAT_API).get('/sns/userinfo').query({ access_token: ACCESS_TOKEN, openid: OPENID, ...query });
const authCall = () => nock(WECHAT_API).get('/sns/auth').query({ access_token: ACCESS_TOKEN, openid: OPENID });

/**
 * Awaits a call that must fail, checks that the error shows no secret anywhere, and returns it.
 * Every failing call in this file goes through here, so every error path is checked for leaks.
 */
function failure(call: Promise<unknown>): Promise<WeChatError> {
  return rejectionWithoutSecrets(call, SECRETS);
}

// Registered first, so it runs after the edge's afterEach (after-hooks run last-registered first).
afterEach(() => {
  expect(nock.isDone()).toBe(true);
});
// A request that reached no interceptor (a followed redirect, a stray call) fails the test; the
// local server below is reached on purpose.
useNockAtTheEdge({ failOnUnmatched: true });

describe('exchangeCode', () => {
  it('reads a token answer that WeChat labels text/plain', async () => {
    tokenCall().reply(200, fixture('token-with-unionid.json'), TEXT);

    const token = await newClient().exchangeCode(CODE);

    expect(token).toEqual({
      access_token: ACCESS_TOKEN,
      expires_in: 7200,
      refresh_token: REFRESH_TOKEN,
      openid: OPENID,
      scope: 'snsapi_login',
      unionid: UNIONID,
    });
  });

  it('reads a token answer labelled application/json', async () => {
    tokenCall().reply(200, fixture('token-with-unionid.json'), { 'Content-Type': 'application/json; charset=utf-8' });

    const token = await newClient().exchangeCode(CODE);

    expect(token.access_token).toBe(ACCESS_TOKEN);
    expect(token.unionid).toBe(UNIONID);
  });

  it('reads a token answer with no Content-Type at all', async () => {
    tokenCall().reply(200, fixture('token-with-unionid.json'));

    expect((await newClient().exchangeCode(CODE)).openid).toBe(OPENID);
  });

  it('leaves unionid absent when WeChat sends none, never the string "undefined"', async () => {
    tokenCall().reply(200, fixture('token-without-unionid.json'), TEXT);

    const token = await newClient().exchangeCode(CODE);

    expect(token).not.toHaveProperty('unionid');
    expect(token.openid).toBe(OPENID);
    expect(JSON.stringify(token)).not.toContain('undefined');
  });

  it("keeps the snapshot flag of an official account's virtual user for the strategy to refuse", async () => {
    tokenCall().reply(200, fixture('token-oa-snapshot.json'), TEXT);

    const token = await newClient().exchangeCode(CODE);

    expect(token.is_snapshotuser).toBe(1);
    expect(token.scope).toBe('snsapi_userinfo');
  });

  it.each<[string, string, typeof WeChatAPIError, WeChatErrorCode, boolean]>([
    ['treats a 40029 as an invalid code the user must retry', 'error-40029-rid.json', WeChatCodeError, 'WECHAT_INVALID_CODE', false],
    ['treats a 40163 as a used code the user must retry', 'error-40163-rid.json', WeChatCodeError, 'WECHAT_INVALID_CODE', false],
    ['treats a 42003 as an expired code the user must retry', 'error-42003-rid.json', WeChatCodeError, 'WECHAT_INVALID_CODE', false],
    ['treats a 40125 as a wrong AppSecret the operator must fix', 'error-40125-rid.json', WeChatCredentialsError, 'WECHAT_BAD_CREDENTIALS', false],
    ['treats an old-style 40125 the same way', 'error-40125-view-more.json', WeChatCredentialsError, 'WECHAT_BAD_CREDENTIALS', false],
    ['treats a 40013 as a wrong AppID the operator must fix', 'error-40013-rid.json', WeChatCredentialsError, 'WECHAT_BAD_CREDENTIALS', false],
    ['treats a 40001 on the code exchange as a wrong AppSecret', 'error-40001-rid.json', WeChatCredentialsError, 'WECHAT_BAD_CREDENTIALS', false],
    ['treats a -1 as a busy WeChat worth retrying later', 'error-system-busy-hints.json', WeChatAPIError, 'WECHAT_SYSTEM_BUSY', true],
    ['treats a 45011 as rate limiting worth retrying later', 'error-45011-rid.json', WeChatAPIError, 'WECHAT_RATE_LIMITED', true],
  ])('%s, although WeChat answers HTTP 200', async (_name, body, kind, code, retryable) => {
    tokenCall().reply(200, fixture(body), TEXT);

    const err = await failure(newClient().exchangeCode(CODE));

    const sent = JSON.parse(fixture(body)) as { errcode: number };
    expect(err.constructor).toBe(kind);
    expect(err.code).toBe(code);
    expect(err.retryable).toBe(retryable);
    expect(err.errcode).toBe(sent.errcode);
    expect(err.rid).toEqual(expect.any(String));
    expect(err.message).toContain(`errcode ${sent.errcode}`);
  });

  it('reads an errcode sent as a numeric string', async () => {
    tokenCall().reply(200, '{"errcode":"40163","errmsg":"code been used, rid: 66b1e3a2-4c5d7e8f-1a2b3c4d"}', TEXT);

    const err = await failure(newClient().exchangeCode(CODE));

    expect(err).toBeInstanceOf(WeChatCodeError);
    expect(err.errcode).toBe(40163);
  });

  it('treats an unknown errcode as an error, never as a login', async () => {
    tokenCall().reply(200, '{"errcode":40226,"errmsg":"code blocked, rid: 66b1e3a2-4c5d7e8f-1a2b3c4d"}', TEXT);

    const err = await failure(newClient().exchangeCode(CODE));

    expect(err.constructor).toBe(WeChatAPIError);
    expect(err.code).toBe('WECHAT_API_ERROR');
    expect(err.errcode).toBe(40226);
  });

  it('redacts the AppSecret and the code when WeChat echoes them in errmsg', async () => {
    const body = JSON.stringify({ errcode: 40029, errmsg: `invalid code ${CODE} for secret ${APP_SECRET}, rid: 66b1e3a2-4c5d7e8f-1a2b3c4d` });
    tokenCall().reply(200, body, TEXT);

    const err = await failure(newClient().exchangeCode(CODE));

    expect(err.errmsg).toBe('invalid code [redacted] for secret [redacted]');
    expect(err.rid).toBe('66b1e3a2-4c5d7e8f-1a2b3c4d');
  });

  it("treats a proxy's HTML 502 page as a retryable HTTP error", async () => {
    tokenCall().reply(502, fixture('html-502.txt'), { 'Content-Type': 'text/html' });

    const err = await failure(newClient().exchangeCode(CODE));

    expect(err).toBeInstanceOf(WeChatResponseError);
    expect(err.code).toBe('WECHAT_HTTP_ERROR');
    expect(err.status).toBe(502);
    expect(err.retryable).toBe(true);
    expect(err.message).not.toContain('<html>');
  });

  it('refuses an HTML page served with HTTP 200 as a malformed answer, not worth retrying', async () => {
    tokenCall().reply(200, fixture('html-502.txt').replace(/502 Bad Gateway/g, 'Welcome'), { 'Content-Type': 'text/html' });

    const err = await failure(newClient().exchangeCode(CODE));

    expect(err).toBeInstanceOf(WeChatResponseError);
    expect(err.code).toBe('WECHAT_MALFORMED_RESPONSE');
    expect(err.retryable).toBe(false);
    expect(err.message).toContain('HTML');
  });

  it.each([
    ['a truncated JSON body', '{"access_token":"74_xVwJyE7ck'],
    ['a JSON array', '[{"access_token":"x","openid":"y"}]'],
    ['JSON null', 'null'],
    ['a JSON string', '"ok"'],
    ['an empty body', ''],
  ])('refuses %s as a malformed answer', async (_what, body) => {
    tokenCall().reply(200, body, TEXT);

    const err = await failure(newClient().exchangeCode(CODE));

    expect(err).toBeInstanceOf(WeChatResponseError);
    expect(err.code).toBe('WECHAT_MALFORMED_RESPONSE');
  });

  it.each([
    ['access_token', { expires_in: 7200, refresh_token: REFRESH_TOKEN, openid: OPENID, scope: 'snsapi_login' }],
    ['openid', { access_token: ACCESS_TOKEN, expires_in: 7200, refresh_token: REFRESH_TOKEN, scope: 'snsapi_login' }],
    ['access_token', { access_token: '', expires_in: 7200, refresh_token: REFRESH_TOKEN, openid: OPENID, scope: 'snsapi_login' }],
  ])('refuses a 200 token answer without a usable %s', async (field, body) => {
    tokenCall().reply(200, JSON.stringify(body), TEXT);

    const err = await failure(newClient().exchangeCode(CODE));

    expect(err).toBeInstanceOf(WeChatResponseError);
    expect(err.code).toBe('WECHAT_MALFORMED_RESPONSE');
    expect(err.message).toContain(field);
  });

  it('refuses a token answer with errcode 0 but no token', async () => {
    tokenCall().reply(200, fixture('auth-ok.json'), TEXT);

    const err = await failure(newClient().exchangeCode(CODE));

    expect(err.code).toBe('WECHAT_MALFORMED_RESPONSE');
  });

  it('reports a redirect without following it', async () => {
    tokenCall().reply(302, '', { Location: 'https://evil.example/collect?from=wechat' });

    const err = await failure(newClient().exchangeCode(CODE));

    expect(err).toBeInstanceOf(WeChatResponseError);
    expect(err.code).toBe('WECHAT_REDIRECT');
    expect(err.status).toBe(302);
    expect(err.retryable).toBe(false);
    // afterEach also checks that nothing requested evil.example.
  });

  it('stops reading a body without Content-Length once it passes maxResponseBytes', async () => {
    let produced = 0;
    // An endless body: a client that read it all before checking would hang until the timeout.
    const endless = () =>
      new Readable({
        read() {
          produced += 512;
          this.push(Buffer.alloc(512, 0x20));
        },
      });
    tokenCall().reply(200, endless, TEXT);

    const err = await failure(newClient({ maxResponseBytes: 1024, timeout: 3_000 }).exchangeCode(CODE));

    expect(err).toBeInstanceOf(WeChatResponseError);
    expect(err.code).toBe('WECHAT_RESPONSE_TOO_LARGE');
    expect(produced).toBeLessThan(1024 * 1024);
  });

  it('accepts a body of exactly maxResponseBytes', async () => {
    const body = fixture('token-with-unionid.json');
    tokenCall().reply(200, body, TEXT);

    const token = await newClient({ maxResponseBytes: Buffer.byteLength(body) }).exchangeCode(CODE);

    expect(token.openid).toBe(OPENID);
  });

  it('gives up with a retryable WECHAT_TIMEOUT when WeChat does not answer in time', async () => {
    // The reply comes after 3 s; the client must give up at its 200 ms deadline.
    tokenCall().reply(
      () =>
        new Promise<[number, string]>((resolve) => {
          setTimeout(() => resolve([200, fixture('token-with-unionid.json')]), 3_000).unref();
        }),
    );
    const started = Date.now();

    const err = await failure(newClient({ timeout: 200 }).exchangeCode(CODE));

    expect(err).toBeInstanceOf(WeChatRequestError);
    expect(err.code).toBe('WECHAT_TIMEOUT');
    expect(err.retryable).toBe(true);
    expect(Date.now() - started).toBeLessThan(2_500);
  });

  it('reports a connection failure as a retryable WECHAT_NETWORK_ERROR', async () => {
    tokenCall().replyWithError(Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }));

    const err = await failure(newClient().exchangeCode(CODE));

    expect(err).toBeInstanceOf(WeChatRequestError);
    expect(err.code).toBe('WECHAT_NETWORK_ERROR');
    expect(err.retryable).toBe(true);
    expect(err.message).toContain('ECONNRESET');
    expect((err.cause as { code?: string }).code).toBe('ECONNRESET');
  });

  it('redacts the AppSecret and the code from a network error that echoes the request URL', async () => {
    const url = `${WECHAT_API}/sns/oauth2/access_token?appid=${APP_ID}&secret=${APP_SECRET}&code=${CODE}&grant_type=authorization_code`;
    tokenCall().replyWithError(Object.assign(new Error(`proxy refused GET ${url}`), { code: 'ECONNREFUSED', url }));

    const err = await failure(newClient().exchangeCode(CODE));

    expect(err.code).toBe('WECHAT_NETWORK_ERROR');
    expect(err.message).toContain('[redacted]');
  });
});

// NOTE: these two run against a local server, not nock: nock's mocked socket cannot end a response
// half-way the way a real one does, and undici then raises an uncaught assertion of its own.
describe('exchangeCode against a real socket', () => {
  let server: http.Server;
  let base: string;

  beforeAll(async () => {
    server = http.createServer((req, res) => {
      if (req.url?.startsWith('/drip')) {
        // Headers and the first bytes of a body, then nothing, for ever.
        res.writeHead(200, TEXT);
        res.write('{"access_token":"');
      } else {
        // Announces 10 MiB, sends 1 KiB, then stalls: only a client that trusts the header stops at once.
        res.writeHead(200, { ...TEXT, 'Content-Length': String(10 * 1024 * 1024) });
        res.write(' '.repeat(1024));
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    nock.enableNetConnect('127.0.0.1');
  });

  afterAll(async () => {
    nock.disableNetConnect();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  const clientOf = (path: string, options: Partial<WeChatClientOptions>) =>
    newClient({ ...options, endpoints: { ...DEFAULT_ENDPOINTS, tokenURL: `${base}${path}` } });

  it('applies the deadline to the body too, so a server dripping bytes cannot hold a login', async () => {
    const started = Date.now();

    const err = await failure(clientOf('/drip', { timeout: 300 }).exchangeCode(CODE));

    expect(err).toBeInstanceOf(WeChatRequestError);
    expect(err.code).toBe('WECHAT_TIMEOUT');
    expect(Date.now() - started).toBeLessThan(3_000);
  });

  it('refuses a body larger than maxResponseBytes as soon as Content-Length announces it', async () => {
    const started = Date.now();

    const err = await failure(clientOf('/huge', { maxResponseBytes: 1024, timeout: 4_000 }).exchangeCode(CODE));

    expect(err).toBeInstanceOf(WeChatResponseError);
    expect(err.code).toBe('WECHAT_RESPONSE_TOO_LARGE');
    expect(err.retryable).toBe(false);
    // Well before the 4 s deadline: the client did not wait for the announced 10 MiB.
    expect(Date.now() - started).toBeLessThan(3_000);
  });
});

describe('refreshAccessToken', () => {
  it('sends appid, grant_type=refresh_token and the refresh token, and no secret', async () => {
    refreshCall().reply(200, fixture('token-refresh.json'), TEXT);

    const token = await newClient().refreshAccessToken(REFRESH_TOKEN);

    expect(token.access_token).toBe(REFRESHED.access_token);
    expect(token.openid).toBe(OPENID);
    expect(token).not.toHaveProperty('unionid');
  });

  it('treats a 40030 as a refresh token that only a new login can replace', async () => {
    refreshCall().reply(200, fixture('error-40030-rid.json'), TEXT);

    const err = await failure(newClient().refreshAccessToken(REFRESH_TOKEN));

    expect(err).toBeInstanceOf(WeChatTokenError);
    expect(err.code).toBe('WECHAT_INVALID_REFRESH_TOKEN');
    expect(err.errcode).toBe(40030);
    expect(err.retryable).toBe(false);
  });

  it('redacts the refresh token when WeChat echoes it in errmsg', async () => {
    refreshCall().reply(200, JSON.stringify({ errcode: 40030, errmsg: `invalid refresh_token: ${REFRESH_TOKEN}` }), TEXT);

    const err = await failure(newClient().refreshAccessToken(REFRESH_TOKEN));

    expect(err.errmsg).toBe('invalid refresh_token: [redacted]');
  });

  it('reports a network error during refresh without the refresh token', async () => {
    refreshCall().replyWithError(new Error(`socket hang up (refresh_token=${REFRESH_TOKEN})`));

    const err = await failure(newClient().refreshAccessToken(REFRESH_TOKEN));

    expect(err.code).toBe('WECHAT_NETWORK_ERROR');
  });
});

describe('getUserInfo', () => {
  it('sends no lang unless asked, and returns the parsed and the raw body', async () => {
    const body = fixture('userinfo-2021.json');
    userinfoCall().reply(200, body, TEXT);

    const info = await newClient().getUserInfo(ACCESS_TOKEN, OPENID);

    expect(info.json).toEqual(JSON.parse(body));
    expect(info.raw).toBe(body);
    expect(info.raw).toContain('http:\\/\\/thirdwx.qlogo.cn');
  });

  it('sends lang when asked', async () => {
    userinfoCall({ lang: 'en' }).reply(200, fixture('userinfo-documented-female.json').replace(/oMsr06xK3s7bNVhDP0r2bNqYQLMk/, OPENID), TEXT);

    const info = await newClient().getUserInfo(ACCESS_TOKEN, OPENID, 'en');

    expect(info.json.country).toBe('CN');
  });

  it('treats a 40001 as an access token to refresh', async () => {
    userinfoCall().reply(200, fixture('error-40001-rid.json'), TEXT);

    const err = await failure(newClient().getUserInfo(ACCESS_TOKEN, OPENID));

    expect(err).toBeInstanceOf(WeChatTokenError);
    expect(err.code).toBe('WECHAT_INVALID_TOKEN');
    expect(err.errcode).toBe(40001);
  });

  it('treats a 48001 as a scope the token was not granted', async () => {
    userinfoCall().reply(200, fixture('error-48001-rid.json'), TEXT);

    const err = await failure(newClient().getUserInfo(ACCESS_TOKEN, OPENID));

    expect(err.code).toBe('WECHAT_SCOPE_UNAUTHORIZED');
  });

  it('redacts the access token when WeChat echoes it in errmsg', async () => {
    userinfoCall().reply(200, JSON.stringify({ errcode: 40001, errmsg: `invalid credential, access_token ${ACCESS_TOKEN} is invalid` }), TEXT);

    const err = await failure(newClient().getUserInfo(ACCESS_TOKEN, OPENID));

    expect(err.errmsg).toBe('invalid credential, access_token [redacted] is invalid');
  });

  it('refuses a userinfo answer that is a JSON array', async () => {
    userinfoCall().reply(200, '[]', TEXT);

    const err = await failure(newClient().getUserInfo(ACCESS_TOKEN, OPENID));

    expect(err.code).toBe('WECHAT_MALFORMED_RESPONSE');
  });
});

describe('checkAccessToken', () => {
  it('resolves true on {"errcode":0,"errmsg":"ok"}', async () => {
    authCall().reply(200, fixture('auth-ok.json'), TEXT);

    await expect(newClient().checkAccessToken(ACCESS_TOKEN, OPENID)).resolves.toBe(true);
  });

  it.each([
    ['a 40003 invalid openid', 'error-40003.json'],
    ['a 42001 expired token', 'error-42001-rid-no-comma.json'],
  ])('resolves false on %s', async (_what, body) => {
    authCall().reply(200, fixture(body), TEXT);

    await expect(newClient().checkAccessToken(ACCESS_TOKEN, OPENID)).resolves.toBe(false);
  });

  it('rejects when WeChat is busy, since that says nothing about the token', async () => {
    authCall().reply(200, fixture('error-system-busy-hints.json'), TEXT);

    const err = await failure(newClient().checkAccessToken(ACCESS_TOKEN, OPENID));

    expect(err.code).toBe('WECHAT_SYSTEM_BUSY');
    expect(err.retryable).toBe(true);
  });

  it('rejects on an HTTP error', async () => {
    authCall().reply(503, fixture('html-502.txt'));

    const err = await failure(newClient().checkAccessToken(ACCESS_TOKEN, OPENID));

    expect(err.code).toBe('WECHAT_HTTP_ERROR');
  });
});

describe('the client object', () => {
  it('shows its AppSecret neither in util.inspect nor in JSON.stringify', () => {
    const client = newClient();

    expect(inspect(client, { depth: 10, showHidden: true })).not.toContain(APP_SECRET);
    expect(JSON.stringify(client)).not.toContain(APP_SECRET);
    expect(Object.values(client)).not.toContain(APP_SECRET);
  });
});

// -- WeChat's own examples: test/fixtures/doc-*.json, each copied from a WeChat doc page (see
// test/fixtures/README.md), served as WeChat serves them: HTTP 200, text/plain. ----------------

/** A documented body and the JSON it holds. */
function documented(name: string): { body: string; json: Record<string, unknown> } {
  const body = fixture(name);
  return { body, json: JSON.parse(body) as Record<string, unknown> };
}

const sessionCall = () =>
  nock(WECHAT_API)
    .get('/sns/jscode2session')
    .query({ appid: APP_ID, secret: APP_SECRET, js_code: CODE, grant_type: 'authorization_code' });

describe("WeChat's documented answers (test/fixtures/doc-*.json)", () => {
  it("reads the website login doc's token answer into a typed token, unionid included", async () => {
    tokenCall().reply(200, documented('doc-website-access-token.json').body, TEXT);

    const token = await newClient().exchangeCode(CODE);

    expect(token).toEqual({
      access_token: 'ACCESS_TOKEN',
      expires_in: 7200,
      refresh_token: 'REFRESH_TOKEN',
      openid: 'OPENID',
      scope: 'SCOPE',
      unionid: 'UNIONID',
    });
  });

  it("reads the Official Account doc's token answer with is_snapshotuser: 1 kept for the strategy", async () => {
    tokenCall().reply(200, documented('doc-oa-access-token.json').body, TEXT);

    const token = await newClient().exchangeCode(CODE);

    expect(token).toEqual({
      access_token: 'ACCESS_TOKEN',
      expires_in: 7200,
      refresh_token: 'REFRESH_TOKEN',
      openid: 'OPENID',
      scope: 'SCOPE',
      is_snapshotuser: 1,
      unionid: 'UNIONID',
    });
  });

  it("reads the refresh doc's answer into a typed token without unionid", async () => {
    refreshCall().reply(200, documented('doc-oa-refresh-token.json').body, TEXT);

    const token = await newClient().refreshAccessToken(REFRESH_TOKEN);

    expect(token).toEqual({ access_token: 'ACCESS_TOKEN', expires_in: 7200, refresh_token: 'REFRESH_TOKEN', openid: 'OPENID', scope: 'SCOPE' });
  });

  it.each(['doc-website-userinfo.json', 'doc-oa-userinfo.json'])('returns %s parsed and raw from getUserInfo', async (name) => {
    const { body, json } = documented(name);
    userinfoCall().reply(200, body, TEXT);

    const info = await newClient().getUserInfo(ACCESS_TOKEN, OPENID);

    expect(info).toEqual({ json, raw: body });
  });

  it("resolves checkAccessToken true on the sns/auth doc's valid-token answer, its odd spacing included", async () => {
    authCall().reply(200, documented('doc-auth-ok.json').body, TEXT);

    await expect(newClient().checkAccessToken(ACCESS_TOKEN, OPENID)).resolves.toBe(true);
  });

  it("resolves checkAccessToken false on the sns/auth doc's invalid-token answer (40003)", async () => {
    authCall().reply(200, documented('doc-auth-error-40003.json').body, TEXT);

    await expect(newClient().checkAccessToken(ACCESS_TOKEN, OPENID)).resolves.toBe(false);
  });

  it("reads code2Session's doc example, whose errcode 0 is a success, keeping its extra fields", async () => {
    sessionCall().reply(200, documented('doc-code2session.json').body, TEXT);

    const session = await newClient().codeToSession(CODE);

    expect(session).toEqual({ openid: 'xxxxxx', session_key: 'xxxxx', unionid: 'xxxxx', errcode: 0, errmsg: 'xxxxx' });
  });

  it.each<[string, string, () => nock.Interceptor, (client: WeChatClient) => Promise<unknown>, typeof WeChatAPIError, WeChatErrorCode, boolean]>([
    ['40029 on the code exchange', 'doc-website-access-token-error-40029.json', tokenCall, (c) => c.exchangeCode(CODE), WeChatCodeError, 'WECHAT_INVALID_CODE', false],
    ['40030 on the refresh', 'doc-website-refresh-token-error-40030.json', refreshCall, (c) => c.refreshAccessToken(REFRESH_TOKEN), WeChatTokenError, 'WECHAT_INVALID_REFRESH_TOKEN', false],
    ['40003 on userinfo', 'doc-website-userinfo-error-40003.json', () => userinfoCall(), (c) => c.getUserInfo(ACCESS_TOKEN, OPENID), WeChatTokenError, 'WECHAT_INVALID_TOKEN', false],
    ['40226 on code2Session', 'doc-code2session-error-40226.json', sessionCall, (c) => c.codeToSession(CODE), WeChatUserBlockedError, 'WECHAT_USER_BLOCKED', false],
    ['45011 on code2Session', 'doc-code2session-error-45011.json', sessionCall, (c) => c.codeToSession(CODE), WeChatAPIError, 'WECHAT_RATE_LIMITED', true],
    ['-1 on code2Session', 'doc-code2session-error-system.json', sessionCall, (c) => c.codeToSession(CODE), WeChatAPIError, 'WECHAT_SYSTEM_BUSY', true],
  ])('turns the documented %s into a typed error (%s)', async (_what, name, call, run, kind, code, retryable) => {
    const { body, json } = documented(name);
    call().reply(200, body, TEXT);

    const err = await failure(run(newClient()));

    expect(err).toBeInstanceOf(kind);
    expect(err).toMatchObject({ code, retryable, errcode: json.errcode, errmsg: json.errmsg, rid: undefined });
  });
});
