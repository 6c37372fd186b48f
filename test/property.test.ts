/**
 * Property tests (fast-check): whatever WeChat — or anything pretending to be WeChat — sends, the
 * pure parsers either return a well-formed value or throw a WeChatError. Never a TypeError, never
 * an id of "undefined", never a secret in an error.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseCode2SessionResponse, parseTokenResponse, parseWeChatJSON, type WeChatTokenResponse } from '../lib/client.js';
import { errorFromErrcode, splitErrmsg, WeChatAPIError, WeChatError, type WeChatEndpoint, type WeChatErrorCode } from '../lib/errors.js';
import { parseProfile, profileFromToken, type WeChatIdentity, type WeChatProfile } from '../lib/profile.js';
import { expectNoSecrets } from './helpers/secrets.js';

/** Enough runs to find the usual suspects, few enough that the file runs in a few seconds. */
const RUNS = { numRuns: 1_000 };

const ENDPOINTS: WeChatEndpoint[] = ['access_token', 'refresh_token', 'userinfo', 'auth', 'jscode2session'];
// A Record, so that a code added to WeChatErrorCode without being listed here fails the typecheck.
const KNOWN_CODES: Record<WeChatErrorCode, true> = {
  WECHAT_INVALID_OPTIONS: true,
  WECHAT_TIMEOUT: true,
  WECHAT_NETWORK_ERROR: true,
  WECHAT_HTTP_ERROR: true,
  WECHAT_REDIRECT: true,
  WECHAT_RESPONSE_TOO_LARGE: true,
  WECHAT_MALFORMED_RESPONSE: true,
  WECHAT_INVALID_CODE: true,
  WECHAT_BAD_CREDENTIALS: true,
  WECHAT_INVALID_TOKEN: true,
  WECHAT_INVALID_REFRESH_TOKEN: true,
  WECHAT_SCOPE_UNAUTHORIZED: true,
  WECHAT_RATE_LIMITED: true,
  WECHAT_SYSTEM_BUSY: true,
  WECHAT_API_ERROR: true,
  WECHAT_USER_BLOCKED: true,
  WECHAT_USERDATA_MALFORMED: true,
  WECHAT_USERDATA_UNDECRYPTABLE: true,
  WECHAT_USERDATA_WRONG_APPID: true,
};
const ERROR_CODES = Object.keys(KNOWN_CODES) as WeChatErrorCode[];

const APP_SECRET = '3f9a1c7e5b2d4068a1c3e5f7092b4d6e';
const CODE = '001HKCFa1UWlqz0ZsPHa1zrEwD2HKCF3';
const ACCESS_TOKEN = '86_95Uv_nF2DaccessTokenXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX';
const SECRETS = [APP_SECRET, CODE, ACCESS_TOKEN];

/** Runs `fn`; a WeChatError is an accepted answer, anything else thrown fails the property. */
function resultOf<T>(fn: () => T): { ok: true; value: T } | { ok: false; error: WeChatError } {
  try {
    return { ok: true, value: fn() };
  } catch (error) {
    if (!(error instanceof WeChatError)) {
      throw new Error(`threw ${String(error)} instead of a WeChatError`, { cause: error });
    }
    expect(ERROR_CODES).toContain(error.code);
    return { ok: false, error };
  }
}

// ---------------------------------------------------------------------------
// Arbitraries: WeChat-shaped values whose fields may be of any type
// ---------------------------------------------------------------------------

/** Strings that never spell "undefined" themselves, so finding it in the output means a String(undefined). */
const text = fc.string({ unit: 'binary', maxLength: 40 }).filter((s) => !s.includes('undefined'));
const idLike = fc.oneof(
  fc.constantFrom('oRrdQt2LF0SpCODdV4KhLuEoPgwg', 'oU5Yyt8X-WpQeBsNFS4HuvmDwEhs', '', ' ', '  o6_bm  ', '\u3000', '\t\n'),
  fc.stringMatching(/^o[\w-]{27}$/),
  text,
);
const anyValue = fc.oneof(
  fc.anything({ maxDepth: 2 }).filter((v) => !JSON.stringify(v ?? null)?.includes('undefined')),
  fc.constant(undefined),
  fc.constant(null),
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.array(text, { maxLength: 3 }),
);
/** A field that is usually the right type, sometimes anything at all. */
const field = (usual: fc.Arbitrary<unknown>) => fc.oneof({ weight: 3, arbitrary: usual }, { weight: 1, arbitrary: anyValue });

