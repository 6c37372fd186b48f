/**
 * The WeChat API client: the only module that knows WeChat's sns endpoints and the only one that
 * imports undici. Every call is a GET with a deadline, a response size cap and no redirects; the
 * answer goes to wechat-answers.ts to be read, and any failure is redacted (redaction.ts).
 */
import { Agent, request, type Dispatcher } from 'undici';
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

// One keep-alive pool for every strategy in the process, so logins reuse TLS connections to
// api.weixin.qq.com instead of opening one per call. Idle sockets do not keep the process alive.
const sharedAgent = new Agent({ keepAliveTimeout: 30_000, keepAliveMaxTimeout: 60_000, connections: 64 });

/** A WeChat API call's query, with the values that must never be shown anywhere. */
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
    // The option is undici's Dispatcher, typed structurally (WeChatDispatcher).
    this.#dispatcher = (options.dispatcher as Dispatcher | undefined) ?? sharedAgent;
  }

  /** Exchanges a login code for the user's tokens and openid. Never retried: codes are single-use. */
  async exchangeCode(code: string): Promise<WeChatTokenResponse> {
    return observeCall(this.appId, 'access_token', async () => {
      const json = await this.#get({
        endpoint: 'access_token',
        url: this.#endpoints.tokenURL,
        query: { appid: this.appId, secret: this.#appSecret, code, grant_type: 'authorization_code' },
        secrets: [this.#appSecret, code],
      });
      return parseTokenResponse(json, 'access_token');
    });
  }

  /** Renews an access token. WeChat keeps `openid` in the answer; `unionid` is not sent again. */
  async refreshAccessToken(refreshToken: string): Promise<WeChatTokenResponse> {
    return observeCall(this.appId, 'refresh_token', async () => {
      const json = await this.#get({
        endpoint: 'refresh_token',
        url: this.#endpoints.refreshTokenURL,
        query: { appid: this.appId, grant_type: 'refresh_token', refresh_token: refreshToken },
        secrets: [this.#appSecret, refreshToken],
      });
      return parseTokenResponse(json, 'refresh_token');
    });
  }

  /** Reads the user's profile. Needs the `openid` that came with the access token. */
  async getUserInfo(accessToken: string, openid: string, lang?: WeChatUserInfoLang): Promise<WeChatUserInfoResponse> {
    const query: Record<string, string> = { access_token: accessToken, openid };
    if (lang) query.lang = lang;
    return observeCall(this.appId, 'userinfo', () =>
      this.#getWithRaw({
        endpoint: 'userinfo',
        url: this.#endpoints.userProfileURL,
        query,
        secrets: [this.#appSecret, accessToken],
      }),
    );
  }

  /**
   * Asks WeChat whether an access token is still valid for this openid. Resolves `false` when
   * WeChat says the token or openid is invalid or expired; rejects on any other failure.
   */
  async checkAccessToken(accessToken: string, openid: string): Promise<boolean> {
    try {
      await observeCall(this.appId, 'auth', () =>
        this.#get({
          endpoint: 'auth',
          url: this.#endpoints.checkTokenURL,
          query: { access_token: accessToken, openid },
          secrets: [this.#appSecret, accessToken],
        }),
      );
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
    return observeCall(this.appId, 'jscode2session', async () => {
      const raw = await this.#fetchText(call);
      // The session_key is a secret known only once the answer is in: it joins the call's secrets
      // before anything built from this answer (an errmsg) can show it.
      call.secrets.push(...sessionKeyIn(raw));
      return parseCode2SessionResponse(parseWeChatJSON(raw, call.endpoint, call.secrets));
    });
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
        // Stryker disable next-line StringLiteral: undici's request() sends GET for an empty method (`opts.method || 'GET'`).
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

export type { WeChatCode2SessionResponse, WeChatTokenResponse, WeChatUserInfoResponse } from './wechat-answers.js';
