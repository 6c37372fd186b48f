/**
 * A local, faithful stand-in for WeChat's login servers: `open.weixin.qq.com`
 * (the QR / authorize pages), `res.wx.qq.com` (wxLogin.js, for the embedded QR code)
 * and `api.weixin.qq.com` (the `sns/*` JSON API, Mini Program's `jscode2session` included),
 * served path-based from one node:http server on 127.0.0.1.
 *
 * Every behaviour cites the fact it copies in /work/shared/wechat-api.md (§n).
 */
import { createServer, STATUS_CODES, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createCipheriv, createHash, randomBytes } from 'node:crypto';
import {
  renderDeclinedPage,
  renderErrorPage,
  renderGatewayPage,
  renderLoginPage,
  renderWxLoginScript,
  type EmbeddedView,
  type ErrorPageView,
  type LoginPageView,
  type PageLang,
} from './pages.js';

// ---------------------------------------------------------------------------
// Public types
// ---------------------------------------------------------------------------

/**
 * Which WeChat product an AppID belongs to: a Website App (qrconnect), an Official Account
 * (oauth2/authorize), a Mini Program (`wx.login()` + jscode2session) or a Mobile Application
 * (the Open SDK's SendAuth + sns/oauth2/access_token). The last two have no web login page.
 */
export type WeChatAppKind = 'website' | 'official-account' | 'miniprogram' | 'mobile-app';

/** The scopes WeChat knows for web login (wechat-api.md §1.1, §3.1). */
export type WeChatScope = 'snsapi_login' | 'snsapi_base' | 'snsapi_userinfo';

/**
 * What the emulated user's Decline does. `'redirect'` follows the old/English doc
 * (`redirect_uri?state=STATE`, no code); `'stay'` follows the current Chinese doc and
 * what developers report in practice: no redirect at all (wechat-api.md §1.2, §3.2).
 */
export type DeclineBehaviour = 'stay' | 'redirect';

/** Content-Type of the JSON API answers. WeChat is often `text/plain` (wechat-api.md §0). */
export type EmulatorContentType = 'text/plain' | 'application/json';

/** The `api.weixin.qq.com` endpoints, by short name. */
export type EmulatorApiEndpoint = 'access_token' | 'refresh_token' | 'userinfo' | 'auth' | 'jscode2session';

/** The `open.weixin.qq.com` pages, by short name. */
export type EmulatorPageEndpoint = 'qrconnect' | 'oauth2/authorize';

/** Every endpoint name that can appear in {@link EmulatorCall.endpoint}. */
export type EmulatorEndpoint =
  | EmulatorApiEndpoint
  | EmulatorPageEndpoint
  | `${EmulatorPageEndpoint}/confirm`
  | `${EmulatorPageEndpoint}/decline`
  | 'wxLogin.js'
  | 'not-found';

/** Which API endpoint a queued fault applies to; `'any'` means the next API call, whichever it is. */
export type FaultTarget = EmulatorApiEndpoint | 'any';

/** Answer with a WeChat error body, e.g. `{ errcode: -1 }` (errmsg defaults to WeChat's text for that code). */
export interface ErrcodeFault {
  readonly errcode: number;
  readonly errmsg?: string;
  /**
   * Do the real work first (spend the code, issue tokens), then answer with the error —
   * as seen when a retry after `-1 system error` got 40163 (wechat-api.md §1.3).
   * @defaultValue false
   */
  readonly afterProcessing?: boolean;
}

/** Answer with an nginx-style HTML error page and this HTTP status, e.g. 502. */
export interface HttpErrorFault {
  readonly status: number;
  readonly html: true;
}

/** Never answer. {@link WeChatEmulator.close} still closes promptly. */
export interface HangFault {
  readonly hang: true;
}

/** Wait this long, then answer normally. */
export interface DelayFault {
  readonly delayMs: number;
}

/** Answer with exactly this body (e.g. malformed JSON). */
export interface RawBodyFault {
  readonly body: string;
  /** @defaultValue the emulator's JSON content type */
  readonly contentType?: string;
  /** @defaultValue 200 */
  readonly status?: number;
}

/** A one-shot failure injected with {@link WeChatEmulator.failNext}. */
export type EmulatorFault = ErrcodeFault | HttpErrorFault | HangFault | DelayFault | RawBodyFault;

/** A random delay applied to every API call. */
export interface LatencyRange {
  readonly minMs: number;
  readonly maxMs: number;
}

/** Options of {@link WeChatEmulator.start}. All optional. */
export interface WeChatEmulatorOptions {
  /** @defaultValue 0 (a free port) */
  readonly port?: number;
  /** @defaultValue '127.0.0.1' */
  readonly host?: string;
  /** @defaultValue 'redirect' (so demos can show the failure page; real WeChat usually stays, §1.2) */
  readonly declineBehaviour?: DeclineBehaviour;
  /** @defaultValue 'text/plain' (wechat-api.md §0) */
  readonly contentType?: EmulatorContentType;
  /**
   * Code lifetime in seconds: one number for every kind of code, or per kind — `qrconnect`
   * (website apps), `authorize` (Official Accounts), `miniprogram` (`wx.login()` codes) and
   * `app` (Mobile Application codes from the Open SDK).
   * @defaultValue `{ qrconnect: 600, authorize: 300, miniprogram: 300, app: 600 }` (wechat-api.md §1.3)
   */
  readonly codeTtlSeconds?:
    | number
    | {
        readonly qrconnect?: number;
        readonly authorize?: number;
        readonly miniprogram?: number;
        readonly app?: number;
      };
  /** @defaultValue 7200 (wechat-api.md §4) */
  readonly accessTokenTtlSeconds?: number;
  /** @defaultValue 2592000 = 30 days, not renewable (wechat-api.md §5) */
  readonly refreshTokenTtlSeconds?: number;
  /** Issue a new refresh_token on every refresh (the old one stops working). @defaultValue false (§5: unconfirmed) */
  readonly rotateRefreshToken?: boolean;
  /**
   * `snsapi_base` is silent in WeChat (§3.2): skip the page and confirm as the first
   * registered user, unless the URL has `forcePopup=true`. @defaultValue true
   */
  readonly autoConfirmBase?: boolean;
  /**
   * Show an error page when the authorize query is not in WeChat's documented order
   * (appid, redirect_uri, response_type, scope[, state]) — WeChat's "strict regex" check (§3.1).
   * Applies to both pages. wxLogin.js's iframe URL (`login_type=jssdk`) has an order of its own,
   * which real qrconnect accepts: it is held to that order instead (§2.3).
   * @defaultValue false (the order is always recorded in {@link EmulatorCall.documentedOrder})
   */
  readonly strictParameterOrder?: boolean;
  /** Current time in ms; inject to test expiry. @defaultValue Date.now */
  readonly clock?: () => number;
  /**
   * Register the demo apps and users ({@link DEMO_WEBSITE_APP}, {@link DEMO_OFFICIAL_ACCOUNT_APP},
   * {@link DEMO_MINIPROGRAM_APP}, {@link DEMO_MOBILE_APP}, {@link DEMO_USERS}). @defaultValue true
   */
  readonly seed?: boolean;
}

/** An app to register with {@link WeChatEmulator.registerApp}. */
export interface EmulatorAppRegistration {
  /** AppID, e.g. `wx` + 16 hex. */
  readonly appid: string;
  /** AppSecret, e.g. 32 hex. */
  readonly secret: string;
  /** Shown on the login page. @defaultValue the appid */
  readonly name?: string;
  readonly kind: WeChatAppKind;
  /**
   * Authorized callback domains: bare host names, no scheme, no path, exact match —
   * `www.qq.com` does not cover `pay.qq.com` (wechat-api.md §3.3). Required for `website` and
   * `official-account` apps; Mini Programs and Mobile Applications have no redirect, so none.
   */
  readonly callbackDomains?: readonly string[];
  /** Accept a redirect_uri with a non-default port. WeChat does not (§1.1). @defaultValue false */
  readonly allowPorts?: boolean;
  /**
   * The Open Platform account the app is bound to: apps in one group share unionids.
   * `null` = not bound, so no unionid is ever returned (§3.2, §6). @defaultValue 'default'
   */
  readonly unionGroup?: string | null;
}

/** A registered app, as the emulator holds it. */
export interface EmulatorApp {
  readonly appid: string;
  readonly secret: string;
  readonly name: string;
  readonly kind: WeChatAppKind;
  readonly callbackDomains: readonly string[];
  readonly allowPorts: boolean;
  readonly unionGroup: string | null;
}

/** A test user to register with {@link WeChatEmulator.registerUser}. */
export interface EmulatorUserRegistration {
  /** Stable id used by tests and in the page's `user-<id>` test ids. */
  readonly id: string;
  /** @defaultValue the id */
  readonly nickname?: string;
  /** `true`: a unionid derived per `unionGroup`; a string: that exact unionid in every group; `false`: none. @defaultValue true */
  readonly unionid?: boolean | string;
  /** `''` = the user has no avatar (§6). @defaultValue a derived `http://thirdwx.qlogo.cn/mmopen/vi_32/<id>/132` */
  readonly headimgurl?: string;
  /** A snapshot-page virtual account: on Official Accounts with snsapi_userinfo (§3.2). @defaultValue false */
  readonly snapshot?: boolean;
  /**
   * WeChat rates the user high-risk: jscode2session spends their code and answers 40226
   * `code blocked` (§8). Other logins are not affected. @defaultValue false
   */
  readonly highRisk?: boolean;
}

/** A registered user, as the emulator holds it. */
export interface EmulatorUser {
  readonly id: string;
  readonly nickname: string;
  readonly unionid: boolean | string;
  readonly headimgurl: string;
  readonly snapshot: boolean;
  readonly highRisk: boolean;
}

/**
 * One request the emulator received. Secrets, codes (`code`, `js_code`) and tokens are
 * `'[redacted]'`; no answer body is kept, so no session key is either.
 */