const avatar = fc.oneof(
  fc.constantFrom(
    'http://thirdwx.qlogo.cn/mmopen/vi_32/Q0j4TwGTfTK/132',
    'https://wx.qlogo.cn/mmopen/x/0',
    'http:\\/\\/thirdwx.qlogo.cn\\/mmopen\\/132',
    'javascript:alert(1)',
    'data:image/png;base64,AAAA',
    '//thirdwx.qlogo.cn/x/132',
    'ftp://example.com/a.png',
    'http://',
    'https://[::1]/x',
    'http://a b/',
    ' http://thirdwx.qlogo.cn/x/46 ',
    '',
  ),
  fc.webUrl({ validSchemes: ['http', 'https', 'ftp', 'file'], withQueryParameters: true, withFragments: true }),
  text,
);

const userinfoObject = fc.record(
  {
    openid: field(idLike),
    unionid: field(idLike),
    nickname: field(text),
    sex: field(fc.oneof(fc.constantFrom(0, 1, 2, '1', '2', ' 1 ', '0x1', '1e0', -1, 1.5), fc.integer())),
    headimgurl: field(avatar),
    privilege: field(fc.array(fc.oneof(text, anyValue), { maxLength: 4 })),
    country: field(text),
    province: field(text),
    city: field(text),
    language: field(fc.constantFrom('', 'zh_CN', 'en')),
    errcode: field(fc.integer()),
  },
  { requiredKeys: [] },
);

/** Any JSON value at all, and userinfo-shaped objects with fields of any type. */
const userinfoJson = fc.oneof(fc.jsonValue({ maxDepth: 3 }), userinfoObject, fc.dictionary(text, anyValue, { maxKeys: 5 }));

const identity: fc.Arbitrary<WeChatIdentity | undefined> = fc.option(
  fc.record(
    { openid: idLike.filter((s) => s !== ''), unionid: fc.option(idLike, { nil: undefined }), appid: fc.option(text, { nil: undefined }) },
    { requiredKeys: ['openid'] },
  ),
  { nil: undefined },
);

// ---------------------------------------------------------------------------
// The profile
// ---------------------------------------------------------------------------

function expectWellFormedProfile(profile: WeChatProfile): void {
  expect(profile.provider).toBe('wechat');
  expect(typeof profile.id).toBe('string');
  expect(profile.id).not.toBe('');
  expect(profile.id).toBe(profile.unionid ?? profile.openid);
  expect(typeof profile.openid).toBe('string');
  expect(profile.openid).not.toBe('');
  if (profile.unionid !== undefined) expect(profile.unionid).not.toBe('');
  expect(typeof profile.displayName).toBe('string');
  expect(Array.isArray(profile.privilege) && profile.privilege.every((p) => typeof p === 'string')).toBe(true);
  if (profile.photos !== undefined) {
    expect(profile.photos).toHaveLength(1);
    expect(new URL(profile.photos[0].value).protocol).toBe('https:');
  }
  if (profile.gender !== undefined) expect(['male', 'female']).toContain(profile.gender);
  for (const region of ['country', 'province', 'city'] as const) {
    if (profile[region] !== undefined) expect(profile[region]?.trim()).not.toBe('');
  }
  expect(typeof profile._raw).toBe('string');
  // No field was produced by String(undefined) (the inputs never contain the word).
  const { _json: _ignored, _raw: _alsoIgnored, ...shown } = profile;
  expect(JSON.stringify(shown)).not.toContain('undefined');
}

