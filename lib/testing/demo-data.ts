/**
 * The demo apps and users every emulator registers unless `seed: false`: one app of each
 * kind, all in one Open Platform group, and two users who differ in what WeChat gives out.
 * Frozen, so sharing them between emulators is safe (no module-level mutable state).
 */
import type { EmulatorApp, EmulatorUserRegistration } from './types.js';

/**
 * The demo Website App registered unless `seed: false`. `allowPorts` is true because
 * local demos run on `localhost:3000`-style URLs, which real WeChat rejects (docs/wechat-protocol.md#website-qr-login-callback-domain-and-ports).
 */
export const DEMO_WEBSITE_APP: EmulatorApp = Object.freeze({
  appid: 'wx5f3c2a9e8d1b7046',
  secret: '3f9a1c7e5b2d4068a1c3e5f7092b4d6e',
  name: 'Demo Website (emulator)',
  kind: 'website',
  callbackDomains: Object.freeze(['localhost', '127.0.0.1']),
  allowPorts: true,
  unionGroup: 'default',
});

/** The demo Official Account registered unless `seed: false`; same Open Platform group as the website app. */
export const DEMO_OFFICIAL_ACCOUNT_APP: EmulatorApp = Object.freeze({
  appid: 'wx91e7c0a54d3b682f',
  secret: 'c84e2a6f0b1d3957e8a2c4f6b0d19375',
  name: 'Demo Official Account (emulator)',
  kind: 'official-account',
  callbackDomains: Object.freeze(['localhost', '127.0.0.1']),
  allowPorts: true,
  unionGroup: 'default',
});

/**
 * The demo Mini Program registered unless `seed: false`; same Open Platform group as the
 * website app, so a user's unionid (their `profile.id`) is the same in both.
 */
export const DEMO_MINIPROGRAM_APP: EmulatorApp = Object.freeze({
  appid: 'wx3a8d5c0e7f2b9164',
  secret: '7b2e9d4f1a6c3e8b0d5f2a7c9e1b4d60',
  name: 'Demo Mini Program (emulator)',
  kind: 'miniprogram',
  callbackDomains: Object.freeze([]),
  allowPorts: false,
  unionGroup: 'default',
});

/** The demo Mobile Application (iOS/Android, Open SDK) registered unless `seed: false`; same Open Platform group. */
export const DEMO_MOBILE_APP: EmulatorApp = Object.freeze({
  appid: 'wxc6f1e9a3b5d70284',
  secret: 'e5a1c7d3f9b2e4a6c8d0f1b3a5c7e9d2',
  name: 'Demo Mobile App (emulator)',
  kind: 'mobile-app',
  callbackDomains: Object.freeze([]),
  allowPorts: false,
  unionGroup: 'default',
});

/**
 * The demo users: `alice` has a unionid, an avatar and a Chinese phone number; `bob` has neither
 * unionid nor avatar, and a US number (so getuserphonenumber's `phoneNumber` is `+14155550123`
 * while `purePhoneNumber` is `4155550123`).
 */
export const DEMO_USERS: readonly EmulatorUserRegistration[] = Object.freeze([
  Object.freeze({ id: 'alice', nickname: 'Alice 🐼', unionid: true, phoneNumber: '13800138000' }),
  Object.freeze({ id: 'bob', nickname: 'Bob', unionid: false, headimgurl: '', phoneNumber: '4155550123', phoneCountryCode: '1' }),
]);
