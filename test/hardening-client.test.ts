/**
 * Attacks on the WeChat client from the network edge, each seen through the real client or a full
 * Passport login: a failure cause that carries the AppSecret past what a scan reads, errcodes
 * that are not numbers, `__proto__` keys in WeChat's JSON, and a userinfo for another unionid.
 */
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import nock from 'nock';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_ENDPOINTS, WeChatClient, type WeChatClientOptions } from '../lib/client.js';
import {
  WeChatError,
  WeChatRequestError,
  WeChatResponseError,
  WeChatStrategy,
  type WeChatEndpoints,
  type WeChatProfile,
  type WeChatTokenResponse,
  type WeChatVerifyFunctionWithParams,
} from '../lib/index.js';
import { mockWeChatLogin, useNockAtTheEdge } from './helpers/nock.js';
import { authenticate, errorOf, sessionWithState, type Outcome } from './helpers/passport.js';
import { expectNoSecrets, reachableStrings, rejectionWithoutSecrets } from './helpers/secrets.js';
import {
  ACCESS_TOKEN,
  APPID,
  CODE,
  OPENID,
  REFRESH_TOKEN,
  SECRET,
  STATE,
  UNIONID,
  WEBSITE_LOGIN,
  WECHAT_API,
  tokenBody,
  userinfoBody,
} from './helpers/wechat.js';

const SECRETS = [SECRET, CODE, ACCESS_TOKEN, REFRESH_TOKEN];
const CALLBACK = 'https://example.com/auth/wechat/callback';
const USERINFO_BODY = userinfoBody(WEBSITE_LOGIN, '张三');
const { mockToken, mockUserInfo } = mockWeChatLogin(WEBSITE_LOGIN, USERINFO_BODY);

useNockAtTheEdge({ allowLocalhost: true, failOnUnmatched: true });

function newClient(options: Partial<WeChatClientOptions> = {}): WeChatClient {
  return new WeChatClient({ appId: APPID, appSecret: SECRET, endpoints: DEFAULT_ENDPOINTS, timeout: 5_000, maxResponseBytes: 1024 * 1024, ...options });
}

/** What the verify callback saw: WeChat's token response (`params`) and the profile. */
interface Seen {
  params?: WeChatTokenResponse;
  profile?: WeChatProfile;
}

function newStrategy(seen: Seen = {}, endpoints: Partial<WeChatEndpoints> = {}): WeChatStrategy {
  const verify: WeChatVerifyFunctionWithParams = (_a, _r, params, profile, done) => {
    seen.params = params;
    seen.profile = profile;
    done(null, { id: profile.id });
  };
  return new WeChatStrategy({ clientID: APPID, clientSecret: SECRET, callbackURL: CALLBACK, ...endpoints }, verify);
}

function callback(strategy: WeChatStrategy): Promise<Outcome> {
  return authenticate(strategy, { query: { code: CODE, state: STATE }, session: sessionWithState(STATE), url: '/auth/wechat/callback' });
}

function failure(call: Promise<unknown>, secrets: readonly string[] = SECRETS): Promise<WeChatError> {
  return rejectionWithoutSecrets(call, secrets);
}

/** The causes below an error, outermost first. */
function causesOf(error: unknown): unknown[] {
  const causes: unknown[] = [];
  for (let at = (error as { cause?: unknown }).cause; at !== undefined; at = (at as { cause?: unknown }).cause) causes.push(at);
  return causes;
}

/** Only what the client's copy of a cause may hold: name, message, stack, a code and a cause. */
function expectAllowListedCauses(error: unknown): void {
  for (const cause of causesOf(error)) {
    expect(cause).toBeInstanceOf(Error);
    expect(Object.getPrototypeOf(cause)).toBe(Error.prototype);
    const allowed = ['name', 'message', 'stack', 'code', 'cause'];
    expect(Reflect.ownKeys(cause as object).filter((key) => !allowed.includes(String(key)))).toEqual([]);
    expect((cause as Error).message.length).toBeLessThanOrEqual(501);
  }
}

// ---------------------------------------------------------------------------
// A. A failure cause that holds a secret
// ---------------------------------------------------------------------------