export interface EmulatorCall {
  readonly endpoint: EmulatorEndpoint;
  readonly method: string;
  readonly path: string;
  /** The query string parameters (the last value of repeated keys). */
  readonly query: Readonly<Record<string, string>>;
  /** The posted form, for the Confirm / Decline posts. */
  readonly form?: Readonly<Record<string, string>>;
  /** The query keys in the order they were sent. */
  readonly paramOrder: readonly string[];
  /**
   * Pages only: whether the query followed WeChat's documented order (§1.1, §3.1), or for
   * wxLogin.js's iframe (`login_type=jssdk`) the script's own order (§2.3).
   */
  readonly documentedOrder?: boolean;
  /** HTTP status; 0 when a {@link HangFault} kept it from answering. */
  readonly status: number;
  /** The errcode of a JSON answer (0 for sns/auth "ok"), or the number of an error page. */
  readonly errcode?: number;
  /** The errmsg without its rid suffix, or the English text of an error page. */
  readonly errmsg?: string;
  /** Where a 302 pointed (code redacted). */
  readonly location?: string;
  /** Set when an injected fault shaped this answer. */
  readonly fault?: 'errcode' | 'http-error' | 'hang' | 'delay' | 'raw-body';
  /** Arrival time, from the emulator's clock (ms). */
  readonly at: number;
}

/** The emulator's URLs under WeChat's names. */
export interface EmulatorEndpoints {
  /** Website QR login page (`/connect/qrconnect`). */
  readonly authorizationURL: string;
  /** Official Account authorize page (`/connect/oauth2/authorize`). */
  readonly officialAccountAuthorizationURL: string;
  /**
   * The stand-in for `https://res.wx.qq.com/connect/zh_CN/htmledition/js/wxLogin.js` (§2): its
   * `new WxLogin({...})` puts the emulator's QR page in an iframe, as WeChat's script does.
   */
  readonly wxLoginScriptURL: string;
  readonly tokenURL: string;
  readonly refreshTokenURL: string;
  readonly userProfileURL: string;
  readonly checkTokenURL: string;
  /** The Mini Program login (`/sns/jscode2session`, code2Session, §8). */
  readonly sessionURL: string;
}

/** WeChatStrategy options that point a strategy at the emulator for one app. */
export interface EmulatorStrategyOptions {
  readonly clientID: string;
  readonly clientSecret: string;
  /** qrconnect for a website app, oauth2/authorize for an official account. */
  readonly authorizationURL: string;
  readonly tokenURL: string;
  readonly refreshTokenURL: string;
  readonly userProfileURL: string;
  readonly checkTokenURL: string;
}

/** WeChatMiniProgramStrategy options that point a strategy at the emulator for one Mini Program. */
export interface EmulatorMiniProgramStrategyOptions {
  readonly clientID: string;
  readonly clientSecret: string;
  readonly sessionURL: string;
}

/** WeChatAppStrategy options that point a strategy at the emulator for one Mobile Application. */
export interface EmulatorAppStrategyOptions {
  readonly clientID: string;
  readonly clientSecret: string;
  readonly tokenURL: string;
  readonly refreshTokenURL: string;
  readonly userProfileURL: string;
  readonly checkTokenURL: string;
}

/** What a Mini Program gets to post for encrypted data: base64 AES-128-CBC ciphertext and its iv. */
export interface EmulatorEncryptedData {
  readonly encryptedData: string;
  readonly iv: string;
}

/** What `wx.getUserInfo()` gives a Mini Program: the plain profile, its signature and the encrypted one. */
export interface EmulatorUserInfoData extends EmulatorEncryptedData {
  /** The profile as JSON text, exactly as signed. */
  readonly rawData: string;
  /** `sha1(rawData + session_key)`, 40 hex digits. */
  readonly signature: string;
}

/** Where a browser would end up after an authorize URL, see {@link WeChatEmulator.authorize}. */
export type AuthorizeOutcome =
  | { readonly type: 'redirect'; readonly location: string; readonly code?: string }
  | {
      readonly type: 'error-page';
      /** The number on the page, e.g. 10003; absent for pages WeChat shows without one. */
      readonly errcode?: number;
      /** The Chinese text WeChat shows. */
      readonly message: string;
      readonly messageEn: string;
      /** Emulator-only detail, e.g. which host or port was refused. */
      readonly hint?: string;
    }
  | { readonly type: 'declined-page' };

// ---------------------------------------------------------------------------
// Demo data (frozen: no module-level mutable state)
// ---------------------------------------------------------------------------

/**
 * The demo Website App registered unless `seed: false`. `allowPorts` is true because
 * local demos run on `localhost:3000`-style URLs, which real WeChat rejects (§1.1).
 */
export const DEMO_WEBSITE_APP: EmulatorApp = Object.freeze({
  appid: 'wx5f3c2a9e8d1b7046',
  secret: '3f9a1c7e5b2d4068a1c3e5f7092b4d6e',
  name: 'Demo Website (emulator)',
  kind: 'website',
  callbackDomains: Object.freeze(['localhost', '127.0.0.1']),
  allowPorts: true,
  unionGroup: 'default',
});

/** The demo Official Account registered unless `seed: false`; same Open Platform group as the website app. */
export const DEMO_OFFICIAL_ACCOUNT_APP: EmulatorApp = Object.freeze({
  appid: 'wx91e7c0a54d3b682f',
  secret: 'c84e2a6f0b1d3957e8a2c4f6b0d19375',
  name: 'Demo Official Account (emulator)',
  kind: 'official-account',
  callbackDomains: Object.freeze(['localhost', '127.0.0.1']),
  allowPorts: true,
  unionGroup: 'default',
});

/**
 * The demo Mini Program registered unless `seed: false`; same Open Platform group as the
 * website app, so a user's unionid (their `profile.id`) is the same in both.
 */
export const DEMO_MINIPROGRAM_APP: EmulatorApp = Object.freeze({
  appid: 'wx3a8d5c0e7f2b9164',
  secret: '7b2e9d4f1a6c3e8b0d5f2a7c9e1b4d60',
  name: 'Demo Mini Program (emulator)',
  kind: 'miniprogram',
  callbackDomains: Object.freeze([]),
  allowPorts: false,
  unionGroup: 'default',
});

/** The demo Mobile Application (iOS/Android, Open SDK) registered unless `seed: false`; same Open Platform group. */
export const DEMO_MOBILE_APP: EmulatorApp = Object.freeze({
  appid: 'wxc6f1e9a3b5d70284',
  secret: 'e5a1c7d3f9b2e4a6c8d0f1b3a5c7e9d2',
  name: 'Demo Mobile App (emulator)',
  kind: 'mobile-app',
  callbackDomains: Object.freeze([]),
  allowPorts: false,
  unionGroup: 'default',
});

/** The demo users: `alice` has a unionid and an avatar, `bob` has neither. */
export const DEMO_USERS: readonly EmulatorUserRegistration[] = Object.freeze([
  Object.freeze({ id: 'alice', nickname: 'Alice 🐼', unionid: true }),
  Object.freeze({ id: 'bob', nickname: 'Bob', unionid: false, headimgurl: '' }),
]);

// ---------------------------------------------------------------------------
// WeChat's constants
// ---------------------------------------------------------------------------

const SECOND = 1000;
const DEFAULTS = Object.freeze({
  qrconnectCodeTtl: 600, // 10 min for website codes (§1.3)
  authorizeCodeTtl: 300, // 5 min for official-account codes (§1.3)
  miniprogramCodeTtl: 300, // wx.login() codes: 5 min (§1.3)
  appCodeTtl: 600, // Open SDK codes: 10 min, as the Open Platform's website codes (§1.3)
  accessTokenTtl: 7200, // §4
  refreshTokenTtl: 30 * 24 * 3600, // §5
});

/** WeChat's errmsg for each errcode the emulator emits (§4–§9). */
const ERRMSG: Readonly<Record<number, string>> = Object.freeze({
  [-1]: 'system error',
  40001: 'invalid credential, access_token is invalid or not latest',
  40002: 'invalid grant_type',
  40003: 'invalid openid',
  40013: 'invalid appid',
  40014: 'invalid access_token',
  40029: 'invalid code',
  40030: 'invalid refresh_token',
  40097: 'invalid args',
  40125: 'invalid appsecret',
  40163: 'code been used',
  41001: 'access_token missing',
  41002: 'appid missing',
  41003: 'refresh_token missing',
  41004: 'appsecret missing',
  41008: 'missing code',
  41009: 'missing openid',
  42001: 'access_token expired',
  42002: 'refresh_token expired',
  42003: 'code expired',
  40226: 'code blocked',
  45011: 'api minute-quota reach limit, must slower, retry next minute',
  48001: 'api unauthorized',
});

/** The authorize query order in WeChat's templates (§1.1, §3.1). */
const DOCUMENTED_ORDER = Object.freeze(['appid', 'redirect_uri', 'response_type', 'scope', 'state']);

/** The order wxLogin.js writes its iframe URL in: no response_type, state always present (§2.3). */
const JSSDK_ORDER = Object.freeze(['appid', 'scope', 'redirect_uri', 'state', 'login_type', 'self_redirect']);

/** Where the emulator serves its wxLogin.js, on the path of `res.wx.qq.com`'s (§2.1). */
const WXLOGIN_SCRIPT_PATH = '/connect/zh_CN/htmledition/js/wxLogin.js';

const PAGE_SCOPES: Readonly<Record<EmulatorPageEndpoint, readonly WeChatScope[]>> = Object.freeze({
  qrconnect: Object.freeze(['snsapi_login'] as const), // "网页应用目前仅填写snsapi_login" (§1.1)
  'oauth2/authorize': Object.freeze(['snsapi_base', 'snsapi_userinfo'] as const), // §3.1
});

/** The scopes {@link WeChatEmulator.issueCode} accepts per app kind; the first is the default. A Mini Program code has none. */
const CODE_SCOPES: Readonly<Record<WeChatAppKind, readonly WeChatScope[]>> = Object.freeze({
  website: PAGE_SCOPES.qrconnect,
  'official-account': Object.freeze(['snsapi_userinfo', 'snsapi_base'] as const),
  'mobile-app': Object.freeze(['snsapi_userinfo'] as const), // the Open SDK's SendAuth asks snsapi_userinfo
  miniprogram: Object.freeze([]),
});

const USERINFO_LANGS = Object.freeze(['zh_CN', 'zh_TW', 'en']); // §6

const REDACTED_KEYS = Object.freeze(['secret', 'code', 'js_code', 'access_token', 'refresh_token']);

