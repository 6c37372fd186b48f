/**
 * WeChatStrategy: the Passport glue. It lets passport-oauth2 run the flow (state stores, verify
 * arities, success/fail) and only changes what WeChat does differently: the authorize link, the
 * token exchange, the profile call, and how a declined or failed login ends.
 */
import type { Request } from 'express';
import OAuth2Strategy from 'passport-oauth2';
import { buildAuthorizeURL } from './authorize.js';
import { WeChatClient, type WeChatTokenResponse } from './client.js';
import { DuplicateCallbackGuard, type CallbackOutcome, type GuardedCallback } from './duplicate-guard.js';
import { MemoryCallbackStore } from './duplicates.js';
import { PLAUSIBLE_CODE, settle, shouldSkip } from './glue.js';
import { flowBindingKey, flowOfState, prefixedStore, prefixOf, type FlowStateStore } from './state.js';
import { buildWxLoginOptions, type WxLoginOptions, type WxLoginStyle } from './wxlogin.js';
import { WeChatCodeError, WeChatError, WeChatOptionsError } from './errors.js';
import {
  resolveSettings,
  type WeChatAppSettings,
  type WeChatFlow,
  type WeChatSettings,
  type WeChatStrategyOptions,
  type WeChatStrategyOptionsWithRequest,
  type WeChatVerifyFunction,
  type WeChatVerifyFunctionWithParams,
  type WeChatVerifyFunctionWithRequest,
  type WeChatVerifyFunctionWithRequestAndParams,
} from './options.js';
import { parseProfile, profileFromToken, type WeChatIdentity, type WeChatProfile } from './profile.js';

/** Why a login ended in Passport's `fail()`: the `info` your failure handler receives. */
export interface WeChatFailureInfo {
  message: string;
  code: 'WECHAT_DECLINED' | 'WECHAT_MALFORMED_CODE' | 'WECHAT_INVALID_CODE' | 'WECHAT_SNAPSHOT_USER' | 'WECHAT_DUPLICATE_CALLBACK';
  errcode?: number;
}

/** Per-call options of `passport.authenticate('wechat', options)`. */
export interface WeChatAuthenticateOptions extends WeChatFlowOptions {
  callbackURL?: string;
  scope?: string | string[];
  /** App state to carry through the login, kept in the session by the state store (needs `store: true`). */
  state?: string;
  [option: string]: unknown;
}

type TokenCallback = (err: unknown, accessToken?: string, refreshToken?: string, params?: WeChatTokenResponse) => void;

/** @internal passport-oauth2 and passport-oauth2-refresh drive this as if it were node-oauth's OAuth2. */
export class WeChatOAuth2Adapter {
  readonly _clientId: string;
  readonly _clientSecret = '';
  readonly _baseSite = '';
  readonly _authorizeUrl: string;
  readonly _accessTokenUrl: string;
  readonly _customHeaders: Record<string, string> = {};
  getOAuthAccessToken: (code: string, params: Record<string, unknown>, callback: TokenCallback) => void = (_c, _p, callback) =>
    callback(new WeChatOptionsError('This OAuth2 adapter has no WeChat client.'));

  // Positional, like node-oauth's OAuth2: passport-oauth2-refresh calls `new adapter.constructor(...)`.
  constructor(clientId: string, _clientSecret?: string, _baseSite?: string, authorizeUrl = '', accessTokenUrl = '') {
    this._clientId = clientId;
    this._authorizeUrl = authorizeUrl;
    this._accessTokenUrl = accessTokenUrl;
  }
}

const DECLINED: WeChatFailureInfo = {
  code: 'WECHAT_DECLINED',
  message: 'The WeChat login was declined or cancelled.',
};
// NOTE: a snapshot-page login (is_snapshotuser: 1) carries a virtual openid/unionid, not the
// person's (wechat-api.md §3.2): logging it in would create a ghost account.
const SNAPSHOT_USER: WeChatFailureInfo = {
  code: 'WECHAT_SNAPSHOT_USER',
  message: 'WeChat signed in a virtual snapshot-page user; the user must open the page in WeChat and authorize.',
};
const MALFORMED_CODE: WeChatFailureInfo = {
  code: 'WECHAT_MALFORMED_CODE',
  message: 'The WeChat login callback carried a malformed code. Please log in again.',
};

