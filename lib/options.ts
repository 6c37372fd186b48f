/**
 * The strategy's options: their public types, and the pure check that turns what a user passed
 * into settings or a {@link WeChatOptionsError} that says what to fix.
 */
import type { Request } from 'express';
import type OAuth2Strategy from 'passport-oauth2';
import { OFFICIAL_ACCOUNT_AUTHORIZE_URL, QR_CONNECT_URL, type WeChatQRLang } from './authorize.js';
import {
  DEFAULT_ENDPOINTS,
  DEFAULT_MAX_RESPONSE_BYTES,
  DEFAULT_TIMEOUT_MS,
  type Dispatcher,
  type WeChatEndpoints,
  type WeChatTokenResponse,
  type WeChatUserInfoLang,
} from './client.js';
import type { WeChatCallbackStore, WeChatDuplicateCallbackOptions } from './duplicates.js';
import { WeChatOptionsError } from './errors.js';
import type { WeChatProfile } from './profile.js';

/** The AppID and AppSecret, under passport-oauth2's names (`clientID`) or passport-wechat's (`appID`). */
export type WeChatCredentials =
  | { /** The website application's AppID. */ clientID: string; /** Its AppSecret. */ clientSecret: string; appID?: never; appSecret?: never }
  | { /** Alias of `clientID`, for apps moving from passport-wechat. */ appID: string; /** Alias of `clientSecret`. */ appSecret: string; clientID?: never; clientSecret?: never };

/** Decides per login whether to skip the `sns/userinfo` call (the profile then has the ids only). */
export type SkipUserProfile =
  | boolean
  | ((accessToken: string) => boolean)
  | ((accessToken: string, done: (err: unknown, skip?: boolean) => void) => void);

/** Which WeChat login a request goes through. */
export type WeChatFlow = 'website' | 'official-account';

/** Scopes of the Official Account web authorization (inside WeChat's browser). */
export type WeChatOfficialAccountScope = 'snsapi_base' | 'snsapi_userinfo';

/**
 * The Official Account (公众号/服务号) used for logins inside WeChat's own browser, next to the
 * website application used for QR logins on desktops.
 */
export type WeChatOfficialAccountOptions = WeChatCredentials & {
  /** `'snsapi_userinfo'` (default: nickname and avatar, asks the user) or `'snsapi_base'` (silent, openid only). */
  scope?: WeChatOfficialAccountScope | undefined;
  /** Ask WeChat to always show the consent popup (`forcePopup=true`). */
  forcePopup?: boolean | undefined;
  /** Override `https://open.weixin.qq.com/connect/oauth2/authorize` (an emulator). */
  authorizationURL?: string | undefined;
};

/** Where WeChat's API calls go: each can point at an emulator or an egress proxy. */
export interface WeChatEndpointOptions {
  /** Override `https://api.weixin.qq.com/sns/oauth2/access_token`. */
  tokenURL?: string | undefined;
  /** Override `https://api.weixin.qq.com/sns/oauth2/refresh_token`. */
  refreshTokenURL?: string | undefined;
  /** Override `https://api.weixin.qq.com/sns/userinfo`. */
  userProfileURL?: string | undefined;
  /** Override `https://api.weixin.qq.com/sns/auth`. */
  checkTokenURL?: string | undefined;
}

/** How a login reads the user's profile (`sns/userinfo`). */
export interface WeChatProfileOptions {
  /** Skip the `sns/userinfo` call; the profile then holds the ids from the token response. */
  skipUserProfile?: SkipUserProfile | undefined;
  /** Language of `sns/userinfo` texts. Omitted by default (WeChat then uses `zh_CN`). */
  lang?: WeChatUserInfoLang | undefined;
}

