/**
 * The public types of `passport-wechat-oauth2/testing`: the emulator's options, its apps and
 * users, the faults it can inject, the calls it records and the strategy options it hands out.
 * Types only, no code.
 *
 * Every behaviour cites the fact it copies in docs/wechat-protocol.md (by anchor).
 */

/**
 * Which WeChat product an AppID belongs to: a Website App (qrconnect), an Official Account
 * (oauth2/authorize), a Mini Program (`wx.login()` + jscode2session) or a Mobile Application
 * (the Open SDK's SendAuth + sns/oauth2/access_token). The last two have no web login page.
 */
export type WeChatAppKind = 'website' | 'official-account' | 'miniprogram' | 'mobile-app';

/** The scopes WeChat knows for web login (docs/wechat-protocol.md#scopes-per-login-page). */
export type WeChatScope = 'snsapi_login' | 'snsapi_base' | 'snsapi_userinfo';

/**
 * What the emulated user's Decline does. `'redirect'` follows the old/English doc
 * (`redirect_uri?state=STATE`, no code); `'stay'` follows the current Chinese doc and
 * what developers report in practice: no redirect at all (docs/wechat-protocol.md#declined-logins).
 */
export type DeclineBehaviour = 'stay' | 'redirect';

/** Content-Type of the JSON API answers. WeChat is often `text/plain` (docs/wechat-protocol.md#cross-cutting-json-sent-as-plain-text). */
export type EmulatorContentType = 'text/plain' | 'application/json';

/**
 * The `api.weixin.qq.com` endpoints, by short name: the `sns/*` GETs, and two POSTs with a JSON
 * body — `cgi-bin/stable_token` (the app's own access token) and `wxa/business/getuserphonenumber`
 * (a Mini Program user's phone number, for the code of `<button open-type="getPhoneNumber">`).
 */
export type EmulatorApiEndpoint =
  | 'access_token'
  | 'refresh_token'
  | 'userinfo'
  | 'auth'
  | 'jscode2session'
  | 'stable_token'
  | 'getuserphonenumber';

/** The `open.weixin.qq.com` pages, by short name. */
export type EmulatorPageEndpoint = 'qrconnect' | 'oauth2/authorize';

/** Every endpoint name that can appear in {@link EmulatorCall.endpoint}. */
export type EmulatorEndpoint =
  | EmulatorApiEndpoint
  | EmulatorPageEndpoint
  | `${EmulatorPageEndpoint}/confirm`
  | `${EmulatorPageEndpoint}/decline`
  | 'wxLogin.js'
  | 'avatar'
  | 'not-found';

/** Which API endpoint a queued fault applies to; `'any'` means the next API call, whichever it is. */
export type FaultTarget = EmulatorApiEndpoint | 'any';