/** @internal One configured WeChat app, ready to log users in. */
interface WeChatApp {
  settings: WeChatAppSettings;
  client: WeChatClient;
  oauth2: WeChatOAuth2Adapter;
  stateStore: FlowStateStore;
}

/** Per-request choices of `passport.authenticate('wechat', { flow })`. */
export interface WeChatFlowOptions {
  /** Force a flow instead of choosing by User-Agent (a strategy with an `officialAccount` only). */
  flow?: WeChatFlow;
}

/**
 * Passport strategy for WeChat login: website QR login on desktops, and — with an
 * `officialAccount` — the Official Account login inside WeChat's own browser.
 *
 * @example
 * ```ts
 * passport.use(new WeChatStrategy({
 *   clientID: process.env.WECHAT_APP_ID!,
 *   clientSecret: process.env.WECHAT_APP_SECRET!,
 *   callbackURL: 'https://example.com/auth/wechat/callback',
 * }, (accessToken, refreshToken, profile, done) => {
 *   done(null, { id: profile.id, name: profile.displayName });
 * }));
 * ```
 */
export class WeChatStrategy<Req = Request> extends OAuth2Strategy {
  /** @internal */
  declare _oauth2: OAuth2Strategy['_oauth2'];
  /** @internal passport-oauth2's store, built from the `state`/`store` options. */
  declare _stateStore: OAuth2Strategy.StateStore;
  /** @internal passport-oauth2's session key. */
  declare _key: string;
  /** @internal */
  readonly _settings: WeChatSettings;
  /** @internal The top-level app first, the Official Account second. */
  readonly _apps: readonly WeChatApp[];
  /** @internal Duplicate-callback handling with its store; undefined when turned off. */
  readonly _duplicates: DuplicateCallbackGuard | undefined;

  constructor(options: WeChatStrategyOptions, verify: WeChatVerifyFunction);
  constructor(options: WeChatStrategyOptions, verify: WeChatVerifyFunctionWithParams);
  constructor(options: WeChatStrategyOptionsWithRequest, verify: WeChatVerifyFunctionWithRequest<Req>);
  constructor(options: WeChatStrategyOptionsWithRequest, verify: WeChatVerifyFunctionWithRequestAndParams<Req>);
  constructor(
    options: WeChatStrategyOptions | WeChatStrategyOptionsWithRequest,
    verify:
      | WeChatVerifyFunction
      | WeChatVerifyFunctionWithParams
      | WeChatVerifyFunctionWithRequest<Req>
      | WeChatVerifyFunctionWithRequestAndParams<Req>,
  ) {
    const { appSecrets, ...settings } = resolveSettings(options, verify);
    const [primary] = settings.apps as [WeChatAppSettings];
    super(
      {
        clientID: primary.appId,
        clientSecret: '',
        authorizationURL: primary.authorizationURL,
        tokenURL: settings.endpoints.tokenURL,
        callbackURL: settings.callbackURL,
        scope: primary.scope,
        scopeSeparator: ',',
        sessionKey: options.sessionKey,
        // Safe by default: CSRF protection unless the app opts out or brings its own store.
        state: options.store ? undefined : options.state ?? true,
        store: options.store as OAuth2Strategy.StateStore | undefined,
        passReqToCallback: options.passReqToCallback === true,
        skipUserProfile: false,
      } as OAuth2Strategy.StrategyOptions,
      verify as OAuth2Strategy.VerifyFunction,
    );
    this.name = 'wechat';
    this._settings = settings;
    // With two apps the state names the app that started the login, bound by a MAC no URL edit can forge.
    const binding = settings.apps.length > 1 ? flowBindingKey(appSecrets) : undefined;
    this._apps = settings.apps.map((app, index) => {
      // The AppSecret lives only inside the client's private field, out of util.inspect's reach.
      const client = new WeChatClient({ ...settings, appId: app.appId, appSecret: appSecrets[index] ?? '' });
      const oauth2 = new WeChatOAuth2Adapter(app.appId, '', '', app.authorizationURL, settings.endpoints.tokenURL);
      oauth2.getOAuthAccessToken = grantFor(client);
      const store = index === 0 || typeof options.store === 'object' ? this._stateStore : this.storeWithKey(`${this._key}:${app.flow}`);
      return { settings: app, client, oauth2, stateStore: prefixedStore(store, binding && { prefix: prefixOf(app.flow), key: binding }) };
    });
    this._oauth2 = this._apps[0]?.oauth2 as unknown as OAuth2Strategy['_oauth2'];
    const duplicates = settings.duplicates;
    this._duplicates = duplicates
      ? new DuplicateCallbackGuard(duplicates.store ?? new MemoryCallbackStore(), duplicates.ttlSeconds, duplicates.waitMs)
      : undefined;
  }