describe('parseProfile over any JSON value', () => {
  it('returns a well-formed profile or throws a WeChatError (no identity)', () => {
    fc.assert(
      fc.property(userinfoJson, (json) => {
        const result = resultOf(() => parseProfile(json));
        if (!result.ok) return;
        expectWellFormedProfile(result.value);
        const info = json as Record<string, unknown>;
        expect(result.value.openid).toBe((info.openid as string).trim());
        expect(result.value._json).toBe(json);
      }),
      RUNS,
    );
  });

  it('with a token identity: the openid must match, the unionid falls back to the token one', () => {
    fc.assert(
      fc.property(userinfoJson, identity, fc.option(text, { nil: undefined }), (json, who, raw) => {
        const result = resultOf(() => parseProfile(json, who, raw));
        if (!result.ok) return;
        expectWellFormedProfile(result.value);
        if (who !== undefined && who.openid.trim() !== '') {
          // A blank token openid says nothing; a padded one is the same id, trimmed.
          expect(result.value.openid).toBe(who.openid.trim());
          if (who.appid !== undefined) expect(result.value.appid).toBe(who.appid);
        }
        if (raw !== undefined) expect(result.value._raw).toBe(raw);
      }),
      RUNS,
    );
  });

  it('keeps an http(s) avatar, served over https with its path (size suffix) unchanged', () => {
    fc.assert(
      fc.property(fc.webUrl({ validSchemes: ['http', 'https'] }), (url) => {
        const profile = parseProfile({ openid: 'oRrdQt2LF0SpCODdV4KhLuEoPgwg', headimgurl: url });
        const photo = new URL(profile.photos?.[0].value ?? 'x:');
        expect(photo.protocol).toBe('https:');
        expect(photo.pathname).toBe(new URL(url).pathname);
      }),
      RUNS,
    );
  });

  it('profileFromToken: any identity with a non-blank openid gives a well-formed profile or a WeChatError', () => {
    fc.assert(
      fc.property(identity, (who) => {
        if (who === undefined) return;
        const result = resultOf(() => profileFromToken(who));
        if (result.ok) expectWellFormedProfile(result.value);
      }),
      RUNS,
    );
  });
});

// ---------------------------------------------------------------------------
// The client's response parsers
// ---------------------------------------------------------------------------

const tokenObject = fc.record(
  {
    access_token: field(fc.oneof(fc.constant(ACCESS_TOKEN), idLike)),
    refresh_token: field(text),
    openid: field(idLike),
    unionid: field(idLike),
    expires_in: field(fc.oneof(fc.constantFrom(7200, '7200', '', 'soon', 0, -1), fc.integer())),
    scope: field(fc.constantFrom('snsapi_login', 'snsapi_base,snsapi_userinfo', '')),
    is_snapshotuser: field(fc.constantFrom(1, 0, '1')),
    errcode: field(fc.constantFrom(0, '0')),
  },
  { requiredKeys: [] },
);
const anyObject = fc.oneof(tokenObject, fc.dictionary(text, anyValue, { maxKeys: 6 }), fc.object({ maxDepth: 2 }));

function expectWellFormedToken(token: WeChatTokenResponse, json: Record<string, unknown>): void {
  expect(token.access_token).toBe((json.access_token as string).trim());
  expect(token.openid).toBe((json.openid as string).trim());
  expect(typeof token.access_token === 'string' && token.access_token !== '').toBe(true);
  expect(typeof token.openid === 'string' && token.openid !== '').toBe(true);
  expect(typeof token.refresh_token).toBe('string');
  expect(typeof token.scope).toBe('string');
  expect(typeof token.expires_in).toBe('number');
  if ('unionid' in token) expect(typeof token.unionid === 'string' && token.unionid !== '').toBe(true);
  expect(JSON.stringify({ ...token, _json: undefined })).not.toContain('"undefined"');
}

describe('parseTokenResponse over any object', () => {
  it('returns a token with non-empty access_token and openid, or throws a WeChatError', () => {
    fc.assert(
      fc.property(anyObject, fc.constantFrom<WeChatEndpoint>('access_token', 'refresh_token'), (json, endpoint) => {
        const result = resultOf(() => parseTokenResponse(json as Record<string, unknown>, endpoint));
        if (result.ok) expectWellFormedToken(result.value, json as Record<string, unknown>);
        else expect(result.error.code).toBe('WECHAT_MALFORMED_RESPONSE');
      }),
      RUNS,
    );
  });

  it('token response → profile (the login path): the user id is never blank or padded', () => {
    // Found by this property (fixed in lib since): a token openid of only white space became
    // profile.id "   " — every such login one and the same user — and a padded one was not trimmed.
    fc.assert(
      fc.property(tokenObject, userinfoJson, fc.boolean(), (json, userinfo, skipUserinfo) => {
        const token = resultOf(() => parseTokenResponse(json as Record<string, unknown>, 'access_token'));
        if (!token.ok) return;
        const who = { openid: token.value.openid, unionid: token.value.unionid, appid: 'wx5f3c2a9e8d1b7046' };
        const result = resultOf(() => (skipUserinfo ? profileFromToken(who) : parseProfile(userinfo, who)));
        if (!result.ok) return;
        expectWellFormedProfile(result.value);
        expect(result.value.id.trim()).not.toBe('');
        expect(result.value.id).toBe(result.value.id.trim());
      }),
      RUNS,
    );
  });

  it('refuses a blank token openid and trims a padded one (the shrunk counterexamples of the property above)', () => {
    expect(() => parseTokenResponse({ access_token: ACCESS_TOKEN, openid: '   ' }, 'access_token')).toThrow(
      expect.objectContaining({ code: 'WECHAT_MALFORMED_RESPONSE' }),
    );
    const token = parseTokenResponse({ access_token: ACCESS_TOKEN, openid: '  o6_bm  ' }, 'access_token');
    const who = { openid: token.openid, unionid: token.unionid };
    expect(profileFromToken(who).id).toBe('o6_bm');
    // The same padded openid in both answers is the same user, not "another openid".
    expect(parseProfile({ openid: '  o6_bm  ', nickname: 'x' }, who).id).toBe('o6_bm');
  });
});