/** The options every WeChatStrategy takes, whatever its credentials and verify form. */
export interface WeChatStrategyOptionsBase extends WeChatEndpointOptions, WeChatProfileOptions {
  /** Where WeChat sends the user back. Absolute (recommended) or relative to the request's host. */
  callbackURL?: string | undefined;
  /**
   * Default `'snsapi_login'` (website QR login). `'snsapi_base'` or `'snsapi_userinfo'` make the
   * top-level app an Official Account logging users in inside WeChat (`connect/oauth2/authorize`).
   */
  scope?: string | string[] | undefined;
  /** Only with an Official Account scope: ask WeChat to always show the consent popup. */
  forcePopup?: boolean | undefined;
  /**
   * A second app: the Official Account for logins inside WeChat. With it, requests whose
   * User-Agent says WeChat (`MicroMessenger`) use this account; others get the QR login.
   */
  officialAccount?: WeChatOfficialAccountOptions | undefined;
  /**
   * CSRF protection through a nonce kept in the session (passport-oauth2's `state`). On by default;
   * `false` turns it off (not recommended).
   */
  state?: boolean | undefined;
  /** passport-oauth2's `store`: `true` keeps app state in the session, or pass your own state store. */
  store?: boolean | OAuth2Strategy.StateStore | undefined;
  /** Session key of the state store; default `'oauth2:' + the authorize URL's host`. */
  sessionKey?: string | undefined;
  /** Trust `X-Forwarded-Proto`/`X-Forwarded-Host` when resolving a relative `callbackURL`. */
  proxy?: boolean | undefined;
  /**
   * When WeChat delivers the same callback twice, let the second request end as the first did
   * instead of failing with 40163. On by default with an in-memory store; pass a shared `store`
   * for several instances, or `false` to turn it off.
   */
  duplicateCallbacks?: false | WeChatDuplicateCallbackOptions | undefined;
  /** Language of the QR login page: `'cn'` (WeChat's default) or `'en'`. */
  qrLang?: WeChatQRLang | undefined;
  /** Per-call deadline for every WeChat API call, in ms. Default 10000. */
  timeout?: number | undefined;
  /** Largest WeChat answer accepted, in bytes. Default 1 MiB. */
  maxResponseBytes?: number | undefined;
  /** An undici `Dispatcher` for WeChat calls (a `ProxyAgent`, an `Agent` with a custom CA, …). */
  dispatcher?: Dispatcher | undefined;
  /** Override the authorize page (`connect/qrconnect`, or `connect/oauth2/authorize` for an Official Account scope). */
  authorizationURL?: string | undefined;
}

/** Options when the verify callback does not receive the request. */
export type WeChatStrategyOptions = WeChatStrategyOptionsBase & WeChatCredentials & { passReqToCallback?: false | undefined };
/** Options when the verify callback receives the request first. */
export type WeChatStrategyOptionsWithRequest = WeChatStrategyOptionsBase & WeChatCredentials & { passReqToCallback: true };

export type VerifyCallback = OAuth2Strategy.VerifyCallback;

/** `verify(accessToken, refreshToken, profile, done)` */
export type WeChatVerifyFunction = (
  accessToken: string,
  refreshToken: string,
  profile: WeChatProfile,
  done: VerifyCallback,
) => void;
/** `verify(accessToken, refreshToken, params, profile, done)`: `params` is WeChat's token response. */
export type WeChatVerifyFunctionWithParams = (
  accessToken: string,
  refreshToken: string,
  params: WeChatTokenResponse,
  profile: WeChatProfile,
  done: VerifyCallback,
) => void;
/**
 * `verify(req, accessToken, refreshToken, profile, done)` with `passReqToCallback: true`. `Req` is
 * the host's request type (Express's by default; e.g. `FastifyRequest` with @fastify/passport).
 */
export type WeChatVerifyFunctionWithRequest<Req = Request> = (
  req: Req,
  accessToken: string,
  refreshToken: string,
  profile: WeChatProfile,
  done: VerifyCallback,
) => void;
/** `verify(req, accessToken, refreshToken, params, profile, done)` with `passReqToCallback: true`. */
export type WeChatVerifyFunctionWithRequestAndParams<Req = Request> = (
  req: Req,
  accessToken: string,
  refreshToken: string,
  params: WeChatTokenResponse,
  profile: WeChatProfile,
  done: VerifyCallback,
) => void;