  /**
   * Starts a login (redirect to WeChat) or finishes one (the callback). Never throws and never
   * returns a rejected promise: every path ends in `redirect`, `success`, `fail` or `error`.
   */
  override authenticate(req: Request, options: WeChatAuthenticateOptions = {}): void {
    try {
      const { code, state } = callbackParams(req);
      if (code === undefined && state !== undefined) {
        // NOTE: a user who declines comes back with state and no code, or not at all
        // (wechat-api.md §1.2). Sending them back to WeChat would loop: fail instead.
        return this.fail({ ...DECLINED }, 401);
      }
      if (code !== undefined && !PLAUSIBLE_CODE.test(code)) return this.fail({ ...MALFORMED_CODE }, 400);
      const app = code === undefined ? this.appForLogin(req, options.flow) : this.appForCallback(state);
      if (!app) return this.fail({ message: 'Invalid authorization request state.' }, 403);
      const callbackURL = resolveCallbackURL(req, options.callbackURL ?? this._settings.callbackURL, this._settings.trustProxy);
      // passport-oauth2 must read the request as we just did (no body code or state, no ?error=).
      const view = passportView(req);
      const run = (callback?: GuardedCallback): void => {
        try {
          const attempt = this.beginAttempt(app, req, callback);
          OAuth2Strategy.prototype.authenticate.call(attempt, view, { ...options, callbackURL, scope: options.scope ?? app.settings.scope });
        } catch (error) {
          this.error(error instanceof Error ? error : new Error(String(error)));
        }
      };
      // Only a callback with a code can be a duplicate: the start of a login skips the hashing.
      run(code === undefined ? undefined : this._duplicates?.callbackOf(req, app.settings.appId, code, state ?? ''));
    } catch (error) {
      this.error(error instanceof Error ? error : new Error(String(error)));
    }
  }

  /**
   * WeChat's userinfo call needs the openid from the token response, which passport-oauth2 does
   * not pass here; logins use {@link WeChatStrategy.loadUserProfile} instead.
   */
  override userProfile(_accessToken: string, done: (err?: unknown, profile?: unknown) => void): void {
    done(new WeChatOptionsError('WeChat needs the openid to read a profile: call strategy.loadUserProfile(tokenResponse).'));
  }

  /**
   * Reads the user's WeChat profile with a token response (`access_token` and `openid`). A token
   * granted only `snsapi_base` gives the ids alone, without a userinfo call (WeChat would refuse it).
   */
  async loadUserProfile(token: WeChatIdentity & { access_token: string; scope?: string }, options: WeChatFlowOptions = {}): Promise<WeChatProfile> {
    const app = this.appFor(options.flow);
    const identity = { openid: token.openid, unionid: token.unionid, appid: app.settings.appId };
    const scopes = (token.scope || app.settings.scope).split(',');
    if (!scopes.includes('snsapi_userinfo') && !scopes.includes('snsapi_login')) return profileFromToken(identity);
    const { json, raw } = await app.client.getUserInfo(token.access_token, token.openid, this._settings.lang);
    return parseProfile(json, identity, raw);
  }

