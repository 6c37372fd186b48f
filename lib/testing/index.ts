/**
 * `passport-wechat-oauth2/testing`: a local WeChat login emulator for your own tests and demos.
 *
 * @example
 * ```ts
 * import { DEMO_WEBSITE_APP, WeChatEmulator } from 'passport-wechat-oauth2/testing';
 *
 * const emulator = await WeChatEmulator.start();
 * const options = emulator.strategyOptions(DEMO_WEBSITE_APP.appid);
 * // new WeChatStrategy({ ...options, callbackURL: 'http://localhost:3000/auth/wechat/callback' }, verify)
 * // new WeChatMiniProgramStrategy(emulator.miniProgramStrategyOptions(DEMO_MINIPROGRAM_APP.appid), verify)
 * // emulator.issuePhoneCode({ appid: DEMO_MINIPROGRAM_APP.appid, user: 'alice' }) // the phone-number button's code
 * // new WeChatAppStrategy(emulator.appStrategyOptions(DEMO_MOBILE_APP.appid), verify)
 * await emulator.close();
 * ```
 *
 * @packageDocumentation
 */
export {
  DEMO_MINIPROGRAM_APP,
  DEMO_MOBILE_APP,
  DEMO_OFFICIAL_ACCOUNT_APP,
  DEMO_USERS,
  DEMO_WEBSITE_APP,
} from './demo-data.js';
export { WeChatEmulator } from './emulator.js';
export type {
  AuthorizeOutcome,
  DeclineBehaviour,
  DelayFault,
  EmulatorApiEndpoint,
  EmulatorApp,
  EmulatorAppRegistration,
  EmulatorAppStrategyOptions,
  EmulatorCall,
  EmulatorContentType,
  EmulatorEncryptedData,
  EmulatorEndpoint,
  EmulatorEndpoints,
  EmulatorFault,
  EmulatorMiniProgramStrategyOptions,
  EmulatorPageEndpoint,
  EmulatorStrategyOptions,
  EmulatorUser,
  EmulatorUserInfoData,
  EmulatorUserRegistration,
  ErrcodeFault,
  FaultTarget,
  HangFault,
  HttpErrorFault,
  LatencyRange,
  RawBodyFault,
  StableTokenQuota,
  WeChatAppKind,
  WeChatEmulatorOptions,
  WeChatScope,
} from './types.js';