describe('parseCode2SessionResponse over any object', () => {
  const sessionObject = fc.record(
    {
      openid: field(idLike),
      session_key: field(fc.oneof(fc.constant('tiihtNczf5v6AKRyjwEUhQ=='), text)),
      unionid: field(idLike),
      errcode: field(fc.constantFrom(0, '0')),
    },
    { requiredKeys: [] },
  );
  it('returns a trimmed non-blank openid and a session_key, or throws a WeChatError', () => {
    fc.assert(
      fc.property(fc.oneof(sessionObject, anyObject), (json) => {
        const result = resultOf(() => parseCode2SessionResponse(json as Record<string, unknown>));
        if (!result.ok) {
          expect(result.error.code).toBe('WECHAT_MALFORMED_RESPONSE');
          return;
        }
        const session = result.value;
        expect(session.openid).toBe(((json as { openid: string }).openid).trim());
        expect(session.openid).not.toBe('');
        expect(typeof session.session_key === 'string' && session.session_key.trim() !== '').toBe(true);
        if ('unionid' in session) expect(session.unionid === session.unionid?.trim() && session.unionid !== '').toBe(true);
        expect(JSON.stringify({ ...session, _json: undefined })).not.toContain('"undefined"');
      }),
      RUNS,
    );
  });
});

/** Bodies an HTTP 200 from WeChat, a proxy or a broken server may carry. */
const body = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 200 }),
  fc.string({ unit: 'binary-ascii', maxLength: 200 }),
  fc.jsonValue({ maxDepth: 3 }).map((value) => JSON.stringify(value)),
  fc.jsonValue({ maxDepth: 3 }).map((value) => ` \n${JSON.stringify(value)}\t `),
  tokenObject.map((value) => JSON.stringify(value)),
  fc
    .record({ errcode: field(fc.oneof(fc.constantFrom(-1, 0, 40029, 40163, 40001, 40226, 45011, 1e21, -0), fc.integer(), fc.integer().map(String))), errmsg: field(text) })
    .map((value) => JSON.stringify(value)),
  fc.constantFrom(
    '',
    ' ',
    'null',
    '[]',
    '"text"',
    '{"access_token":',
    '<html><head><title>502 Bad Gateway</title></head></html>',
    '\ufeff{"openid":"o"}',
    '{"errcode":"40029","errmsg":"invalid code"}',
    '{"errcode":" 40029 ","errmsg":"invalid code"}',
    '{"errcode":40029.5}',
    '{"errcode":null}',
    '{"__proto__":{"errcode":40029}}',
    `${'['.repeat(100_000)}${']'.repeat(100_000)}`,
    `{"a":${'['.repeat(20_000)}`,
  ),
  text.map((inner) => `<!DOCTYPE html><html>${inner}</html>`),
);