/** The grey avatar every Mini Program user has had in `wx.getUserInfo` since 2022-11-08 (§6). */
const MINIPROGRAM_DEFAULT_AVATAR =
  'https://thirdwx.qlogo.cn/mmopen/vi_32/POgEwh4mIHO4nibH0KlMECNjjGxQUq24ZEaGT4poC6icRiccVGKSyXwibcPq4BWmiaIGuG1icwxaQX6grC9VemZoJ8rg/132';

/** WeChat's authorize error pages (§3.4, §1.1). */
const PAGE_ERRORS = Object.freeze({
  appidEmpty: { errcode: 10012, zh: 'appid不能为空', en: 'appid must not be empty' },
  appidUnknown: { zh: 'AppID参数错误', en: 'Invalid AppID', hint: 'No app with this appid is registered in the emulator.' },
  redirectEmpty: { errcode: 10011, zh: 'redirect_uri不能为空', en: 'redirect_uri must not be empty' },
  scopeEmpty: { errcode: 10010, zh: 'scope不能为空', en: 'scope must not be empty' },
  responseType: {
    zh: '该链接无法访问',
    en: 'This link cannot be accessed',
    hint: 'response_type must be "code".',
  },
  scopeOfficialAccount: {
    errcode: 10005,
    zh: '此公众号并没有这些scope的权限',
    en: 'This Official Account does not have permission for these scopes',
  },
  scopeWebsite: { errcode: 10005, zh: 'Scope 参数错误或没有 Scope 权限', en: 'Scope parameter error or no scope permission' },
  openPlatformAppid: {
    errcode: 10016,
    zh: '不支持微信开放平台的Appid，请使用公众号Appid',
    en: 'Open Platform AppIDs are not supported; use the Official Account AppID',
  },
  redirectDomain: {
    errcode: 10003,
    zh: 'redirect_uri域名与后台配置不一致',
    en: 'redirect_uri domain does not match the configured callback domain',
  },
  parameterOrder: {
    zh: '该链接无法访问',
    en: 'This link cannot be accessed',
    hint: 'Parameters must come in the order appid, redirect_uri, response_type, scope, state (strictParameterOrder).',
  },
  unknownUser: { zh: '未知的测试用户', en: 'Unknown test user', hint: 'The posted "user" is not registered in the emulator.' },
  noWebLogin: {
    zh: '该应用没有网页登录权限',
    en: 'This app has no web login',
    hint: 'Mini Program and Mobile Application AppIDs have no web login page: their users sign in with wx.login() or the Open SDK, and the app posts the code.',
  },
} satisfies Record<string, ErrorPageView>);

// ---------------------------------------------------------------------------
// Internal types
// ---------------------------------------------------------------------------

/** What a user's consent grants; fixed when the code is issued. */
interface Grant {
  readonly app: EmulatorApp;
  readonly user: EmulatorUser;
  readonly scopes: readonly WeChatScope[];
  readonly openid: string;
  readonly unionid: string | undefined;
  /** A snapshot-page virtual account (§3.2). */
  readonly snapshot: boolean;
}

interface CodeRecord {
  readonly grant: Grant;
  readonly expiresAt: number;
  /** Mini Program codes only: the session key of this `wx.login()`, which jscode2session returns. */
  readonly sessionKey: string | undefined;
  used: boolean;
}

interface AccessTokenRecord {
  readonly grant: Grant;
  expiresAt: number;
}

interface RefreshTokenRecord {
  readonly grant: Grant;
  readonly expiresAt: number;
  accessToken: string;
}

interface AuthorizeRequest {
  readonly endpoint: EmulatorPageEndpoint;
  readonly app: EmulatorApp;
  readonly redirectUri: string;
  readonly scopes: readonly WeChatScope[];
  readonly state: string | null;
  readonly lang: PageLang;
  readonly forcePopup: boolean;
  /** Set when wxLogin.js's iframe opened the page (`login_type=jssdk`, qrconnect only). */
  readonly embedded: EmbeddedView | null;
}

type Opened =
  | AuthorizeOutcome
  | { readonly type: 'login-page'; readonly request: AuthorizeRequest; readonly params: URLSearchParams };

type JsonValue = string | number | readonly string[];
type JsonObject = { readonly [key: string]: JsonValue };
type ApiResult = { readonly body: JsonObject } | { readonly errcode: number; readonly errmsg?: string };

interface Reply {
  readonly status: number;
  readonly contentType: string;
  readonly body: string;
  readonly location?: string;
  readonly errcode?: number;
  readonly errmsg?: string;
  readonly fault?: EmulatorCall['fault'];
}

type Route =
  | { readonly kind: 'api'; readonly endpoint: EmulatorApiEndpoint }
  | { readonly kind: 'page'; readonly endpoint: EmulatorPageEndpoint }
  | { readonly kind: 'form'; readonly endpoint: EmulatorPageEndpoint; readonly decision: 'confirm' | 'decline' }
  | { readonly kind: 'script' }
  | { readonly kind: 'not-found' };

interface ResolvedOptions {
  readonly declineBehaviour: DeclineBehaviour;
  readonly contentType: EmulatorContentType;
  /** Per app kind: the kind decides which page or SDK issued the code. */
  readonly codeTtlMs: Readonly<Record<WeChatAppKind, number>>;
  readonly accessTokenTtlMs: number;
  readonly refreshTokenTtlMs: number;
  readonly rotateRefreshToken: boolean;
  readonly autoConfirmBase: boolean;
  readonly strictParameterOrder: boolean;
  readonly clock: () => number;
}

// ---------------------------------------------------------------------------
// Pure helpers
// ---------------------------------------------------------------------------

const ALPHANUMERIC = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const BASE64URL = `${ALPHANUMERIC}-_`;

/** Unbiased random characters (rejection sampling over random bytes). */
function randomChars(alphabet: string, length: number): string {
  const limit = 256 - (256 % alphabet.length);
  let out = '';
  while (out.length < length) {
    for (const byte of randomBytes(length * 2)) {
      if (byte < limit && out.length < length) out += alphabet.charAt(byte % alphabet.length);
    }
  }
  return out;
}

/** Codes look like `001HKCFa1UWlqz0ZsPHa1zrEwD2HKCF3`: 32 alphanumerics (§0). */
function newCode(): string {
  return randomChars(ALPHANUMERIC, 32);
}

/** A session key is base64 of 16 random bytes: an AES-128 key (§8). */
function newSessionKey(): string {
  return randomBytes(16).toString('base64');
}

/** Tokens look like `86_` + ~100 base64url characters (§0). */
function newToken(): string {
  return `86_${randomChars(BASE64URL, 104)}`;
}

function digest(text: string): string {
  return createHash('sha256').update(text).digest('base64url');
}

/** 28 characters starting with `o`: a 5-character prefix per namespace (as real openids share per app), then per user (§0). */
function wechatId(namespace: string, subject: string): string {
  return `o${digest(`ns:${namespace}`).slice(0, 5)}${digest(`id:${namespace}:${subject}`).slice(0, 22)}`;
}

/** The `, rid: xxxxxxxx-xxxxxxxx-xxxxxxxx` suffix; the first part is the hex Unix time, as in real rids (§0). */
function ridFor(nowMs: number): string {
  const seconds = Math.floor(nowMs / SECOND).toString(16).padStart(8, '0').slice(-8);
  return `${seconds}-${randomBytes(4).toString('hex')}-${randomBytes(4).toString('hex')}`;
}

/** WeChat's encoder escapes slashes: `http:\/\/thirdwx.qlogo.cn\/...` (§0). */
function encodeJson(value: JsonObject): string {
  return JSON.stringify(value).replaceAll('/', '\\/');
}

function isDocumentedOrder(keys: readonly string[], jssdk: boolean): boolean {
  if (jssdk) return JSSDK_ORDER.every((key, index) => keys[index] === key);
  const expected = keys.includes('state') ? DOCUMENTED_ORDER : DOCUMENTED_ORDER.slice(0, 4);
  return expected.every((key, index) => keys[index] === key);
}

/** wxLogin.js's iframe says `login_type=jssdk`; only the QR page has that mode (§2.3). */
function isJssdk(endpoint: EmulatorPageEndpoint, params: URLSearchParams): boolean {
  return endpoint === 'qrconnect' && params.get('login_type') === 'jssdk';
}

/** What the iframe's query asks of the QR box (§2.2): compared as wxLogin.js writes them. */
function embeddedViewOf(params: URLSearchParams): EmbeddedView {
  const selfRedirect = params.get('self_redirect');
  const href = params.get('href') ?? '';
  return {
    selfRedirect: selfRedirect === 'true' || selfRedirect === 'false' ? selfRedirect : 'default',
    stylelite: params.get('stylelite') === '1',
    fastLogin: params.get('fast_login') !== '0',
    style: params.get('style') === 'white' ? 'white' : 'black',
    // NOTE: custom CSS is https or a data:text/css;base64 URI, and stylelite ignores it (§2.2).
    href: /^(https:|data:text\/css;base64,)/.test(href) ? href : null,
  };
}

function routeOf(pathname: string): Route {
  switch (pathname) {
    case '/sns/oauth2/access_token':
      return { kind: 'api', endpoint: 'access_token' };
    case '/sns/oauth2/refresh_token':
      return { kind: 'api', endpoint: 'refresh_token' };
    case '/sns/userinfo':
      return { kind: 'api', endpoint: 'userinfo' };
    case '/sns/auth':
      return { kind: 'api', endpoint: 'auth' };
    case '/sns/jscode2session':
      return { kind: 'api', endpoint: 'jscode2session' };
    case '/connect/qrconnect':
      return { kind: 'page', endpoint: 'qrconnect' };
    case '/connect/oauth2/authorize':
      return { kind: 'page', endpoint: 'oauth2/authorize' };
    case '/connect/qrconnect/confirm':
      return { kind: 'form', endpoint: 'qrconnect', decision: 'confirm' };
    case '/connect/qrconnect/decline':
      return { kind: 'form', endpoint: 'qrconnect', decision: 'decline' };
    case '/connect/oauth2/authorize/confirm':
      return { kind: 'form', endpoint: 'oauth2/authorize', decision: 'confirm' };
    case '/connect/oauth2/authorize/decline':
      return { kind: 'form', endpoint: 'oauth2/authorize', decision: 'decline' };
    case WXLOGIN_SCRIPT_PATH:
      return { kind: 'script' };
    default:
      return { kind: 'not-found' };
  }
}

