/**
 * Property tests (fast-check): whatever WeChat, or anything pretending to be WeChat, sends, each
 * pure parser gives exactly the outcome a small model of WeChat's rules predicts for that input:
 * the success with the ids and fields the model reads, or the WeChatError with the code (and
 * errcode) it names. Never a TypeError, never an id of "undefined", never a secret in an error.
 *
 * Every property runs from one seed: TEST_SEED, or a fixed default (test/helpers/seed.ts). A
 * failure prints it next to fast-check's own `{ seed, path }` report.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseCode2SessionResponse, parseTokenResponse, parseWeChatJSON, type WeChatTokenResponse } from '../lib/wechat-answers.js';
import {
  errorFromErrcode,
  splitErrmsg,
  WeChatAPIError,
  WeChatCodeError,
  WeChatCredentialsError,
  WeChatError,
  WeChatResponseError,
  WeChatTokenError,
  WeChatUserBlockedError,
  type WeChatEndpoint,
  type WeChatErrorCode,
} from '../lib/errors.js';
import { parseProfile, profileFromToken, type WeChatIdentity, type WeChatProfile } from '../lib/profile.js';
import { propertyParameters } from './helpers/seed.js';
import { expectNoSecrets } from './helpers/secrets.js';

/** Enough runs to find the usual suspects, few enough that the file runs in a few seconds. */
const RUNS = 1_000;

const ENDPOINTS: WeChatEndpoint[] = ['access_token', 'refresh_token', 'userinfo', 'auth', 'jscode2session'];

const APP_SECRET = '3f9a1c7e5b2d4068a1c3e5f7092b4d6e';
const CODE = '001HKCFa1UWlqz0ZsPHa1zrEwD2HKCF3';
const ACCESS_TOKEN = '86_95Uv_nF2DaccessTokenXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX';
const SECRETS = [APP_SECRET, CODE, ACCESS_TOKEN];

// ---------------------------------------------------------------------------
// Outcomes, and the model that predicts them
// ---------------------------------------------------------------------------

type Outcome<T> = { ok: true; value: T } | { ok: false; error: WeChatError };

/** Runs `fn`; a WeChatError is an outcome to compare, anything else thrown fails the property. */
function outcomeOf<T>(fn: () => T): Outcome<T> {
  try {
    return { ok: true, value: fn() };
  } catch (error) {
    if (!(error instanceof WeChatError)) {
      throw new Error(`threw ${String(error)} instead of a WeChatError`, { cause: error });
    }
    return { ok: false, error };
  }
}

/** An outcome in one comparable word: 'success', or the error's code with WeChat's errcode if any. */
function summary(outcome: Outcome<unknown>): string {
  if (outcome.ok) return 'success';
  const { code, errcode } = outcome.error;
  return errcode === undefined ? code : `${code} (errcode ${errcode})`;
}

const MALFORMED = 'WECHAT_MALFORMED_RESPONSE';

/** How the parsers read an id or a token: a string with something besides white space, trimmed. */
function filled(value: unknown): string | undefined {
  return typeof value === 'string' && value.trim() !== '' ? value.trim() : undefined;
}

interface ExpectedIds {
  id: string;
  openid: string;
  unionid: string | undefined;
}

/**
 * What parseProfile must make of `json` for the token's identity `who`: the ids, or undefined for
 * a refusal (WECHAT_MALFORMED_RESPONSE). Not an object; no openid in either; an openid or a
 * unionid that differs from the token's: refused. The user id is the unionid when either has one.
 */
function expectedProfileIds(json: unknown, who?: WeChatIdentity): ExpectedIds | undefined {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) return undefined;
  const info = json as Record<string, unknown>;
  const tokenOpenid = filled(who?.openid);
  const openid = filled(info.openid) ?? tokenOpenid;
  if (openid === undefined || (tokenOpenid !== undefined && tokenOpenid !== openid)) return undefined;
  const tokenUnionid = filled(who?.unionid);
  const sentUnionid = filled(info.unionid);
  if (tokenUnionid !== undefined && sentUnionid !== undefined && tokenUnionid !== sentUnionid) return undefined;
  const unionid = sentUnionid ?? tokenUnionid;
  return { id: unionid ?? openid, openid, unionid };
}

function expectIds(profile: WeChatProfile, expected: ExpectedIds): void {
  expect({ id: profile.id, openid: profile.openid, unionid: profile.unionid }).toEqual(expected);
  expect('unionid' in profile, 'a unionid key only with a unionid').toBe(expected.unionid !== undefined);
}

