/**
 * The WeChat API client: the only module that knows WeChat's sns endpoints and the only one that
 * imports undici. Every call is a GET with a deadline, a response size cap and no redirects; every
 * answer is parsed as JSON whatever its Content-Type, and `{errcode, errmsg}` becomes a typed error.
 */
import { Agent, request, type Dispatcher } from 'undici';
import {
  WeChatError,
  WeChatRequestError,
  WeChatResponseError,
  errorFromErrcode,
  type WeChatEndpoint,
} from './errors.js';
import { parseJSONWithoutProto } from './json.js';

export type { Dispatcher } from 'undici';

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

/** The language of `sns/userinfo` texts (country, province, city). Note the underscore. */
export type WeChatUserInfoLang = 'zh_CN' | 'zh_TW' | 'en';

/** Where the client sends each call; every URL can be pointed at an emulator or a proxy. */
export interface WeChatEndpoints {
  tokenURL: string;
  refreshTokenURL: string;
  userProfileURL: string;
  checkTokenURL: string;
  /** Mini Program code2Session; `DEFAULT_ENDPOINTS.sessionURL` when absent. */
  sessionURL?: string;
}

export const DEFAULT_ENDPOINTS: Readonly<Required<WeChatEndpoints>> = Object.freeze({
  tokenURL: 'https://api.weixin.qq.com/sns/oauth2/access_token',
  refreshTokenURL: 'https://api.weixin.qq.com/sns/oauth2/refresh_token',
  userProfileURL: 'https://api.weixin.qq.com/sns/userinfo',
  checkTokenURL: 'https://api.weixin.qq.com/sns/auth',
  sessionURL: 'https://api.weixin.qq.com/sns/jscode2session',
});

export interface WeChatClientOptions {
  appId: string;
  appSecret: string;
  endpoints: WeChatEndpoints;
  /** Deadline for each call, from sending to the last byte of the body, in ms. */
  timeout: number;
  /** Largest body accepted, in bytes. */
  maxResponseBytes: number;
  /** An undici Dispatcher (proxy, custom CA); the package's shared keep-alive Agent by default. */
  dispatcher?: Dispatcher | undefined;
}

export const DEFAULT_TIMEOUT_MS = 10_000;
export const DEFAULT_MAX_RESPONSE_BYTES = 1024 * 1024;

// One keep-alive pool for every strategy in the process, so logins reuse TLS connections to
// api.weixin.qq.com instead of opening one per call. Idle sockets do not keep the process alive.
const sharedAgent = new Agent({ keepAliveTimeout: 30_000, keepAliveMaxTimeout: 60_000, connections: 64 });

/** @internal A WeChat API call's query, with the values that must never be shown anywhere. */
interface Call {
  endpoint: WeChatEndpoint;
  url: string;
  query: Record<string, string>;
  secrets: string[];
}

/**
 * Talks to WeChat's `sns/*` endpoints for one application. Holds the AppSecret in a private
 * field so neither `util.inspect` nor `JSON.stringify` can show it.
 */
export class WeChatClient {
  readonly appId: string;
  readonly #appSecret: string;
  readonly #endpoints: WeChatEndpoints;
  readonly #timeout: number;
  readonly #maxResponseBytes: number;
  readonly #dispatcher: Dispatcher;

  constructor(options: WeChatClientOptions) {
    this.appId = options.appId;
    this.#appSecret = options.appSecret;
    this.#endpoints = options.endpoints;
    this.#timeout = options.timeout;
    this.#maxResponseBytes = options.maxResponseBytes;
    this.#dispatcher = options.dispatcher ?? sharedAgent;
  }

  /** Exchanges a login code for the user's tokens and openid. Never retried: codes are single-use. */
  async exchangeCode(code: string): Promise<WeChatTokenResponse> {
    const json = await this.#get({
      endpoint: 'access_token',
      url: this.#endpoints.tokenURL,
      query: { appid: this.appId, secret: this.#appSecret, code, grant_type: 'authorization_code' },
      secrets: [this.#appSecret, code],
    });
    return parseTokenResponse(json, 'access_token');
  }

