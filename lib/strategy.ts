/**
 * WeChatStrategy: the Passport glue. It lets passport-oauth2 run the flow (state stores, verify
 * arities, success/fail) and only changes what WeChat does differently: the authorize link, the
 * token exchange, the profile call, and how a declined or failed login ends.
 */
import type { Request } from 'express';
import OAuth2Strategy from 'passport-oauth2';
import { LoginAttempt } from './attempt.js';
import type { WeChatTokenResponse } from './client.js';
import { DuplicateCallbackGuard } from './duplicate-guard.js';
import { MemoryCallbackStore } from './duplicates.js';
import { WeChatOptionsError } from './errors.js';
import { debugFailure } from './diagnostics.js';
import { wrapTextState } from './app-state.js';
import { DECLINED, MALFORMED_CALLBACK_CODE, STATE_MISMATCH, type Failure } from './failures.js';
import { catchingRejection } from './promise-callbacks.js';
import { buildLoginFlows, flowForCallback, flowForLogin, flowNamed, type LoginFlow } from './login-flows.js';
import type {
  WeChatFlow,
  WeChatStrategyOptions,
  WeChatStrategyOptionsWithRequest,
  WeChatVerifyFunction,
  WeChatVerifyFunctionWithParams,
  WeChatVerifyFunctionWithRequest,
  WeChatVerifyFunctionWithRequestAndParams,
} from './options.js';
import { CookieStateStore } from './cookie-state-store.js';
import { PendingLoginStateStore } from './state-store.js';
import { resolveSettings, type LoginFlowSettings, type WeChatSettings } from './settings.js';
import type { WeChatIdentity, WeChatProfile } from './profile.js';
import { loadProfile } from './profile-loader.js';
import { callbackParams, isPlausibleCode, resolveCallbackURL } from './request.js';
import { buildWxLoginOptions, type WxLoginOptions, type WxLoginStyle } from './wxlogin.js';

export { isInsideWeChat } from './login-flows.js';

