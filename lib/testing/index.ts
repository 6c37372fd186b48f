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
 * await emulator.close();
 * ```
 *
 * @packageDocumentation
 */
export { DEMO_OFFICIAL_ACCOUNT_APP, DEMO_USERS, DEMO_WEBSITE_APP, WeChatEmulator } from './emulator.js';
export type {
  AuthorizeOutcome,
  DeclineBehaviour,
  DelayFault,
  EmulatorApiEndpoint,
  EmulatorApp,
  EmulatorAppRegistration,
  EmulatorCall,
  EmulatorContentType,
  EmulatorEndpoint,
  EmulatorEndpoints,
  EmulatorFault,
  EmulatorPageEndpoint,
  EmulatorStrategyOptions,
  EmulatorUser,
  EmulatorUserRegistration,
  ErrcodeFault,
  FaultTarget,
  HangFault,
  HttpErrorFault,
  LatencyRange,
  RawBodyFault,
  WeChatAppKind,
  WeChatEmulatorOptions,
  WeChatScope,
} from './emulator.js';