/** @internal One WeChat application the strategy logs users in with. */
export interface LoginFlowSettings {
  flow: WeChatFlow;
  appId: string;
  scope: string;
  authorizationURL: string;
  forcePopup: boolean;
}

/** @internal What the strategy keeps of its options, checked. */
export interface WeChatSettings {
  /** The top-level app first; the Official Account second when both are configured. */
  apps: LoginFlowSettings[];
  callbackURL: string | undefined;
  endpoints: WeChatEndpoints;
  lang: WeChatUserInfoLang | undefined;
  qrLang: WeChatQRLang | undefined;
  timeout: number;
  maxResponseBytes: number;
  dispatcher: Dispatcher | undefined;
  skipUserProfile: SkipUserProfile;
  trustProxy: boolean;
  duplicates: false | { store: WeChatCallbackStore | undefined; ttlSeconds: number; waitMs: number };
}

/** @internal */
export const USERINFO_LANGS: readonly string[] = ['zh_CN', 'zh_TW', 'en'];
const QR_LANGS: readonly string[] = ['cn', 'en'];

/** @internal Checks the options; throws a WeChatOptionsError naming the option to fix. Pure. */
export function resolveSettings(options: unknown, verify: unknown): WeChatSettings & { appSecrets: string[] } {
  if (typeof options !== 'object' || options === null) {
    throw new WeChatOptionsError('WeChatStrategy needs an options object: new WeChatStrategy({ clientID, clientSecret, callbackURL }, verify).');
  }
  if (typeof verify !== 'function') {
    throw new WeChatOptionsError('WeChatStrategy needs a verify callback as its second argument.');
  }
  const o = options as Record<string, unknown>;
  const main = appOf(o, 'the AppID of your WeChat website application');
  const apps = [main.app];
  const appSecrets = [main.appSecret];
  if (o.officialAccount !== undefined) {
    if (typeof o.officialAccount !== 'object' || o.officialAccount === null) {
      throw new WeChatOptionsError('officialAccount must be an object: { clientID, clientSecret, scope }.');
    }
    const account = o.officialAccount as Record<string, unknown>;
    const second = appOf({ ...account, scope: account.scope ?? 'snsapi_userinfo' }, 'the AppID of your Official Account', 'officialAccount.');
    if (main.app.flow !== 'website' || second.app.flow !== 'official-account') {
      throw new WeChatOptionsError(
        'officialAccount pairs an Official Account (scope snsapi_base or snsapi_userinfo) with a website application ' +
          '(top-level scope snsapi_login).',
      );
    }
    if (second.app.appId === main.app.appId) {
      throw new WeChatOptionsError('officialAccount needs its own AppID: a website application and an Official Account never share one.');
    }
    if (o.state === false) {
      throw new WeChatOptionsError('With officialAccount the state cannot be turned off: the callback finds the app that started the login through it.');
    }
    apps.push(second.app);
    appSecrets.push(second.appSecret);
  }
  return {
    apps,
    appSecrets,
    callbackURL: optionalString(o, 'callbackURL'),
    endpoints: endpointsOf(o),
    lang: userInfoLangOf(o, '; use qrLang for the QR page'),
    qrLang: oneOf(o, 'qrLang', QR_LANGS, 'QR page language ("cn" or "en")') as WeChatQRLang | undefined,
    timeout: positiveInteger(o, 'timeout') ?? DEFAULT_TIMEOUT_MS,
    maxResponseBytes: positiveInteger(o, 'maxResponseBytes') ?? DEFAULT_MAX_RESPONSE_BYTES,
    dispatcher: dispatcherOf(o.dispatcher),
    skipUserProfile: skipOf(o.skipUserProfile),
    trustProxy: o.proxy === true,
    duplicates: duplicatesOf(o.duplicateCallbacks, positiveInteger(o, 'timeout') ?? DEFAULT_TIMEOUT_MS),
  };
}

