/**
 * The pure checks that turn what a user passed to a strategy into settings, or into a
 * {@link WeChatOptionsError} that names the option to fix (never the value given).
 */
import { OFFICIAL_ACCOUNT_AUTHORIZE_URL, QR_CONNECT_URL, type WeChatQRLang } from './authorize.js';
import {
  DEFAULT_ENDPOINTS,
  DEFAULT_MAX_RESPONSE_BYTES,
  DEFAULT_TIMEOUT_MS,
  type WeChatDispatcher,
  type WeChatEndpoints,
  type WeChatUserInfoLang,
} from './client.js';
import type { WeChatCallbackStore } from './duplicates.js';
import { WeChatOptionsError } from './errors.js';
import type { SkipUserProfile, WeChatFlow } from './options.js';

/** One WeChat application the strategy logs users in with. */
export interface LoginFlowSettings {
  flow: WeChatFlow;
  appId: string;
  scope: string;
  authorizationURL: string;
  forcePopup: boolean;
}

/** What the strategy keeps of its options, checked. */
export interface WeChatSettings {
  /** The top-level app first; the Official Account second when both are configured. */
  apps: LoginFlowSettings[];
  callbackURL: string | undefined;
  endpoints: WeChatEndpoints;
  lang: WeChatUserInfoLang | undefined;
  qrLang: WeChatQRLang | undefined;
  timeout: number;
  maxResponseBytes: number;
  dispatcher: WeChatDispatcher | undefined;
  skipUserProfile: SkipUserProfile;
  trustProxy: boolean;
  duplicates: false | { store: WeChatCallbackStore | undefined; ttlSeconds: number; waitMs: number };
}

export const USERINFO_LANGS: readonly string[] = ['zh_CN', 'zh_TW', 'en'];
const QR_LANGS: readonly string[] = ['cn', 'en'];

/** Checks the options; throws a WeChatOptionsError naming the option to fix. Pure. */
export function resolveSettings(
  options: unknown,
  verify: unknown,
): WeChatSettings & { appSecrets: string[]; cookieSecrets: string[] | undefined } {
  if (typeof options !== 'object' || options === null) {
    throw new WeChatOptionsError('WeChatStrategy needs an options object: new WeChatStrategy({ clientID, clientSecret, callbackURL }, verify).');
  }
  if (typeof verify !== 'function') {
    throw new WeChatOptionsError('WeChatStrategy needs a verify callback as its second argument.');
  }
  const o = options as Record<string, unknown>;
  const cookieSecrets = cookieSecretsOf(o.state);
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
    cookieSecrets,
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

/** The sns/* endpoints from the options, WeChat's own by default. */
export function endpointsOf(o: Record<string, unknown>): WeChatEndpoints {
  return {
    tokenURL: url(o, 'tokenURL') ?? DEFAULT_ENDPOINTS.tokenURL,
    refreshTokenURL: url(o, 'refreshTokenURL') ?? DEFAULT_ENDPOINTS.refreshTokenURL,
    userProfileURL: url(o, 'userProfileURL') ?? DEFAULT_ENDPOINTS.userProfileURL,
    checkTokenURL: url(o, 'checkTokenURL') ?? DEFAULT_ENDPOINTS.checkTokenURL,
  };
}

/** The `lang` option of sns/userinfo; `hint` ends the error message. */
export function userInfoLangOf(o: Record<string, unknown>, hint = ''): WeChatUserInfoLang | undefined {
  return oneOf(o, 'lang', USERINFO_LANGS, `userinfo language ("zh_CN", "zh_TW" or "en"${hint})`) as WeChatUserInfoLang | undefined;
}

/** Shortest cookie-store secret: 32 characters, as a random 256-bit key in base64 or hex would be. */
export const MIN_COOKIE_SECRET_LENGTH = 32;

/**
 * The cookie store's secrets from `state: { cookie: { secret } }` (the first signs, all verify);
 * undefined for `state: true`, `false` or absent. Kept apart from the settings, like the AppSecrets.
 */
function cookieSecretsOf(state: unknown): string[] | undefined {
  if (state === undefined || typeof state === 'boolean') return undefined;
  const cookie = typeof state === 'object' && state !== null ? (state as { cookie?: unknown }).cookie : undefined;
  if (typeof cookie !== 'object' || cookie === null) {
    throw new WeChatOptionsError('state must be true, false or { cookie: { secret } }.');
  }
  const secret = (cookie as { secret?: unknown }).secret;
  const secrets: unknown[] = Array.isArray(secret) ? secret : [secret];
  if (secrets.length === 0 || !secrets.every((s): s is string => typeof s === 'string' && s.length >= MIN_COOKIE_SECRET_LENGTH)) {
    throw new WeChatOptionsError(
      `state.cookie.secret must be a string of at least ${MIN_COOKIE_SECRET_LENGTH} characters, or a non-empty array of them (the first signs).`,
    );
  }
  return secrets as string[];
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
// Official Accounts only snsapi_base/snsapi_userinfo (on connect/oauth2/authorize) — docs/wechat-protocol.md#scopes-per-login-page.
// A wrong pairing shows the user a WeChat error page, so it is refused up front.
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

/** A required credential under its passport-oauth2 name or its passport-wechat alias. */
export function credential(o: Record<string, unknown>, name: string, alias: string, what: string, prefix: string, owner = 'WeChatStrategy'): string {
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

function scopeOf(value: unknown, prefix: string): string {
  if (value === undefined) return 'snsapi_login';
  const list = Array.isArray(value) ? value : [value];
  if (list.length === 0 || !list.every((s) => typeof s === 'string' && /^[a-z_]+$/.test(s))) {
    throw new WeChatOptionsError(`${prefix}scope must be a WeChat scope such as "snsapi_login", or an array of them.`);
  }
  // NOTE: WeChat separates scopes with a comma, not OAuth's space (docs/wechat-protocol.md#scopes-per-login-page).
  return list.join(',');
}

// NOTE: no message here shows the value given: a secret pasted into the wrong option (tokenURL,
// lang) would land in the error, and from there in logs and crash reports.

/** An optional absolute http(s) URL option. */
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

export function oneOf(o: Record<string, unknown>, name: string, allowed: readonly string[], what: string): string | undefined {
  const value = o[name];
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || !allowed.includes(value)) {
    throw new WeChatOptionsError(`${name} must be the ${what}; the value given is not shown.`);
  }
  return value;
}

export function positiveInteger(o: Record<string, unknown>, name: string, prefix = ''): number | undefined {
  const value = o[name];
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || value <= 0) {
    throw new WeChatOptionsError(`${prefix}${name} must be a positive whole number.`);
  }
  return value;
}

export function dispatcherOf(value: unknown): WeChatDispatcher | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'object' || value === null || typeof (value as { dispatch?: unknown }).dispatch !== 'function') {
    throw new WeChatOptionsError('dispatcher must be an undici Dispatcher (e.g. new Agent() or new ProxyAgent(url)).');
  }
  return value as WeChatDispatcher;
}

export function skipOf(value: unknown): SkipUserProfile {
  if (value === undefined) return false;
  if (typeof value === 'boolean' || typeof value === 'function') return value as SkipUserProfile;
  throw new WeChatOptionsError('skipUserProfile must be a boolean or a function.');
}
