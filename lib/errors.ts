/**
 * Errors raised by passport-wechat-oauth2. Each class answers one question:
 *
 * - {@link WeChatOptionsError}: the strategy was configured wrongly: thrown by the constructor, or
 *   raised at login time for a per-call option (`passport.authenticate(name, { flow, scope, callbackURL })`).
 * - {@link WeChatRequestError}: WeChat could not be reached, or did not answer in time.
 * - {@link WeChatResponseError}: WeChat answered something we cannot read (HTML, bad JSON, too large).
 * - {@link WeChatAPIError}: WeChat answered `{errcode, errmsg}`: it said no. Its subclasses say who
 *   must act: {@link WeChatCodeError} (the user: log in again), {@link WeChatCredentialsError}
 *   (the operator: fix AppID/AppSecret), {@link WeChatTokenError} (the app: refresh or re-login),
 *   {@link WeChatUserBlockedError} (WeChat refuses this Mini Program user).
 * - {@link WeChatUserDataError}: data a Mini Program posted cannot be decrypted or trusted.
 *
 * No message, property or cause of these errors ever holds the AppSecret, a code, a token or a session key.
 *
 * @packageDocumentation
 */

/** Stable, machine-readable error codes. Branch on these, never on `message`. */
export type WeChatErrorCode =
  | 'WECHAT_INVALID_OPTIONS'
  | 'WECHAT_TIMEOUT'
  | 'WECHAT_NETWORK_ERROR'
  | 'WECHAT_HTTP_ERROR'
  | 'WECHAT_REDIRECT'
  | 'WECHAT_RESPONSE_TOO_LARGE'
  | 'WECHAT_MALFORMED_RESPONSE'
  | 'WECHAT_INVALID_CODE'
  | 'WECHAT_INVALID_PHONE_CODE'
  | 'WECHAT_PHONE_WRONG_APPID'
  | 'WECHAT_BAD_CREDENTIALS'
  | 'WECHAT_INVALID_TOKEN'
  | 'WECHAT_INVALID_REFRESH_TOKEN'
  | 'WECHAT_SCOPE_UNAUTHORIZED'
  | 'WECHAT_RATE_LIMITED'
  | 'WECHAT_SYSTEM_BUSY'
  | 'WECHAT_API_ERROR'
  | 'WECHAT_USER_BLOCKED'
  | 'WECHAT_USERDATA_MALFORMED'
  | 'WECHAT_USERDATA_UNDECRYPTABLE'
  | 'WECHAT_USERDATA_WRONG_APPID';

/** The base class of every error this package raises. */
export class WeChatError extends Error {
  /** A stable identifier of what went wrong, e.g. `'WECHAT_INVALID_CODE'`. */
  readonly code: WeChatErrorCode;
  /**
   * True when the same call may succeed if tried again later (WeChat busy, rate limit, timeout).
   * A login code is single-use: after a failed exchange start a new login, never resend the code.
   */
  readonly retryable: boolean;
  /** WeChat's numeric `errcode`, when WeChat sent one. */
  readonly errcode: number | undefined;
  /** WeChat's `errmsg` without the `rid:` suffix, when WeChat sent one. */
  readonly errmsg: string | undefined;
  /** WeChat's request id (the `rid:` / `req_id:` suffix of errmsg): quote it to WeChat support. */
  readonly rid: string | undefined;
  /** The HTTP status WeChat answered with, when relevant. */
  readonly status: number | undefined;

  /** `init`: the stable code and what WeChat sent; `cause` is kept as the standard `Error.cause`. */
  constructor(
    message: string,
    init: {
      code: WeChatErrorCode;
      retryable?: boolean;
      errcode?: number;
      errmsg?: string;
      status?: number;
      cause?: unknown;
    },
  ) {
    super(message, init.cause === undefined ? undefined : { cause: init.cause });
    this.name = new.target.name;
    this.code = init.code;
    this.retryable = init.retryable ?? false;
    this.errcode = init.errcode;
    const parsed = init.errmsg === undefined ? undefined : splitErrmsg(init.errmsg);
    this.errmsg = parsed?.text;
    this.rid = parsed?.rid;
    this.status = init.status;
  }

  /** What `JSON.stringify` shows: every field a log needs, never a secret. */
  toJSON(): Record<string, unknown> {
    return {
      name: this.name,
      code: this.code,
      message: this.message,
      retryable: this.retryable,
      errcode: this.errcode,
      errmsg: this.errmsg,
      rid: this.rid,
      status: this.status,
    };
  }
}

