/**
 * WeChat's scopes: which each authorize page offers, which a code of each kind of app can
 * carry, and reading the `scope` parameter of an authorize link.
 *
 * @internal Not part of the public `passport-wechat-oauth2/testing` API.
 */
import type { EmulatorPageEndpoint, WeChatAppKind, WeChatScope } from './types.js';

const PAGE_SCOPES: Readonly<Record<EmulatorPageEndpoint, readonly WeChatScope[]>> = Object.freeze({
  qrconnect: Object.freeze(['snsapi_login'] as const), // "网页应用目前仅填写snsapi_login" (docs/wechat-protocol.md#scopes-per-login-page)
  'oauth2/authorize': Object.freeze(['snsapi_base', 'snsapi_userinfo'] as const), // docs/wechat-protocol.md#scopes-per-login-page
});

/** The scopes `WeChatEmulator.issueCode` accepts per app kind; the first is the default. A Mini Program code has none. */
export const CODE_SCOPES: Readonly<Record<WeChatAppKind, readonly WeChatScope[]>> = Object.freeze({
  website: PAGE_SCOPES.qrconnect,
  'official-account': Object.freeze(['snsapi_userinfo', 'snsapi_base'] as const),
  'mobile-app': Object.freeze(['snsapi_userinfo'] as const), // the Open SDK's SendAuth asks snsapi_userinfo
  miniprogram: Object.freeze([]),
});

/** The scopes asked for, or null when one is not allowed on this page (docs/wechat-protocol.md#scopes-per-login-page). */
export function parseScopes(endpoint: EmulatorPageEndpoint, scope: string): WeChatScope[] | null {
  const allowed = PAGE_SCOPES[endpoint];
  const asked = scope.split(',').map((part) => part.trim());
  const valid = asked.filter((part): part is WeChatScope => (allowed as readonly string[]).includes(part));
  return valid.length === asked.length ? [...new Set(valid)] : null;
}
