/**
 * Turning an app or user registration into the frozen record the emulator holds: checked,
 * normalised, with the defaults filled in. Pure.
 *
 * @internal Not part of the public `passport-wechat-oauth2/testing` API.
 */
import { avatarUrlOf } from './ids.js';
import { CODE_SCOPES } from './scopes.js';
import type { EmulatorApp, EmulatorAppRegistration, EmulatorUser, EmulatorUserRegistration } from './types.js';

/** The app to hold, or a TypeError naming what `registerApp` was given wrong. */
export function appOf(registration: EmulatorAppRegistration): EmulatorApp {
  if (registration.appid === '' || registration.secret === '') throw new TypeError('registerApp: appid and secret are required');
  if (!Object.hasOwn(CODE_SCOPES, registration.kind)) throw new TypeError(`registerApp: unknown kind ${String(registration.kind)}`);
  const hasWebLogin = registration.kind === 'website' || registration.kind === 'official-account';
  if (hasWebLogin && registration.callbackDomains === undefined) {
    throw new TypeError(`registerApp: a ${registration.kind} app needs callbackDomains`);
  }
  const domains = (registration.callbackDomains ?? []).map((domain) => domain.trim().toLowerCase());
  const urlLike = domains.find((domain) => domain.includes('/'));
  // NOTE: WeChat registers a domain, not a URL, and no scheme (docs/wechat-protocol.md#official-account-callback-domain-rules).
  if (urlLike !== undefined) throw new TypeError(`registerApp: callbackDomains takes host names, not URLs: ${urlLike}`);
  return Object.freeze({
    appid: registration.appid,
    secret: registration.secret,
    name: registration.name ?? registration.appid,
    kind: registration.kind,
    callbackDomains: Object.freeze(domains),
    allowPorts: registration.allowPorts ?? false,
    unionGroup: registration.unionGroup === undefined ? 'default' : registration.unionGroup,
  });
}

/** The user to hold, or a TypeError when `registerUser` was given no id or a phone number that is not digits. */
export function userOf(registration: EmulatorUserRegistration): EmulatorUser {
  if (registration.id === '') throw new TypeError('registerUser: id is required');
  const { phoneNumber, phoneCountryCode = '86' } = registration;
  // Digits only: purePhoneNumber and countryCode carry no '+', space or dash.
  if (phoneNumber !== undefined && !/^\d{4,15}$/.test(phoneNumber)) {
    throw new TypeError(`registerUser: phoneNumber takes 4 to 15 digits without the country code, got ${phoneNumber}`);
  }
  if (!/^\d{1,4}$/.test(phoneCountryCode)) throw new TypeError(`registerUser: phoneCountryCode takes 1 to 4 digits, got ${phoneCountryCode}`);
  return Object.freeze({
    id: registration.id,
    nickname: registration.nickname ?? registration.id,
    unionid: registration.unionid ?? true,
    headimgurl: registration.headimgurl ?? avatarUrlOf(registration.id),
    snapshot: registration.snapshot ?? false,
    highRisk: registration.highRisk ?? false,
    phoneNumber: phoneNumber ?? null,
    phoneCountryCode,
  });
}
