/**
 * WeChat user info → Passport profile. Pure: no I/O, no clock, no globals, so apps can unit-test
 * their own handling of WeChat users with fixtures.
 */
import { WeChatResponseError } from './errors.js';
import { withoutProtoKeys } from './json.js';
import type { WeChatPhoneInfo } from './wechat-answers.js';

/** The Passport profile this strategy produces. */
export interface WeChatProfile {
  provider: 'wechat';
  /** `unionid` when WeChat sent one (the same person across your WeChat apps), else `openid`. */
  id: string;
  /** The user's id within this one WeChat application. */
  openid: string;
  /** The AppID of the application the openid belongs to, when the strategy knows it. */
  appid?: string;
  /** The user's id across the applications of one Open Platform account, when bound. */
  unionid?: string;
  /** The WeChat nickname; `''` when WeChat sent none (e.g. a `snsapi_base` login). */
  displayName: string;
  /** Avatar, served over https with WeChat's size suffix kept. Absent when the user has none. */
  photos?: [{ value: string }];
  /** Only when WeChat says so: since 2021-10-20 WeChat sends `sex: 0` (unknown) for logins. */
  gender?: 'male' | 'female';
  /** Region fields, only when non-empty (WeChat sends `''` since 2021-10-20). */
  country?: string;
  province?: string;
  city?: string;
  /** WeChat privileges, e.g. `['chinaunicom']`; usually empty. */
  privilege: string[];
  /** The body WeChat sent, when the profile came from `sns/userinfo`. */
  _raw: string;
  /** The parsed body WeChat sent. */
  _json: Record<string, unknown>;
  /** Mini Program phone number sign-in: the user's number, `+` country code and number (`+8613800138000`). */
  phoneNumbers?: [{ value: string }];
  /** Mini Program phone number sign-in: WeChat's `phone_info`, its watermark checked against this app. */
  _phoneInfo?: WeChatPhoneInfo;
  /** Mini Program sign-in with an optional phone number that could not be read: why, and whether a retry may work. */
  phoneNumberError?: { code: string; retryable: boolean };
}

/** The identity fields of a token response that a profile can inherit. */
export interface WeChatIdentity {
  openid: string;
  unionid?: string | undefined;
  /** The AppID the openid belongs to (openids differ per app; unionids do not). */
  appid?: string | undefined;
}

/**
 * Turns the JSON of `sns/userinfo` into a {@link WeChatProfile}. Throws a
 * {@link WeChatResponseError} when the JSON holds no usable openid, or an openid or unionid that
 * does not match the token's. A `unionid` known only from the token response is kept. `_json`
 * never holds a `__proto__` key, so apps can merge it into their own objects.
 *
 * @param json - the parsed userinfo body (any value: it is checked, not trusted)
 * @param identity - the token response's openid/unionid, when known
 * @param raw - the raw body, kept as `_raw` (defaults to `JSON.stringify(json)`)
 * @example
 * ```ts
 * const profile = parseProfile({ openid: 'o6_bm', nickname: 'Ann', sex: 0, headimgurl: '' });
 * profile.id; // 'o6_bm'
 * ```
 */
export function parseProfile(json: unknown, identity?: WeChatIdentity, raw?: string): WeChatProfile {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new WeChatResponseError('WeChat userinfo is not a JSON object.', { code: 'WECHAT_MALFORMED_RESPONSE' });
  }
  // NOTE: `_json` is handed to apps, which may merge it: an own `__proto__` key there pollutes.
  return profileOfCleanJSON(withoutProtoKeys(json as Record<string, unknown>), identity, raw);
}

/**
 * {@link parseProfile} of userinfo JSON already free of prototype-polluting keys (what the client's
 * parse gives): the same checks and profile, without walking the JSON a second time.
 * @internal
 */