/** The errcodes WeChat documents, and the code each must become (wechat-api.md §4–§9). */
const CODE_OF_ERRCODE = new Map<number, WeChatErrorCode>([
  [-1, 'WECHAT_SYSTEM_BUSY'],
  ...[40029, 40163, 42003, 41008].map((errcode) => [errcode, 'WECHAT_INVALID_CODE'] as const),
  ...[40013, 40125, 41002, 41004, 40164].map((errcode) => [errcode, 'WECHAT_BAD_CREDENTIALS'] as const),
  ...[40001, 40014, 42001, 41001, 40003, 41009].map((errcode) => [errcode, 'WECHAT_INVALID_TOKEN'] as const),
  ...[40030, 42002, 42007, 41003].map((errcode) => [errcode, 'WECHAT_INVALID_REFRESH_TOKEN'] as const),
  ...[48001, 50001].map((errcode) => [errcode, 'WECHAT_SCOPE_UNAUTHORIZED'] as const),
  ...[45011, 45009].map((errcode) => [errcode, 'WECHAT_RATE_LIMITED'] as const),
]);

/** The code `errcode` must become on `endpoint`: 40226 only means a blocked user on jscode2session,
 * 40001 means a wrong AppSecret on the code exchange, an unknown errcode is WECHAT_API_ERROR. */
function expectedCode(endpoint: WeChatEndpoint, errcode: number): WeChatErrorCode {
  if (endpoint === 'jscode2session' && errcode === 40226) return 'WECHAT_USER_BLOCKED';
  if (endpoint === 'access_token' && errcode === 40001) return 'WECHAT_BAD_CREDENTIALS';
  return CODE_OF_ERRCODE.get(errcode) ?? 'WECHAT_API_ERROR';
}

/** The class each code is raised as: who has to act. */
const CLASS_OF_CODE: Partial<Record<WeChatErrorCode, typeof WeChatAPIError>> = {
  WECHAT_INVALID_CODE: WeChatCodeError,
  WECHAT_BAD_CREDENTIALS: WeChatCredentialsError,
  WECHAT_INVALID_TOKEN: WeChatTokenError,
  WECHAT_INVALID_REFRESH_TOKEN: WeChatTokenError,
  WECHAT_USER_BLOCKED: WeChatUserBlockedError,
};

/**
 * What parseWeChatJSON must make of a body: 'success' for a JSON object without a non-zero
 * errcode; WECHAT_MALFORMED_RESPONSE for HTML, text that is not JSON, JSON that is not an object,
 * or an errcode that is not a whole number (or the decimal text of one); else the errcode's code.
 */
