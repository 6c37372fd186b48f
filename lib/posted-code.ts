/**
 * Passport glue shared by the strategies whose client posts a WeChat code to the server — the
 * Mini Program (`wx.login()`) and the native app (the Open SDK's `SendAuth`): reading and checking
 * the posted code, the options both take, and handing a login's outcome to Passport without ever
 * leaving a rejected promise behind. No redirect, no state: the code never went through a browser.
 */
import type { Request } from 'express';
import type { Strategy } from 'passport-strategy';
import { DEFAULT_MAX_RESPONSE_BYTES, DEFAULT_TIMEOUT_MS, type WeChatDispatcher } from './client.js';
import { WeChatOptionsError } from './errors.js';
import type { WeChatFailureInfo } from './failures.js';
import { isThenable } from './promise-callbacks.js';
import { fieldOf, isPlausibleCode } from './request.js';
import type { VerifyCallback } from './options.js';
import { credential, dispatcherOf, positiveInteger } from './settings.js';

/** Options both posted-code strategies take. */
export interface WeChatPostedCodeOptions {
  /** The field of the parsed body that holds the code. Default `'code'`. */
  codeField?: string | undefined;
  /**
   * Also read the code from the query string when the body has none. Default `false`: the code
   * must be posted in the body (as JSON, parsed by `express.json()`).
   *
   * WARNING: turning this on opens login CSRF on a route that keeps a session. Any web page can make
   * a victim's browser send `POST /your/route?code=<the attacker's own code>` as a simple
   * cross-site request (`Content-Type: text/plain`, no CORS preflight); the JSON parser skips that
   * body, the code is read from the query, and the victim's browser ends up signed in as the
   * attacker. Turn it on only for a client that cannot post a body, on a route with
   * `session: false` that answers with a token.
   */
  allowCodeInQuery?: boolean | undefined;
  /** Per-call deadline for every WeChat API call, in ms. Default 10000. */
  timeout?: number | undefined;
  /** Largest WeChat answer accepted, in bytes. Default 1 MiB. */
  maxResponseBytes?: number | undefined;
  /** An undici `Dispatcher` for WeChat calls (a `ProxyAgent`, an `Agent` with a custom CA, …). */
  dispatcher?: WeChatDispatcher | undefined;
}

/** What a posted-code strategy keeps of its options, checked. */
export interface PostedCodeSettings {
  appId: string;
  codeField: string;
  allowCodeInQuery: boolean;
  passReqToCallback: boolean;
  timeout: number;
  maxResponseBytes: number;
  dispatcher: WeChatDispatcher | undefined;
}

const FIELD_NAME = /^[A-Za-z_$][\w$-]{0,63}$/;

/**
 * Checks the options both strategies share; throws a WeChatOptionsError naming the
 * option to fix. Returns the AppSecret apart, so the caller can hand it straight to the client.
 */
export function resolvePostedCodeSettings(
  strategy: string,
  appKind: string,
  options: unknown,
  verify: unknown,
): { settings: PostedCodeSettings; appSecret: string; options: Record<string, unknown> } {
  if (typeof options !== 'object' || options === null) {
    throw new WeChatOptionsError(`${strategy} needs an options object: new ${strategy}({ clientID, clientSecret }, verify).`);
  }
  if (typeof verify !== 'function') throw new WeChatOptionsError(`${strategy} needs a verify callback as its last argument.`);
  const o = options as Record<string, unknown>;
  const appId = credential(o, 'clientID', 'appID', `the AppID of your ${appKind}`, '', strategy);
  const appSecret = credential(o, 'clientSecret', 'appSecret', 'its AppSecret', '', strategy);
  const codeField = o.codeField ?? 'code';
  if (typeof codeField !== 'string' || !FIELD_NAME.test(codeField)) {
    throw new WeChatOptionsError('codeField must be a field name such as "code".');
  }
  return {
    settings: {
      appId,
      codeField,
      allowCodeInQuery: optionalBoolean(o, 'allowCodeInQuery'),
      passReqToCallback: optionalBoolean(o, 'passReqToCallback'),
      timeout: positiveInteger(o, 'timeout') ?? DEFAULT_TIMEOUT_MS,
      maxResponseBytes: positiveInteger(o, 'maxResponseBytes') ?? DEFAULT_MAX_RESPONSE_BYTES,
      dispatcher: dispatcherOf(o.dispatcher),
    },
    appSecret,
    options: o,
  };
}