/** @internal The sns/* endpoints from the options, WeChat's own by default. */
export function endpointsOf(o: Record<string, unknown>): WeChatEndpoints {
  return {
    tokenURL: url(o, 'tokenURL') ?? DEFAULT_ENDPOINTS.tokenURL,
    refreshTokenURL: url(o, 'refreshTokenURL') ?? DEFAULT_ENDPOINTS.refreshTokenURL,
    userProfileURL: url(o, 'userProfileURL') ?? DEFAULT_ENDPOINTS.userProfileURL,
    checkTokenURL: url(o, 'checkTokenURL') ?? DEFAULT_ENDPOINTS.checkTokenURL,
  };
}

/** @internal The `lang` option of sns/userinfo; `hint` ends the error message. */
export function userInfoLangOf(o: Record<string, unknown>, hint = ''): WeChatUserInfoLang | undefined {
  return oneOf(o, 'lang', USERINFO_LANGS, `userinfo language ("zh_CN", "zh_TW" or "en"${hint})`) as WeChatUserInfoLang | undefined;
}

function duplicatesOf(value: unknown, timeout: number): WeChatSettings['duplicates'] {
  if (value === false) return false;
  if (value !== undefined && (typeof value !== 'object' || value === null)) {
    throw new WeChatOptionsError('duplicateCallbacks must be false or { store, ttlSeconds, waitMs }.');
  }
  const o = (value ?? {}) as Record<string, unknown>;
  const store = o.store;
  if (store !== undefined && !['claim', 'set', 'get'].every((m) => typeof (store as Record<string, unknown>)[m] === 'function')) {
    throw new WeChatOptionsError('duplicateCallbacks.store needs claim(key, value, ttl), set(key, value, ttl) and get(key) methods.');
  }
  return {
    store: store as WeChatCallbackStore | undefined,
    ttlSeconds: positiveInteger(o, 'ttlSeconds', 'duplicateCallbacks.') ?? 60,
    waitMs: positiveInteger(o, 'waitMs', 'duplicateCallbacks.') ?? timeout * 2 + 1000,
  };
}

const OFFICIAL_ACCOUNT_SCOPES: readonly string[] = ['snsapi_base', 'snsapi_userinfo'];

// NOTE: the scope decides the login: website apps only have snsapi_login (on connect/qrconnect),
// Official Accounts only snsapi_base/snsapi_userinfo (on connect/oauth2/authorize) — wechat-api.md
// §1.1, §3.1. A wrong pairing shows the user a WeChat error page, so it is refused up front.
function appOf(o: Record<string, unknown>, what: string, prefix = ''): { app: LoginFlowSettings; appSecret: string } {
  const appId = credential(o, 'clientID', 'appID', what, prefix);
  const appSecret = credential(o, 'clientSecret', 'appSecret', 'its AppSecret', prefix);
  const scope = scopeOf(o.scope, prefix);
  const scopes = scope.split(',');
  const official = scopes.some((s) => OFFICIAL_ACCOUNT_SCOPES.includes(s));
  if (official && !scopes.every((s) => OFFICIAL_ACCOUNT_SCOPES.includes(s))) {
    throw new WeChatOptionsError(`${prefix}scope mixes website (snsapi_login) and Official Account (snsapi_base, snsapi_userinfo) scopes.`);
  }
  const flow: WeChatFlow = official ? 'official-account' : 'website';
  const authorizationURL = url(o, 'authorizationURL', prefix) ?? (official ? OFFICIAL_ACCOUNT_AUTHORIZE_URL : QR_CONNECT_URL);
  const path = new URL(authorizationURL).pathname;
  // Here every scope is snsapi_base or snsapi_userinfo (checked above), so naming them shows no
  // pasted value.
  if (path.endsWith('/connect/qrconnect') && official) {
    throw new WeChatOptionsError(
      `${prefix}scope "${scope}" cannot be used with website QR login (connect/qrconnect): WeChat only grants snsapi_login there.`,
    );
  }
  if (path.endsWith('/connect/oauth2/authorize') && !official) {
    throw new WeChatOptionsError(
      `${prefix}scope cannot be used with the Official Account login (connect/oauth2/authorize): ` +
        'use snsapi_base or snsapi_userinfo there, or connect/qrconnect for website QR login.',
    );
  }
  if (o.forcePopup !== undefined && typeof o.forcePopup !== 'boolean') {
    throw new WeChatOptionsError(`${prefix}forcePopup must be a boolean.`);
  }
  if (o.forcePopup === true && !official) {
    throw new WeChatOptionsError(`${prefix}forcePopup only applies to Official Account logins (snsapi_base, snsapi_userinfo).`);
  }
  return { app: { flow, appId, scope, authorizationURL, forcePopup: o.forcePopup === true }, appSecret };
}

