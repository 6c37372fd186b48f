/**
 * passport-wechat-oauth2: Passport strategies for WeChat login, and what an app needs around them.
 * Everything else in lib/ is internal and may change in any release.
 *
 * @packageDocumentation
 */

// The strategies.
/** The website QR login, and the Official Account login inside WeChat (`'wechat'`). */
export { WeChatStrategy, Strategy } from './strategy.js';
/** Mini Program sign-in: a `wx.login()` code posted to your server (`'wechat-miniprogram'`). */
export { WeChatMiniProgramStrategy } from './miniprogram.js';
/** The app's own access token (`cgi-bin/stable_token`), cached, single-flight, shareable between instances. */
export { WeChatAppTokenProvider } from './app-token.js';
export type { WeChatAppTokenOptions, WeChatAppTokenStore } from './app-token.js';
export type { WeChatPhoneNumberError, WeChatPhoneNumberMode } from './phone-number.js';
/** Sign-in from your iOS or Android app through WeChat's Open SDK (`'wechat-app'`). */
export { WeChatAppStrategy } from './native-app.js';

/** Whether a User-Agent is WeChat's own browser (where the Official Account login applies). */
export { isInsideWeChat } from './strategy.js';

// Profiles, pure: unit-test your own handling of WeChat users with fixtures.
/** WeChat's `sns/userinfo` JSON → the Passport profile. */
export { parseProfile, profileFromToken } from './profile.js';

// Mini Program user data, checked with the login's session key.
/** The session key verify receives, and the checks of what a Mini Program posts with it. */
export { WeChatSessionKey, decryptUserData, verifyUserDataSignature } from './userdata.js';

/** Fastify's `onRequest` hook that lets the cookie state store (`state: { cookie }`) set its cookies. */
export { fastifyStateCookies } from './cookie-state-store.js';

/** The in-memory store of duplicate callbacks (one process); pass a shared store for several. */
export { MemoryCallbackStore } from './duplicates.js';

/** diagnostics_channel names of the per-call events (docs/troubleshooting.md, "Switching on diagnostics"). */
export { WECHAT_CALL_END_CHANNEL, WECHAT_CALL_START_CHANNEL } from './diagnostics.js';

/** WeChat's API endpoints and the client's defaults (10 s per call, 1 MiB per answer). */
export { DEFAULT_ENDPOINTS, DEFAULT_MAX_RESPONSE_BYTES, DEFAULT_TIMEOUT_MS } from './client.js';

// Errors: branch on `err.code` (and `instanceof` the classes).
export {
  WeChatAPIError,
  WeChatCodeError,
  WeChatCredentialsError,
  WeChatError,
  WeChatOptionsError,
  WeChatRequestError,
  WeChatResponseError,
  WeChatTokenError,
  WeChatUserBlockedError,
  WeChatUserDataError,
} from './errors.js';

// Types of options, verify callbacks, profiles, answers, failures and stores.
export type { WeChatAuthenticateOptions, WeChatFlowOptions } from './strategy.js';
export type {
  // The options every WeChatStrategy takes; WeChatStrategyOptions adds the credentials.
  WeChatStrategyOptionsBase,
  SkipUserProfile,
  VerifyCallback,
  WeChatCredentials,
  WeChatEndpointOptions,
  WeChatFlow,
  WeChatOfficialAccountOptions,
  WeChatOfficialAccountScope,
  WeChatProfileOptions,
  WeChatStateCookieOptions,
  WeChatStrategyOptions,
  WeChatStrategyOptionsWithRequest,
  WeChatVerifyFunction,
  WeChatVerifyFunctionWithParams,
  WeChatVerifyFunctionWithRequest,
  WeChatVerifyFunctionWithRequestAndParams,
} from './options.js';
export type {
  WeChatMiniProgramStrategyOptionsBase,
  WeChatMiniProgramStrategyOptions,
  WeChatMiniProgramStrategyOptionsWithRequest,
  WeChatMiniProgramVerifyFunction,
  WeChatMiniProgramVerifyFunctionWithRequest,
} from './miniprogram.js';
export type { WeChatAppStrategyOptions, WeChatAppStrategyOptionsBase, WeChatAppStrategyOptionsWithRequest } from './native-app.js';
export type { WeChatPostedCodeOptions } from './posted-code.js';
export type { WeChatFailureInfo } from './failures.js';
export type { WeChatIdentity, WeChatProfile } from './profile.js';
export type { WeChatAppToken, WeChatCode2SessionResponse, WeChatDispatcher, WeChatEndpoints, WeChatPhoneInfo, WeChatTokenResponse, WeChatUserInfoLang } from './client.js';
export type { WeChatQRLang } from './authorize.js';
export type { WxLoginOptions, WxLoginStyle } from './wxlogin.js';
export type { WeChatDecryptedPhoneNumber, WeChatDecryptedUserInfo, WeChatWatermark } from './userdata.js';
export type { WeChatCallbackStore, WeChatDuplicateCallbackOptions } from './duplicates.js';
export type { WeChatEndpoint, WeChatErrorCode } from './errors.js';
export type { WeChatCallEvent } from './diagnostics.js';