/** Answer with a WeChat error body, e.g. `{ errcode: -1 }` (errmsg defaults to WeChat's text for that code). */
export interface ErrcodeFault {
  readonly errcode: number;
  readonly errmsg?: string;
  /**
   * Do the real work first (spend the code, issue tokens), then answer with the error —
   * as seen when a retry after `-1 system error` got 40163 (docs/wechat-protocol.md#codes-lifetime-and-single-use).
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
  /** @defaultValue 'redirect' (so demos can show the failure page; real WeChat usually stays, docs/wechat-protocol.md#declined-logins) */
  readonly declineBehaviour?: DeclineBehaviour;
  /** @defaultValue 'text/plain' (docs/wechat-protocol.md#cross-cutting-json-sent-as-plain-text) */
  readonly contentType?: EmulatorContentType;
  /**
   * Code lifetime in seconds: one number for every kind of code, or per kind — `qrconnect`
   * (website apps), `authorize` (Official Accounts), `miniprogram` (`wx.login()` codes), `app`
   * (Mobile Application codes from the Open SDK) and `phone` (the phone-number button's codes,
   * {@link WeChatEmulator.issuePhoneCode}: "valid 5 minutes, once", per getuserphonenumber's doc).
   * @defaultValue `{ qrconnect: 600, authorize: 300, miniprogram: 300, app: 600, phone: 300 }` (docs/wechat-protocol.md#codes-lifetime-and-single-use)
   */
  readonly codeTtlSeconds?:
    | number
    | {
        readonly qrconnect?: number;
        readonly authorize?: number;
        readonly miniprogram?: number;
        readonly app?: number;
        readonly phone?: number;
      };
  /** @defaultValue 7200 (docs/wechat-protocol.md#token-exchange-answer) */
  readonly accessTokenTtlSeconds?: number;
  /** @defaultValue 2592000 = 30 days, not renewable (docs/wechat-protocol.md#refresh-lifetimes) */
  readonly refreshTokenTtlSeconds?: number;
  /**
   * Lifetime of an app access token from `cgi-bin/stable_token`, in seconds. WeChat hands out a
   * new token in the last 5 minutes of the old one (both stay valid until the old one expires);
   * with a lifetime of 10 minutes or less, the emulator renews in the last half instead, so a
   * short test lifetime still has a stretch where the same token comes back.
   * @defaultValue 7200
   */
  readonly appTokenTtlSeconds?: number;
  /** The limits of `cgi-bin/stable_token`; lower them to test what an app does at the limit. */
  readonly stableTokenQuota?: StableTokenQuota;
  /** Issue a new refresh_token on every refresh (the old one stops working). @defaultValue false (docs/wechat-protocol.md#refresh-lifetimes: unconfirmed) */
  readonly rotateRefreshToken?: boolean;
  /**
   * `snsapi_base` is silent in WeChat (docs/wechat-protocol.md#official-account-silent-and-consent-scopes): skip the page and confirm as the first
   * registered user, unless the URL has `forcePopup=true`. @defaultValue true
   */
  readonly autoConfirmBase?: boolean;
  /**
   * Show an error page ("该链接无法访问") when the authorize query is not in WeChat's documented
   * order (appid, redirect_uri, response_type, scope[, state]), as WeChat's "strict regex" check
   * does (docs/wechat-protocol.md#parameter-order). Applies to both pages. wxLogin.js's iframe URL (`login_type=jssdk`) has an order
   * of its own, which real qrconnect accepts: it is held to that order instead (docs/wechat-protocol.md#embedded-qr-the-iframe-the-script-builds). `false`
   * loosens the check: any order is accepted, and only recorded in
   * {@link EmulatorCall.documentedOrder}.
   * @defaultValue true (WeChat's behaviour)
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

/**
 * The limits of `cgi-bin/stable_token`, per app. A call over a limit answers 45009 ("reach max
 * api daily quota limit"). Days are Beijing days (UTC+8), minutes are clock minutes.
 */
export interface StableTokenQuota {
  /** Normal-mode calls (`force_refresh` false or absent) a minute. @defaultValue 10000 */
  readonly perMinute?: number;
  /** Normal-mode calls a day. @defaultValue 500000 */
  readonly perDay?: number;
  /** Calls with `force_refresh: true` that replace the token, a day; the next one answers 45009. @defaultValue 20 */
  readonly forceRefreshPerDay?: number;
  /**
   * A `force_refresh: true` call less than this long after the last one that replaced the token
   * does not refresh: it answers the token in force, as a normal call would, and does not count
   * against `forceRefreshPerDay` (the emulator's reading of WeChat's "30 s apart").
   * @defaultValue 30
   */
  readonly forceRefreshIntervalSeconds?: number;
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
   * `www.qq.com` does not cover `pay.qq.com` (docs/wechat-protocol.md#official-account-callback-domain-rules). Required for `website` and
   * `official-account` apps; Mini Programs and Mobile Applications have no redirect, so none.
   */
  readonly callbackDomains?: readonly string[];
  /** Accept a redirect_uri with a non-default port. WeChat does not (docs/wechat-protocol.md#website-qr-login-callback-domain-and-ports). @defaultValue false */
  readonly allowPorts?: boolean;
  /**
   * The Open Platform account the app is bound to: apps in one group share unionids.
   * `null` = not bound, so no unionid is ever returned (docs/wechat-protocol.md#token-exchange-answer). @defaultValue 'default'
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
  /**
   * `''` = the user has no avatar (docs/wechat-protocol.md#user-info-the-avatar-url). An avatar on
   * WeChat's avatar host (`http://thirdwx.qlogo.cn/mmopen/…`) is answered in `sns/userinfo` on the
   * emulator's own host (`<emulator.url>/mmopen/…`), which serves a picture for it: avatars work
   * offline. @defaultValue a derived `http://thirdwx.qlogo.cn/mmopen/vi_32/<id>/132`
   */
  readonly headimgurl?: string;
  /** A snapshot-page virtual account: on Official Accounts with snsapi_userinfo (docs/wechat-protocol.md#official-account-snapshot-page-users). @defaultValue false */
  readonly snapshot?: boolean;
  /**
   * WeChat rates the user high-risk: jscode2session spends their code and answers 40226
   * `code blocked` (docs/wechat-protocol.md#mini-program-errors). Other logins are not affected. @defaultValue false
   */
  readonly highRisk?: boolean;
  /**
   * The phone number bound to the user's WeChat account, digits only, without the country code
   * (getuserphonenumber's `purePhoneNumber`), e.g. `'13800138000'`. Without one, the user has no
   * phone code to give ({@link WeChatEmulator.issuePhoneCode} throws). @defaultValue none
   */
  readonly phoneNumber?: string;
  /**
   * The country calling code of `phoneNumber`, digits only. Outside China (`'86'`), getuserphonenumber's
   * `phoneNumber` carries it (`'1'` and `'4155550123'` → `'+14155550123'`: WeChat says only that it "has the
   * area code"; the emulator writes it E.164-style) while `purePhoneNumber` never does. @defaultValue '86'
   */
  readonly phoneCountryCode?: string;
}

/** A registered user, as the emulator holds it. */
export interface EmulatorUser {
  readonly id: string;
  readonly nickname: string;
  readonly unionid: boolean | string;
  readonly headimgurl: string;
  readonly snapshot: boolean;
  readonly highRisk: boolean;
  /** Digits without the country code, or null when the user has no phone number. */
  readonly phoneNumber: string | null;
  readonly phoneCountryCode: string;
}

/**
 * One request the emulator received. Secrets, codes (`code`, `js_code`) and tokens are
 * `'[redacted]'` wherever they appear — `query`, `form` and `location`, each occurrence, whatever
 * the key's letter case (`SECRET=`, `Code=`); no answer body is kept, so no session key is either.
 */
export interface EmulatorCall {
  readonly endpoint: EmulatorEndpoint;
  readonly method: string;
  readonly path: string;
  /** The query string parameters (the last value of repeated keys). */
  readonly query: Readonly<Record<string, string>>;
  /** The posted form, for the Confirm / Decline posts. */
  readonly form?: Readonly<Record<string, string>>;
  /**
   * The posted JSON object, for `stable_token` and `getuserphonenumber`, with `secret`, `code`
   * and tokens redacted at any depth; absent when the body was not a JSON object.
   */
  readonly body?: Readonly<Record<string, unknown>>;
  /** The query keys in the order they were sent. */
  readonly paramOrder: readonly string[];
  /**
   * Pages only: whether the query followed WeChat's documented order (docs/wechat-protocol.md#parameter-order), or for
   * wxLogin.js's iframe (`login_type=jssdk`) the script's own order (docs/wechat-protocol.md#embedded-qr-the-iframe-the-script-builds).
   */
  readonly documentedOrder?: boolean;
  /** HTTP status; 0 when a {@link HangFault} kept it from answering. */
  readonly status: number;
  /** The errcode of a JSON answer (0 for sns/auth "ok"), or the number of an error page. */
  readonly errcode?: number;
  /** The errmsg without its rid suffix, or the English text of an error page. */
  readonly errmsg?: string;
  /** Where a 302 pointed, with every code and token redacted (the query's and the fragment's). */
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
   * The stand-in for `https://res.wx.qq.com/connect/zh_CN/htmledition/js/wxLogin.js` (docs/wechat-protocol.md#embedded-qr-the-script): its
   * `new WxLogin({...})` puts the emulator's QR page in an iframe, as WeChat's script does.
   */
  readonly wxLoginScriptURL: string;
  readonly tokenURL: string;
  readonly refreshTokenURL: string;
  readonly userProfileURL: string;
  readonly checkTokenURL: string;
  /** The Mini Program login (`/sns/jscode2session`, code2Session, docs/wechat-protocol.md#mini-program-code2session). */
  readonly sessionURL: string;
  /** The app access token (`POST /cgi-bin/stable_token`, JSON body). */
  readonly stableTokenURL: string;
  /** A Mini Program user's phone number (`POST /wxa/business/getuserphonenumber?access_token=…`, JSON body `{ code }`). */
  readonly phoneNumberURL: string;
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
  /** Where the strategy gets the app access token that getuserphonenumber needs. */
  readonly stableTokenURL: string;
  /** Where the strategy exchanges a posted phone code (`phoneNumber: 'optional' | 'required'`). */
  readonly phoneNumberURL: string;
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