/** @internal A required credential under its passport-oauth2 name or its passport-wechat alias. */
export function credential(o: Record<string, unknown>, name: string, alias: string, what: string, prefix = '', owner = 'WeChatStrategy'): string {
  const value = o[name] ?? o[alias];
  if (o[name] !== undefined && o[alias] !== undefined) {
    throw new WeChatOptionsError(`Pass either ${prefix}${name} or ${prefix}${alias}, not both.`);
  }
  if (typeof value !== 'string' || value.trim() === '') {
    throw new WeChatOptionsError(`${owner} needs ${prefix}${name} (${what}) as a non-empty string.`);
  }
  if (value !== value.trim()) {
    throw new WeChatOptionsError(`${prefix}${name} has leading or trailing white space; WeChat would reject it.`);
  }
  return value;
}

function scopeOf(value: unknown, prefix = ''): string {
  if (value === undefined) return 'snsapi_login';
  const list = Array.isArray(value) ? value : [value];
  if (list.length === 0 || !list.every((s) => typeof s === 'string' && /^[a-z_]+$/.test(s))) {
    throw new WeChatOptionsError(`${prefix}scope must be a WeChat scope such as "snsapi_login", or an array of them.`);
  }
  // NOTE: WeChat separates scopes with a comma, not OAuth's space (wechat-api.md §1.1).
  return list.join(',');
}

// NOTE: no message here shows the value given: a secret pasted into the wrong option (tokenURL,
// lang) would land in the error, and from there in logs and crash reports.

/** @internal An optional absolute http(s) URL option. */
export function url(o: Record<string, unknown>, name: string, prefix = ''): string | undefined {
  const value = optionalString(o, name, prefix);
  if (value === undefined) return undefined;
  let parsed: URL;
  try {
    parsed = new URL(value);
  } catch {
    throw new WeChatOptionsError(`${prefix}${name} must be an absolute URL (https://…); the value given is not shown.`);
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') {
    throw new WeChatOptionsError(`${prefix}${name} must be an http(s) URL.`);
  }
  return value;
}

function optionalString(o: Record<string, unknown>, name: string, prefix = ''): string | undefined {
  const value = o[name];
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value === '') {
    throw new WeChatOptionsError(`${prefix}${name} must be a non-empty string.`);
  }
  return value;
}

/** @internal */
export function oneOf(o: Record<string, unknown>, name: string, allowed: readonly string[], what: string): string | undefined {
  const value = o[name];
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || !allowed.includes(value)) {
    throw new WeChatOptionsError(`${name} must be the ${what}; the value given is not shown.`);
  }
  return value;
}

/** @internal */
export function positiveInteger(o: Record<string, unknown>, name: string, prefix = ''): number | undefined {
  const value = o[name];
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || value <= 0) {
    throw new WeChatOptionsError(`${prefix}${name} must be a positive whole number.`);
  }
  return value;
}

/** @internal */
export function dispatcherOf(value: unknown): Dispatcher | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'object' || value === null || typeof (value as { dispatch?: unknown }).dispatch !== 'function') {
    throw new WeChatOptionsError('dispatcher must be an undici Dispatcher (e.g. new Agent() or new ProxyAgent(url)).');
  }
  return value as Dispatcher;
}

/** @internal */
export function skipOf(value: unknown): SkipUserProfile {
  if (value === undefined) return false;
  if (typeof value === 'boolean' || typeof value === 'function') return value as SkipUserProfile;
  throw new WeChatOptionsError('skipUserProfile must be a boolean or a function.');
}
