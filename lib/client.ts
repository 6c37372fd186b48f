/**
 * The WeChat API client: the only module that knows WeChat's sns endpoints and the only one that
 * imports undici. Every call is a GET with a deadline, a response size cap and no redirects; the
 * answer goes to wechat-answers.ts to be read, and any failure is redacted (redaction.ts).
 */
import type { Dispatcher } from 'undici';
import { observeCall } from './diagnostics.js';
import { cappedRequest, type RequestFailure } from './capped-request.js';
import { WeChatError, WeChatRequestError, WeChatResponseError, type WeChatEndpoint } from './errors.js';
import { safeCause } from './redaction.js';
import {
  parseAppTokenResponse,
  parsePhoneInfoResponse,
  type WeChatAppToken,
  type WeChatPhoneInfo,
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
  /** The app access token (`cgi-bin/stable_token`); `DEFAULT_ENDPOINTS.stableTokenURL` when absent. */
  stableTokenURL?: string;
  /** Mini Program phone numbers (`wxa/business/getuserphonenumber`); `DEFAULT_ENDPOINTS.phoneNumberURL` when absent. */
  phoneNumberURL?: string;
}

export const DEFAULT_ENDPOINTS: Readonly<Required<WeChatEndpoints>> = Object.freeze({
  tokenURL: 'https://api.weixin.qq.com/sns/oauth2/access_token',
  refreshTokenURL: 'https://api.weixin.qq.com/sns/oauth2/refresh_token',
  userProfileURL: 'https://api.weixin.qq.com/sns/userinfo',
  checkTokenURL: 'https://api.weixin.qq.com/sns/auth',
  sessionURL: 'https://api.weixin.qq.com/sns/jscode2session',
  stableTokenURL: 'https://api.weixin.qq.com/cgi-bin/stable_token',
  phoneNumberURL: 'https://api.weixin.qq.com/wxa/business/getuserphonenumber',
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

type AgentClass = typeof import('undici').Agent;

// undici takes tens of milliseconds to load, several times the rest of the package: it is loaded
// when a client is made (in the background, after the app's own start-up code ran) or at the first
// WeChat call, whichever comes first, so importing the package costs little and the first login
// pays at most the rest of that one load.
let agentLoading: Promise<AgentClass> | undefined;
let Agent: AgentClass | undefined;

// undici's index loads all of undici — fetch, WebSocket, EventSource, its cache, the mock agent —
// where the package needs its Agent alone: the index costs twice the load time, 2.7 MB more live
// heap and 5–10 MB more RSS (docs/benchmarks.md, "Memory"). So the agent module is loaded by its
// path. undici has no `exports` map, so the path is reachable, but it is not undici's documented
// API: should it move, the whole of undici is loaded as before (and test/import-cost.test.ts,
// which checks that the index stays unloaded, fails so that the path gets updated).
const UNDICI_AGENT_MODULE = 'undici/lib/dispatcher/agent.js';

async function importAgent(): Promise<AgentClass> {
  try {
    const loaded = (await import(UNDICI_AGENT_MODULE)) as { default?: unknown };
    const candidate: unknown = loaded.default ?? loaded;
    if (typeof candidate === 'function' && typeof (candidate.prototype as { dispatch?: unknown } | undefined)?.dispatch === 'function') return candidate as AgentClass;
  } catch {
    // Moved or renamed in this undici: the documented entry point below has it.
  }
  return (await import('undici')).Agent;
}

function loadAgent(): Promise<AgentClass> {
  agentLoading ??= importAgent().then((loaded) => (Agent = loaded));
  return agentLoading;
}

function warmUndici(): void {
  // A load that fails here fails again, and is reported, at the first call.
  if (!agentLoading) setImmediate(() => loadAgent().catch(() => (agentLoading = undefined))).unref();
}

// One keep-alive pool for every strategy in the process, so logins reuse TLS connections to
// api.weixin.qq.com instead of opening one per call. Idle sockets do not keep the process alive.
let sharedAgent: Dispatcher | undefined;

function sharedAgentOf(UndiciAgent: AgentClass): Dispatcher {
  sharedAgent ??= new UndiciAgent({ keepAliveTimeout: 30_000, keepAliveMaxTimeout: 60_000, connections: 64 });
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
  /** A POST's JSON body (cgi-bin and wxa calls); the `sns/*` calls are GETs. */
  body?: Record<string, unknown>;
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
   * The app's own access token from `cgi-bin/stable_token` (not a user's): `force_refresh: false`
   * returns the token in force (WeChat renews it in its last 5 minutes), `true` replaces it, which
   * WeChat allows 20 times a day, 30 s apart. Use {@link WeChatAppTokenProvider}, which caches it.
   */
  fetchStableToken(forceRefresh: boolean): Promise<WeChatAppToken> {
    const call: Call = {
      endpoint: 'stable_token',
      url: this.#endpoints.stableTokenURL ?? DEFAULT_ENDPOINTS.stableTokenURL,
      query: {},
      body: { grant_type: 'client_credential', appid: this.appId, secret: this.#appSecret, force_refresh: forceRefresh },
      secrets: [this.#appSecret],
    };
    return observeCall(this.appId, call.endpoint, () => this.#call(call, parseAppTokenResponse));
  }

  /**
   * A Mini Program user's phone number (`wxa/business/getuserphonenumber`) for the one-time code
   * of `<button open-type="getPhoneNumber">`, with the app's access token. Never retried by the
   * client: a phone code is single-use.
   */
  getPhoneNumber(appAccessToken: string, phoneCode: string): Promise<WeChatPhoneInfo> {
    const call: Call = {
      endpoint: 'getuserphonenumber',
      url: this.#endpoints.phoneNumberURL ?? DEFAULT_ENDPOINTS.phoneNumberURL,
      query: { access_token: appAccessToken },
      body: { code: phoneCode },
      secrets: [this.#appSecret, appAccessToken, phoneCode],
    };
    return observeCall(this.appId, call.endpoint, () => this.#call(call, parsePhoneInfoResponse));
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
    const url = urlWithQuery(call.url, call.query);
    // Stryker disable next-line ArithmeticOperator: the search starts after the scheme's `//`.
    const pathStart = url.indexOf('/', url.indexOf('//') + 2);
    try {
      const dispatcher = this.#dispatcher ?? sharedAgentOf(Agent ?? (await loadAgent()));
      return await cappedRequest(dispatcher, {
        origin: pathStart === -1 ? url : url.slice(0, pathStart),
        path: pathStart === -1 ? '/' : url.slice(pathStart),
        headers: call.body === undefined ? ACCEPT_JSON : POST_JSON,
        body: call.body === undefined ? undefined : JSON.stringify(call.body),
        timeout: this.#timeout,
        maxBytes: this.#maxResponseBytes,
      });
    } catch (error) {
      throw failureOfRequest(call, error as RequestFailure | Error, this.#maxResponseBytes);
    }
  }
}

const ACCEPT_JSON = Object.freeze({ accept: 'application/json, text/plain, */*' });
const POST_JSON = Object.freeze({ ...ACCEPT_JSON, 'content-type': 'application/json' });

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

/** The typed error of a GET that gave no body: loading undici failed, or the call itself did. */
function failureOfRequest(call: Call, failure: RequestFailure | Error, maxBytes: number): WeChatError {
  if (failure instanceof Error) return networkFailure(call, failure);
  if (failure.reason === 'status') return unexpectedStatus(call, failure.status);
  if (failure.reason === 'too-large') return tooLarge(call, maxBytes);
  if (failure.reason === 'timeout') {
    return new WeChatRequestError(`WeChat ${call.endpoint} did not answer within the timeout.`, {
      code: 'WECHAT_TIMEOUT',
      cause: safeCause(failure.cause, call.secrets),
    });
  }
  return networkFailure(call, failure.cause);
}

function networkFailure(call: Call, error: unknown): WeChatRequestError {
  const cause = safeCause(error, call.secrets);
  // Node's connect errors (an AggregateError per address tried) have an empty message but a code.
  const said = cause.message !== '' ? cause.message : cause.code;
  const reason = said === undefined ? '' : `: ${said}`;
  return new WeChatRequestError(`Could not reach WeChat ${call.endpoint}${reason}`, {
    code: 'WECHAT_NETWORK_ERROR',
    cause,
  });
}

export type { WeChatAppToken, WeChatCode2SessionResponse, WeChatPhoneInfo, WeChatTokenResponse, WeChatUserInfoResponse } from './wechat-answers.js';