/**
 * Options are wrong: the strategy's (thrown by the constructor) or a login's (`passport.authenticate`
 * options, raised through Passport's `error`). The message names the option, never its value.
 */
export class WeChatOptionsError extends WeChatError {
  constructor(message: string) {
    super(message, { code: 'WECHAT_INVALID_OPTIONS' });
  }
}

/** WeChat could not be reached, or did not answer within the timeout. */
export class WeChatRequestError extends WeChatError {
  constructor(message: string, init: { code: 'WECHAT_TIMEOUT' | 'WECHAT_NETWORK_ERROR'; cause?: unknown }) {
    super(message, { ...init, retryable: true });
  }
}

/** WeChat (or something in between) answered with something that is not a WeChat API answer. */
export class WeChatResponseError extends WeChatError {
  constructor(
    message: string,
    init: {
      code: 'WECHAT_HTTP_ERROR' | 'WECHAT_REDIRECT' | 'WECHAT_RESPONSE_TOO_LARGE' | 'WECHAT_MALFORMED_RESPONSE' | 'WECHAT_PHONE_WRONG_APPID';
      status?: number;
      cause?: unknown;
    },
  ) {
    // A 5xx from a proxy or WeChat's front end is worth another try later; bad JSON on 200 is not.
    super(message, { ...init, retryable: init.status !== undefined && init.status >= 500 });
  }
}

/** WeChat answered `{errcode, errmsg}` with a non-zero errcode. */
export class WeChatAPIError extends WeChatError {
  declare readonly errcode: number;
}

/** The login code is invalid, expired or already used: the user must log in again (a Passport `fail`). */
export class WeChatCodeError extends WeChatAPIError {}

/** WeChat rejected the AppID or AppSecret: an operator must fix the strategy's options. */
export class WeChatCredentialsError extends WeChatAPIError {}

/** An access or refresh token is invalid or expired: refresh it, or ask the user to log in again. */
export class WeChatTokenError extends WeChatAPIError {}

/**
 * WeChat refused a Mini Program login because it rates the user as high-risk (errcode 40226,
 * `code blocked`): a Passport `fail` with `code: 'WECHAT_USER_BLOCKED'`. Retrying does not help.
 */
export class WeChatUserBlockedError extends WeChatAPIError {}

/**
 * Data a Mini Program posted (`encryptedData`/`iv`, `rawData`/`signature`) cannot be trusted:
 * - `WECHAT_USERDATA_MALFORMED`: not what WeChat sends (not base64, an iv or key that is not
 *   16 bytes, a ciphertext that is not whole AES blocks);
 * - `WECHAT_USERDATA_UNDECRYPTABLE`: it does not decrypt to JSON with this session key: a wrong
 *   or stale session key, a wrong iv, tampered data or bad padding. These are one code on purpose:
 *   telling bad padding apart would give clients a padding oracle to forge data with;
 * - `WECHAT_USERDATA_WRONG_APPID`: it decrypted, but its `watermark.appid` is another app's.
 *
 * Never holds the session key, the ciphertext or what it decrypts to.
 */
export class WeChatUserDataError extends WeChatError {
  constructor(
    message: string,
    init: { code: 'WECHAT_USERDATA_MALFORMED' | 'WECHAT_USERDATA_UNDECRYPTABLE' | 'WECHAT_USERDATA_WRONG_APPID'; cause?: unknown },
  ) {
    super(message, { ...init, retryable: false });
  }
}

/** Which WeChat call failed, so the message can say what to do. */
export type WeChatEndpoint = 'access_token' | 'refresh_token' | 'userinfo' | 'auth' | 'jscode2session' | 'stable_token' | 'getuserphonenumber';

interface Classification {
  code: WeChatErrorCode;
  kind: typeof WeChatAPIError;
  retryable: boolean;
  advice: string;
}

const LOGIN_AGAIN = 'The user must start the WeChat login again.';
const FIX_CREDENTIALS =
  'Check that clientID is the AppID and clientSecret the AppSecret of the same WeChat application ' +
  '(the website or mobile application on open.weixin.qq.com, or the Official Account on mp.weixin.qq.com), ' +
  'without spaces, and that the secret was not reset.';