function endpointOf(route: Route): EmulatorEndpoint {
  if (route.kind === 'not-found') return 'not-found';
  if (route.kind === 'script') return 'wxLogin.js';
  return route.kind === 'form' ? `${route.endpoint}/${route.decision}` : route.endpoint;
}

/** The scopes asked for, or null when one is not allowed on this page (§1.1, §3.1). */
function parseScopes(endpoint: EmulatorPageEndpoint, scope: string): WeChatScope[] | null {
  const allowed = PAGE_SCOPES[endpoint];
  const asked = scope.split(',').map((part) => part.trim());
  const valid = asked.filter((part): part is WeChatScope => (allowed as readonly string[]).includes(part));
  return valid.length === asked.length ? [...new Set(valid)] : null;
}

/** The 10003 reason for a redirect_uri, or null when the app accepts it (§1.1, §3.3). */
function redirectUriProblem(app: EmulatorApp, redirectUri: string): string | null {
  let url: URL;
  try {
    url = new URL(redirectUri);
  } catch {
    return 'redirect_uri is not an absolute URL.';
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return 'redirect_uri must be http or https.';
  if (!app.callbackDomains.includes(url.hostname)) {
    return `Host "${url.hostname}" is not a registered callback domain (${app.callbackDomains.join(', ')}).`;
  }
  // NOTE: "redirect_uri不支持带端口号" — only the scheme's default port works (§1.1).
  if (url.port !== '' && !app.allowPorts) return 'redirect_uri must not carry a port (allowPorts is false).';
  return null;
}

/** Appends query parameters before any `#fragment`, keeping the redirect_uri's own query as sent. */
function appendQuery(redirectUri: string, params: ReadonlyArray<readonly [string, string]>): string {
  if (params.length === 0) return redirectUri;
  const hashAt = redirectUri.indexOf('#');
  const base = hashAt === -1 ? redirectUri : redirectUri.slice(0, hashAt);
  const hash = hashAt === -1 ? '' : redirectUri.slice(hashAt);
  const query = params.map(([key, value]) => `${key}=${encodeURIComponent(value)}`).join('&');
  const separator = !base.includes('?') ? '?' : base.endsWith('?') || base.endsWith('&') ? '' : '&';
  return `${base}${separator}${query}${hash}`;
}

function redactParams(params: URLSearchParams): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of params) out[key] = REDACTED_KEYS.includes(key) ? '[redacted]' : value;
  return out;
}

