/**
 * The options the strategies take and the verify callbacks they call: public types only. The
 * checks that turn options into settings are in settings.ts.
 */
import type { Request } from 'express';
import type OAuth2Strategy from 'passport-oauth2';
import type { WeChatQRLang } from './authorize.js';
import type { WeChatDispatcher, WeChatTokenResponse, WeChatUserInfoLang } from './client.js';
import type { WeChatDuplicateCallbackOptions } from './duplicates.js';
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

/**
 * The cookie state store (`state: { cookie: { secret } }`): each started login is kept in a
 * short-lived cookie signed with HMAC-SHA256, so no server session is needed (docs/state.md).
 *
 * @example
 * ```ts
 * new WeChatStrategy({
 *   clientID, clientSecret, callbackURL: 'https://example.com/auth/wechat/callback',
 *   state: { cookie: { secret: [process.env.STATE_SECRET!, process.env.OLD_STATE_SECRET!] } },
 * }, verify);
 * ```
 */
export interface WeChatStateCookieOptions {
  /**
   * Signs the cookies: at least 32 characters, the same on every instance. An array rotates
   * secrets: the first signs new cookies, every one verifies. Keep a removed secret in the list
   * for 10 minutes (the cookie's life) so logins in progress still finish.
   */
  secret: string | readonly string[];
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
   * CSRF protection: each login start makes a state the callback must match. `true` (default)
   * keeps the pending logins in the session; `{ cookie: { secret } }` keeps each in a signed
   * cookie instead, for apps without server sessions; `false` turns it off (not recommended).
   */
  state?: boolean | { cookie: WeChatStateCookieOptions } | undefined;
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
  dispatcher?: WeChatDispatcher | undefined;
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