function expectedJSONSummary(raw: string, endpoint: WeChatEndpoint): string {
  const text = raw.trim();
  if (text.startsWith('<')) return MALFORMED;
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return MALFORMED;
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) return MALFORMED;
  if (!Object.hasOwn(json, 'errcode')) return 'success';
  const sent = (json as { errcode: unknown }).errcode;
  const errcode = typeof sent === 'number' ? sent : typeof sent === 'string' && /^[+-]?\d+$/.test(sent.trim()) ? Number(sent.trim()) : NaN;
  if (!Number.isInteger(errcode)) return MALFORMED;
  if (errcode === 0) return 'success';
  return `${expectedCode(endpoint, errcode)} (errcode ${errcode})`;
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
  it('gives the ids the userinfo holds, or WECHAT_MALFORMED_RESPONSE exactly when it holds no usable openid (no identity)', () => {
    fc.assert(
      fc.property(userinfoJson, (json) => {
        const expected = expectedProfileIds(json);
        const result = outcomeOf(() => parseProfile(json));
        expect(summary(result)).toBe(expected === undefined ? MALFORMED : 'success');
        if (!result.ok || expected === undefined) return;
        expectWellFormedProfile(result.value);
        expectIds(result.value, expected);
        expect(result.value._json).toBe(json);
      }),
      propertyParameters(RUNS),
    );
  });

  it("with a token identity: refuses another openid or unionid than the token's, else keeps the token's unionid when userinfo has none", () => {
    fc.assert(
      fc.property(userinfoJson, identity, fc.option(text, { nil: undefined }), (json, who, raw) => {
        const expected = expectedProfileIds(json, who);
        const result = outcomeOf(() => parseProfile(json, who, raw));
        expect(summary(result)).toBe(expected === undefined ? MALFORMED : 'success');
        if (!result.ok || expected === undefined) return;
        expectWellFormedProfile(result.value);
        expectIds(result.value, expected);
        if (who?.appid !== undefined) expect(result.value.appid).toBe(who.appid);
        else expect(result.value).not.toHaveProperty('appid');
        if (raw !== undefined) expect(result.value._raw).toBe(raw);
      }),
      propertyParameters(RUNS),
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
      propertyParameters(RUNS),
    );
  });

  it("profileFromToken: gives the token's ids for a non-blank openid, and WECHAT_MALFORMED_RESPONSE for a blank one", () => {
    fc.assert(
      fc.property(identity, (who) => {
        if (who === undefined) return;
        const openid = filled(who.openid);
        const result = outcomeOf(() => profileFromToken(who));
        expect(summary(result)).toBe(openid === undefined ? MALFORMED : 'success');
        if (!result.ok || openid === undefined) return;
        expectWellFormedProfile(result.value);
        const unionid = filled(who.unionid);
        expectIds(result.value, { id: unionid ?? openid, openid, unionid });
        expect(result.value.displayName).toBe('');
      }),
      propertyParameters(RUNS),
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

/**
 * What parseTokenResponse must make of `json`: undefined for a refusal (no access_token or openid
 * with more than white space: WECHAT_MALFORMED_RESPONSE), else the fields a login reads. Ids and
 * tokens trimmed; a refresh_token or scope that is not a string becomes ''; expires_in is a finite
 * number as sent, or the number a text of digits spells, else 0; a blank unionid is left out.
 */
function expectedToken(json: Record<string, unknown>): Omit<WeChatTokenResponse, 'unionid'> & { unionid: string | undefined } | undefined {
  const accessToken = filled(json.access_token);
  const openid = filled(json.openid);
  if (accessToken === undefined || openid === undefined) return undefined;
  return {
    access_token: accessToken,
    openid,
    refresh_token: typeof json.refresh_token === 'string' ? json.refresh_token : '',
    expires_in: secondsIn(json.expires_in),
    scope: typeof json.scope === 'string' ? json.scope : '',
    unionid: filled(json.unionid),
  };
}

/** A lifetime as the client reads it: a finite number, or a text of digits; anything else is 0. */
function secondsIn(value: unknown): number {
  if (typeof value === 'number') return Number.isFinite(value) ? value : 0;
  return typeof value === 'string' && /^\s*\d+\s*$/.test(value) ? Number(value) : 0;
}

function expectToken(token: WeChatTokenResponse, expected: NonNullable<ReturnType<typeof expectedToken>>): void {
  const { access_token, openid, refresh_token, expires_in, scope, unionid } = token;
  expect({ access_token, openid, refresh_token, expires_in, scope, unionid }).toEqual(expected);
  expect('unionid' in token, 'a unionid key only with a unionid').toBe(expected.unionid !== undefined);
  expect(JSON.stringify({ ...token, _json: undefined })).not.toContain('"undefined"');
}

describe('parseTokenResponse over any object', () => {
  it('gives the trimmed token and ids when access_token and openid are filled, else WECHAT_MALFORMED_RESPONSE', () => {
    fc.assert(
      fc.property(anyObject, fc.constantFrom<WeChatEndpoint>('access_token', 'refresh_token'), (json, endpoint) => {
        const expected = expectedToken(json as Record<string, unknown>);
        const result = outcomeOf(() => parseTokenResponse(json as Record<string, unknown>, endpoint));
        expect(summary(result)).toBe(expected === undefined ? MALFORMED : 'success');
        if (result.ok && expected !== undefined) expectToken(result.value, expected);
      }),
      propertyParameters(RUNS),
    );
  });

  it('token response → profile (the login path): the user id is the trimmed unionid or openid, never blank or padded', () => {
    // Found by this property (fixed in lib since): a token openid of only white space became
    // profile.id "   " — every such login one and the same user — and a padded one was not trimmed.
    fc.assert(
      fc.property(tokenObject, userinfoJson, fc.boolean(), (json, userinfo, skipUserinfo) => {
        const expectedTokenFields = expectedToken(json as Record<string, unknown>);
        const token = outcomeOf(() => parseTokenResponse(json as Record<string, unknown>, 'access_token'));
        expect(summary(token)).toBe(expectedTokenFields === undefined ? MALFORMED : 'success');
        if (!token.ok) return;
        const who = { openid: token.value.openid, unionid: token.value.unionid, appid: 'wx5f3c2a9e8d1b7046' };
        const expected = skipUserinfo
          ? expectedProfileIds({ openid: who.openid, ...(who.unionid === undefined ? {} : { unionid: who.unionid }) }, who)
          : expectedProfileIds(userinfo, who);
        const result = outcomeOf(() => (skipUserinfo ? profileFromToken(who) : parseProfile(userinfo, who)));
        expect(summary(result)).toBe(expected === undefined ? MALFORMED : 'success');
        if (!result.ok || expected === undefined) return;
        expectWellFormedProfile(result.value);
        expectIds(result.value, expected);
        expect(result.value.id.trim()).not.toBe('');
        expect(result.value.id).toBe(result.value.id.trim());
      }),
      propertyParameters(RUNS),
    );
  });

  it('refuses a blank token openid (the shrunk counterexample of the property above)', () => {
    expect(() => parseTokenResponse({ access_token: ACCESS_TOKEN, openid: '   ' }, 'access_token')).toThrow(
      expect.objectContaining({ code: 'WECHAT_MALFORMED_RESPONSE' }),
    );
  });

  it('trims a padded token openid, and reads the same padded openid in userinfo as the same user (the other shrunk counterexample)', () => {
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
      session_key: field(fc.oneof(fc.constantFrom('tiihtNczf5v6AKRyjwEUhQ==', ' tiihtNczf5v6AKRyjwEUhQ==\n', '   '), text)),
      unionid: field(idLike),
      errcode: field(fc.constantFrom(0, '0')),
    },
    { requiredKeys: [] },
  );
  it('gives the trimmed openid and the session_key as sent when both are filled, else WECHAT_MALFORMED_RESPONSE', () => {
    fc.assert(
      fc.property(fc.oneof(sessionObject, anyObject), (value) => {
        const json = value as Record<string, unknown>;
        const openid = filled(json.openid);
        const filledKey = filled(json.session_key) !== undefined;
        const result = outcomeOf(() => parseCode2SessionResponse(json));
        expect(summary(result)).toBe(openid === undefined || !filledKey ? MALFORMED : 'success');
        if (!result.ok) return;
        const session = result.value;
        const unionid = filled(json.unionid);
        expect({ openid: session.openid, session_key: session.session_key, unionid: session.unionid }).toEqual({
          openid,
          session_key: json.session_key,
          unionid,
        });
        expect('unionid' in session, 'a unionid key only with a unionid').toBe(unionid !== undefined);
        expect(JSON.stringify({ ...session, _json: undefined })).not.toContain('"undefined"');
      }),
      propertyParameters(RUNS),
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
  it('gives the object for JSON without a non-zero errcode, the errcode\'s code for one, and WECHAT_MALFORMED_RESPONSE for anything else', () => {
    fc.assert(
      fc.property(body, fc.constantFrom(...ENDPOINTS), (raw, endpoint) => {
        const result = outcomeOf(() => parseWeChatJSON(raw, endpoint, SECRETS));
        expect(summary(result)).toBe(expectedJSONSummary(raw, endpoint));
        if (result.ok) {
          // The object parsed, without any `__proto__` key.
          const parsed = JSON.parse(raw.trim()) as Record<string, unknown>;
          expect(Object.keys(result.value)).toEqual(Object.keys(parsed).filter((key) => key !== '__proto__'));
          return;
        }
        const { error } = result;
        if (error.errcode === undefined) expect(error).toBeInstanceOf(WeChatResponseError);
        else expect(error.constructor).toBe(CLASS_OF_CODE[error.code] ?? WeChatAPIError);
        expect(JSON.parse(JSON.stringify(error))).toMatchObject({ code: error.code });
      }),
      propertyParameters(RUNS),
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
          const result = outcomeOf(() => parseWeChatJSON(raw, endpoint, SECRETS));
          expect(summary(result)).toBe(`${expectedCode(endpoint, errcode)} (errcode ${errcode})`);
          if (result.ok) return;
          expectNoSecrets(result.error, SECRETS);
          expect(result.error.errmsg).toContain('[redacted]');
        },
      ),
      propertyParameters(RUNS),
    );
  });
});

// ---------------------------------------------------------------------------
// The errors
// ---------------------------------------------------------------------------

/** A regular expression that matches `text` literally. */
function literally(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

describe('splitErrmsg over any string', () => {
  it('returns the trimmed message, or its text and a rid of word characters when it ends in a rid suffix; never throws', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ unit: 'binary', maxLength: 120 }), text.map((t) => `${t}, rid: ${t}`)), (errmsg) => {
        const trimmed = errmsg.trim();
        const { text: shown, rid } = splitErrmsg(errmsg);
        expect(shown).toBe(shown.trim());
        expect(trimmed.startsWith(shown)).toBe(true);
        if (rid === undefined) {
          expect(shown).toBe(trimmed);
          return;
        }
        expect(rid).toMatch(/^[\w-]+$/);
        // What was cut off is exactly one of WeChat's suffixes around that rid.
        const id = literally(rid);
        expect(trimmed.slice(shown.length)).toMatch(new RegExp(`^\\s*,?\\s*(?:rid:\\s*${id}|hints:\\s*\\[\\s*req_id:\\s*${id}\\s*\\])$`));
      }),
      propertyParameters(RUNS),
    );
  });

  it("takes the rid off any message in each of WeChat's suffix forms", () => {
    const message = fc.stringMatching(/^[a-z][a-z ]{0,30}[a-z]$/);
    const rid = fc.stringMatching(/^[\w-]{1,40}$/);
    const form = fc.constantFrom(', rid: %', ' rid: %', ',rid:%', ', hints: [ req_id: % ]', ' hints: [req_id: %]');
    fc.assert(
      fc.property(message, rid, form, (msg, id, suffix) => {
        expect(splitErrmsg(msg + suffix.replace('%', id))).toEqual({ text: msg, rid: id });
      }),
      propertyParameters(RUNS),
    );
  });

  // Long runs that make a backtracking pattern super-linear. Only what they split into is checked
  // here: how long that takes is measured by `npm run bench`, not asserted in a test.
  const n = 50_000;
  it.each([
    ['spaces only', ' '.repeat(n), { text: '', rid: undefined }],
    ['"rid:", spaces and no id', `rid:${' '.repeat(n)}!`, { text: `rid:${' '.repeat(n)}!`, rid: undefined }],
    ['"rid:" and a long word that does not end the message', `rid:${'a'.repeat(n)}!`, { text: `rid:${'a'.repeat(n)}!`, rid: undefined }],
    ['an unclosed "hints: [" and spaces', `hints: [${' '.repeat(n)}`, { text: 'hints: [', rid: undefined }],
    ['an unclosed req_id', `hints: [ req_id: ${'a'.repeat(n)} `, { text: `hints: [ req_id: ${'a'.repeat(n)}`, rid: undefined }],
    ['"rid: a" repeated', 'rid: a'.repeat(8_333), { text: 'rid: a'.repeat(8_332), rid: 'a' }],
    ['" rid:" repeated', `x${' rid:'.repeat(10_000)}`, { text: `x${' rid:'.repeat(10_000)}`, rid: undefined }],
    ['"hints:[" repeated', 'hints:['.repeat(7_142), { text: 'hints:['.repeat(7_142), rid: undefined }],
  ])('splits long adversarial input (%s) as it splits short input', (_case, errmsg, expected) => {
    expect(splitErrmsg(errmsg)).toEqual(expected);
    expect(errorFromErrcode('access_token', 40029, errmsg)).toMatchObject({ errmsg: expected.text, rid: expected.rid });
  });
});

