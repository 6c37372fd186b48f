/**
 * How a login fails, for every strategy here: the `info` a Passport failure handler receives,
 * and the one rule that tells a user's failure (Passport's `fail()`, so `failureRedirect` applies)
 * from an error (`error()`, the host's error handler).
 */
import { WeChatCodeError, WeChatUserBlockedError } from './errors.js';

/**
 * Why a login ended in Passport's `fail()`: the `info` your failure handler receives (with
 * `failureMessage: true`, its `message` lands in `req.session.messages`). Branch on `code`.
 */
export interface WeChatFailureInfo {
  /** A sentence for the person at the browser or the app. */
  message: string;
  /**
   * - `WECHAT_DECLINED` (401): the user declined or cancelled on WeChat's page.
   * - `WECHAT_MISSING_CODE` / `WECHAT_MALFORMED_CODE` (400): no code, or one WeChat never issues;
   *   WeChat was not called.
   * - `WECHAT_INVALID_CODE` (401): WeChat refused the code: invalid, expired or already used.
   * - `WECHAT_USER_BLOCKED` (403, Mini Program): WeChat blocks this high-risk user (40226).
   * - `WECHAT_SNAPSHOT_USER` (401, Official Account): a virtual snapshot-page user.
   * - `WECHAT_DUPLICATE_CALLBACK` (401): the same callback's first request did not finish in time.
   * - `WECHAT_STATE_MISSING` (403): this browser's session holds no login in progress: the login
   *   link expired or was already used, the session ended, or the link was opened in another
   *   browser (or without cookies).
   * - `WECHAT_STATE_MISMATCH` (403): the state names no login this strategy started in this
   *   browser (an edited or foreign state, or an older login another one replaced).
   * - `WECHAT_MISSING_PHONE_CODE` / `WECHAT_MALFORMED_PHONE_CODE` (400, Mini Program with
   *   `phoneNumber: 'required'`): no phone code, or one WeChat never issues; WeChat was not called.
   * - `WECHAT_INVALID_PHONE_CODE` (401, Mini Program with `phoneNumber: 'required'`): WeChat refused
   *   the phone code: invalid, older than 5 minutes or already used.
   */
  code:
    | 'WECHAT_DECLINED'
    | 'WECHAT_MISSING_PHONE_CODE'
    | 'WECHAT_MALFORMED_PHONE_CODE'
    | 'WECHAT_INVALID_PHONE_CODE'
    | 'WECHAT_MISSING_CODE'
    | 'WECHAT_MALFORMED_CODE'
    | 'WECHAT_INVALID_CODE'
    | 'WECHAT_USER_BLOCKED'
    | 'WECHAT_SNAPSHOT_USER'
    | 'WECHAT_DUPLICATE_CALLBACK'
    | 'WECHAT_STATE_MISSING'
    | 'WECHAT_STATE_MISMATCH';
  /** WeChat's errcode, when WeChat refused the code. */
  errcode?: number;
}

/** A failure and the HTTP status Passport answers with when there is no failureRedirect. */
export interface Failure {
  info: WeChatFailureInfo;
  status: number;
}

export const DECLINED: Failure = {
  info: { code: 'WECHAT_DECLINED', message: 'The WeChat login was declined or cancelled.' },
  status: 401,
};

export const MALFORMED_CALLBACK_CODE: Failure = {
  info: { code: 'WECHAT_MALFORMED_CODE', message: 'The WeChat login callback carried a malformed code. Please log in again.' },
  status: 400,
};

// NOTE: a snapshot-page login (is_snapshotuser: 1) carries a virtual openid/unionid, not the
// person's (docs/wechat-protocol.md#official-account-snapshot-page-users): logging it in would create a ghost account.
export const SNAPSHOT_USER: Failure = {
  info: {
    code: 'WECHAT_SNAPSHOT_USER',
    message: 'WeChat signed in a virtual snapshot-page user; the user must open the page in WeChat and authorize.',
  },
  status: 401,
};

/** The session holds no login in progress: passport-oauth2's "Unable to verify authorization request state." */
export const STATE_MISSING: Failure = {
  info: { code: 'WECHAT_STATE_MISSING', message: 'This login link has expired or was opened in another browser. Please start the login again.' },
  status: 403,
};

/**
 * The state names no login this strategy started in this browser: passport-oauth2's "Invalid
 * authorization request state.", a two-app state naming neither app, or another session's login.
 */
export const STATE_MISMATCH: Failure = {
  info: { code: 'WECHAT_STATE_MISMATCH', message: 'This login link does not match the login started in this browser. Please start the login again.' },
  status: 403,
};

/** passport-oauth2's own state-check wording for "the session holds no state". */
const PASSPORT_STATE_MISSING = 'Unable to verify authorization request state.';

/**
 * The failure a state check that did not pass stands for. passport-oauth2 (and a custom state
 * store) fail with a bare `{ message }` written for developers; the person at the browser gets a
 * stable code and a sentence saying what to do. A challenge that already has a `code` is kept.
 */
export function stateFailure(challenge: unknown, status: number | undefined): { challenge: object; status: number | undefined } {
  // A custom store may refuse with no info at all (`cb(null, false)`): that is a mismatch too.
  const given = typeof challenge === 'object' && challenge !== null ? (challenge as { code?: unknown; message?: unknown }) : {};
  if (typeof given.code === 'string') return { challenge: given, status };
  const failure = given.message === PASSPORT_STATE_MISSING ? STATE_MISSING : STATE_MISMATCH;
  return { challenge: { ...failure.info }, status: failure.status };
}

const USER_BLOCKED = 'WeChat blocked this sign-in: it rates the user as high-risk (errcode 40226).';

/**
 * The failure a WeChat error stands for when it is the user's to fix — a refused code,
 * a blocked user — and undefined for anything else, which is an error. `retry` tells the user (or
 * the client app) how to get a new code.
 */
export function failureOf(error: unknown, retry: string): Failure | undefined {
  if (error instanceof WeChatUserBlockedError) {
    return { info: { code: 'WECHAT_USER_BLOCKED', message: USER_BLOCKED, errcode: error.errcode }, status: 403 };
  }
  if (error instanceof WeChatCodeError && error.code === 'WECHAT_INVALID_PHONE_CODE') {
    const message = 'WeChat rejected the phone number code: it was invalid, older than 5 minutes or already used. Tap the phone number button again.';
    return { info: { code: 'WECHAT_INVALID_PHONE_CODE', message, errcode: error.errcode }, status: 401 };
  }
  if (error instanceof WeChatCodeError) {
    const message = `WeChat rejected the login code: it was invalid, expired or already used. ${retry}`;
    return { info: { code: 'WECHAT_INVALID_CODE', message, errcode: error.errcode }, status: 401 };
  }
  return undefined;
}
