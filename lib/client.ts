/**
 * The WeChat API client: the only module that knows WeChat's sns endpoints and the only one that
 * imports undici. Every call is a GET with a deadline, a response size cap and no redirects; the
 * answer goes to wechat-answers.ts to be read, and any failure is redacted (redaction.ts).
 */
import type { EventEmitter } from 'node:events';
import type { Dispatcher } from 'undici';
import { observeCall } from './diagnostics.js';
import { WeChatError, WeChatRequestError, WeChatResponseError, type WeChatEndpoint } from './errors.js';
import { safeCause } from './redaction.js';
import {
  parseCode2SessionResponse,
  parseTokenResponse,
  parseWeChatJSON,
  sessionKeyIn,
  type WeChatCode2SessionResponse,
  type WeChatTokenResponse,
  type WeChatUserInfoResponse,
} from './wechat-answers.js';

/**
 * Where WeChat calls are sent: an undici `Dispatcher` (`new Agent({...})`, `new ProxyAgent(url)`)
 * of the undici major this package depends on (8). Typed by the one method the client needs, so
 * the package's public types do not name undici's own.
 */
export interface WeChatDispatcher {
  dispatch(options: object, handler: object): boolean;
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
  dispatcher?: WeChatDispatcher | undefined;
}

export const DEFAULT_TIMEOUT_MS = 10_000;
export const DEFAULT_MAX_RESPONSE_BYTES = 1024 * 1024;

type Undici = typeof import('undici');

// undici takes about 100 ms to load, several times the rest of the package: it is loaded when a
// client is made (in the background, after the app's own start-up code ran) or at the first
// WeChat call, whichever comes first, so importing the package costs little and the first login
// pays at most the rest of that one load.
let undiciLoading: Promise<Undici> | undefined;
let undici: Undici | undefined;

function loadUndici(): Promise<Undici> {
  undiciLoading ??= import('undici').then((loaded) => (undici = loaded));
  return undiciLoading;
}

function warmUndici(): void {
  // A load that fails here fails again, and is reported, at the first call.
  if (!undiciLoading) setImmediate(() => loadUndici().catch(() => (undiciLoading = undefined))).unref();
}

// One keep-alive pool for every strategy in the process, so logins reuse TLS connections to
// api.weixin.qq.com instead of opening one per call. Idle sockets do not keep the process alive.
let sharedAgent: Dispatcher | undefined;

function sharedAgentOf(loaded: Undici): Dispatcher {
  sharedAgent ??= new loaded.Agent({ keepAliveTimeout: 30_000, keepAliveMaxTimeout: 60_000, connections: 64 });
  return sharedAgent;
}

/** A WeChat API call's query, with the values that must never be shown anywhere. */
interface Call {
  endpoint: WeChatEndpoint;
  url: string;
  query: Record<string, string>;
  secrets: string[];
  /** Secrets the answer itself carries, found in its raw text before it is parsed. */
  secretsIn?: (raw: string) => string[];
}

function tokenAnswer(json: Record<string, unknown>, _raw: string, endpoint: WeChatEndpoint): WeChatTokenResponse {
  return parseTokenResponse(json, endpoint);
}

function userInfoAnswer(json: Record<string, unknown>, raw: string): WeChatUserInfoResponse {
  return { json, raw };
}