describe('errorFromErrcode over any number and message', () => {
  it('returns the class and code documented for the errcode on that endpoint, WECHAT_API_ERROR for any other, with that errcode and a usable message', () => {
    const errcode = fc.oneof(
      fc.constantFrom(-1, 0, 40001, 40029, 40125, 40163, 40226, 42001, 45011, 48001, Number.NaN, Infinity, -Infinity, -0, 2 ** 53),
      fc.constantFrom(...CODE_OF_ERRCODE.keys()),
      fc.integer(),
      fc.double(),
    );
    fc.assert(
      fc.property(fc.constantFrom(...ENDPOINTS), errcode, fc.string({ unit: 'binary', maxLength: 80 }), (endpoint, code, errmsg) => {
        const error = errorFromErrcode(endpoint, code, errmsg);
        const expected = expectedCode(endpoint, code);
        expect(error.code).toBe(expected);
        expect(error.constructor).toBe(CLASS_OF_CODE[expected] ?? WeChatAPIError);
        expect(error.retryable).toBe(expected === 'WECHAT_SYSTEM_BUSY' || expected === 'WECHAT_RATE_LIMITED');
        expect(Object.is(error.errcode, code)).toBe(true);
        expect(error.message).toContain(`WeChat ${endpoint} call failed`);
        if (!errmsg.includes('undefined')) expect(error.message).not.toContain('undefined');
        expect(JSON.parse(JSON.stringify(error))).toMatchObject({ name: error.name, code: error.code });
      }),
      propertyParameters(RUNS),
    );
  });
});