// errcode → meaning. Sources: docs/wechat-protocol.md#global-error-codes-and-our-classification (global return codes). Unknown codes fall through
// to WECHAT_API_ERROR so a new WeChat code is still an error, never a success.
const CLASSIFICATION: ReadonlyMap<number, Classification> = new Map<number, Classification>([
  [-1, { code: 'WECHAT_SYSTEM_BUSY', kind: WeChatAPIError, retryable: true, advice: 'WeChat is busy; try again shortly.' }],
  [40029, { code: 'WECHAT_INVALID_CODE', kind: WeChatCodeError, retryable: false, advice: LOGIN_AGAIN }],
  [40163, { code: 'WECHAT_INVALID_CODE', kind: WeChatCodeError, retryable: false, advice: LOGIN_AGAIN }],
  [42003, { code: 'WECHAT_INVALID_CODE', kind: WeChatCodeError, retryable: false, advice: LOGIN_AGAIN }],
  [41008, { code: 'WECHAT_INVALID_CODE', kind: WeChatCodeError, retryable: false, advice: LOGIN_AGAIN }],
  [40013, { code: 'WECHAT_BAD_CREDENTIALS', kind: WeChatCredentialsError, retryable: false, advice: FIX_CREDENTIALS }],
  [40125, { code: 'WECHAT_BAD_CREDENTIALS', kind: WeChatCredentialsError, retryable: false, advice: FIX_CREDENTIALS }],
  [41002, { code: 'WECHAT_BAD_CREDENTIALS', kind: WeChatCredentialsError, retryable: false, advice: FIX_CREDENTIALS }],
  [41004, { code: 'WECHAT_BAD_CREDENTIALS', kind: WeChatCredentialsError, retryable: false, advice: FIX_CREDENTIALS }],
  [40164, {
    code: 'WECHAT_BAD_CREDENTIALS', kind: WeChatCredentialsError, retryable: false,
    advice: "This server's IP address is not on the application's IP whitelist on the WeChat platform.",
  }],
  [40001, { code: 'WECHAT_INVALID_TOKEN', kind: WeChatTokenError, retryable: false, advice: 'Refresh the access token or log the user in again.' }],
  [40014, { code: 'WECHAT_INVALID_TOKEN', kind: WeChatTokenError, retryable: false, advice: 'Refresh the access token or log the user in again.' }],
  [42001, { code: 'WECHAT_INVALID_TOKEN', kind: WeChatTokenError, retryable: false, advice: 'The access token expired: refresh it.' }],
  [41001, { code: 'WECHAT_INVALID_TOKEN', kind: WeChatTokenError, retryable: false, advice: 'The access token was missing.' }],
  [40003, { code: 'WECHAT_INVALID_TOKEN', kind: WeChatTokenError, retryable: false, advice: 'The openid does not belong to this access token.' }],
  [41009, { code: 'WECHAT_INVALID_TOKEN', kind: WeChatTokenError, retryable: false, advice: 'The openid was missing.' }],
  [40030, { code: 'WECHAT_INVALID_REFRESH_TOKEN', kind: WeChatTokenError, retryable: false, advice: LOGIN_AGAIN }],
  [42002, { code: 'WECHAT_INVALID_REFRESH_TOKEN', kind: WeChatTokenError, retryable: false, advice: LOGIN_AGAIN }],
  [42007, { code: 'WECHAT_INVALID_REFRESH_TOKEN', kind: WeChatTokenError, retryable: false, advice: 'The user changed their WeChat password. ' + LOGIN_AGAIN }],
  [41003, { code: 'WECHAT_INVALID_REFRESH_TOKEN', kind: WeChatTokenError, retryable: false, advice: 'The refresh token was missing.' }],
  [48001, {
    code: 'WECHAT_SCOPE_UNAUTHORIZED', kind: WeChatAPIError, retryable: false,
    advice: 'The token was not granted the scope this call needs (e.g. sns/userinfo with snsapi_base).',
  }],
  [50001, { code: 'WECHAT_SCOPE_UNAUTHORIZED', kind: WeChatAPIError, retryable: false, advice: 'The user has not authorized this API.' }],
  [45011, { code: 'WECHAT_RATE_LIMITED', kind: WeChatAPIError, retryable: true, advice: 'WeChat rate-limited this call; slow down and retry after a minute.' }],
  [45009, { code: 'WECHAT_RATE_LIMITED', kind: WeChatAPIError, retryable: true, advice: 'The daily API quota is used up.' }],
]);

const FIX_MINIPROGRAM_CREDENTIALS =
  'Check that clientID is the AppID and clientSecret the AppSecret of the Mini Program ' +
  '(mp.weixin.qq.com > Development > Development Settings, 开发管理 > 开发设置), without spaces, and that the secret was not reset.';
