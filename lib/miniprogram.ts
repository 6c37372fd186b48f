/**
 * WeChatMiniProgramStrategy: sign-in from a Mini Program. The Mini Program calls `wx.login()` and
 * posts the code; the strategy exchanges it with `sns/jscode2session` and hands verify the login's
 * session key and the same profile shape as the website login — without the session key in it.
 */
import type { Request } from 'express';
import { Strategy } from 'passport-strategy';
import { DEFAULT_ENDPOINTS, WeChatClient, type WeChatCode2SessionResponse } from './client.js';
import {
  callVerify,
  readPostedCode,
  reportError,
  resolvePostedCodeSettings,
  type PostedCodeSettings,
  type WeChatPostedCodeOptions,
} from './posted-code.js';
import { settle } from './promise-callbacks.js';
import { failureOf } from './failures.js';
import type { VerifyCallback, WeChatCredentials } from './options.js';
import { url } from './settings.js';
import { parseProfile, type WeChatProfile } from './profile.js';
import { WeChatSessionKey } from './userdata.js';
import { debug, debugFailure } from './diagnostics.js';
import { WeChatError } from './errors.js';

/** The options of WeChatMiniProgramStrategy, whatever its credentials and verify form. */
export interface WeChatMiniProgramStrategyOptionsBase extends WeChatPostedCodeOptions {
  /** Override `https://api.weixin.qq.com/sns/jscode2session` (an emulator, an egress proxy). */
  sessionURL?: string | undefined;
}

/** Options when the verify callback does not receive the request. `clientID` is the Mini Program's AppID. */
export type WeChatMiniProgramStrategyOptions = WeChatMiniProgramStrategyOptionsBase &
  WeChatCredentials & { passReqToCallback?: false | undefined };
/** Options when the verify callback receives the request first. */
export type WeChatMiniProgramStrategyOptionsWithRequest = WeChatMiniProgramStrategyOptionsBase &
  WeChatCredentials & { passReqToCallback: true };

/** `verify(sessionKey, profile, done)` */
export type WeChatMiniProgramVerifyFunction = (sessionKey: WeChatSessionKey, profile: WeChatProfile, done: VerifyCallback) => void;
/** `verify(req, sessionKey, profile, done)` with `passReqToCallback: true`. */
export type WeChatMiniProgramVerifyFunctionWithRequest = (
  req: Request,
  sessionKey: WeChatSessionKey,
  profile: WeChatProfile,
  done: VerifyCallback,
) => void;


/**
 * Passport strategy for Mini Program sign-in (`wx.login()` → code → your server). The code is read
 * from the parsed body only (see `allowCodeInQuery`), exchanged once with `sns/jscode2session`, and
 * never retried.
 *
 * @example
 * ```ts
 * passport.use(new WeChatMiniProgramStrategy({
 *   clientID: process.env.WECHAT_MP_APP_ID!,
 *   clientSecret: process.env.WECHAT_MP_APP_SECRET!,
 * }, (sessionKey, profile, done) => {
 *   done(null, { id: profile.id, openid: profile.openid });
 * }));
 * app.post('/auth/wechat/miniprogram', express.json(), passport.authenticate('wechat-miniprogram', { session: false }), issueToken);
 * ```
 */
export class WeChatMiniProgramStrategy extends Strategy {
  name: string;
  /** @internal */
  readonly _settings: PostedCodeSettings;
  /** @internal The AppSecret lives only inside the client's private field. */
  readonly _client: WeChatClient;
  /** @internal */
  readonly _verify: WeChatMiniProgramVerifyFunction | WeChatMiniProgramVerifyFunctionWithRequest;

  constructor(options: WeChatMiniProgramStrategyOptions, verify: WeChatMiniProgramVerifyFunction);
  constructor(options: WeChatMiniProgramStrategyOptionsWithRequest, verify: WeChatMiniProgramVerifyFunctionWithRequest);
  constructor(
    options: WeChatMiniProgramStrategyOptions | WeChatMiniProgramStrategyOptionsWithRequest,
    verify: WeChatMiniProgramVerifyFunction | WeChatMiniProgramVerifyFunctionWithRequest,
  ) {
    const resolved = resolvePostedCodeSettings('WeChatMiniProgramStrategy', 'Mini Program', options, verify);
    const sessionURL = url(resolved.options, 'sessionURL') ?? DEFAULT_ENDPOINTS.sessionURL;
    super();
    this.name = 'wechat-miniprogram';
    this._settings = resolved.settings;
    this._verify = verify;
    this._client = new WeChatClient({
      ...resolved.settings,
      appSecret: resolved.appSecret,
      endpoints: { ...DEFAULT_ENDPOINTS, sessionURL },
    });
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
        this._client.codeToSession(posted.code),
        (session) => this.verifySession(req, session),
        (error) => this.endWithError(error),
        (thrown) => reportError(this, thrown),
      );
    } catch (error) {
      this.error(error instanceof Error ? error : new Error(String(error)));
    }
  }

  /** Hands verify the session key apart from the profile, which never holds it. */
  private verifySession(req: Request, session: WeChatCode2SessionResponse): void {
    const { session_key: key, ...json } = session;
    const sessionKey = new WeChatSessionKey(key, this._settings.appId);
    const identity = { openid: json.openid, unionid: json.unionid, appid: this._settings.appId };
    const profile = parseProfile(json, identity, JSON.stringify(json));
    const args = this._settings.passReqToCallback ? [req, sessionKey, profile] : [sessionKey, profile];
    callVerify(this, this._verify, args);
  }

  /** A refused code or a blocked user is the user's failure (failureRedirect applies); anything else is an error. */
  private endWithError(error: unknown): void {
    const failure = failureOf(error, 'Call wx.login() again.');
    if (failure) {
      debugFailure(this._settings.appId, failure.info, failure.status);
      return this.fail({ ...failure.info }, failure.status);
    }
    debug('login %s error %s', this._settings.appId, error instanceof WeChatError ? error.code : 'from the app');
    this.error(error instanceof Error ? error : new Error(String(error)));
  }

}