describe('parseWeChatJSON over any string', () => {
  it('returns a plain object without a non-zero errcode, or throws a WeChatError', () => {
    fc.assert(
      fc.property(body, fc.constantFrom(...ENDPOINTS), (raw, endpoint) => {
        const result = resultOf(() => parseWeChatJSON(raw, endpoint, SECRETS));
        if (result.ok) {
          const json = result.value;
          expect(typeof json === 'object' && json !== null && !Array.isArray(json)).toBe(true);
          const errcode = json.errcode;
          if (typeof errcode === 'number' && Number.isFinite(errcode)) expect(errcode).toBe(0);
          if (typeof errcode === 'string' && /^-?\d+$/.test(errcode.trim())) expect(Number(errcode)).toBe(0);
          return;
        }
        if (result.error instanceof WeChatAPIError) {
          expect(Number.isFinite(result.error.errcode) && result.error.errcode !== 0).toBe(true);
        } else {
          expect(result.error.code).toBe('WECHAT_MALFORMED_RESPONSE');
        }
        expect(JSON.parse(JSON.stringify(result.error))).toMatchObject({ code: result.error.code });
      }),
      RUNS,
    );
  });

  it('never shows the AppSecret, a code or a token that WeChat echoes in errmsg', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: -1, max: 99_999 }).filter((n) => n !== 0),
        text,
        fc.constantFrom(...SECRETS),
        text,
        fc.constantFrom('', ', rid: 65a33cd8-023106e1-2dc7e2f6', ' hints: [ req_id: 1foBSgMre-Hz ]'),
        fc.constantFrom(...ENDPOINTS),
        (errcode, before, secret, after, suffix, endpoint) => {
          const raw = JSON.stringify({ errcode, errmsg: `${before}${secret}${after}${secret}${suffix}` });
          const result = resultOf(() => parseWeChatJSON(raw, endpoint, SECRETS));
          expect(result.ok).toBe(false);
          if (!result.ok) expectNoSecrets(result.error, SECRETS);
        },
      ),
      RUNS,
    );
  });
});

// ---------------------------------------------------------------------------
// The errors
// ---------------------------------------------------------------------------

describe('splitErrmsg over any string', () => {
  it('returns a trimmed text and a rid of word characters, never throws', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ unit: 'binary', maxLength: 120 }), text.map((t) => `${t}, rid: ${t}`)), (errmsg) => {
        const { text: shown, rid } = splitErrmsg(errmsg);
        expect(shown).toBe(shown.trim());
        if (rid !== undefined) expect(rid).toMatch(/^[\w-]+$/);
        expect(errmsg.trim().startsWith(shown)).toBe(true);
      }),
      RUNS,
    );
  });

  it('takes the rid off any message in each of WeChat\'s suffix forms', () => {
    const message = fc.stringMatching(/^[a-z][a-z ]{0,30}[a-z]$/);
    const rid = fc.stringMatching(/^[\w-]{1,40}$/);
    const form = fc.constantFrom(', rid: %', ' rid: %', ',rid:%', ', hints: [ req_id: % ]', ' hints: [req_id: %]');
    fc.assert(
      fc.property(message, rid, form, (msg, id, suffix) => {
        expect(splitErrmsg(msg + suffix.replace('%', id))).toEqual({ text: msg, rid: id });
      }),
      RUNS,
    );
  });

  it('stays fast on long adversarial input (no super-linear backtracking)', () => {
    const n = 50_000;
    const evil = [
      ' '.repeat(n),
      `rid:${' '.repeat(n)}!`,
      `rid:${'a'.repeat(n)}!`,
      `hints: [${' '.repeat(n)}`,
      `hints: [ req_id: ${'a'.repeat(n)} `,
      'rid: a'.repeat(n / 6),
      `x${' rid:'.repeat(n / 5)}`,
      'hints:['.repeat(n / 7),
    ];
    for (const errmsg of evil) {
      const started = performance.now();
      splitErrmsg(errmsg);
      errorFromErrcode('access_token', 40029, errmsg);
      expect(performance.now() - started, JSON.stringify(errmsg.slice(0, 20))).toBeLessThan(200);
    }
  });
});

describe('errorFromErrcode over any number and message', () => {
  it('always returns a WeChatAPIError with that errcode, a known code and a usable message', () => {
    const errcode = fc.oneof(
      fc.constantFrom(-1, 0, 40001, 40029, 40125, 40163, 40226, 42001, 45011, 48001, Number.NaN, Infinity, -Infinity, -0, 2 ** 53),
      fc.integer(),
      fc.double(),
    );
    fc.assert(
      fc.property(fc.constantFrom(...ENDPOINTS), errcode, fc.string({ unit: 'binary', maxLength: 80 }), (endpoint, code, errmsg) => {
        const error = errorFromErrcode(endpoint, code, errmsg);
        expect(error).toBeInstanceOf(WeChatAPIError);
        expect(Object.is(error.errcode, code)).toBe(true);
        expect(ERROR_CODES).toContain(error.code);
        expect(typeof error.retryable).toBe('boolean');
        expect(error.message).toContain(`WeChat ${endpoint} call failed`);
        if (!errmsg.includes('undefined')) expect(error.message).not.toContain('undefined');
        expect(JSON.parse(JSON.stringify(error))).toMatchObject({ name: error.name, code: error.code });
      }),
      RUNS,
    );
  });
});
