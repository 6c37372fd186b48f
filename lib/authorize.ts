/**
 * The authorize URL, built by hand. Pure.
 *
 * NOTE: WeChat matches the authorize link against a strict pattern: the parameters must come in
 * the documented order (appid, redirect_uri, response_type, scope, state), there is no
 * `client_id`, and the link ends in `#wechat_redirect` (docs/wechat-protocol.md#parameter-order). A generic
 * OAuth 2.0 URL builder gets all three wrong, so this module owns the format.
 */
import { WeChatOptionsError } from './errors.js';
import type { LoginFlowSettings } from './settings.js';

export const QR_CONNECT_URL = 'https://open.weixin.qq.com/connect/qrconnect';
export const OFFICIAL_ACCOUNT_AUTHORIZE_URL = 'https://open.weixin.qq.com/connect/oauth2/authorize';

/** The QR login page's language. Not the same values as userinfo's `lang`. */
export type WeChatQRLang = 'cn' | 'en';

export interface AuthorizeURLParams {
  appid: string;
  redirectURI: string;
  scope: string;
  state?: string | undefined;
  /** Extra parameters, appended after `state` in the given order (e.g. `lang`). */
  extra?: ReadonlyArray<readonly [string, string]>;
}

/** WeChat's limit on `state`: letters and digits, at most 128 bytes (docs/wechat-protocol.md#the-state-parameter). */
export const STATE_PATTERN = /^[A-Za-z0-9]{1,128}$/;

/**
 * Builds `base?appid=…&redirect_uri=…&response_type=code&scope=…&state=…#wechat_redirect`.
 *
 * @example
 * ```ts
 * buildAuthorizeURL(QR_CONNECT_URL, { appid: 'wx1', redirectURI: 'https://a.example/cb', scope: 'snsapi_login', state: 'x1' });
 * // https://open.weixin.qq.com/connect/qrconnect?appid=wx1&redirect_uri=https%3A%2F%2Fa.example%2Fcb&response_type=code&scope=snsapi_login&state=x1#wechat_redirect
 * ```
 */
export function buildAuthorizeURL(base: string, params: AuthorizeURLParams): string {
  return withLoginParams(authorizePrefix(base, params.appid, params.redirectURI, params.scope), params.state, params.extra);
}

/** `base?appid=…&redirect_uri=…&response_type=code&scope=…`: the part of a link every login of one app and callback shares. */
function authorizePrefix(base: string, appid: string, redirectURI: string, scope: string): string {
  const [withoutFragment = base] = base.split('#');
  const separator = !withoutFragment.includes('?') ? '?' : /[?&]$/.test(withoutFragment) ? '' : '&';
  return `${withoutFragment}${separator}appid=${encode(appid)}&redirect_uri=${encode(redirectURI)}&response_type=code&scope=${encode(scope)}`;
}

/** The prefix completed with one login's state, the extra parameters and `#wechat_redirect`. */
function withLoginParams(prefix: string, state: string | undefined, extra: AuthorizeURLParams['extra']): string {
  if (state !== undefined && !STATE_PATTERN.test(state)) {
    throw new WeChatOptionsError(
      'WeChat only accepts a state of 1 to 128 letters and digits; the state store produced another value. ' +
        "Use `state: true` (passport-oauth2's session store) or a store whose handles are alphanumeric.",
    );
  }
  let link = state === undefined ? prefix : `${prefix}&state=${state}`;
  for (const [key, value] of extra ?? []) link += `&${encode(key)}=${encode(value)}`;
  return `${link}#wechat_redirect`;
}

// The prefixes of recent links, per app: building one encodes the callback URL, a few µs a login.
// Bounded, since a relative callbackURL resolves per Host header.
const PREFIXES = new WeakMap<LoginFlowSettings, Map<string, string>>();
const MAX_PREFIXES_PER_APP = 16;

function cachedPrefix(flow: LoginFlowSettings, redirectURI: string, scope: string): string {
  let prefixes = PREFIXES.get(flow);
  if (!prefixes) PREFIXES.set(flow, (prefixes = new Map()));
  const key = `${scope}\u0000${redirectURI}`;
  let prefix = prefixes.get(key);
  if (prefix === undefined) {
    prefix = authorizePrefix(flow.authorizationURL, flow.appId, redirectURI, scope);
    if (prefixes.size >= MAX_PREFIXES_PER_APP) prefixes.delete(prefixes.keys().next().value as string);
    prefixes.set(key, prefix);
  }
  return prefix;
}

// Commas separate scopes in WeChat's own links (`snsapi_base,snsapi_userinfo`); keep them readable.
function encode(value: string): string {
  const encoded = encodeURIComponent(value);
  return encoded.includes('%2C') ? encoded.replaceAll('%2C', ',') : encoded;
}

/** What one login's authorize link is made of, beyond the flow's own settings. */
export interface LoginLinkParams {
  /** The absolute callback URL; a link without one cannot be made. */
  redirectURI: string | undefined;
  /** The scope asked for in `passport.authenticate` options; the flow's own when absent. */
  scope: string | readonly string[] | undefined;
  state: string | undefined;
  /** What the strategy's `authorizationParams(options)` adds (passport-oauth2's hook). */
  params: object;
  qrLang: WeChatQRLang | undefined;
}

const OWN_PARAMS: ReadonlySet<string> = new Set(['appid', 'client_id', 'redirect_uri', 'response_type', 'scope', 'state']);

/**
 * The authorize link of one login in WeChat's exact format for its flow, keeping the parameters
 * an app's `authorizationParams` adds (never one WeChat checks, nor one the authorize URL option
 * already carries), then `lang` (website) and `forcePopup` (Official Account). Pure.
 */
export function loginLink(flow: LoginFlowSettings, link: LoginLinkParams): string {
  if (!link.redirectURI) {
    throw new WeChatOptionsError('WeChatStrategy needs a callbackURL (in its options or in passport.authenticate options).');
  }
  const asked = Array.isArray(link.scope) ? link.scope.join(',') : (link.scope as string | undefined);
  const scope = asked || flow.scope;
  if (scope.split(',').includes('snsapi_login') !== (flow.flow === 'website')) {
    // The scope came from passport.authenticate options: named, not shown (it could hold anything).
    throw new WeChatOptionsError(`The scope given does not fit the ${flow.flow} login (snsapi_login for website, snsapi_base or snsapi_userinfo for official-account).`);
  }
  const extra: Array<[string, string]> = [];
  const params = Object.entries(link.params ?? {});
  if (params.length > 0) {
    const base = new URL(flow.authorizationURL).searchParams;
    for (const [key, value] of params) {
      if (OWN_PARAMS.has(key) || base.has(key) || value === undefined) continue;
      for (const item of Array.isArray(value) ? value : [value]) extra.push([key, item === null ? '' : String(item)]);
    }
  }
  if (flow.flow === 'website' && link.qrLang) extra.push(['lang', link.qrLang]);
  // Only an Official Account login can have forcePopup: resolveSettings refuses it on a website app.
  if (flow.forcePopup) extra.push(['forcePopup', 'true']);
  return withLoginParams(cachedPrefix(flow, link.redirectURI, scope), link.state, extra);
}
