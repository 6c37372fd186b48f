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
import { WeChatError, WeChatOptionsError } from './errors.js';
import { WeChatAppTokenProvider } from './app-token.js';
import { phoneErrorOf, phoneNumberOf, readPhoneCode, resolvePhoneSettings, type PhoneProfileFields, type PhoneSettings, type WeChatPhoneNumberError, type WeChatPhoneNumberMode } from './phone-number.js';

/** The options of WeChatMiniProgramStrategy, whatever its credentials and verify form. */
export interface WeChatMiniProgramStrategyOptionsBase extends WeChatPostedCodeOptions {
  /** Override `https://api.weixin.qq.com/sns/jscode2session` (an emulator, an egress proxy). */
  sessionURL?: string | undefined;
  /**
   * Sign in with the user's phone number (`<button open-type="getPhoneNumber">`): the Mini Program
   * posts the button's one-time code beside the `wx.login()` code, and the profile carries
   * `phoneNumbers: [{ value: '+86…' }]` and WeChat's `_phoneInfo`. `'required'`: a sign-in
   * without a usable phone number fails; `'optional'`: it succeeds without one, and
   * `profile.phoneNumberError` says why. Default off. docs/miniprogram.md#phone-number-sign-in.
   */
  phoneNumber?: WeChatPhoneNumberMode | false | undefined;
  /** The body field of the phone code. Default `'phoneCode'`. */
  phoneCodeField?: string | undefined;
  /**
   * The app access token the phone number call needs; one is made from clientID and clientSecret
   * when absent. Pass your own to share it with your other WeChat API calls, or to give it a store
   * shared by your instances.
   */
  appToken?: WeChatAppTokenProvider | undefined;
  /** Override `https://api.weixin.qq.com/cgi-bin/stable_token` for the provider made here. */
  stableTokenURL?: string | undefined;
  /** Override `https://api.weixin.qq.com/wxa/business/getuserphonenumber`. */
  phoneNumberURL?: string | undefined;
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
  /** @internal Phone number sign-in, when on. */
  readonly _phone: (PhoneSettings & { appToken: WeChatAppTokenProvider }) | undefined;

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
    const phone = resolvePhoneSettings(resolved.options);
    const phoneNumberURL = url(resolved.options, 'phoneNumberURL') ?? DEFAULT_ENDPOINTS.phoneNumberURL;
    this._client = new WeChatClient({
      ...resolved.settings,
      appSecret: resolved.appSecret,
      endpoints: { ...DEFAULT_ENDPOINTS, sessionURL, phoneNumberURL },
    });
    const given = resolved.options.appToken;
    if (given !== undefined && !(given instanceof WeChatAppTokenProvider)) throw new WeChatOptionsError('appToken must be a WeChatAppTokenProvider.');
    if (given && given.appId !== resolved.settings.appId) throw new WeChatOptionsError("appToken is another app's: its clientID must be this Mini Program's.");
    this._phone = phone && {
      ...phone,
      appToken:
        given ??
        new WeChatAppTokenProvider({
          clientID: resolved.settings.appId,
          clientSecret: resolved.appSecret,
          stableTokenURL: url(resolved.options, 'stableTokenURL'),
          timeout: resolved.settings.timeout,
          maxResponseBytes: resolved.settings.maxResponseBytes,
          dispatcher: resolved.settings.dispatcher,
        }),
    };
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
      const phone = this._phone ? readPhoneCode(req, this._phone) : { absent: true as const };
      if ('failure' in phone) {
        debugFailure(this._settings.appId, phone.failure, 400);
        return this.fail({ ...phone.failure }, 400);
      }
      // NOTE: the login code first, the phone code second. The login code comes from wx.login()
      // without the user; the phone code from a tap. A failed code2Session leaves the phone code
      // unused (the Mini Program posts it again with a new login code, no second tap); a failed
      // phone call wastes only a login code (docs/miniprogram.md#phone-number-sign-in).
      settle(
        this._client.codeToSession(posted.code),
        (session) => ('code' in phone ? this.addPhoneNumber(req, session, phone.code) : this.verifySession(req, session)),
        (error) => this.endWithError(error),
        (thrown) => reportError(this, thrown),
      );
    } catch (error) {
      this.error(error instanceof Error ? error : new Error(String(error)));
    }
  }

  /** The phone number, then verify: a required one that fails ends the sign-in; an optional one is left out. */
  private addPhoneNumber(req: Request, session: WeChatCode2SessionResponse, phoneCode: string): void {
    const phone = this._phone as NonNullable<WeChatMiniProgramStrategy['_phone']>;
    settle(
      phoneNumberOf(phone.appToken, this._client, phoneCode),
      (fields) => this.verifySession(req, session, fields),
      (error) => {
        if (phone.mode === 'required') return this.endWithError(error);
        debug('login %s phone number left out: %s', this._settings.appId, error instanceof WeChatError ? error.code : 'error');
        this.verifySession(req, session, { phoneNumberError: phoneErrorOf(error) });
      },
      (thrown) => reportError(this, thrown),
    );
  }

  /** Hands verify the session key apart from the profile, which never holds it. */
  private verifySession(req: Request, session: WeChatCode2SessionResponse, phone?: Partial<PhoneProfileFields> & { phoneNumberError?: WeChatPhoneNumberError }): void {
    const { session_key: key, ...json } = session;
    const sessionKey = new WeChatSessionKey(key, this._settings.appId);
    const identity = { openid: json.openid, unionid: json.unionid, appid: this._settings.appId };
    const profile: WeChatProfile = { ...parseProfile(json, identity, JSON.stringify(json)), ...phone };
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