  /**
   * Renews an access token with `sns/oauth2/refresh_token`. The answer keeps `openid`; WeChat
   * does not send `unionid` again. Rejects with a {@link WeChatTokenError} when the refresh token
   * is invalid or expired (30 days): the user must log in again.
   */
  refreshAccessToken(refreshToken: string, options: WeChatFlowOptions = {}): Promise<WeChatTokenResponse> {
    return this.appFor(options.flow).client.refreshAccessToken(refreshToken);
  }

  /** Asks `sns/auth` whether an access token is still valid for this openid. */
  checkAccessToken(accessToken: string, openid: string, options: WeChatFlowOptions = {}): Promise<boolean> {
    return this.appFor(options.flow).client.checkAccessToken(accessToken, openid);
  }

  /**
   * The options for WeChat's `new WxLogin({...})`, to embed the website QR code in your own page.
   * The state is stored in the session like a redirect login's, so the usual callback route
   * finishes the login.
   *
   * @example
   * ```ts
   * app.get('/login', async (req, res, next) => {
   *   try {
   *     const options = await strategy.wxLoginOptions(req, { id: 'wechat-qr', stylelite: true });
   *     res.render('login', { wxLogin: JSON.stringify(options) }); // new WxLogin(<%- wxLogin %>)
   *   } catch (err) { next(err); }
   * });
   * ```
   */
  wxLoginOptions(req: Request, style: WxLoginStyle & { callbackURL?: string }): Promise<WxLoginOptions> {
    return new Promise((resolve, reject) => {
      const app = this._apps.find((candidate) => candidate.settings.flow === 'website');
      if (!app) throw new WeChatOptionsError('wxLogin embeds the website QR login: configure a website application (scope snsapi_login).');
      const callbackURL = resolveCallbackURL(req, style.callbackURL ?? this._settings.callbackURL, this._settings.trustProxy);
      if (!callbackURL) throw new WeChatOptionsError('wxLoginOptions needs a callbackURL (in the strategy options or here).');
      const meta = { authorizationURL: app.settings.authorizationURL, tokenURL: this._settings.endpoints.tokenURL, clientID: app.settings.appId, callbackURL };
      app.stateStore.store(req, undefined, meta, (err, state) => {
        if (err) return reject(err);
        try {
          resolve(buildWxLoginOptions(app.settings.appId, callbackURL, state, { ...style, lang: style.lang ?? this._settings.qrLang }));
        } catch (error) {
          reject(error);
        }
      });
    });
  }

  /** @internal Another instance of passport-oauth2's own store class, under another session key. */
  private storeWithKey(key: string): OAuth2Strategy.StateStore {
    const StoreClass = this._stateStore.constructor as new (options: { key: string }) => OAuth2Strategy.StateStore;
    return new StoreClass({ key });
  }

  private appFor(flow: WeChatFlow | undefined): WeChatApp {
    const app = flow === undefined ? this._apps[0] : this._apps.find((candidate) => candidate.settings.flow === flow);
    if (!app) throw new WeChatOptionsError('This strategy has no app for the flow given: "website" or "official-account", as configured.');
    return app;
  }

  /** The app a new login uses: the one asked for, else the Official Account inside WeChat. */
  private appForLogin(req: Request, flow: unknown): WeChatApp {
    if (flow !== undefined && flow !== 'website' && flow !== 'official-account') {
      throw new WeChatOptionsError('flow must be "website" or "official-account".');
    }
    if (flow !== undefined || this._apps.length === 1) return this.appFor(flow);
    return this.appFor(isInsideWeChat(req.headers?.['user-agent']) ? 'official-account' : 'website');
  }

  /** The app that started the login being finished, named by the state it got back. */
  private appForCallback(state: string | undefined): WeChatApp | undefined {
    if (this._apps.length === 1) return this._apps[0];
    const flow = flowOfState(state);
    return flow && this._apps.find((candidate) => candidate.settings.flow === flow);
  }