const MINIPROGRAM_CREDENTIALS: Classification = {
  code: 'WECHAT_BAD_CREDENTIALS',
  kind: WeChatCredentialsError,
  retryable: false,
  advice: FIX_MINIPROGRAM_CREDENTIALS,
};

// errcodes whose meaning or advice depends on the call, keyed `endpoint:errcode`; looked up before
// the table above. 40226 is documented for code2Session only (docs/wechat-protocol.md#mini-program-errors).
const CLASSIFICATION_BY_ENDPOINT: ReadonlyMap<string, Classification> = new Map<string, Classification>([
  ['jscode2session:40226', {
    code: 'WECHAT_USER_BLOCKED', kind: WeChatUserBlockedError, retryable: false,
    advice: 'WeChat blocks Mini Program logins of users it rates as high-risk; retrying does not help.',
  }],
  ['jscode2session:40013', MINIPROGRAM_CREDENTIALS],
  ['jscode2session:40125', MINIPROGRAM_CREDENTIALS],
  ['jscode2session:41002', MINIPROGRAM_CREDENTIALS],
  ['jscode2session:41004', MINIPROGRAM_CREDENTIALS],
  // A phone code is single-use and lives 5 minutes (docs/miniprogram.md#phone-number-sign-in).
  ['getuserphonenumber:40029', {
    code: 'WECHAT_INVALID_PHONE_CODE', kind: WeChatCodeError, retryable: false,
    advice: 'The phone number code is invalid, already used or older than 5 minutes: the user must tap the phone number button again.',
  }],
  // The app's own token: 40001 there is a wrong AppSecret, as on the code exchange.
  ['stable_token:40001', {
    code: 'WECHAT_BAD_CREDENTIALS', kind: WeChatCredentialsError, retryable: false,
    advice: 'Check that clientID is the AppID and clientSecret the AppSecret of the same app, without spaces, and that the secret was not reset.',
  }],
]);

const BAD_SECRET: Classification = {
  code: 'WECHAT_BAD_CREDENTIALS',
  kind: WeChatCredentialsError,
  retryable: false,
  advice: FIX_CREDENTIALS,
};

const FALLBACK: Classification = {
  code: 'WECHAT_API_ERROR',
  kind: WeChatAPIError,
  retryable: false,
  advice: 'See docs/troubleshooting.md for this errcode.',
};

/**
 * Turns WeChat's `{errcode, errmsg}` into the matching typed error. Pure.
 * `errmsg` must already be free of secrets (the client redacts it).
 */
export function errorFromErrcode(endpoint: WeChatEndpoint, errcode: number, errmsg: string): WeChatAPIError {
  // NOTE: 40001 on the code exchange means the AppSecret is wrong, not a user token (docs/wechat-protocol.md#token-exchange-errors).
  const rule =
    CLASSIFICATION_BY_ENDPOINT.get(`${endpoint}:${errcode}`) ??
    (errcode === 40001 && endpoint === 'access_token' ? BAD_SECRET : (CLASSIFICATION.get(errcode) ?? FALLBACK));
  const { text } = splitErrmsg(errmsg);
  const said = text === '' ? `errcode ${errcode}` : `errcode ${errcode}: ${text}`;
  const message = `WeChat ${endpoint} call failed (${said}). ${rule.advice}`;
  return new rule.kind(message, { code: rule.code, retryable: rule.retryable, errcode, errmsg });
}

// NOTE: WeChat appends a request id to errmsg, in several historical forms (docs/wechat-protocol.md#cross-cutting-the-request-id-in-errmsg):
// ", rid: 65a33cd8-023106e1-2dc7e2f6", " rid: …" (no comma), ", hints: [ req_id: 1foBSgMre-Hz ]".
// Anchored at the end of an already trimmed text: an unanchored `\s*` scan is quadratic on
// long runs of spaces, and errmsg comes from the network.
const RID_SUFFIX = /(?:rid:\s*([\w-]+)|hints:\s*\[\s*req_id:\s*([\w-]+)\s*\])$/;

/** Splits WeChat's errmsg into its text and its request id. Pure. */
export function splitErrmsg(errmsg: string): { text: string; rid: string | undefined } {
  const trimmed = errmsg.trim();
  const match = RID_SUFFIX.exec(trimmed);
  if (!match) return { text: trimmed, rid: undefined };
  let text = trimmed.slice(0, match.index).trimEnd();
  if (text.endsWith(',')) text = text.slice(0, -1).trimEnd();
  return { text, rid: match[1] ?? match[2] };
}