  /** Renews an access token. WeChat keeps `openid` in the answer; `unionid` is not sent again. */
  async refreshAccessToken(refreshToken: string): Promise<WeChatTokenResponse> {
    const json = await this.#get({
      endpoint: 'refresh_token',
      url: this.#endpoints.refreshTokenURL,
      query: { appid: this.appId, grant_type: 'refresh_token', refresh_token: refreshToken },
      secrets: [this.#appSecret, refreshToken],
    });
    return parseTokenResponse(json, 'refresh_token');
  }

  /** Reads the user's profile. Needs the `openid` that came with the access token. */
  async getUserInfo(accessToken: string, openid: string, lang?: WeChatUserInfoLang): Promise<WeChatUserInfoResponse> {
    const query: Record<string, string> = { access_token: accessToken, openid };
    if (lang) query.lang = lang;
    return this.#getWithRaw({
      endpoint: 'userinfo',
      url: this.#endpoints.userProfileURL,
      query,
      secrets: [this.#appSecret, accessToken],
    });
  }

  /**
   * Asks WeChat whether an access token is still valid for this openid. Resolves `false` when
   * WeChat says the token or openid is invalid or expired; rejects on any other failure.
   */
  async checkAccessToken(accessToken: string, openid: string): Promise<boolean> {
    try {
      await this.#get({
        endpoint: 'auth',
        url: this.#endpoints.checkTokenURL,
        query: { access_token: accessToken, openid },
        secrets: [this.#appSecret, accessToken],
      });
      return true;
    } catch (error) {
      if (error instanceof WeChatError && error.code === 'WECHAT_INVALID_TOKEN') return false;
      throw error;
    }
  }

  /**
   * Exchanges a Mini Program's `wx.login()` code for the user's openid, unionid and session_key
   * (`sns/jscode2session`). Never retried: codes are single-use.
   */
  async codeToSession(jsCode: string): Promise<WeChatCode2SessionResponse> {
    const call: Call = {
      endpoint: 'jscode2session',
      url: this.#endpoints.sessionURL ?? DEFAULT_ENDPOINTS.sessionURL,
      query: { appid: this.appId, secret: this.#appSecret, js_code: jsCode, grant_type: 'authorization_code' },
      secrets: [this.#appSecret, jsCode],
    };
    const raw = await this.#fetchText(call);
    // The session_key is a secret known only once the answer is in: it joins the call's secrets
    // before anything built from this answer (an errmsg) can show it.
    call.secrets.push(...sessionKeyIn(raw));
    return parseCode2SessionResponse(parseWeChatJSON(raw, call.endpoint, call.secrets));
  }

  async #get(call: Call): Promise<Record<string, unknown>> {
    return (await this.#getWithRaw(call)).json;
  }

  async #getWithRaw(call: Call): Promise<{ json: Record<string, unknown>; raw: string }> {
    const raw = await this.#fetchText(call);
    const json = parseWeChatJSON(raw, call.endpoint, call.secrets);
    return { json, raw };
  }

  async #fetchText(call: Call): Promise<string> {
    const url = new URL(call.url);
    for (const [key, value] of Object.entries(call.query)) url.searchParams.set(key, value);
    // One deadline for the whole exchange, body included: headersTimeout/bodyTimeout alone would
    // let a server that drips one byte at a time hold the login for ever.
    const signal = AbortSignal.timeout(this.#timeout);
    let response: Dispatcher.ResponseData;
    try {
      response = await request(url, {
        method: 'GET',
        dispatcher: this.#dispatcher,
        signal,
        headersTimeout: this.#timeout,
        bodyTimeout: this.#timeout,
        headers: { accept: 'application/json, text/plain, */*' },
      });
    } catch (error) {
      throw requestFailure(call, error, signal);
    }
    try {
      if (response.statusCode !== 200) throw unexpectedStatus(call, response.statusCode);
      const declared = Number(response.headers['content-length']);
      if (declared > this.#maxResponseBytes) throw tooLarge(call, this.#maxResponseBytes);
      return await readCapped(response.body, this.#maxResponseBytes, call);
    } catch (error) {
      if (error instanceof WeChatError) throw error;
      throw requestFailure(call, error, signal);
    } finally {
      // Release the socket whatever happened; a consumed body makes this a no-op. The listener
      // keeps an abort raised while destroying an unread body from becoming an uncaught error.
      response.body.on('error', () => {});
      response.body.destroy();
    }
  }
}

async function readCapped(body: Dispatcher.ResponseData['body'], limit: number, call: Call): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) throw tooLarge(call, limit);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks, size).toString('utf8');
}

function tooLarge(call: Call, limit: number): WeChatResponseError {
  return new WeChatResponseError(
    `WeChat ${call.endpoint} answer is larger than ${limit} bytes; refusing to read it (maxResponseBytes).`,
    { code: 'WECHAT_RESPONSE_TOO_LARGE' },
  );
}

function unexpectedStatus(call: Call, status: number): WeChatResponseError {
  if (status >= 300 && status < 400) {
    return new WeChatResponseError(
      `WeChat ${call.endpoint} answered with a redirect (HTTP ${status}); WeChat's API never redirects, so ` +
        'check the endpoint URL options and any proxy in between. The redirect was not followed.',
      { code: 'WECHAT_REDIRECT', status },
    );
  }
  return new WeChatResponseError(`WeChat ${call.endpoint} answered HTTP ${status} instead of 200.`, {
    code: 'WECHAT_HTTP_ERROR',
    status,
  });
}