  /**
   * A per-login view of this strategy (Passport's own per-request object is `this`). What one
   * login learns — the token response — lives in this closure, never on the shared instance,
   * so interleaved logins cannot see each other's users.
   */
  private beginAttempt(app: WeChatApp, req: Request, callback?: GuardedCallback): this {
    const attempt = Object.create(this) as this;
    const guard = this._duplicates;
    let token: WeChatTokenResponse | undefined;
    let stateVerified = false;
    // A login that claimed its callback records how it ended before saying so, for its duplicates.
    const finish = (outcome: CallbackOutcome, end: () => void): void =>
      guard && callback ? guard.finish(callback, outcome, end, req) : end();
    const fail = (challenge: object, status?: number): void =>
      finish({ status: 'fail', challenge, httpStatus: status }, () => this.fail(challenge, status));
    // A state that does not verify may be a duplicate whose first delivery used the state up (a
    // reload after the login): the record decides, and only the sessions that own it get its outcome.
    const failState = (challenge: object, status?: number): void => {
      if (stateVerified || !guard || !callback) return fail(challenge, status);
      settle(guard.endIfRecorded(callback, this, req), (ended) => ended || this.fail(challenge, status), () => this.fail(challenge, status), () => {});
    };
    const report = (error: unknown): void => {
      try {
        this.endWithError(error, fail, (cause) => finish({ status: 'error' }, () => this.error(cause)));
      } catch {
        // The host already answered this request (e.g. headers sent); nothing left to tell it.
      }
    };
    const oauth2 = Object.create(app.oauth2) as WeChatOAuth2Adapter;
    // passport-oauth2 asks for the token only once the state verified: the moment to claim the callback.
    oauth2.getOAuthAccessToken = (code, _params, done) => {
      stateVerified = true;
      const exchange = (): void =>
        settle(
          app.client.exchangeCode(code),
          (response) => {
            if (Number(response.is_snapshotuser) === 1) return fail({ ...SNAPSHOT_USER }, 401);
            token = response;
            done(null, response.access_token, response.refresh_token, response);
          },
          (error) => done(error),
          report,
        );
      if (!guard || !callback) return exchange();
      settle(
        guard.claim(callback),
        (claimed) => (claimed ? exchange() : guard.replay(callback, this, req)),
        // The store is down: exchange without duplicate protection rather than not at all.
        () => exchange(),
        report,
      );
    };
    Object.assign(attempt, {
      _oauth2: oauth2,
      _stateStore: app.stateStore,
      success: (user: Express.User, info?: object) => finish({ status: 'success', user, info }, () => this.success(user, info)),
      fail: failState,
      error: report,
      redirect: (location: string, status?: number) => {
        try {
          this.redirect(this.toWeChatAuthorizeURL(location, app.settings), status);
        } catch (error) {
          report(error);
        }
      },
      userProfile: (accessToken: string, done: (err?: unknown, profile?: WeChatProfile) => void) => {
        if (!token) return done(new WeChatOptionsError('No WeChat token response in this login.'));
        const current = token;
        const identity = { openid: current.openid, unionid: current.unionid, appid: app.settings.appId };
        settle(
          shouldSkip(this._settings.skipUserProfile, accessToken).then((skip) =>
            skip ? profileFromToken(identity) : this.loadUserProfile(current, { flow: app.settings.flow }),
          ),
          (profile) => done(null, profile),
          (error) => done(error),
          report,
        );
      },
    });
    return attempt;
  }