export function profileOfCleanJSON(info: Record<string, unknown>, identity?: WeChatIdentity, raw?: string): WeChatProfile {
  const known = nonEmpty(identity?.openid);
  const openid = nonEmpty(info.openid) ?? known;
  if (openid === undefined) {
    throw new WeChatResponseError('WeChat userinfo has no openid.', { code: 'WECHAT_MALFORMED_RESPONSE' });
  }
  // NOTE: a userinfo answer for another user than the token's would log in the wrong person.
  if (known !== undefined && known !== openid) {
    throw new WeChatResponseError('WeChat userinfo is for another openid than the access token.', {
      code: 'WECHAT_MALFORMED_RESPONSE',
    });
  }
  // NOTE: the unionid becomes the user id; one for another person than the token's would log in
  // the wrong person across every app of the Open Platform account.
  const knownUnionid = nonEmpty(identity?.unionid);
  const sentUnionid = nonEmpty(info.unionid);
  if (knownUnionid !== undefined && sentUnionid !== undefined && knownUnionid !== sentUnionid) {
    throw new WeChatResponseError('WeChat userinfo is for another unionid than the access token.', {
      code: 'WECHAT_MALFORMED_RESPONSE',
    });
  }
  const unionid = sentUnionid ?? knownUnionid;
  const profile: WeChatProfile = {
    provider: 'wechat',
    id: unionid ?? openid,
    openid,
    displayName: nonEmpty(info.nickname) ?? '',
    privilege: Array.isArray(info.privilege) ? info.privilege.filter((p): p is string => typeof p === 'string') : [],
    _raw: raw ?? rawOf(info),
    _json: info,
  };
  if (unionid !== undefined) profile.unionid = unionid;
  if (identity?.appid !== undefined) profile.appid = identity.appid;
  const avatar = httpsAvatar(info.headimgurl);
  if (avatar !== undefined) profile.photos = [{ value: avatar }];
  const gender = genderOf(info.sex);
  if (gender !== undefined) profile.gender = gender;
  for (const field of ['country', 'province', 'city'] as const) {
    const value = nonEmpty(info[field]);
    if (value !== undefined) profile[field] = value;
  }
  return profile;
}

/**
 * The profile of a login that made no userinfo call (`skipUserProfile`, `snsapi_base`): the
 * identity from the token response only.
 */
export function profileFromToken(identity: WeChatIdentity): WeChatProfile {
  const ids: Record<string, unknown> = { openid: identity.openid };
  if (identity.unionid !== undefined) ids.unionid = identity.unionid;
  return parseProfile(ids, identity, '');
}

// 1 male, 2 female, 0 unknown (docs/wechat-protocol.md#user-info-answer-fields); since 2021 logins always get 0.
function genderOf(sex: unknown): 'male' | 'female' | undefined {
  const value = typeof sex === 'string' ? Number(sex) : sex;
  if (value === 1) return 'male';
  if (value === 2) return 'female';
  return undefined;
}

const LOOPBACK_HOSTS: ReadonlySet<string> = new Set(['localhost', '127.0.0.1', '[::1]']);

// http(s)://name.tld/path: a host of two or more lower-case labels whose last starts with a letter
// (not an IP address, not localhost, nothing URL would rewrite), no port, no punycode, and a path
// without dots, so no `..` to resolve and nothing to percent-encode.
const PLAIN_HTTP_URL = /^http(s?):\/\/(?!(?:[^/]*\.)?xn--)(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+[a-z][a-z0-9-]*(?:\/[A-Za-z0-9_-]*)+$/;

// NOTE: WeChat often serves headimgurl over http although https works (docs/wechat-protocol.md#user-info-the-avatar-url); an http
// avatar on an https page is mixed content. The size suffix (/132, /0) is kept: changing it can 404.
// A loopback host (the local emulator playing WeChat's avatar host) stays http: it serves no TLS,
// and browsers treat http://localhost and 127.0.0.1 as secure, so nothing is mixed content there.
function httpsAvatar(value: unknown): string | undefined {
  const url = nonEmpty(value);
  if (url === undefined) return undefined;
  // WeChat's own avatar links are plain: a lower-case DNS name, a path of letters, digits, `_`
  // and `-`. For those, URL parsing would change nothing but the scheme, so it is skipped.
  const plain = PLAIN_HTTP_URL.exec(url);
  if (plain) return plain[1] === 's' ? url : `https${url.slice(4)}`;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return undefined;
  }
  if (parsed.protocol === 'http:' && !LOOPBACK_HOSTS.has(parsed.hostname)) parsed.protocol = 'https:';
  // What is left as http: is a loopback host.
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') return undefined;
  return parsed.toString();
}

// An app may hand parseProfile any value, nested beyond what JSON.stringify can walk.
function rawOf(info: Record<string, unknown>): string {
  try {
    return JSON.stringify(info);
  } catch {
    throw new WeChatResponseError('WeChat userinfo cannot be serialized (nested too deeply, or not JSON).', { code: 'WECHAT_MALFORMED_RESPONSE' });
  }
}

function nonEmpty(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  const trimmed = value.trim();
  return trimmed === '' ? undefined : trimmed;
}
