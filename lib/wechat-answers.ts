/**
 * WeChat's answers, read: JSON whatever the Content-Type, `{errcode, errmsg}` turned into typed
 * errors (WeChat answers errors with HTTP 200), and the token and code2Session answers checked for
 * what a login needs. Pure: no I/O.
 */
import { WeChatResponseError, errorFromErrcode, type WeChatEndpoint } from './errors.js';
import { parseJSONWithoutProto } from './json.js';
import { redact } from './redaction.js';

/** The token response of `sns/oauth2/access_token` and `sns/oauth2/refresh_token`. */
export interface WeChatTokenResponse {
  access_token: string;
  /** Seconds; WeChat currently sends 7200. */
  expires_in: number;
  refresh_token: string;
  openid: string;
  /** Comma-separated scopes the user granted, e.g. `'snsapi_login'`. */
  scope: string;
  /** Present when the application is bound to an Open Platform account (never in a refresh response). */
  unionid?: string;
  /** `1` when an Official Account login came from a snapshot page (a virtual user); otherwise absent. */
  is_snapshotuser?: number;
  /** Any other field WeChat adds is kept. */
  [field: string]: unknown;
}

/**
 * What a Mini Program's `sns/jscode2session` (code2Session) returns. `session_key` is a secret:
 * never log it, never send it to the client.
 */
export interface WeChatCode2SessionResponse {
  openid: string;
  /** Present when the Mini Program is bound to an Open Platform account. */
  unionid?: string;
  /** The key of this login's session, base64 of 16 bytes, to decrypt and check data the Mini Program posts. */
  session_key: string;
  /** Any other field WeChat adds is kept. */
  [field: string]: unknown;
}

/** What `sns/userinfo` returns, as parsed JSON plus the raw body. */
export interface WeChatUserInfoResponse {
  json: Record<string, unknown>;
  raw: string;
}

/**
 * Parses a WeChat answer. NOTE: WeChat sends JSON as `text/plain` and errors with HTTP 200
 * (docs/wechat-protocol.md#cross-cutting-json-sent-as-plain-text), so the body is parsed whatever the Content-Type and `errcode` decides.
 * Pure; exported for tests.
 */
export function parseWeChatJSON(raw: string, endpoint: WeChatEndpoint, secrets: readonly string[] = []): Record<string, unknown> {
  const text = raw.trim();
  if (text.startsWith('<')) {
    throw new WeChatResponseError(`WeChat ${endpoint} answered with an HTML page instead of JSON.`, {
      code: 'WECHAT_MALFORMED_RESPONSE',
    });
  }
  let json: unknown;
  try {
    json = parseJSONWithoutProto(text);
  } catch {
    throw new WeChatResponseError(`WeChat ${endpoint} answered with a body that is not JSON.`, {
      code: 'WECHAT_MALFORMED_RESPONSE',
    });
  }
  if (!isPlainObject(json)) {
    throw new WeChatResponseError(`WeChat ${endpoint} answered with JSON that is not an object.`, {
      code: 'WECHAT_MALFORMED_RESPONSE',
    });
  }
  const errcode = errcodeOf(json, endpoint);
  if (errcode !== undefined && errcode !== 0) {
    const errmsg = typeof json.errmsg === 'string' ? redact(json.errmsg, secrets) : '';
    throw errorFromErrcode(endpoint, errcode, errmsg);
  }
  return json;
}

/**
 * Checks that a token answer has what a login needs. Pure; exported for tests. Takes what
 * {@link parseWeChatJSON} returns, which holds no `__proto__` key for the spread below to copy.
 */
export function parseTokenResponse(json: Record<string, unknown>, endpoint: WeChatEndpoint): WeChatTokenResponse {
  const missing = (['access_token', 'openid'] as const).filter((key) => !isNonEmptyString(json[key]));
  if (missing.length > 0) {
    throw new WeChatResponseError(`WeChat ${endpoint} answer lacks ${missing.join(' and ')}.`, {
      code: 'WECHAT_MALFORMED_RESPONSE',
    });
  }
  const token: WeChatTokenResponse = {
    ...json,
    access_token: (json.access_token as string).trim(),
    openid: (json.openid as string).trim(),
    refresh_token: typeof json.refresh_token === 'string' ? json.refresh_token : '',
    expires_in: secondsOf(json.expires_in),
    scope: typeof json.scope === 'string' ? json.scope : '',
  };
  keepUnionid(token, json);
  return token;
}

/** Checks that a code2Session answer has what a login needs. Pure; exported for tests. */
export function parseCode2SessionResponse(json: Record<string, unknown>): WeChatCode2SessionResponse {
  const missing = (['openid', 'session_key'] as const).filter((key) => !isNonEmptyString(json[key]));
  if (missing.length > 0) {
    throw new WeChatResponseError(`WeChat jscode2session answer lacks ${missing.join(' and ')}.`, {
      code: 'WECHAT_MALFORMED_RESPONSE',
    });
  }
  const session: WeChatCode2SessionResponse = { ...json, openid: (json.openid as string).trim(), session_key: json.session_key as string };
  keepUnionid(session, json);
  return session;
}