function optionalBoolean(o: Record<string, unknown>, name: string): boolean {
  const value = o[name];
  if (value !== undefined && typeof value !== 'boolean') throw new WeChatOptionsError(`${name} must be a boolean.`);
  return value === true;
}

/**
 * The code the client posted, from the parsed body (and the query only with
 * `allowCodeInQuery`); or why there is none worth sending to WeChat.
 */
export function readPostedCode(
  req: Request,
  { codeField: field, allowCodeInQuery }: Pick<PostedCodeSettings, 'codeField' | 'allowCodeInQuery'>,
): { code: string } | { failure: WeChatFailureInfo } {
  const body: unknown = req.body;
  const fromBody = fieldOf(body, field);
  // NOTE: the body first, and the query only on request: a browser sends a query code cross-site
  // without a preflight (login CSRF, see WeChatPostedCodeOptions.allowCodeInQuery).
  const value = isAbsent(fromBody) && allowCodeInQuery ? fieldOf(req.query, field) : fromBody;
  if (isAbsent(value)) return { failure: { code: 'WECHAT_MISSING_CODE', message: missingCodeMessage(req, field, allowCodeInQuery) } };
  // `?code=a&code=b` (an array), `{ "code": { "$gt": "" } }`, a number: not something WeChat issues.
  if (!isPlausibleCode(value)) {
    return { failure: { code: 'WECHAT_MALFORMED_CODE', message: `The WeChat code in field "${field}" is malformed.` } };
  }
  return { code: value };
}

/** Why no code was found, with the likely fix; never the code itself (a query code may be an attacker's). */
function missingCodeMessage(req: Request, field: string, allowCodeInQuery: boolean): string {
  const hints = [`The request carries no WeChat code (field "${field}").`];
  if (!allowCodeInQuery && !isAbsent(fieldOf(req.query, field))) {
    hints.push('A code in the query string is ignored: post it in the request body (JSON).');
  }
  // NOTE: Express 5 leaves req.body undefined without a body parser (or for a Content-Type it skips): say so.
  if (req.body === undefined) {
    hints.push('No body was parsed: post JSON and mount a body parser such as express.json() before passport.authenticate().');
  }
  return hints.join(' ');
}

function isAbsent(value: unknown): boolean {
  return value === undefined || value === null || value === '';
}

/** The Passport actions a strategy's per-request object carries. */
type Actions = Pick<Strategy, 'success' | 'fail' | 'error'>;

/**
 * Calls verify the way passport-oauth2 does, with a `done` that acts once: a verify
 * that throws, or returns a promise that rejects before `done`, ends in `error()`.
 */
export function callVerify(actions: Actions, verify: (...args: never[]) => unknown, args: unknown[]): void {
  let called = false;
  const done: VerifyCallback = (err, user, info) => {
    if (called) return;
    called = true;
    if (err) return actions.error(err instanceof Error ? err : new Error(String(err)));
    if (!user) return actions.fail(info, 401);
    actions.success(user, info ?? {});
  };
  try {
    const returned: unknown = (verify as (...a: unknown[]) => unknown)(...args, done);
    // An async verify (NestJS's among them) returns a promise: only a rejection matters.
    if (isThenable(returned)) {
      returned.then(undefined, (error: unknown) => {
        try {
          done(error);
        } catch {
          // The host already answered this request; nothing left to tell it.
        }
      });
    }
  } catch (error) {
    done(error);
  }
}


/** Reports an error to Passport once more, ignoring a host that already answered. */
export function reportError(actions: Actions, error: unknown): void {
  try {
    actions.error(error instanceof Error ? error : new Error(String(error)));
  } catch {
    // The host already answered this request (e.g. headers sent); nothing left to tell it.
  }
}