describe('a failure whose cause holds the AppSecret and the code', () => {
  // A token endpoint that answers garbage, then the request line it was sent: undici's
  // HTTPParserError keeps the bytes it could not parse in `data`, the secret past 10,000 characters.
  let server: net.Server;
  let base = '';
  const sockets = new Set<net.Socket>();

  beforeAll(async () => {
    server = net.createServer((socket) => {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      socket.on('error', () => {});
      let head = '';
      socket.on('data', (chunk: Buffer) => {
        if (head.includes('\r\n')) return;
        head += chunk.toString('latin1');
        const end = head.indexOf('\r\n');
        // One write, so the parser gets garbage and echo in one chunk.
        if (end >= 0) socket.end(`${'x'.repeat(10_100)}${head.slice(0, end)}\r\n`);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => server.close(resolve));
  });

  it('hands out no secret when the token endpoint echoes the request line after 10,100 bytes of garbage', async () => {
    const outcome = await callback(newStrategy({}, { tokenURL: `${base}/sns/oauth2/access_token` }));

    const error = errorOf(outcome);
    expect(error).toBeInstanceOf(WeChatRequestError);
    expect((error as WeChatError).code).toBe('WECHAT_NETWORK_ERROR');
    // The parser's complaint survives; the bytes it complained about do not.
    expect(error.message).toContain('HTTP/1.1');
    expect(causesOf(error)[0]).toMatchObject({ name: 'HTTPParserError' });
    expectNoSecrets(error, SECRETS);
    expectAllowListedCauses(error);
  });

  it('redacts the same attack through the client, whatever length the echo has', async () => {
    const client = newClient({ endpoints: { ...DEFAULT_ENDPOINTS, tokenURL: `${base}/sns/oauth2/access_token` } });

    const error = await failure(client.exchangeCode(CODE));

    expect(error.code).toBe('WECHAT_NETWORK_ERROR');
    expectAllowListedCauses(error);
  });
});

describe('a long, deeply nested failure cause', () => {
  const url = `${WECHAT_API}/sns/oauth2/access_token?appid=${APPID}&secret=${SECRET}&code=${CODE}&grant_type=authorization_code`;

  /** Five causes deep, each with the secret past 10,000 characters of its message and in every other property. */
  function nestedFailure(): Error {
    let cause: Error | undefined;
    for (let level = 5; level >= 1; level -= 1) {
      const error: Error = new Error(`${'.'.repeat(10_050)} level ${level} GET ${url}`, cause === undefined ? undefined : { cause });
      error.name = `Level${level}Error`;
      Object.assign(error, { code: `E_LEVEL_${level}`, data: url, headers: { location: url }, body: Buffer.from(url) });
      Object.defineProperty(error, 'hidden', { value: url, enumerable: false });
      Object.defineProperty(error, Symbol('raw'), { value: url, enumerable: false });
      cause = error;
    }
    return cause as Error;
  }

  const tokenCall = () =>
    nock(WECHAT_API).get('/sns/oauth2/access_token').query({ appid: APPID, secret: SECRET, code: CODE, grant_type: 'authorization_code' });

  it('keeps of each cause only its name, code and a redacted message capped at 500 characters, three deep', async () => {
    tokenCall().replyWithError(nestedFailure());

    const error = await failure(newClient().exchangeCode(CODE));

    expect(error.code).toBe('WECHAT_NETWORK_ERROR');
    expectAllowListedCauses(error);
    const causes = causesOf(error) as Array<Error & { code?: string }>;
    expect(causes.map((cause) => [cause.name, cause.code])).toEqual([
      ['Level1Error', 'E_LEVEL_1'],
      ['Level2Error', 'E_LEVEL_2'],
      ['Level3Error', 'E_LEVEL_3'],
    ]);
    // The first 500 characters of the message, the secret past them gone with the rest.
    expect(causes[0]?.message).toBe(`${'.'.repeat(500)}…`);
    expect(reachableStrings(error).join('\n')).not.toContain('level 1 GET');
  });

  it('redacts a secret in its URL-encoded forms too (a code with characters a URL escapes)', async () => {
    const code = '0a1b2c3d e+f/g=h&i';
    const sent = new URL(`${WECHAT_API}/sns/oauth2/access_token`);
    for (const [key, value] of Object.entries({ appid: APPID, secret: SECRET, code, grant_type: 'authorization_code' })) sent.searchParams.set(key, value);
    nock(WECHAT_API)
      .get('/sns/oauth2/access_token')
      .query({ appid: APPID, secret: SECRET, code, grant_type: 'authorization_code' })
      .replyWithError(
        Object.assign(new Error(`proxy refused GET ${sent.href} (code ${encodeURIComponent(code)})`), { code: 'ECONNREFUSED' }),
      );

    const error = await failure(newClient().exchangeCode(code), [SECRET, code]);

    expect(error.message).toContain('[redacted]');
    expect(error.message).not.toContain('e+f');
  });
});

// ---------------------------------------------------------------------------
// B. errcode values that are not WeChat's
// ---------------------------------------------------------------------------

describe('an errcode that is not a whole number', () => {
  // A token answer with everything a login needs, plus an errcode WeChat would never send.
  const withErrcode = (errcode: string) => tokenBody(WEBSITE_LOGIN).replace(/^\{/, `{"errcode":${errcode},`);

  it.each([
    ['1e400 (JSON.parse: Infinity)', '1e400'],
    ['-1e400', '-1e400'],
    ['an array', '[40029]'],
    ['a hex string', '"0x9C9D"'],
    ['a fraction', '40029.5'],
    ['null', 'null'],
    ['true', 'true'],
    ['false', 'false'],
    ['an object', '{"code":40029}'],
    ['an empty string', '""'],
    ['a string in exponent form', '"1e3"'],
    ['a string with text after the number', '"40029 invalid code"'],
    ['a 400-digit string (Number(): Infinity)', `"${'9'.repeat(400)}"`],
  ])('refuses a token answer whose errcode is %s as malformed, never a login', async (_what, errcode) => {
    mockToken(withErrcode(errcode));

    const error = await failure(newClient().exchangeCode(CODE));

    expect(error).toBeInstanceOf(WeChatResponseError);
    expect(error.code).toBe('WECHAT_MALFORMED_RESPONSE');
  });

  it.each([
    ['"-1"', 'WECHAT_SYSTEM_BUSY'],
    ['-1', 'WECHAT_SYSTEM_BUSY'],
    ['" 40029 "', 'WECHAT_INVALID_CODE'],
    ['"+40029"', 'WECHAT_INVALID_CODE'],
    ['40029', 'WECHAT_INVALID_CODE'],
  ])('reads errcode %s as the WeChat error it is', async (errcode, code) => {
    mockToken(withErrcode(errcode));

    const error = await failure(newClient().exchangeCode(CODE));

    expect(error.code).toBe(code);
  });

  it.each([['0'], ['"0"'], ['" 0 "'], ['-0']])('reads errcode %s as success', async (errcode) => {
    mockToken(withErrcode(errcode));

    const token = await newClient().exchangeCode(CODE);

    expect(token).toMatchObject({ access_token: ACCESS_TOKEN, openid: OPENID });
  });

  it('reads an answer without errcode as success', async () => {
    mockToken();

    expect(await newClient().exchangeCode(CODE)).toMatchObject({ access_token: ACCESS_TOKEN, openid: OPENID });
  });

  it('refuses a userinfo answer whose errcode is [40001] instead of making a profile of it', async () => {
    mockUserInfo(USERINFO_BODY.replace(/^\{/, '{"errcode":[40001],'));

    const error = await failure(newClient().getUserInfo(ACCESS_TOKEN, OPENID));

    expect(error.code).toBe('WECHAT_MALFORMED_RESPONSE');
  });

  it('ends a whole login in an error when the token answer says errcode 1e400, before any userinfo call', async () => {
    mockToken(withErrcode('1e400'));
    const seen: Seen = {};

    const outcome = await callback(newStrategy(seen));

    expect(outcome).toMatchObject({ action: 'error', error: { code: 'WECHAT_MALFORMED_RESPONSE' } });
    expect(seen.profile).toBeUndefined();
  });
});

// ---------------------------------------------------------------------------
// C. __proto__ keys in WeChat's answers
// ---------------------------------------------------------------------------

/** Every object reachable from `value` that has an own `__proto__` key. */
function ownProtoKeys(value: unknown, path = '$'): string[] {
  if (typeof value !== 'object' || value === null) return [];
  const found = Object.hasOwn(value, '__proto__') ? [path] : [];
  for (const [key, item] of Object.entries(value)) found.push(...ownProtoKeys(item, `${path}.${key}`));
  return found;
}

/** A deep merge as naive as many apps': `target[key]` for "__proto__" is Object.prototype. */
function naiveMerge(target: Record<string, unknown>, source: Record<string, unknown>): Record<string, unknown> {
  for (const key of Object.keys(source)) {
    const value = source[key];
    if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
      if (typeof target[key] !== 'object' || target[key] === null) target[key] = {};
      naiveMerge(target[key] as Record<string, unknown>, value as Record<string, unknown>);
    } else {
      target[key] = value;
    }
  }
  return target;
}

describe('__proto__ keys in WeChat answers', () => {
  afterEach(() => {
    // Only if a test failed: leave no pollution behind for the tests after it.
    for (const key of ['polluted', 'pollutedNested', 'pollutedEscaped', 'isAdmin']) Reflect.deleteProperty(Object.prototype, key);
  });

  const tokenWithProto =
    tokenBody(WEBSITE_LOGIN).slice(0, -1) +
    ',"__proto__":{"polluted":"token"},"extra":{"list":[{"__proto__":{"pollutedNested":"token"}}]},' +
    '"escaped":{"\\u005f_proto__":{"pollutedEscaped":"token"}},"constructor":{"prototype":{"isAdmin":true}},"label":{"constructor":"kept"}}';
  const userinfoWithProto =
    USERINFO_BODY.slice(0, -1) + ',"__proto__":{"polluted":"userinfo"},"tags":{"__proto__":{"pollutedNested":"userinfo"}}}';

  it('leaves no __proto__ key in params, the profile or its _json, at any depth', async () => {
    mockToken(tokenWithProto);
    mockUserInfo(userinfoWithProto);
    const seen: Seen = {};

    const outcome = await callback(newStrategy(seen));

    expect(outcome.action).toBe('success');
    expect(ownProtoKeys(seen.params)).toEqual([]);
    expect(ownProtoKeys(seen.profile)).toEqual([]);
    expect(ownProtoKeys(seen.profile?._json)).toEqual([]);
    expect(Object.getPrototypeOf(seen.params)).toBe(Object.prototype);
    // A constructor holding an object goes (a deep merge walks it into Object.prototype); the rest
    // of WeChat's answer is kept, a constructor key holding a string included.
    expect(seen.params).toMatchObject({ access_token: ACCESS_TOKEN, extra: { list: [{}] }, escaped: {}, label: { constructor: 'kept' } });
    expect(Object.hasOwn(seen.params ?? {}, 'constructor')).toBe(false);
    expect(seen.profile?._json).toMatchObject({ openid: OPENID, tags: {} });
    expect(seen.profile?._raw).toBe(userinfoWithProto);
  });

  it('lets an app deep-merge params and _json without polluting Object.prototype', async () => {
    mockToken(tokenWithProto);
    mockUserInfo(userinfoWithProto);
    const seen: Seen = {};

    await callback(newStrategy(seen));
    naiveMerge({}, seen.params as Record<string, unknown>);
    naiveMerge({}, seen.profile?._json ?? {});

    const plain: Record<string, unknown> = {};
    expect(plain.polluted).toBeUndefined();
    expect(plain.pollutedNested).toBeUndefined();
    expect(plain.pollutedEscaped).toBeUndefined();
    expect(plain.isAdmin).toBeUndefined();
  });

  it('drops a __proto__ key spelt with \\u escapes only (the text never says __proto__)', async () => {
    const escaped = tokenBody(WEBSITE_LOGIN).slice(0, -1) + ',"\\u005f\\u005fproto\\u005f\\u005f":{"pollutedEscaped":"token"}}';
    expect(escaped).not.toContain('__proto__');
    mockToken(escaped);

    const token = await newClient().exchangeCode(CODE);

    expect(ownProtoKeys(token)).toEqual([]);
    naiveMerge({}, token);
    expect(({} as Record<string, unknown>).pollutedEscaped).toBeUndefined();
  });

  it('drops __proto__ from a userinfo answer read through the client alone', async () => {
    mockUserInfo(userinfoWithProto);

    const { json, raw } = await newClient().getUserInfo(ACCESS_TOKEN, OPENID);

    expect(ownProtoKeys(json)).toEqual([]);
    expect(raw).toBe(userinfoWithProto);
  });
});

// ---------------------------------------------------------------------------
// D. A userinfo for another unionid than the token's
// ---------------------------------------------------------------------------

describe('a userinfo answer for another unionid than the token', () => {
  it('ends the login in an error instead of logging in the other unionid', async () => {
    mockToken();
    mockUserInfo(USERINFO_BODY.replace(UNIONID, 'oU5Yyt8X-SomebodyElse0000000'));
    const seen: Seen = {};

    const outcome = await callback(newStrategy(seen));

    const error = errorOf(outcome);
    expect(error).toBeInstanceOf(WeChatResponseError);
    expect(error).toMatchObject({ code: 'WECHAT_MALFORMED_RESPONSE', message: 'WeChat userinfo is for another unionid than the access token.' });
    expect(seen.profile).toBeUndefined();
  });

  it('still logs in when only one of the two answers carries the unionid', async () => {
    mockToken(tokenBody(WEBSITE_LOGIN, { unionid: undefined }));
    mockUserInfo();
    const seen: Seen = {};

    const outcome = await callback(newStrategy(seen));

    expect(outcome.action).toBe('success');
    expect(seen.profile).toMatchObject({ id: UNIONID, unionid: UNIONID, openid: OPENID });
  });
});

describe('an errmsg that echoes the token the call sent', () => {
  // WeChat's errmsg sometimes quotes the request ("invalid credential, access_token is invalid or
  // not latest", hints with parameters); a proxy in between may echo more. Whatever it echoes of the
  // call's own token must not reach the error.
  const echo = (token: string) => JSON.stringify({ errcode: -1, errmsg: `system error for ${token}, rid: 6571a1b2-1c2d3e4f-5a6b7c8d` });

  it('redacts the access token from a sns/auth failure', async () => {
    nock(WECHAT_API).get('/sns/auth').query({ access_token: ACCESS_TOKEN, openid: OPENID }).reply(200, echo(ACCESS_TOKEN), { 'Content-Type': 'text/plain' });
    const error = await failure(newClient().checkAccessToken(ACCESS_TOKEN, OPENID));
    expect(error.code).toBe('WECHAT_SYSTEM_BUSY');
    expect(error.errmsg).toContain('[redacted]');
  });

  it('redacts the access token from a sns/userinfo failure', async () => {
    mockUserInfo(echo(ACCESS_TOKEN));
    const error = await failure(newClient().getUserInfo(ACCESS_TOKEN, OPENID));
    expect(error.errmsg).toContain('[redacted]');
  });

  it('redacts the refresh token from a sns/oauth2/refresh_token failure', async () => {
    nock(WECHAT_API)
      .get('/sns/oauth2/refresh_token')
      .query({ appid: APPID, grant_type: 'refresh_token', refresh_token: REFRESH_TOKEN })
      .reply(200, echo(REFRESH_TOKEN), { 'Content-Type': 'text/plain' });
    const error = await failure(newClient().refreshAccessToken(REFRESH_TOKEN));
    expect(error.errmsg).toContain('[redacted]');
  });

  it('redacts the code from a sns/oauth2/access_token failure', async () => {
    mockToken(echo(CODE));
    const error = await failure(newClient().exchangeCode(CODE));
    expect(error.errmsg).toContain('[redacted]');
  });
});

describe('an expires_in that is not a number', () => {
  it.each([
    ['an object whose conversion throws', { toString: 1 }],
    ['a word', 'soon'],
    ['an array', [7200]],
    ['null', null],
  ])('reads %s as 0 instead of throwing a TypeError', async (_what, expires) => {
    mockToken(tokenBody(WEBSITE_LOGIN, { expires_in: expires }));
    const token = await newClient().exchangeCode(CODE);
    expect(token.expires_in).toBe(0);
    expect(token.openid).toBe(OPENID);
  });

  it('reads the decimal text WeChat might send as the number', async () => {
    mockToken(tokenBody(WEBSITE_LOGIN, { expires_in: '7200' }));
    expect((await newClient().exchangeCode(CODE)).expires_in).toBe(7200);
  });
});