  /** Rewrites passport-oauth2's generic authorize link into WeChat's exact format. */
  private toWeChatAuthorizeURL(location: string, app: WeChatAppSettings): string {
    const generic = new URL(location);
    const redirectURI = generic.searchParams.get('redirect_uri');
    if (!redirectURI) {
      throw new WeChatOptionsError('WeChatStrategy needs a callbackURL (in its options or in passport.authenticate options).');
    }
    const scope = generic.searchParams.get('scope') ?? app.scope;
    if (scope.split(',').includes('snsapi_login') !== (app.flow === 'website')) {
      // The scope came from passport.authenticate options: named, not shown (it could hold anything).
      throw new WeChatOptionsError(`The scope given does not fit the ${app.flow} login (snsapi_login for website, snsapi_base or snsapi_userinfo for official-account).`);
    }
    const own = new Set(['appid', 'client_id', 'redirect_uri', 'response_type', 'scope', 'state', ...new URL(app.authorizationURL).searchParams.keys()]);
    const extra: Array<[string, string]> = [...generic.searchParams].filter(([key]) => !own.has(key));
    if (app.flow === 'website' && this._settings.qrLang) extra.push(['lang', this._settings.qrLang]);
    if (app.flow === 'official-account' && app.forcePopup) extra.push(['forcePopup', 'true']);
    return buildAuthorizeURL(app.authorizationURL, {
      appid: app.appId,
      redirectURI,
      scope,
      state: generic.searchParams.get('state') ?? undefined,
      extra,
    });
  }

  /** A rejected code is the user's failure (failureRedirect applies); anything else is an error. */
  private endWithError(error: unknown, fail: (info: WeChatFailureInfo, status: number) => void, fatal: (error: Error) => void): void {
    const cause = error instanceof OAuth2Strategy.InternalOAuthError && error.oauthError instanceof WeChatError ? error.oauthError : error;
    if (cause instanceof WeChatCodeError) {
      const info: WeChatFailureInfo = {
        code: 'WECHAT_INVALID_CODE',
        message: 'WeChat rejected the login code: it was invalid, expired or already used. Please log in again.',
        errcode: cause.errcode,
      };
      return fail(info, 401);
    }
    fatal(cause instanceof Error ? cause : new Error(String(cause)));
  }
}

// NOTE: WeChat's in-app browser says "MicroMessenger" in its User-Agent (also on PC WeChat);
// WeCom ("wxwork") says it too but cannot use an Official Account login (wechat-api.md §12.3).
/** Whether a User-Agent is WeChat's own browser. Pure. */
export function isInsideWeChat(userAgent: string | string[] | undefined): boolean {
  const ua = Array.isArray(userAgent) ? userAgent.join(' ') : (userAgent ?? '');
  return /MicroMessenger/i.test(ua) && !/wxwork/i.test(ua);
}

/** The alias other Passport strategies export. */
export { WeChatStrategy as Strategy };

// What passport.authenticate('wechat', { … }) accepts on top of Passport's own options.
declare module 'passport' {
  interface AuthenticateOptions {
    /** Overrides the strategy's callbackURL for this call. */
    callbackURL?: string | undefined;
    /** Forces the website or the Official Account login for this call. */
    flow?: WeChatFlow | undefined;
  }
}

// passport-oauth2 asks for a token with a code; passport-oauth2-refresh with grant_type=refresh_token.
function grantFor(client: WeChatClient): WeChatOAuth2Adapter['getOAuthAccessToken'] {
  return (codeOrRefreshToken, params, callback) => {
    const grant =
      params?.grant_type === 'refresh_token'
        ? client.refreshAccessToken(codeOrRefreshToken)
        : client.exchangeCode(codeOrRefreshToken);
    settle(
      grant,
      (response) => callback(null, response.access_token, response.refresh_token, response),
      (error) => callback(error),
      (thrown) => process.nextTick(() => { throw thrown; }),
    );
  };
}

/**
 * The code and state of a callback. WeChat sends the user back with a GET, so both come from the
 * query only; an empty `code=` counts as none. Undefined when absent.
 */
function callbackParams(req: Request): { code: string | undefined; state: string | undefined } {
  const code = queryParam(req, 'code');
  return { code: code === '' ? undefined : code, state: queryParam(req, 'state') };
}

function queryParam(req: Request, name: string): string | undefined {
  const query: unknown = req.query;
  if (typeof query !== 'object' || query === null || !Object.hasOwn(query, name)) return undefined;
  const value: unknown = (query as Record<string, unknown>)[name];
  // `?code=a&code=b` arrives as an array: not something WeChat sends.
  return typeof value === 'string' ? value : '\u0000';
}