function anyAnswer(json: Record<string, unknown>): Record<string, unknown> {
  return json;
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
  readonly #dispatcher: Dispatcher | undefined;

  constructor(options: WeChatClientOptions) {
    this.appId = options.appId;
    this.#appSecret = options.appSecret;
    this.#endpoints = options.endpoints;
    this.#timeout = options.timeout;
    this.#maxResponseBytes = options.maxResponseBytes;
    // The option is undici's Dispatcher, typed structurally (WeChatDispatcher); the shared Agent when absent.
    this.#dispatcher = options.dispatcher as Dispatcher | undefined;
    warmUndici();
  }

  /** Exchanges a login code for the user's tokens and openid. Never retried: codes are single-use. */
  exchangeCode(code: string): Promise<WeChatTokenResponse> {
    const call: Call = {
      endpoint: 'access_token',
      url: this.#endpoints.tokenURL,
      query: { appid: this.appId, secret: this.#appSecret, code, grant_type: 'authorization_code' },
      secrets: [this.#appSecret, code],
    };
    return observeCall(this.appId, call.endpoint, () => this.#call(call, tokenAnswer));
  }

  /** Renews an access token. WeChat keeps `openid` in the answer; `unionid` is not sent again. */
  refreshAccessToken(refreshToken: string): Promise<WeChatTokenResponse> {
    const call: Call = {
      endpoint: 'refresh_token',
      url: this.#endpoints.refreshTokenURL,
      query: { appid: this.appId, grant_type: 'refresh_token', refresh_token: refreshToken },
      secrets: [this.#appSecret, refreshToken],
    };
    return observeCall(this.appId, call.endpoint, () => this.#call(call, tokenAnswer));
  }

  /** Reads the user's profile. Needs the `openid` that came with the access token. */
  getUserInfo(accessToken: string, openid: string, lang?: WeChatUserInfoLang): Promise<WeChatUserInfoResponse> {
    const query: Record<string, string> = { access_token: accessToken, openid };
    if (lang) query.lang = lang;
    const call: Call = { endpoint: 'userinfo', url: this.#endpoints.userProfileURL, query, secrets: [this.#appSecret, accessToken] };
    return observeCall(this.appId, call.endpoint, () => this.#call(call, userInfoAnswer));
  }

  /**
   * Asks WeChat whether an access token is still valid for this openid. Resolves `false` when
   * WeChat says the token or openid is invalid or expired; rejects on any other failure.
   */
  async checkAccessToken(accessToken: string, openid: string): Promise<boolean> {
    const call: Call = { endpoint: 'auth', url: this.#endpoints.checkTokenURL, query: { access_token: accessToken, openid }, secrets: [this.#appSecret, accessToken] };
    try {
      await observeCall(this.appId, call.endpoint, () => this.#call(call, anyAnswer));
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
  codeToSession(jsCode: string): Promise<WeChatCode2SessionResponse> {
    const call: Call = {
      endpoint: 'jscode2session',
      url: this.#endpoints.sessionURL ?? DEFAULT_ENDPOINTS.sessionURL,
      query: { appid: this.appId, secret: this.#appSecret, js_code: jsCode, grant_type: 'authorization_code' },
      secrets: [this.#appSecret, jsCode],
      // The session_key is a secret known only once the answer is in: it joins the call's secrets
      // before anything built from this answer (an errmsg) can show it.
      secretsIn: sessionKeyIn,
    };
    return observeCall(this.appId, call.endpoint, () => this.#call(call, (json) => parseCode2SessionResponse(json)));
  }

  /**
   * One WeChat call, start to end in one async function (each layer of promises is a few more
   * microtasks per login): the GET with its deadline and size cap, then the answer read as
   * WeChat's JSON (errcode bodies become typed errors), then `read` on it.
   */
  async #call<T>(call: Call, read: (json: Record<string, unknown>, raw: string, endpoint: WeChatEndpoint) => T): Promise<T> {
    const raw = await this.#fetchText(call);
    if (call.secretsIn) call.secrets.push(...call.secretsIn(raw));
    return read(parseWeChatJSON(raw, call.endpoint, call.secrets), raw, call.endpoint);
  }

  async #fetchText(call: Call): Promise<string> {
    // One deadline for the whole exchange, body included: headersTimeout/bodyTimeout alone would
    // let a server that drips one byte at a time hold the login for ever.
    const deadline = new CallDeadline(this.#timeout);
    try {
      let response: Dispatcher.ResponseData;
      try {
        const http = undici ?? (await loadUndici());
        response = await http.request(urlWithQuery(call.url, call.query), {
          // Stryker disable next-line StringLiteral: undici's request() sends GET for an empty method (`opts.method || 'GET'`).
          method: 'GET',
          dispatcher: this.#dispatcher ?? sharedAgentOf(http),
          // undici reads `on`/`once`/`removeListener` of an emitter signal; its type asks for a whole EventEmitter.
          signal: deadline as unknown as EventEmitter,
          headersTimeout: this.#timeout,
          bodyTimeout: this.#timeout,
          headers: ACCEPT_JSON,
        });
      } catch (error) {
        throw requestFailure(call, error, deadline);
      }
      try {
        if (response.statusCode !== 200) throw unexpectedStatus(call, response.statusCode);
        const declared = response.headers['content-length'];
        if (declared === undefined) return await readCapped(response.body, this.#maxResponseBytes, call);
        // With a length declared, the HTTP parser delivers no more than it: the body is bounded.
        if (Number(declared) > this.#maxResponseBytes) throw tooLarge(call, this.#maxResponseBytes);
        return await response.body.text();
      } catch (error) {
        if (error instanceof WeChatError) throw error;
        throw requestFailure(call, error, deadline);
      } finally {
        // Release the socket whatever happened; a consumed body makes this a no-op. The listener
        // keeps an abort raised while destroying an unread body from becoming an uncaught error.
        if (!response.body.readableEnded) {
          response.body.on('error', ignore);
          response.body.destroy();
        }
      }
    } finally {
      deadline.clear();
    }
  }
}

const ACCEPT_JSON = Object.freeze({ accept: 'application/json, text/plain, */*' });

/**
 * A call's deadline, handed to undici as its `signal`. undici takes an EventEmitter there as well
 * as an AbortSignal (its `signal?: AbortSignal | EventEmitter` option) and only ever listens for
 * `abort`; this is that much of an emitter and no more. Not `AbortSignal.timeout()`: those stay
 * registered (a timer and a weak reference each) for the whole timeout after the call ended,
 * which at a few thousand logins a second is tens of thousands of live timers for the garbage
 * collector to walk; nor an AbortController, whose EventTarget listeners cost more than the
 * rest of the call's own work. The timer is cleared as soon as the call ends.
 */
class CallDeadline {
  /** Whether the deadline passed (undici's `aborted` check is for AbortSignals only). */
  expired = false;
  readonly #timer: NodeJS.Timeout;
  #listeners: Array<() => void> = [];

  constructor(ms: number) {
    this.#timer = setTimeout(expire, ms, this);
  }

  on(event: string, listener: () => void): this {
    if (event === 'abort') this.#listeners.push(listener);
    return this;
  }

  once(event: string, listener: () => void): this {
    // Fired at most once anyway.
    return this.on(event, listener);
  }

  addListener(event: string, listener: () => void): this {
    return this.on(event, listener);
  }

  removeListener(event: string, listener: () => void): this {
    if (event === 'abort') this.#listeners = this.#listeners.filter((known) => known !== listener);
    return this;
  }

  off(event: string, listener: () => void): this {
    return this.removeListener(event, listener);
  }

  /** Passes the deadline: every listener hears `abort`, once. */
  expire(): void {
    if (this.expired) return;
    this.expired = true;
    const listeners = this.#listeners;
    this.#listeners = [];
    for (const listener of listeners) listener();
  }

  clear(): void {
    clearTimeout(this.#timer);
  }
}

function expire(deadline: CallDeadline): void {
  deadline.expire();
}

function ignore(): void {}

/**
 * The endpoint URL with the call's query appended. Built as text: WeChat's endpoints are plain
 * URLs, and parsing and re-serializing one with `new URL()` on every call costs more than the
 * rest of the call's own work. An endpoint that carries a query of its own (a proxy's key, say)
 * goes through `URL` so a call's parameters replace its namesakes, as they always did.
 */
function urlWithQuery(endpoint: string, query: Readonly<Record<string, string>>): string {
  if (endpoint.includes('?') || endpoint.includes('#')) {
    const url = new URL(endpoint);
    for (const key in query) url.searchParams.set(key, query[key] as string);
    return url.href;
  }
  let text = endpoint;
  let separator = '?';
  for (const key in query) {
    text += `${separator}${key}=${encodeURIComponent(query[key] as string)}`;
    separator = '&';
  }
  return text;
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

function requestFailure(call: Call, error: unknown, deadline: CallDeadline): WeChatRequestError {
  const cause = safeCause(error, call.secrets);
  if (deadline.expired) {
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

export type { WeChatCode2SessionResponse, WeChatTokenResponse, WeChatUserInfoResponse } from './wechat-answers.js';
