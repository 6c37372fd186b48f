/**
 * WeChatAppStrategy: sign-in from your own iOS or Android app. The app asks WeChat's Open SDK for
 * a code (`SendAuth.Req`, scope `snsapi_userinfo`) and posts it; the strategy exchanges it with the
 * Mobile Application's AppID and AppSecret through the website flow's calls (`sns/oauth2/access_token`,
 * `sns/userinfo`). No redirect and no state: the code never went through a browser.
 */
import type { Request } from 'express';
import { Strategy } from 'passport-strategy';
import { WeChatClient, type WeChatTokenResponse, type WeChatUserInfoLang } from './client.js';
import {
  callVerify,
  readPostedCode,
  reportError,
  resolvePostedCodeSettings,
  type PostedCodeSettings,
  type WeChatPostedCodeOptions,
} from './posted-code.js';
import { settle, shouldSkip } from './promise-callbacks.js';
import { failureOf } from './failures.js';
import { endpointsOf, skipOf, userInfoLangOf } from './settings.js';
import type {
  SkipUserProfile,
  WeChatCredentials,
  WeChatEndpointOptions,
  WeChatProfileOptions,
  WeChatVerifyFunction,
  WeChatVerifyFunctionWithParams,
  WeChatVerifyFunctionWithRequest,
  WeChatVerifyFunctionWithRequestAndParams,
} from './options.js';
import { profileFromToken, type WeChatIdentity, type WeChatProfile } from './profile.js';
import { loadProfile } from './profile-loader.js';
import { debug, debugFailure } from './diagnostics.js';
import { WeChatError } from './errors.js';

/** The options of WeChatAppStrategy, whatever its credentials and verify form. */
export interface WeChatAppStrategyOptionsBase extends WeChatPostedCodeOptions, WeChatEndpointOptions, WeChatProfileOptions {}

/** Options when the verify callback does not receive the request. `clientID` is the Mobile Application's AppID. */
export type WeChatAppStrategyOptions = WeChatAppStrategyOptionsBase & WeChatCredentials & { passReqToCallback?: false | undefined };
/** Options when the verify callback receives the request first. */
export type WeChatAppStrategyOptionsWithRequest = WeChatAppStrategyOptionsBase & WeChatCredentials & { passReqToCallback: true };

type AnyVerify =
  | WeChatVerifyFunction
  | WeChatVerifyFunctionWithParams
  | WeChatVerifyFunctionWithRequest
  | WeChatVerifyFunctionWithRequestAndParams;

/** What the app strategy keeps beyond the shared settings. */
interface NativeAppSettings {
  lang: WeChatUserInfoLang | undefined;
  skipUserProfile: SkipUserProfile;
}


/**
 * Passport strategy for sign-in from a native iOS/Android app through WeChat's Open SDK. The
 * verify callback has passport-oauth2's shapes, like {@link WeChatStrategy}'s.
 *
 * @example
 * ```ts
 * passport.use(new WeChatAppStrategy({
 *   clientID: process.env.WECHAT_MOBILE_APP_ID!,
 *   clientSecret: process.env.WECHAT_MOBILE_APP_SECRET!,
 * }, (accessToken, refreshToken, profile, done) => {
 *   done(null, { id: profile.id, name: profile.displayName });
 * }));
 * app.post('/auth/wechat/app', express.json(), passport.authenticate('wechat-app', { session: false }), issueToken);
 * ```
 */
export class WeChatAppStrategy extends Strategy {
  name: string;
  /** @internal */
  readonly _settings: PostedCodeSettings & NativeAppSettings;
  /** @internal The AppSecret lives only inside the client's private field. */
  readonly _client: WeChatClient;
  /** @internal */
  readonly _verify: AnyVerify;