/** The app access token of `cgi-bin/stable_token`. A secret: never log it. */
export interface WeChatAppToken {
  access_token: string;
  /** Seconds the token stays valid from now; WeChat says at most 7200, at least 300. */
  expires_in: number;
}

/** Checks a `cgi-bin/stable_token` answer. Pure; exported for tests. */
export function parseAppTokenResponse(json: Record<string, unknown>): WeChatAppToken {
  const expiresIn = secondsOf(json.expires_in);
  if (!isNonEmptyString(json.access_token) || expiresIn <= 0) {
    throw new WeChatResponseError('WeChat stable_token answer lacks access_token or a positive expires_in.', { code: 'WECHAT_MALFORMED_RESPONSE' });
  }
  return { access_token: json.access_token, expires_in: expiresIn };
}

/**
 * A Mini Program user's phone number, as `wxa/business/getuserphonenumber` answers it
 * (`phone_info`): `phoneNumber` with the country code for numbers outside China, `purePhoneNumber`
 * without it, `countryCode` (WeChat sends a number or its text; here always text), and the
 * `watermark` naming the app it was issued to.
 */
export interface WeChatPhoneInfo {
  phoneNumber: string;
  purePhoneNumber: string;
  countryCode: string;
  watermark: { appid: string; timestamp: number };
  /** Any other field WeChat adds is kept. */
  [field: string]: unknown;
}

/** Checks a `getuserphonenumber` answer and returns its `phone_info`. Pure; exported for tests. */
export function parsePhoneInfoResponse(json: Record<string, unknown>): WeChatPhoneInfo {
  const info = json.phone_info;
  const watermark = isPlainObject(info) ? info.watermark : undefined;
  const countryCode = isPlainObject(info) ? info.countryCode : undefined;
  if (
    !isPlainObject(info) ||
    !isNonEmptyString(info.purePhoneNumber) ||
    !isNonEmptyString(info.phoneNumber) ||
    !(isNonEmptyString(countryCode) || (typeof countryCode === 'number' && Number.isInteger(countryCode))) ||
    !isPlainObject(watermark) ||
    !isNonEmptyString(watermark.appid)
  ) {
    throw new WeChatResponseError('WeChat getuserphonenumber answer lacks phone_info with phoneNumber, purePhoneNumber, countryCode and watermark.appid.', {
      code: 'WECHAT_MALFORMED_RESPONSE',
    });
  }
  return {
    ...info,
    phoneNumber: info.phoneNumber.trim(),
    purePhoneNumber: info.purePhoneNumber.trim(),
    countryCode: String(countryCode).trim().replace(/^\+/, ''),
    watermark: { ...watermark, appid: watermark.appid.trim(), timestamp: secondsOf(watermark.timestamp) },
  };
}

/** Sets `target.unionid` from WeChat's answer when it holds a usable one, else removes it. */
function keepUnionid(target: { unionid?: string }, json: Record<string, unknown>): void {
  // NOTE: never String(json.unionid): an absent unionid must stay absent, not become "undefined".
  if (isNonEmptyString(json.unionid)) target.unionid = json.unionid.trim();
  else delete target.unionid;
}

// A lifetime in seconds: a number, or its decimal text; anything else (an object whose
// conversion throws, a word) reads as 0, "unknown", rather than a TypeError from Number().
function secondsOf(value: unknown): number {
  if (typeof value === 'number') return Number.isFinite(value) ? value : 0;
  if (typeof value === 'string' && /^\s*\d+\s*$/.test(value)) return Number(value);
  return 0;
}

/** The session_key in a code2Session answer, to redact it from anything built from that answer. */
export function sessionKeyIn(raw: string): string[] {
  try {
    const json: unknown = JSON.parse(raw.trim());
    const key = isPlainObject(json) ? json.session_key : undefined;
    return isNonEmptyString(key) ? [key] : [];
  } catch {
    return [];
  }
}

// The decimal text of a whole number, optionally signed (checked after trimming).
const ERRCODE_TEXT = /^[+-]?\d+$/;

/**
 * WeChat's errcode: undefined when the answer has none (a success), else a finite whole number.
 * Anything else (`1e400` parsed as Infinity, `40029.5`, `"0x9C9D"`, `[40029]`, `null`, `true`)
 * is not WeChat: read as "no errcode" it would let a failed call pass as a login.
 */
function errcodeOf(json: Record<string, unknown>, endpoint: WeChatEndpoint): number | undefined {
  if (!Object.hasOwn(json, 'errcode')) return undefined;
  const errcode = numberOf(json.errcode);
  // Number.isInteger is false for NaN and ±Infinity too (a 400-digit string is Infinity).
  if (Number.isInteger(errcode)) return errcode;
  throw new WeChatResponseError(`WeChat ${endpoint} answered with an errcode that is not a whole number.`, {
    code: 'WECHAT_MALFORMED_RESPONSE',
  });
}

function numberOf(value: unknown): number {
  if (typeof value === 'number') return value;
  // Number() ignores the same surrounding white space as trim().
  if (typeof value === 'string' && ERRCODE_TEXT.test(value.trim())) return Number(value);
  return NaN;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

// Ids and tokens never contain white space; a blank one must not become everyone's user id.
function isNonEmptyString(value: unknown): value is string {
  return typeof value === 'string' && value.trim().length > 0;
}