/**
 * The request as passport-oauth2 may see it. passport-oauth2 also reads `code` and `state` from
 * the body, which would let a body turn a login start into a callback our checks never saw, and it
 * acts on `?error=…&error_description=…` before any state check — WeChat never sends those, so a
 * crafted link would put its own text in the app's failure message or logs. When a request holds
 * either, passport-oauth2 sees it through a view without them (reads and session writes still reach
 * the real request).
 */
function passportView(req: Request): Request {
  const body: unknown = req.body;
  const query: unknown = req.query;
  const bodyHasCallback = typeof body === 'object' && body !== null && ('code' in body || 'state' in body);
  const queryHasError = typeof query === 'object' && query !== null && OAUTH_ERROR_PARAMS.some((name) => Object.hasOwn(query, name));
  if (!bodyHasCallback && !queryHasError) return req;
  const hidden: PropertyDescriptorMap = {};
  if (bodyHasCallback) hidden.body = { value: undefined, enumerable: true };
  if (queryHasError) {
    const kept = Object.entries(query as Record<string, unknown>).filter(([name]) => !OAUTH_ERROR_PARAMS.includes(name));
    hidden.query = { value: Object.fromEntries(kept), enumerable: true };
  }
  return Object.create(req, hidden) as Request;
}

const OAUTH_ERROR_PARAMS: readonly string[] = ['error', 'error_description', 'error_uri'];

/**
 * Makes a relative callbackURL absolute from the request. Reads only `headers`, `url` and the
 * socket (passport-oauth2's own resolution touches `req.connection`, which Fastify 5 removed).
 * `X-Forwarded-Proto`/`X-Forwarded-Host` are used only when the strategy says `proxy: true`, or
 * when the host itself trusts the peer that sent the request: Express's `trust proxy` (a hop
 * count, subnets or a function, as Express decides it) and Fastify's `trustProxy`.
 */
export function resolveCallbackURL(req: Request, callbackURL: string | undefined, trustProxy: boolean): string | undefined {
  if (callbackURL === undefined || /^[a-z][a-z0-9+.-]*:/i.test(callbackURL)) return callbackURL;
  const { proto, host } = requestOrigin(req, trustProxy);
  if (!host) {
    throw new WeChatOptionsError('A relative callbackURL needs a Host header to resolve; configure an absolute callbackURL.');
  }
  return new URL(callbackURL, `${proto}://${host}${req.url ?? '/'}`).toString();
}

/** The scheme and host the browser used, as far as the request and its host's trust settings tell. */
function requestOrigin(req: Request, trustProxy: boolean): { proto: string; host: string | undefined } {
  const headers = req.headers ?? {};
  const socket = req.socket as { encrypted?: boolean; remoteAddress?: string } | undefined;
  const direct = { proto: socket?.encrypted === true ? 'https' : 'http', host: firstHeaderValue(headers.host) };
  const forwarded = () => ({
    proto: firstHeaderValue(headers['x-forwarded-proto']) ?? direct.proto,
    host: firstHeaderValue(headers['x-forwarded-host']) ?? direct.host,
  });
  if (trustProxy) return forwarded();
  // Express 4 and 5 compile `trust proxy` into this function of the peer's address and hop.
  const trusts: unknown = typeof req.app?.get === 'function' ? req.app.get('trust proxy fn') : undefined;
  if (typeof trusts === 'function') return (trusts as (address: string | undefined, hop: number) => boolean)(socket?.remoteAddress, 0) ? forwarded() : direct;
  // A Fastify request knows its own trustProxy decision.
  const fastify = req as unknown as { raw?: unknown; protocol?: unknown; host?: unknown };
  if (fastify.raw !== undefined && typeof fastify.protocol === 'string' && typeof fastify.host === 'string') {
    return { proto: fastify.protocol, host: fastify.host || direct.host };
  }
  return direct;
}

function firstHeaderValue(value: string | string[] | undefined): string | undefined {
  const first = Array.isArray(value) ? value[0] : value;
  return first?.split(',')[0]?.trim() || undefined;
}