  constructor(options: WeChatAppStrategyOptions, verify: WeChatVerifyFunction);
  constructor(options: WeChatAppStrategyOptions, verify: WeChatVerifyFunctionWithParams);
  constructor(options: WeChatAppStrategyOptionsWithRequest, verify: WeChatVerifyFunctionWithRequest);
  constructor(options: WeChatAppStrategyOptionsWithRequest, verify: WeChatVerifyFunctionWithRequestAndParams);
  constructor(options: WeChatAppStrategyOptions | WeChatAppStrategyOptionsWithRequest, verify: AnyVerify) {
    const resolved = resolvePostedCodeSettings('WeChatAppStrategy', 'Mobile Application', options, verify);
    const o = resolved.options;
    const endpoints = endpointsOf(o);
    const app: NativeAppSettings = { lang: userInfoLangOf(o), skipUserProfile: skipOf(o.skipUserProfile) };
    super();
    this.name = 'wechat-app';
    this._settings = { ...resolved.settings, ...app };
    this._verify = verify;
    this._client = new WeChatClient({ ...resolved.settings, appSecret: resolved.appSecret, endpoints });
  }

  /**
   * Signs the user in with the posted code. Never throws and never returns a rejected promise:
   * every path ends in `success`, `fail` or `error`. A missing or malformed code fails with 400
   * without calling WeChat.
   */
  override authenticate(req: Request, _options?: unknown): void {
    try {
      const posted = readPostedCode(req, this._settings);
      if ('failure' in posted) {
        debugFailure(this._settings.appId, posted.failure, 400);
        return this.fail({ ...posted.failure }, 400);
      }
      settle(
        this.signIn(posted.code),
        ({ token, profile }) => this.verifyLogin(req, token, profile),
        (error) => this.endWithError(error),
        (thrown) => reportError(this, thrown),
      );
    } catch (error) {
      this.error(error instanceof Error ? error : new Error(String(error)));
    }
  }

  /**
   * Reads the user's WeChat profile with a token response (`access_token` and `openid`). A token
   * without `snsapi_userinfo` gives the ids alone, without a userinfo call (WeChat would refuse it).
   */
  loadUserProfile(token: WeChatIdentity & { access_token: string; scope?: string }): Promise<WeChatProfile> {
    // No scope in the token response: take it as the app login's only scope, snsapi_userinfo (the SDK's SendAuth asks it).
    return loadProfile(this._client, this._settings.appId, token, 'snsapi_userinfo', this._settings.lang);
  }

  /**
   * Renews an access token with `sns/oauth2/refresh_token`. Rejects with a {@link WeChatTokenError}
   * when the refresh token is invalid or expired: the user must sign in again.
   */
  refreshAccessToken(refreshToken: string): Promise<WeChatTokenResponse> {
    return this._client.refreshAccessToken(refreshToken);
  }

  /** Asks `sns/auth` whether an access token is still valid for this openid. */
  checkAccessToken(accessToken: string, openid: string): Promise<boolean> {
    return this._client.checkAccessToken(accessToken, openid);
  }

  /** The code exchange, then the profile (unless skipped). What one login learns stays in this call. */
  private async signIn(code: string): Promise<{ token: WeChatTokenResponse; profile: WeChatProfile }> {
    const token = await this._client.exchangeCode(code);
    const identity = { openid: token.openid, unionid: token.unionid, appid: this._settings.appId };
    const skip = await shouldSkip(this._settings.skipUserProfile, token.access_token);
    return { token, profile: skip ? profileFromToken(identity) : await this.loadUserProfile(token) };
  }

  /** passport-oauth2's rule: only a verify declaring 5 parameters (6 with the request) gets the token response. */
  private verifyLogin(req: Request, token: WeChatTokenResponse, profile: WeChatProfile): void {
    const withRequest = this._settings.passReqToCallback;
    const withParams = this._verify.length === (withRequest ? 6 : 5);
    const tokens = withParams ? [token.access_token, token.refresh_token, token, profile] : [token.access_token, token.refresh_token, profile];
    callVerify(this, this._verify, withRequest ? [req, ...tokens] : tokens);
  }

  /** A refused code or a blocked user is the user's failure (failureRedirect applies); anything else is an error. */
  private endWithError(error: unknown): void {
    const failure = failureOf(error, 'Ask the WeChat SDK for a new one.');
    if (failure) {
      debugFailure(this._settings.appId, failure.info, failure.status);
      return this.fail({ ...failure.info }, failure.status);
    }
    debug('login %s error %s', this._settings.appId, error instanceof WeChatError ? error.code : 'from the app');
    this.error(error instanceof Error ? error : new Error(String(error)));
  }

}