function redactLocation(location: string): string {
  return location.replace(/([?&])code=[^&#]*/, '$1code=[redacted]');
}

function pageLangOf(params: URLSearchParams): PageLang {
  return params.get('lang') === 'en' ? 'en' : 'cn';
}

function htmlReply(body: string, status = 200): Reply {
  return { status, contentType: 'text/html; charset=utf-8', body };
}

/** WeChat shows these as HTML with HTTP 200, not JSON and not a redirect (§3.4, §12.5). */
function errorPageReply(view: ErrorPageView, status = 200): Reply {
  return { ...htmlReply(renderErrorPage(view), status), errcode: view.errcode, errmsg: view.en };
}

function errorOutcome(view: ErrorPageView): AuthorizeOutcome {
  return { type: 'error-page', errcode: view.errcode, message: view.zh, messageEn: view.en, hint: view.hint };
}

function plainReply(status: number, body: string): Reply {
  return { status, contentType: 'text/plain; charset=utf-8', body };
}

function gatewayReply(status: number): Reply {
  const reason = STATUS_CODES[status] ?? 'Error';
  return { ...htmlReply(renderGatewayPage(status, reason), status), contentType: 'text/html' };
}

function describeFault(fault: EmulatorFault): NonNullable<EmulatorCall['fault']> {
  if ('hang' in fault) return 'hang';
  if ('delayMs' in fault) return 'delay';
  if ('html' in fault) return 'http-error';
  if ('body' in fault) return 'raw-body';
  return 'errcode';
}

function assertFault(fault: EmulatorFault): void {
  const shapes = [
    'hang' in fault && fault.hang === true,
    'delayMs' in fault && Number.isFinite(fault.delayMs) && fault.delayMs >= 0,
    'html' in fault && Number.isInteger(fault.status),
    'body' in fault && typeof fault.body === 'string',
    'errcode' in fault && Number.isInteger(fault.errcode),
  ];
  if (!shapes.includes(true)) throw new TypeError(`failNext: not a fault: ${JSON.stringify(fault)}`);
}

function resolveCodeTtl(option: WeChatEmulatorOptions['codeTtlSeconds']): Record<WeChatAppKind, number> {
  const perKind = typeof option === 'number' ? { qrconnect: option, authorize: option, miniprogram: option, app: option } : (option ?? {});
  return {
    website: (perKind.qrconnect ?? DEFAULTS.qrconnectCodeTtl) * SECOND,
    'official-account': (perKind.authorize ?? DEFAULTS.authorizeCodeTtl) * SECOND,
    miniprogram: (perKind.miniprogram ?? DEFAULTS.miniprogramCodeTtl) * SECOND,
    'mobile-app': (perKind.app ?? DEFAULTS.appCodeTtl) * SECOND,
  };
}

/** Where the latest session key of a Mini Program user is kept. */
function sessionId(appid: string, openid: string): string {
  return `${appid}\n${openid}`;
}

/** AES-128-CBC with PKCS#7 padding, base64 in and out: WeChat's encryptedData scheme (lib/userdata.ts). */
function encryptJson(sessionKey: string, value: Readonly<Record<string, unknown>>): EmulatorEncryptedData {
  const iv = randomBytes(16);
  const cipher = createCipheriv('aes-128-cbc', Buffer.from(sessionKey, 'base64'), iv);
  const ciphertext = Buffer.concat([cipher.update(JSON.stringify(value), 'utf8'), cipher.final()]);
  return { encryptedData: ciphertext.toString('base64'), iv: iv.toString('base64') };
}

function resolveOptions(options: WeChatEmulatorOptions): ResolvedOptions {
  return {
    declineBehaviour: options.declineBehaviour ?? 'redirect',
    contentType: options.contentType ?? 'text/plain',
    codeTtlMs: resolveCodeTtl(options.codeTtlSeconds),
    accessTokenTtlMs: (options.accessTokenTtlSeconds ?? DEFAULTS.accessTokenTtl) * SECOND,
    refreshTokenTtlMs: (options.refreshTokenTtlSeconds ?? DEFAULTS.refreshTokenTtl) * SECOND,
    rotateRefreshToken: options.rotateRefreshToken ?? false,
    autoConfirmBase: options.autoConfirmBase ?? true,
    strictParameterOrder: options.strictParameterOrder ?? false,
    clock: options.clock ?? Date.now,
  };
}

async function readBody(req: IncomingMessage, limitBytes: number): Promise<string | null> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk));
    size += buffer.length;
    if (size > limitBytes) return null;
    chunks.push(buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

// ---------------------------------------------------------------------------
// The emulator
// ---------------------------------------------------------------------------

/**
 * A local WeChat login server for tests and demos: the QR login page (also embedded by its
 * wxLogin.js), the Official Account authorize page and the `sns/*` API — the Mini Program's
 * `jscode2session` and the native app's code exchange included — with WeChat's quirks (HTTP 200
 * errors, `text/plain` JSON, `rid` suffixes, single-use codes, HTML error pages).
 *
 * @example
 * ```ts
 * import { DEMO_WEBSITE_APP, WeChatEmulator } from 'passport-wechat-oauth2/testing';
 *
 * const emulator = await WeChatEmulator.start(); // demo apps and users included
 * const { clientID, clientSecret } = emulator.strategyOptions(DEMO_WEBSITE_APP.appid);
 * const code = emulator.issueCode({ appid: clientID, user: 'alice' });
 * const query = new URLSearchParams({ appid: clientID, secret: clientSecret, code, grant_type: 'authorization_code' });
 * const token = JSON.parse(await (await fetch(`${emulator.endpoints.tokenURL}?${query}`)).text());
 * // token.openid === emulator.openidFor(clientID, 'alice')
 * await emulator.close();
 * ```
 */
export class WeChatEmulator {
  private readonly options: ResolvedOptions;
  private readonly server: Server;
  private readonly apps = new Map<string, EmulatorApp>();
  private readonly users = new Map<string, EmulatorUser>();
  private readonly codes = new Map<string, CodeRecord>();
  private readonly accessTokens = new Map<string, AccessTokenRecord>();
  private readonly refreshTokens = new Map<string, RefreshTokenRecord>();
  /** The session key of each Mini Program user's latest `wx.login()`, by {@link sessionId}. */
  private readonly sessionKeys = new Map<string, string>();
  private readonly faults: Array<{ readonly target: FaultTarget; readonly fault: EmulatorFault }> = [];
  private readonly log: EmulatorCall[] = [];
  private readonly timers = new Set<NodeJS.Timeout>();
  private latency: LatencyRange | null = null;
  private baseUrl = '';
  private closing: Promise<void> | null = null;

  private constructor(options: WeChatEmulatorOptions) {
    this.options = resolveOptions(options);
    this.server = createServer((req, res) => this.onRequest(req, res));
    if (options.seed ?? true) this.seedDemoData();
  }

  /**
   * Starts an emulator on 127.0.0.1 (a free port unless `port` is given).
   *
   * @example
   * ```ts
   * const emulator = await WeChatEmulator.start({ declineBehaviour: 'stay', clock: () => now });
   * ```
   */
  static async start(options: WeChatEmulatorOptions = {}): Promise<WeChatEmulator> {
    const emulator = new WeChatEmulator(options);
    await emulator.listen(options.port ?? 0, options.host ?? '127.0.0.1');
    return emulator;
  }

  /** The base URL, e.g. `http://127.0.0.1:54321`. */
  get url(): string {
    return this.baseUrl;
  }

  /** The emulator's URLs for each WeChat endpoint. */
  get endpoints(): EmulatorEndpoints {
    return {
      authorizationURL: `${this.baseUrl}/connect/qrconnect`,
      officialAccountAuthorizationURL: `${this.baseUrl}/connect/oauth2/authorize`,
      wxLoginScriptURL: `${this.baseUrl}${WXLOGIN_SCRIPT_PATH}`,
      tokenURL: `${this.baseUrl}/sns/oauth2/access_token`,
      refreshTokenURL: `${this.baseUrl}/sns/oauth2/refresh_token`,
      userProfileURL: `${this.baseUrl}/sns/userinfo`,
      checkTokenURL: `${this.baseUrl}/sns/auth`,
      sessionURL: `${this.baseUrl}/sns/jscode2session`,
    };
  }

  /** Every request so far, oldest first (a copy), with secrets, codes and tokens redacted, and no answer bodies. */
  get calls(): readonly EmulatorCall[] {
    return [...this.log];
  }

  /**
   * Registers (or replaces) an app.
   *
   * @example
   * ```ts
   * emulator.registerApp({ appid: 'wx0123456789abcdef', secret: 's3cret', kind: 'website', callbackDomains: ['example.com'] });
   * emulator.registerApp({ appid: 'wx0123456789abcdee', secret: 's3cret', kind: 'miniprogram', unionGroup: null });
   * ```
   */
  registerApp(registration: EmulatorAppRegistration): EmulatorApp {
    if (registration.appid === '' || registration.secret === '') throw new TypeError('registerApp: appid and secret are required');
    if (!Object.hasOwn(CODE_SCOPES, registration.kind)) throw new TypeError(`registerApp: unknown kind ${String(registration.kind)}`);
    const hasWebLogin = registration.kind === 'website' || registration.kind === 'official-account';
    if (hasWebLogin && registration.callbackDomains === undefined) {
      throw new TypeError(`registerApp: a ${registration.kind} app needs callbackDomains`);
    }
    const domains = (registration.callbackDomains ?? []).map((domain) => domain.trim().toLowerCase());
    const urlLike = domains.find((domain) => domain.includes('/'));
    // NOTE: WeChat registers a domain, not a URL, and no scheme (§1.1, §3.3).
    if (urlLike !== undefined) throw new TypeError(`registerApp: callbackDomains takes host names, not URLs: ${urlLike}`);
    const app: EmulatorApp = Object.freeze({
      appid: registration.appid,
      secret: registration.secret,
      name: registration.name ?? registration.appid,
      kind: registration.kind,
      callbackDomains: Object.freeze(domains),
      allowPorts: registration.allowPorts ?? false,
      unionGroup: registration.unionGroup === undefined ? 'default' : registration.unionGroup,
    });
    this.apps.set(app.appid, app);
    return app;
  }

  /**
   * Registers (or replaces) a test user, who then appears on the login pages.
   *
   * @example
   * ```ts
   * emulator.registerUser({ id: 'carol', nickname: '卡罗尔', unionid: false, snapshot: true });
   * emulator.registerUser({ id: 'mallory', highRisk: true }); // jscode2session answers 40226
   * ```
   */
  registerUser(registration: EmulatorUserRegistration): EmulatorUser {
    if (registration.id === '') throw new TypeError('registerUser: id is required');
    const user: EmulatorUser = Object.freeze({
      id: registration.id,
      nickname: registration.nickname ?? registration.id,
      unionid: registration.unionid ?? true,
      headimgurl: registration.headimgurl ?? `http://thirdwx.qlogo.cn/mmopen/vi_32/${digest(`avatar:${registration.id}`)}/132`,
      snapshot: registration.snapshot ?? false,
      highRisk: registration.highRisk ?? false,
    });
    this.users.set(user.id, user);
    return user;
  }

  /**
   * WeChatStrategy options that point at this emulator for one registered website app or
   * Official Account. Throws a TypeError for a Mini Program or a Mobile Application: see
   * {@link WeChatEmulator.miniProgramStrategyOptions} and {@link WeChatEmulator.appStrategyOptions}.
   *
   * @example
   * ```ts
   * passport.use(new WeChatStrategy({ ...emulator.strategyOptions(DEMO_WEBSITE_APP.appid), callbackURL }, verify));
   * ```
   */
  strategyOptions(appid: string): EmulatorStrategyOptions {
    const app = this.requireApp(appid);
    if (app.kind === 'miniprogram') {
      throw new TypeError(`strategyOptions: ${appid} is a Mini Program; use miniProgramStrategyOptions(appid) with WeChatMiniProgramStrategy`);
    }
    if (app.kind === 'mobile-app') {
      throw new TypeError(`strategyOptions: ${appid} is a Mobile Application; use appStrategyOptions(appid) with WeChatAppStrategy`);
    }
    const endpoints = this.endpoints;
    return {
      clientID: app.appid,
      clientSecret: app.secret,
      authorizationURL: app.kind === 'website' ? endpoints.authorizationURL : endpoints.officialAccountAuthorizationURL,
      tokenURL: endpoints.tokenURL,
      refreshTokenURL: endpoints.refreshTokenURL,
      userProfileURL: endpoints.userProfileURL,
      checkTokenURL: endpoints.checkTokenURL,
    };
  }

  /**
   * WeChatMiniProgramStrategy options that point at this emulator for one registered Mini Program.
   *
   * @example
   * ```ts
   * passport.use(new WeChatMiniProgramStrategy(emulator.miniProgramStrategyOptions(DEMO_MINIPROGRAM_APP.appid), verify));
   * ```
   */
  miniProgramStrategyOptions(appid: string): EmulatorMiniProgramStrategyOptions {
    const app = this.requireApp(appid, 'miniprogram', 'miniProgramStrategyOptions');
    return { clientID: app.appid, clientSecret: app.secret, sessionURL: this.endpoints.sessionURL };
  }

  /**
   * WeChatAppStrategy options that point at this emulator for one registered Mobile Application.
   *
   * @example
   * ```ts
   * passport.use(new WeChatAppStrategy(emulator.appStrategyOptions(DEMO_MOBILE_APP.appid), verify));
   * ```
   */
  appStrategyOptions(appid: string): EmulatorAppStrategyOptions {
    const app = this.requireApp(appid, 'mobile-app', 'appStrategyOptions');
    const { tokenURL, refreshTokenURL, userProfileURL, checkTokenURL } = this.endpoints;
    return { clientID: app.appid, clientSecret: app.secret, tokenURL, refreshTokenURL, userProfileURL, checkTokenURL };
  }

  /**
   * A code as if `user` had confirmed on the phone, for tests that skip the page — or, for a Mini
   * Program, as if it had called `wx.login()` (which also starts a new session key, see
   * {@link WeChatEmulator.sessionKeyFor}); for a Mobile Application, as if the Open SDK's
   * SendAuth had answered. `scope` defaults to `snsapi_login` (website) or `snsapi_userinfo`
   * (Official Account, Mobile Application, which has no other); a Mini Program code has none.
   *
   * @example
   * ```ts
   * const code = emulator.issueCode({ appid: DEMO_WEBSITE_APP.appid, user: 'alice' });
   * const jsCode = emulator.issueCode({ appid: DEMO_MINIPROGRAM_APP.appid, user: 'alice' }); // wx.login()
   * ```
   */
  issueCode(request: { readonly appid: string; readonly user: string; readonly scope?: WeChatScope }): string {
    const app = this.requireApp(request.appid);
    const user = this.requireUser(request.user);
    if (app.kind === 'miniprogram') {
      if (request.scope !== undefined) throw new TypeError('issueCode: a Mini Program code (wx.login()) has no scope');
      return this.createCode(this.grantFor(app, user, []), newSessionKey());
    }
    const allowed = CODE_SCOPES[app.kind];
    const scope = request.scope ?? allowed[0] ?? 'snsapi_login';
    if (!allowed.includes(scope)) throw new TypeError(`issueCode: ${app.kind} apps cannot use ${scope}`);
    return this.createCode(this.grantFor(app, user, [scope]));
  }

  /**
   * The session key of `user`'s latest `wx.login()` (code) in a Mini Program — what jscode2session
   * answers for that code — or undefined before the first one.
   */
  sessionKeyFor(appid: string, user: string): string | undefined {
    const app = this.requireApp(appid, 'miniprogram', 'sessionKeyFor');
    return this.sessionKeys.get(sessionId(app.appid, this.openidFor(appid, user)));
  }

  /**
   * Encrypts `payload` as WeChat does for a Mini Program's `encryptedData` (e.g. the phone-number
   * button): a `watermark` `{ appid, timestamp }` added, AES-128-CBC with the session key of
   * `user`'s latest `wx.login()` and a random iv, base64. Throws a TypeError before any `issueCode`.
   *
   * @example
   * ```ts
   * const code = emulator.issueCode({ appid: DEMO_MINIPROGRAM_APP.appid, user: 'alice' });
   * const { encryptedData, iv } = emulator.encryptUserData(DEMO_MINIPROGRAM_APP.appid, 'alice', {
   *   phoneNumber: '13580006666', purePhoneNumber: '13580006666', countryCode: '86',
   * });
   * ```
   */
  encryptUserData(appid: string, user: string, payload: Readonly<Record<string, unknown>>): EmulatorEncryptedData {
    const key = this.requireSessionKey(appid, user, 'encryptUserData');
    const watermark = { appid, timestamp: Math.floor(this.options.clock() / SECOND) };
    return encryptJson(key, { ...payload, watermark });
  }

  /**
   * What `wx.getUserInfo()` gives a Mini Program since 2022-11-08 (§6): "微信用户", the grey
   * avatar, no gender or region; `rawData` signed with `sha1(rawData + session_key)`, and the
   * same profile with `openId` (and `unionId`) encrypted like {@link WeChatEmulator.encryptUserData}.
   * Throws a TypeError before any `issueCode` for this user.
   */
  userInfoData(appid: string, user: string): EmulatorUserInfoData {
    const key = this.requireSessionKey(appid, user, 'userInfoData');
    const profile = { nickName: '微信用户', gender: 0, language: '', city: '', province: '', country: '', avatarUrl: MINIPROGRAM_DEFAULT_AVATAR };
    const rawData = JSON.stringify(profile);
    const signature = createHash('sha1').update(rawData + key, 'utf8').digest('hex');
    const grant = this.grantFor(this.requireApp(appid), this.requireUser(user), []);
    const ids = { openId: grant.openid, ...(grant.unionid === undefined ? {} : { unionId: grant.unionid }) };
    return { rawData, signature, ...this.encryptUserData(appid, user, { ...ids, ...profile }) };
  }

  /** The openid `user` has in `appid`: 28 characters, different per app (§0, §12.3). */
  openidFor(appid: string, user: string): string {
    return wechatId(`openid:${this.requireApp(appid).appid}`, this.requireUser(user).id);
  }

  /**
   * The unionid `user` has across the apps of one Open Platform account (`unionGroup`),
   * or undefined when the user has none.
   */
  unionidFor(user: string, unionGroup = 'default'): string | undefined {
    const found = this.requireUser(user);
    if (found.unionid === false) return undefined;
    return typeof found.unionid === 'string' ? found.unionid : wechatId(`unionid:${unionGroup}`, found.id);
  }

  /**
   * Acts out the browser and phone for an authorize URL without HTTP: validates it like the
   * page does, then confirms as `user` (default: the first registered user) or declines.
   * Not recorded in {@link WeChatEmulator.calls}.
   *
   * @example
   * ```ts
   * const outcome = emulator.authorize(redirectFromStrategy, { user: 'bob' });
   * if (outcome.type === 'redirect') await agent.get(new URL(outcome.location).pathname + new URL(outcome.location).search);
   * ```
   */
  authorize(authorizeUrl: string, choice: { readonly user?: string; readonly decline?: boolean } = {}): AuthorizeOutcome {
    const url = new URL(authorizeUrl);
    const route = routeOf(url.pathname);
    if (route.kind !== 'page') throw new TypeError(`authorize: not an authorize URL: ${url.pathname}`);
    const opened = this.openAuthorize(route.endpoint, url.searchParams);
    if (opened.type !== 'login-page') return opened;
    if (choice.decline === true) return this.decline(opened.request);
    const user = choice.user === undefined ? this.firstUser() : this.requireUser(choice.user);
    if (user === undefined) throw new TypeError('authorize: no test user is registered');
    return this.confirm(opened.request, user);
  }

  /**
   * Queues a one-shot fault for the next call to `target` (faults are taken in the order queued).
   *
   * @example
   * ```ts
   * emulator.failNext('access_token', { errcode: -1 });
   * emulator.failNext('userinfo', { status: 502, html: true });
   * emulator.failNext('any', { hang: true });
   * emulator.failNext('refresh_token', { body: '{"access_token":' });
   * emulator.failNext('jscode2session', { errcode: 45011 });
   * ```
   */
  failNext(target: FaultTarget, fault: EmulatorFault): void {
    if (!['access_token', 'refresh_token', 'userinfo', 'auth', 'jscode2session', 'any'].includes(target)) {
      throw new TypeError(`failNext: unknown target ${String(target)}`);
    }
    assertFault(fault);
    this.faults.push({ target, fault });
  }

  /** Adds a random delay to every API call; `null` removes it. */
  setLatency(range: LatencyRange | null): void {
    if (range !== null && !(range.minMs >= 0 && range.maxMs >= range.minMs)) {
      throw new RangeError('setLatency: need 0 <= minMs <= maxMs');
    }
    this.latency = range;
  }

  /** Forgets codes, tokens, session keys, queued faults, latency and the call log; keeps apps and users. */
  reset(): void {
    this.codes.clear();
    this.sessionKeys.clear();
    this.accessTokens.clear();
    this.refreshTokens.clear();
    this.faults.length = 0;
    this.log.length = 0;
    this.latency = null;
  }

  /** Stops the server, cutting hung requests and idle keep-alive sockets. Safe to call twice. */
  close(): Promise<void> {
    this.closing ??= new Promise<void>((resolve, reject) => {
      for (const timer of this.timers) clearTimeout(timer);
      this.timers.clear();
      this.server.close((error) => (error === undefined ? resolve() : reject(error)));
      this.server.closeAllConnections();
    });
    return this.closing;
  }

  // -- lifecycle -------------------------------------------------------------

  private listen(port: number, host: string): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
        this.server.off('error', reject);
        const address = this.server.address();
        if (address === null || typeof address === 'string') return reject(new Error('WeChatEmulator: no TCP address'));
        const hostPart = address.address.includes(':') ? `[${address.address}]` : address.address;
        this.baseUrl = `http://${hostPart}:${address.port}`;
        resolve();
      });
    });
  }

  private seedDemoData(): void {
    this.registerApp(DEMO_WEBSITE_APP);
    this.registerApp(DEMO_OFFICIAL_ACCOUNT_APP);
    this.registerApp(DEMO_MINIPROGRAM_APP);
    this.registerApp(DEMO_MOBILE_APP);
    for (const user of DEMO_USERS) this.registerUser(user);
  }

  private sleep(ms: number): Promise<void> {
    if (ms <= 0) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        resolve();
      }, ms);
      this.timers.add(timer);
    });
  }

  // -- lookups ---------------------------------------------------------------

  private requireApp(appid: string, kind?: WeChatAppKind, method = 'WeChatEmulator'): EmulatorApp {
    const app = this.apps.get(appid);
    if (app === undefined) throw new TypeError(`WeChatEmulator: no app ${appid} is registered`);
    if (kind !== undefined && app.kind !== kind) throw new TypeError(`${method}: ${appid} is a ${app.kind} app, not a ${kind} app`);
    return app;
  }

  private requireSessionKey(appid: string, user: string, method: string): string {
    const key = this.sessionKeyFor(appid, user);
    if (key === undefined) throw new TypeError(`${method}: ${user} has no session in ${appid} yet: issueCode() first (wx.login())`);
    return key;
  }

  private requireUser(id: string): EmulatorUser {
    const user = this.users.get(id);
    if (user === undefined) throw new TypeError(`WeChatEmulator: no user ${id} is registered`);
    return user;
  }

  private firstUser(): EmulatorUser | undefined {
    return this.users.values().next().value;
  }

  // -- request plumbing --------------------------------------------------------

  private onRequest(req: IncomingMessage, res: ServerResponse): void {
    this.dispatch(req, res).catch((error: unknown) => {
      if (!res.headersSent && !res.destroyed) this.write(res, plainReply(500, `WeChatEmulator: ${String(error)}`));
    });
  }

  private async dispatch(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://wechat-emulator.invalid');
    const method = req.method ?? 'GET';
    const route = routeOf(url.pathname);
    const base = this.callBase(route, method, url);
    if (route.kind === 'api') return this.handleApi(route.endpoint, method, url.searchParams, res, base);
    if (route.kind === 'page' && method === 'GET') return this.respond(res, base, this.pageReply(route.endpoint, url.searchParams));
    if (route.kind === 'form' && method === 'POST') return this.handleForm(route, req, res, base);
    if (route.kind === 'script' && method === 'GET') return this.respond(res, base, this.scriptReply());
    const reply = route.kind === 'not-found' ? gatewayReply(404) : plainReply(405, 'Method Not Allowed');
    return this.respond(res, base, reply);
  }

  private callBase(route: Route, method: string, url: URL): EmulatorCall {
    const paramOrder = [...url.searchParams.keys()];
    return {
      endpoint: endpointOf(route),
      method,
      path: url.pathname,
      query: redactParams(url.searchParams),
      paramOrder,
      ...(route.kind === 'page' ? { documentedOrder: isDocumentedOrder(paramOrder, isJssdk(route.endpoint, url.searchParams)) } : {}),
      status: 0,
      at: this.options.clock(),
    };
  }

  private respond(res: ServerResponse, base: EmulatorCall, reply: Reply): void {
    this.record(base, reply);
    this.write(res, reply);
  }

  private record(base: EmulatorCall, reply: Reply | null, fault?: EmulatorCall['fault']): void {
    const details = reply === null ? { fault } : this.replyDetails(reply);
    this.log.push(Object.freeze({ ...base, ...details }));
  }

  private replyDetails(reply: Reply): Partial<EmulatorCall> {
    const details: { -readonly [K in keyof EmulatorCall]?: EmulatorCall[K] } = { status: reply.status };
    if (reply.errcode !== undefined) details.errcode = reply.errcode;
    if (reply.errmsg !== undefined) details.errmsg = reply.errmsg;
    if (reply.location !== undefined) details.location = redactLocation(reply.location);
    if (reply.fault !== undefined) details.fault = reply.fault;
    return details;
  }

  private write(res: ServerResponse, reply: Reply): void {
    if (res.destroyed) return; // the client left, or close() cut the socket
    const headers: Record<string, string | number> = {
      'Content-Type': reply.contentType,
      'Content-Length': Buffer.byteLength(reply.body),
    };
    if (reply.location !== undefined) headers.Location = reply.location;
    res.writeHead(reply.status, headers);
    res.end(reply.body);
  }

  // -- the pages (open.weixin.qq.com) -----------------------------------------

  /** wxLogin.js, pointing its iframe at this emulator's QR page (§2.3). */
  private scriptReply(): Reply {
    return { status: 200, contentType: 'application/javascript; charset=utf-8', body: renderWxLoginScript(this.endpoints.authorizationURL) };
  }

  private pageReply(endpoint: EmulatorPageEndpoint, params: URLSearchParams): Reply {
    const opened = this.openAuthorize(endpoint, params);
    if (opened.type !== 'login-page') return this.outcomeReply(opened, pageLangOf(params));
    return htmlReply(renderLoginPage(this.loginView(opened.request, params)));
  }

  private async handleForm(
    route: Extract<Route, { kind: 'form' }>,
    req: IncomingMessage,
    res: ServerResponse,
    base: EmulatorCall,
  ): Promise<void> {
    const body = await readBody(req, 64 * 1024);
    if (body === null) return this.respond(res, base, plainReply(413, 'Payload Too Large'));
    const form = new URLSearchParams(body);
    const withForm: EmulatorCall = { ...base, form: redactParams(form) };
    this.respond(res, withForm, this.formReply(route.endpoint, route.decision, form));
  }

  /** The Confirm / Decline post: re-validates the hidden fields, since a browser can change them. */
  private formReply(endpoint: EmulatorPageEndpoint, decision: 'confirm' | 'decline', form: URLSearchParams): Reply {
    const request = this.validateAuthorize(endpoint, form);
    if ('zh' in request) return errorPageReply(request);
    if (decision === 'decline') return this.outcomeReply(this.decline(request), request.lang);
    const user = this.users.get(form.get('user') ?? '');
    if (user === undefined) return errorPageReply(PAGE_ERRORS.unknownUser, 400);
    return this.outcomeReply(this.confirm(request, user), request.lang);
  }

  private outcomeReply(outcome: AuthorizeOutcome, lang: PageLang): Reply {
    if (outcome.type === 'redirect') return { status: 302, contentType: 'text/html; charset=utf-8', body: '', location: outcome.location };
    if (outcome.type === 'declined-page') return htmlReply(renderDeclinedPage(lang));
    return errorPageReply({ errcode: outcome.errcode, zh: outcome.message, en: outcome.messageEn, hint: outcome.hint });
  }

  /** What opening an authorize URL in the browser leads to (§1.1, §3.1). */
  private openAuthorize(endpoint: EmulatorPageEndpoint, params: URLSearchParams): Opened {
    // NOTE: WeChat matches the authorize link with a strict regex; wrong order breaks the page (§3.1).
    if (this.options.strictParameterOrder && !isDocumentedOrder([...params.keys()], isJssdk(endpoint, params))) {
      return errorOutcome(PAGE_ERRORS.parameterOrder);
    }
    const request = this.validateAuthorize(endpoint, params);
    if ('zh' in request) return errorOutcome(request);
    const silentUser = this.shouldConfirmSilently(request) ? this.firstUser() : undefined;
    if (silentUser !== undefined) return this.confirm(request, silentUser);
    return { type: 'login-page', request, params };
  }

  /** snsapi_base is silent (§3.2) unless forcePopup=true asks for the popup (§3.1). */
  private shouldConfirmSilently(request: AuthorizeRequest): boolean {
    const baseOnly = request.scopes.every((scope) => scope === 'snsapi_base');
    return request.endpoint === 'oauth2/authorize' && baseOnly && this.options.autoConfirmBase && !request.forcePopup;
  }

  /** WeChat's checks, each answered with its HTML error page (§1.1, §3.4). */
  private validateAuthorize(endpoint: EmulatorPageEndpoint, params: URLSearchParams): AuthorizeRequest | ErrorPageView {
    const appid = params.get('appid') ?? '';
    if (appid === '') return PAGE_ERRORS.appidEmpty;
    const app = this.apps.get(appid);
    if (app === undefined) return PAGE_ERRORS.appidUnknown;
    // NOTE: Mini Programs and Mobile Applications sign in with a posted code; WeChat's page for their AppID is undocumented.
    if (app.kind === 'miniprogram' || app.kind === 'mobile-app') return PAGE_ERRORS.noWebLogin;
    const redirectUri = params.get('redirect_uri') ?? '';
    if (redirectUri === '') return PAGE_ERRORS.redirectEmpty;
    const scope = params.get('scope') ?? '';
    if (scope === '') return PAGE_ERRORS.scopeEmpty;
    const embedded = isJssdk(endpoint, params) ? embeddedViewOf(params) : null;
    // NOTE: wxLogin.js's iframe URL carries no response_type (§2.3); every other link needs `code`.
    const responseType = params.get('response_type');
    if (responseType !== 'code' && !(embedded !== null && responseType === null)) return PAGE_ERRORS.responseType;
    const scopes = this.permittedScopes(endpoint, app, scope);
    if (!Array.isArray(scopes)) return scopes;
    const problem = redirectUriProblem(app, redirectUri);
    if (problem !== null) return { ...PAGE_ERRORS.redirectDomain, hint: problem };
    return {
      endpoint,
      app,
      redirectUri,
      scopes,
      state: params.get('state'),
      lang: pageLangOf(params),
      forcePopup: params.get('forcePopup') === 'true',
      embedded,
    };
  }

  /** The scopes, or the page for an app of the wrong kind or a scope the page does not offer. */
  private permittedScopes(endpoint: EmulatorPageEndpoint, app: EmulatorApp, scope: string): WeChatScope[] | ErrorPageView {
    if (endpoint === 'oauth2/authorize' && app.kind === 'website') return PAGE_ERRORS.openPlatformAppid; // 10016 (§3.4)
    const pageError = endpoint === 'qrconnect' ? PAGE_ERRORS.scopeWebsite : PAGE_ERRORS.scopeOfficialAccount;
    // NOTE: an Official Account has no snsapi_login, so qrconnect answers it with the scope error (§1.1).
    if (endpoint === 'qrconnect' && app.kind === 'official-account') return pageError;
    return parseScopes(endpoint, scope) ?? pageError;
  }

  private loginView(request: AuthorizeRequest, params: URLSearchParams): LoginPageView {
    const passThrough = ['appid', 'redirect_uri', 'response_type', 'scope', 'state', 'lang', 'forcePopup', 'login_type', 'self_redirect'];
    const fields = passThrough.flatMap((name): Array<[string, string]> => {
      const value = params.get(name);
      return value === null ? [] : [[name, value]];
    });
    // NOTE: in wxLogin.js's iframe, the redirect goes to the top window unless self_redirect=true (§2.2).
    const top = request.embedded !== null && request.embedded.selfRedirect !== 'true';
    // A decline WeChat answers with its own page (declineBehaviour 'stay') stays inside the iframe.
    const declineTop = top && this.options.declineBehaviour === 'redirect';
    return {
      endpoint: request.endpoint,
      appName: request.app.name,
      lang: request.lang,
      scopes: request.scopes,
      fields,
      users: [...this.users.values()].map((user) => ({ id: user.id, nickname: user.nickname })),
      formTarget: top ? '_top' : '_self',
      declineTarget: declineTop ? '_top' : '_self',
      qrSeed: `${request.app.appid}:${request.state ?? ''}:${this.options.clock()}`,
      embedded: request.embedded,
    };
  }

  /** Confirm: a single-use code, then `redirect_uri?code=CODE&state=STATE` (§1.2). */
  private confirm(request: AuthorizeRequest, user: EmulatorUser): AuthorizeOutcome {
    const code = this.createCode(this.grantFor(request.app, user, request.scopes));
    const params: Array<[string, string]> = [['code', code]];
    if (request.state !== null) params.push(['state', request.state]);
    return { type: 'redirect', location: appendQuery(request.redirectUri, params), code };
  }

  /** Decline: no redirect in practice, or `redirect_uri?state=STATE` per the old doc (§1.2). */
  private decline(request: AuthorizeRequest): AuthorizeOutcome {
    if (this.options.declineBehaviour === 'stay') return { type: 'declined-page' };
    const params: Array<[string, string]> = request.state === null ? [] : [['state', request.state]];
    return { type: 'redirect', location: appendQuery(request.redirectUri, params) };
  }

  private grantFor(app: EmulatorApp, user: EmulatorUser, scopes: readonly WeChatScope[]): Grant {
    const wantsProfile = scopes.includes('snsapi_userinfo');
    // NOTE: OA tokens carry unionid only for snsapi_userinfo, and any app only when bound to an Open Platform account (§3.2, §4, §8).
    const group = app.kind !== 'official-account' || wantsProfile ? app.unionGroup : null;
    return {
      app,
      user,
      scopes,
      openid: this.openidFor(app.appid, user.id),
      unionid: group === null ? undefined : this.unionidFor(user.id, group),
      snapshot: app.kind === 'official-account' && wantsProfile && user.snapshot,
    };
  }

  /** A single-use code; a Mini Program's also starts the user's new session (its key is the latest). */
  private createCode(grant: Grant, sessionKey?: string): string {
    const code = newCode();
    const expiresAt = this.options.clock() + this.options.codeTtlMs[grant.app.kind];
    this.codes.set(code, { grant, expiresAt, sessionKey, used: false });
    if (sessionKey !== undefined) this.sessionKeys.set(sessionId(grant.app.appid, grant.openid), sessionKey);
    return code;
  }

  // -- the API (api.weixin.qq.com) ---------------------------------------------

  private async handleApi(
    endpoint: EmulatorApiEndpoint,
    method: string,
    params: URLSearchParams,
    res: ServerResponse,
    base: EmulatorCall,
  ): Promise<void> {
    // NOTE: every sns call is a GET with query parameters; the docs give no POST form (§0).
    if (method !== 'GET') return this.respond(res, base, plainReply(405, 'Method Not Allowed'));
    const fault = this.takeFault(endpoint); // taken on arrival, so faults follow the order calls arrive in
    const delayMs = fault !== undefined && 'delayMs' in fault ? fault.delayMs : 0;
    await this.sleep(this.randomLatency() + delayMs);
    if (fault !== undefined && 'hang' in fault) return this.record(base, null, 'hang');
    this.respond(res, base, this.replyWith(fault, endpoint, params));
  }

  private replyWith(fault: Exclude<EmulatorFault, HangFault> | undefined, endpoint: EmulatorApiEndpoint, params: URLSearchParams): Reply {
    if (fault === undefined) return this.jsonReply(this.answer(endpoint, params));
    if ('delayMs' in fault) return { ...this.jsonReply(this.answer(endpoint, params)), fault: 'delay' };
    return this.faultReply(fault, endpoint, params);
  }

  private takeFault(endpoint: EmulatorApiEndpoint): EmulatorFault | undefined {
    const index = this.faults.findIndex((entry) => entry.target === endpoint || entry.target === 'any');
    if (index === -1) return undefined;
    return this.faults.splice(index, 1)[0]?.fault;
  }

  private randomLatency(): number {
    if (this.latency === null) return 0;
    return this.latency.minMs + Math.random() * (this.latency.maxMs - this.latency.minMs);
  }

  private faultReply(fault: ErrcodeFault | HttpErrorFault | RawBodyFault, endpoint: EmulatorApiEndpoint, params: URLSearchParams): Reply {
    const kind = describeFault(fault);
    if ('html' in fault) return { ...gatewayReply(fault.status), fault: kind };
    if ('body' in fault) {
      const contentType = fault.contentType ?? this.options.contentType;
      return { status: fault.status ?? 200, contentType, body: fault.body, fault: kind };
    }
    if (fault.afterProcessing === true) this.answer(endpoint, params);
    return { ...this.jsonReply({ errcode: fault.errcode, errmsg: fault.errmsg }), fault: kind };
  }

  private answer(endpoint: EmulatorApiEndpoint, params: URLSearchParams): ApiResult {
    switch (endpoint) {
      case 'access_token':
        return this.exchangeCode(params);
      case 'refresh_token':
        return this.refresh(params);
      case 'userinfo':
        return this.userinfo(params);
      case 'auth':
        return this.checkToken(params);
      case 'jscode2session':
        return this.codeToSession(params);
    }
  }

  /** HTTP 200 whatever happened, JSON in a `text/plain` body by default (§0). */
  private jsonReply(result: ApiResult): Reply {
    const contentType = this.options.contentType === 'application/json' ? 'application/json; charset=utf-8' : 'text/plain';
    if ('body' in result) {
      const errcode = result.body.errcode;
      return { status: 200, contentType, body: encodeJson(result.body), errcode: typeof errcode === 'number' ? errcode : undefined };
    }
    const errmsg = result.errmsg ?? ERRMSG[result.errcode] ?? 'unknown error';
    // NOTE: newer WeChat errmsgs end in ", rid: xxxxxxxx-xxxxxxxx-xxxxxxxx" (§0).
    const body = encodeJson({ errcode: result.errcode, errmsg: `${errmsg}, rid: ${ridFor(this.options.clock())}` });
    return { status: 200, contentType, body, errcode: result.errcode, errmsg };
  }

  /** The app for appid, or the 41002 / 40013 answer (§9). */
  private appFor(params: URLSearchParams): EmulatorApp | ApiResult {
    const appid = params.get('appid') ?? '';
    if (appid === '') return { errcode: 41002 };
    return this.apps.get(appid) ?? { errcode: 40013 };
  }

  /** The app for appid on an OAuth endpoint: a Mini Program has no OAuth codes or tokens, so 40013 (§8, §9). */
  private oauthAppFor(params: URLSearchParams): EmulatorApp | ApiResult {
    const app = this.appFor(params);
    if ('appid' in app && app.kind === 'miniprogram') return { errcode: 40013 };
    return app;
  }

  /** The 41004 / 40125 answer for a missing or wrong secret, or null when it is the app's. */
  private secretProblem(app: EmulatorApp, params: URLSearchParams): ApiResult | null {
    const secret = params.get('secret') ?? '';
    if (secret === '') return { errcode: 41004 };
    return secret === app.secret ? null : { errcode: 40125 };
  }

  /** Spends a code of this app, or answers 40029 (unknown, another app's, expired) / 40163 (used) (§1.3). */
  private spendCode(app: EmulatorApp, code: string): CodeRecord | ApiResult {
    const record = this.codes.get(code);
    // NOTE: a code of another app is as unknown as a made-up one (§1.3).
    if (record === undefined || record.grant.app.appid !== app.appid) return { errcode: 40029 };
    if (record.used) return { errcode: 40163 }; // "code been used" (§1.3, §8)
    // NOTE: expired answers 40029 like an unknown code (staff: 40029 = invalid oauth_code); 42003 is rarely seen (§1.3).
    if (this.options.clock() >= record.expiresAt) return { errcode: 40029 };
    record.used = true;
    return record;
  }

  /** `sns/oauth2/access_token` (§4, §1.3): website apps, Official Accounts and Mobile Applications. */
  private exchangeCode(params: URLSearchParams): ApiResult {
    const app = this.oauthAppFor(params);
    if (!('appid' in app)) return app;
    const secretProblem = this.secretProblem(app, params);
    if (secretProblem !== null) return secretProblem;
    const code = params.get('code') ?? '';
    if (code === '') return { errcode: 41008 };
    if (params.get('grant_type') !== 'authorization_code') return { errcode: 40002 };
    const record = this.spendCode(app, code);
    if (!('grant' in record)) return record;
    return { body: this.issueTokens(record.grant) };
  }

  /** `sns/jscode2session` (code2Session, §8): a Mini Program's `wx.login()` code for openid, unionid and session_key. */
  private codeToSession(params: URLSearchParams): ApiResult {
    const appid = params.get('appid') ?? '';
    if (appid === '') return { errcode: 41002 };
    const app = this.apps.get(appid);
    // NOTE: only a Mini Program AppID has code2Session; any other is as invalid as an unknown one (§8, §9).
    if (app === undefined || app.kind !== 'miniprogram') return { errcode: 40013 };
    const secretProblem = this.secretProblem(app, params);
    if (secretProblem !== null) return secretProblem;
    const jsCode = params.get('js_code') ?? '';
    if (jsCode === '') return { errcode: 41008 };
    if (params.get('grant_type') !== 'authorization_code') return { errcode: 40002 };
    const record = this.spendCode(app, jsCode);
    if (!('grant' in record)) return record;
    // NOTE: a high-risk user's code is spent, then refused: "code blocked" (§8).
    if (record.grant.user.highRisk) return { errcode: 40226 };
    const { openid, unionid } = record.grant;
    // NOTE: no errcode on success, whatever the doc's example shows (§8).
    return { body: { session_key: record.sessionKey ?? newSessionKey(), openid, ...(unionid === undefined ? {} : { unionid }) } };
  }

  private issueTokens(grant: Grant): JsonObject {
    const now = this.options.clock();
    const accessToken = newToken();
    const refreshToken = newToken();
    this.accessTokens.set(accessToken, { grant, expiresAt: now + this.options.accessTokenTtlMs });
    this.refreshTokens.set(refreshToken, { grant, expiresAt: now + this.options.refreshTokenTtlMs, accessToken });
    return {
      access_token: accessToken,
      expires_in: this.options.accessTokenTtlMs / SECOND,
      refresh_token: refreshToken,
      openid: grant.openid,
      scope: grant.scopes.join(','),
      ...(grant.snapshot ? { is_snapshotuser: 1 } : {}), // present only when 1 (§3.2)
      ...(grant.unionid === undefined ? {} : { unionid: grant.unionid }),
    };
  }

  /** `sns/oauth2/refresh_token`: no secret; same token, reset expiry, unless expired (§5). */
  private refresh(params: URLSearchParams): ApiResult {
    const app = this.oauthAppFor(params);
    if (!('appid' in app)) return app;
    if (params.get('grant_type') !== 'refresh_token') return { errcode: 40002 };
    const token = params.get('refresh_token') ?? '';
    if (token === '') return { errcode: 41003 };
    const record = this.refreshTokens.get(token);
    const now = this.options.clock();
    // NOTE: expired answers 40030 like an invalid token, as observed (§5); 42002 is in the table but unconfirmed.
    if (record === undefined || record.grant.app.appid !== app.appid || now >= record.expiresAt) return { errcode: 40030 };
    const accessToken = this.renewAccessToken(record, now);
    const refreshToken = this.options.rotateRefreshToken ? this.rotate(token, record) : token;
    return {
      body: {
        access_token: accessToken,
        expires_in: this.options.accessTokenTtlMs / SECOND,
        refresh_token: refreshToken,
        openid: record.grant.openid,
        scope: record.grant.scopes.join(','),
      },
    };
  }

  /** Same access_token with a fresh expiry while valid; a new one once expired (§5). */
  private renewAccessToken(record: RefreshTokenRecord, now: number): string {
    const current = this.accessTokens.get(record.accessToken);
    const expiresAt = now + this.options.accessTokenTtlMs;
    if (current !== undefined && now < current.expiresAt) {
      current.expiresAt = expiresAt;
      return record.accessToken;
    }
    this.accessTokens.delete(record.accessToken);
    const fresh = newToken();
    this.accessTokens.set(fresh, { grant: record.grant, expiresAt });
    record.accessToken = fresh;
    return fresh;
  }

  /** A new refresh_token with the old one's expiry: it "cannot be extended" (§5). */
  private rotate(oldToken: string, record: RefreshTokenRecord): string {
    const fresh = newToken();
    this.refreshTokens.delete(oldToken);
    this.refreshTokens.set(fresh, record);
    return fresh;
  }

  /** The access_token record for `access_token` + `openid`, or the 41001 / 41009 / unknown / 42001 / 40003 answer. */
  private tokenFor(params: URLSearchParams, unknownErrcode: number): AccessTokenRecord | ApiResult {
    const token = params.get('access_token') ?? '';
    if (token === '') return { errcode: 41001 };
    const openid = params.get('openid') ?? '';
    if (openid === '') return { errcode: 41009 };
    const record = this.accessTokens.get(token);
    if (record === undefined) return { errcode: unknownErrcode };
    if (this.options.clock() >= record.expiresAt) return { errcode: 42001 };
    if (record.grant.openid !== openid) return { errcode: 40003 };
    return record;
  }

  /** `sns/userinfo` in its post-2021 shape (§6). */
  private userinfo(params: URLSearchParams): ApiResult {
    const record = this.tokenFor(params, 40001);
    if (!('grant' in record)) return record;
    const { grant } = record;
    const profileScope = grant.scopes.includes('snsapi_userinfo') || grant.scopes.includes('snsapi_login');
    // NOTE: snsapi_base tokens and snapshot-page virtual users get 48001 (§3.2, §6).
    if (!profileScope || grant.snapshot) return { errcode: 48001 };
    const lang = params.get('lang') ?? '';
    // NOTE: WeChat's answer to a bad lang is undocumented; 40097 "invalid args" is the generic one (§6, §9).
    if (lang !== '' && !USERINFO_LANGS.includes(lang)) return { errcode: 40097 };
    return { body: this.profileOf(grant) };
  }

  /** Since 2021-10-20: `sex` 0 and empty region fields; `language` is `""` (§6). */
  private profileOf(grant: Grant): JsonObject {
    return {
      openid: grant.openid,
      nickname: grant.user.nickname,
      sex: 0,
      language: '',
      city: '',
      province: '',
      country: '',
      headimgurl: grant.user.headimgurl,
      privilege: [],
      ...(grant.unionid === undefined ? {} : { unionid: grant.unionid }),
    };
  }

  /** `sns/auth`: the one endpoint that says `{"errcode":0,"errmsg":"ok"}` on success (§7). */
  private checkToken(params: URLSearchParams): ApiResult {
    const record = this.tokenFor(params, 40003);
    if (!('grant' in record)) return record;
    return { body: { errcode: 0, errmsg: 'ok' } };
  }
}
