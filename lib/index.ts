/**
 * passport-wechat-oauth2: the Passport strategy for WeChat login.
 *
 * @packageDocumentation
 */
export { WeChatStrategy, Strategy, isInsideWeChat } from './strategy.js';
export type { WeChatAuthenticateOptions, WeChatFlowOptions } from './strategy.js';
export type { WeChatFailureInfo } from './failures.js';
export { WeChatMiniProgramStrategy } from './miniprogram.js';
export type {
  WeChatMiniProgramStrategyOptionsBase,
  WeChatMiniProgramStrategyOptions,
  WeChatMiniProgramStrategyOptionsWithRequest,
  WeChatMiniProgramVerifyFunction,
  WeChatMiniProgramVerifyFunctionWithRequest,
} from './miniprogram.js';
export { WeChatAppStrategy } from './native-app.js';
export type { WeChatAppStrategyOptions, WeChatAppStrategyOptionsBase, WeChatAppStrategyOptionsWithRequest } from './native-app.js';
export type { WeChatPostedCodeOptions } from './posted-code.js';
export { WeChatSessionKey, decryptUserData, verifyUserDataSignature } from './userdata.js';
export type { WeChatDecryptedPhoneNumber, WeChatDecryptedUserInfo, WeChatWatermark } from './userdata.js';
export { MemoryCallbackStore, callbackKey } from './duplicates.js';
export type { WeChatCallbackStore, WeChatDuplicateCallbackOptions } from './duplicates.js';
export { buildWxLoginOptions } from './wxlogin.js';
export type { WxLoginOptions, WxLoginStyle } from './wxlogin.js';
export type {
  SkipUserProfile,
  VerifyCallback,
  WeChatCredentials,
  WeChatFlow,
  WeChatOfficialAccountOptions,
  WeChatOfficialAccountScope,
  WeChatStrategyOptions,
  WeChatStrategyOptionsBase,
  WeChatStrategyOptionsWithRequest,
  WeChatVerifyFunction,
  WeChatVerifyFunctionWithParams,
  WeChatVerifyFunctionWithRequest,
  WeChatVerifyFunctionWithRequestAndParams,
} from './options.js';
export { parseProfile, profileFromToken } from './profile.js';
export type { WeChatIdentity, WeChatProfile } from './profile.js';
export { buildAuthorizeURL, OFFICIAL_ACCOUNT_AUTHORIZE_URL, QR_CONNECT_URL } from './authorize.js';
export type { AuthorizeURLParams, WeChatQRLang } from './authorize.js';
export { DEFAULT_ENDPOINTS, DEFAULT_MAX_RESPONSE_BYTES, DEFAULT_TIMEOUT_MS } from './client.js';
export type { Dispatcher, WeChatCode2SessionResponse, WeChatEndpoints, WeChatTokenResponse, WeChatUserInfoLang } from './client.js';
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
  errorFromErrcode,
} from './errors.js';
export type { WeChatEndpoint, WeChatErrorCode, WeChatErrorInit } from './errors.js';