/** Per-call options of `passport.authenticate('wechat', options)`. */
export interface WeChatAuthenticateOptions extends WeChatFlowOptions {
  callbackURL?: string;
  scope?: string | string[];
  /**
   * App state to carry through the login: kept with the login's state nonce and given back as
   * `info.state` on success, a string as a string (an object works too, cast: `@types/passport`
   * types this option as a string). With `state: false` a string is sent to WeChat as the state
   * itself (passport-oauth2's behaviour), for apps that check it on their own.
   */
  state?: string;
  [option: string]: unknown;
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
  /** @internal The app's verify, as passport-oauth2 keeps it. */
  declare _verify: (...args: unknown[]) => unknown;
  /** @internal Whether verify gets the request first. */
  declare _passReqToCallback: boolean;
  /** @internal Whether callbacks are checked against a state store (not `state: false`). */
  readonly _checksState: boolean;
  /** @internal */
  readonly _settings: WeChatSettings;
  /** @internal The top-level app's flow first, the Official Account's second. */
  readonly _flows: readonly LoginFlow[];
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
    const { appSecrets, cookieSecrets, ...settings } = resolveSettings(options, verify);
    const [primary] = settings.apps as [LoginFlowSettings];
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
        state: options.store ? undefined : options.state !== false,
        store: options.store as OAuth2Strategy.StateStore | undefined,
        passReqToCallback: options.passReqToCallback === true,
        skipUserProfile: false,
      } as OAuth2Strategy.StrategyOptions,
      // passport-oauth2 catches only a verify that throws; one whose promise rejects ends in error() too.
      catchingRejection(verify) as OAuth2Strategy.VerifyFunction,
    );
    this.name = 'wechat';
    this._settings = settings;
    // The session keeps the last few logins a browser started, not one (docs/state.md); a custom
    // store is the app's own, and state: false keeps passport-oauth2's store that checks nothing.
    const customStore = typeof options.store === 'object';
    const keyed = customStore ? undefined : stateStoreFactory(cookieSecrets, Boolean(options.store) || options.state !== false);
    if (keyed) this._stateStore = keyed(this._key);
    this._checksState = customStore || keyed !== undefined;
    // Each flow keeps its state under a key of its own (its MAC binds it with the cookie store);
    // a custom store serves both.
    this._flows = buildLoginFlows(settings, appSecrets, (index, flow) =>
      index === 0 || !keyed ? this._stateStore : keyed(`${this._key}:${flow}`),
    );
    this._oauth2 = this._flows[0]?.oauth2 as unknown as OAuth2Strategy['_oauth2'];
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
      // Read once: Express 5 parses the query string again on every read of req.query.
      const query: unknown = req.query;
      const { code, state } = callbackParams(query);
      if (code === undefined && state !== undefined) {
        // NOTE: a user who declines comes back with state and no code, or not at all
        // (docs/wechat-protocol.md#declined-logins). Sending them back to WeChat would loop: fail instead.
        return failEarly(this, this._settings.apps[0]?.appId ?? '', DECLINED);
      }
      if (code !== undefined && !isPlausibleCode(code)) return failEarly(this, this._settings.apps[0]?.appId ?? '', MALFORMED_CALLBACK_CODE);
      const flow = code === undefined ? flowForLogin(this._flows, req, options.flow) : flowForCallback(this._flows, state);
      if (!flow) return failEarly(this, this._settings.apps[0]?.appId ?? '', STATE_MISMATCH);
      const callbackURL = resolveCallbackURL(req, options.callbackURL ?? this._settings.callbackURL, this._settings.trustProxy);
      // Only a callback with a code can be a duplicate: the start of a login skips the hashing.
      const callback = code === undefined ? undefined : this._duplicates?.callbackOf(req, flow.settings.appId, code, state ?? '');
      const attempt = new LoginAttempt(this, {
        flow,
        req,
        callback,
        guard: this._duplicates,
        qrLang: this._settings.qrLang,
        skipUserProfile: this._settings.skipUserProfile,
        loadProfile: (token) => loadProfile(flow.client, flow.settings.appId, token, flow.settings.scope, this._settings.lang),
      });
      // What passport-oauth2 hands state stores about the login.
      const meta = { authorizationURL: flow.oauth2._authorizeUrl, tokenURL: flow.oauth2._accessTokenUrl, clientID: flow.oauth2._clientId, callbackURL } as OAuth2Strategy.Metadata;
      if (code !== undefined) {
        // passport-oauth2 would read a state from the body when the query has none; a WeChat callback never has one there.
        return attempt.finishCallback(code, state || undefined, meta, { verify: this._verify, passReqToCallback: this._passReqToCallback });
      }
      // passport-oauth2 sends a string `state` to WeChat as it is and stores nothing, so its callback
      // could never verify: while the strategy checks state, a string is app state like an object.
      const appState = typeof options.state === 'string' && this._checksState ? wrapTextState(options.state) : options.state;
      attempt.startLogin(appState, meta, { redirectURI: callbackURL, scope: options.scope ?? flow.settings.scope, params: this.authorizationParams(options) });
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
  loadUserProfile(token: WeChatIdentity & { access_token: string; scope?: string }, options: WeChatFlowOptions = {}): Promise<WeChatProfile> {
    return this.flowFor(options.flow).then(({ client, settings }) => loadProfile(client, settings.appId, token, settings.scope, this._settings.lang));
  }

  /**
   * Renews an access token with `sns/oauth2/refresh_token`. The answer keeps `openid`; WeChat
   * does not send `unionid` again. Rejects with a {@link WeChatTokenError} when the refresh token
   * is invalid or expired (30 days): the user must log in again.
   */
  refreshAccessToken(refreshToken: string, options: WeChatFlowOptions = {}): Promise<WeChatTokenResponse> {
    return this.flowFor(options.flow).then(({ client }) => client.refreshAccessToken(refreshToken));
  }

  /** Asks `sns/auth` whether an access token is still valid for this openid. */
  checkAccessToken(accessToken: string, openid: string, options: WeChatFlowOptions = {}): Promise<boolean> {
    return this.flowFor(options.flow).then(({ client }) => client.checkAccessToken(accessToken, openid));
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
      const app = this._flows.find((candidate) => candidate.settings.flow === 'website');
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

  /** A flow, as a promise: a flow the strategy lacks rejects rather than throws. */
  private flowFor(flow: WeChatFlow | undefined): Promise<LoginFlow> {
    return new Promise((resolve) => resolve(flowNamed(this._flows, flow)));
  }


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

/**
 * How the strategy's own state stores are made, one per key: the cookie store with
 * `state: { cookie }`, else the session store; undefined with `state: false` (passport-oauth2's
 * store that checks nothing stays).
 */
function stateStoreFactory(cookieSecrets: string[] | undefined, on: boolean): ((key: string) => OAuth2Strategy.StateStore) | undefined {
  if (cookieSecrets) return (key) => new CookieStateStore({ key, secrets: cookieSecrets }) as unknown as OAuth2Strategy.StateStore;
  if (on) return (key) => new PendingLoginStateStore({ key }) as unknown as OAuth2Strategy.StateStore;
  return undefined;
}

/** Ends a callback that fails before any WeChat call (Passport's per-request object has no private brand: a function, not a method). */
function failEarly(actions: Pick<OAuth2Strategy, 'fail'>, appid: string, failure: Failure): void {
  debugFailure(appid, failure.info, failure.status);
  actions.fail({ ...failure.info }, failure.status);
}