function requestFailure(call: Call, error: unknown, signal: AbortSignal): WeChatRequestError {
  const cause = safeCause(error, call.secrets);
  if (signal.aborted) {
    return new WeChatRequestError(`WeChat ${call.endpoint} did not answer within the timeout.`, {
      code: 'WECHAT_TIMEOUT',
      cause,
    });
  }
  // Node's connect errors (an AggregateError per address tried) have an empty message but a code.
  const said = cause.message !== '' ? cause.message : cause.code;
  const reason = said === undefined ? '' : `: ${said}`;
  return new WeChatRequestError(`Could not reach WeChat ${call.endpoint}${reason}`, {
    code: 'WECHAT_NETWORK_ERROR',
    cause,
  });
}

/**
 * Parses a WeChat answer. NOTE: WeChat sends JSON as `text/plain` and errors with HTTP 200
 * (wechat-api.md §0), so the body is parsed whatever the Content-Type and `errcode` decides.
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

function sessionKeyIn(raw: string): string[] {
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
  if (typeof value === 'string' && ERRCODE_TEXT.test(value.trim())) return Number(value.trim());
  return NaN;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

// Ids and tokens never contain white space; a blank one must not become everyone's user id.
function isNonEmptyString(value: unknown): value is string {
  return typeof value === 'string' && value.trim().length > 0;
}

/** Replaces every secret in a text, as is or URL-encoded, with `[redacted]`. Pure. */
export function redact(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const form of formsOf(secrets)) out = out.split(form).join('[redacted]');
  return out;
}

// Each secret as it may show in a text: as is, as the request URL carries it (URLSearchParams:
// a space becomes "+") and as encodeURIComponent writes it. Longest first, so that no shorter form
// is replaced inside a longer one and leaves the rest of it readable. Shorter than 4 characters
// would match by chance and blank out ordinary text.
function formsOf(secrets: readonly string[]): string[] {
  const forms = new Set<string>();
  for (const secret of secrets) {
    if (secret.length < 4) continue;
    forms.add(secret);
    forms.add(encodeURIComponent(secret));
    forms.add(new URLSearchParams({ s: secret }).toString().slice('s='.length));
  }
  return [...forms].sort((a, b) => b.length - a.length);
}

/** How many causes deep a failure is copied; undici nests one or two. */
const CAUSE_DEPTH = 3;
/** The longest message kept of a cause, counted after redaction. */
const MAX_CAUSE_MESSAGE = 500;
/** The longest name or code kept of a cause. */
const MAX_CAUSE_LABEL = 100;

/**
 * A copy of a failure that is safe to hand out: a fresh Error with the name, a string code and the
 * message of `error` (each redacted, then capped), and the same for its causes down to
 * CAUSE_DEPTH. Nothing else is copied, on purpose: undici's errors hold raw response bytes
 * (HTTPParserError's `data`, where a server can echo the request line and its secret), headers or
 * a body, and no scan of them can be trusted (util.inspect stops at 10,000 characters).
 */
function safeCause(error: unknown, secrets: readonly string[], depth = 1): SafeError {
  const seen = fieldsOf(error);
  const deeper = depth < CAUSE_DEPTH && seen.cause !== undefined && seen.cause !== null;
  const copy: SafeError = new Error(
    capped(redact(seen.message, secrets), MAX_CAUSE_MESSAGE),
    deeper ? { cause: safeCause(seen.cause, secrets, depth + 1) } : undefined,
  );
  copy.name = capped(redact(seen.name, secrets), MAX_CAUSE_LABEL);
  if (seen.code !== undefined) copy.code = capped(redact(seen.code, secrets), MAX_CAUSE_LABEL);
  return copy;
}

/** The copy {@link safeCause} makes: an Error, with Node's `code` when the original had a string one. */
type SafeError = Error & { code?: string };

interface FailureFields {
  name: string;
  code: string | undefined;
  message: string;
  cause: unknown;
}

// Reads only the allowed fields, each once and guarded: a thrown value may be anything, a getter
// may throw. Error-like objects from another realm count as errors.
function fieldsOf(error: unknown): FailureFields {
  if (typeof error !== 'object' || error === null) {
    return { name: 'Error', code: undefined, message: String(error), cause: undefined };
  }
  const name = read(error, 'name');
  const code = read(error, 'code');
  const message = read(error, 'message');
  return {
    name: typeof name === 'string' && name !== '' ? name : 'Error',
    code: typeof code === 'string' ? code : undefined,
    message: typeof message === 'string' ? message : 'a non-Error value was thrown',
    cause: read(error, 'cause'),
  };
}

function read(object: object, key: string): unknown {
  try {
    return Reflect.get(object, key);
  } catch {
    return undefined;
  }
}

function capped(text: string, limit: number): string {
  return text.length <= limit ? text : `${text.slice(0, limit)}…`;
}
