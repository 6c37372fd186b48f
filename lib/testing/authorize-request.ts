/**
 * Reading an authorize link as WeChat's pages do: its checks, in WeChat's order, each answered
 * by its HTML error page, and whether the query came in the documented order. Pure.
 *
 * @internal Not part of the public `passport-wechat-oauth2/testing` API.
 */
import type { EmbeddedView, ErrorPageView, PageLang } from './pages.js';
import { parseScopes } from './scopes.js';
import type { EmulatorApp, EmulatorPageEndpoint, WeChatScope } from './types.js';

/** An authorize link that passed every check. */
export interface AuthorizeRequest {
  readonly endpoint: EmulatorPageEndpoint;
  readonly app: EmulatorApp;
  readonly redirectUri: string;
  readonly scopes: readonly WeChatScope[];
  readonly state: string | null;
  readonly lang: PageLang;
  readonly forcePopup: boolean;
  /** Set when wxLogin.js's iframe opened the page (`login_type=jssdk`, qrconnect only). */
  readonly embedded: EmbeddedView | null;
}

/** The authorize query order in WeChat's templates (docs/wechat-protocol.md#parameter-order). */
const DOCUMENTED_ORDER = Object.freeze(['appid', 'redirect_uri', 'response_type', 'scope', 'state']);

/** The order wxLogin.js writes its iframe URL in: no response_type, state always present (docs/wechat-protocol.md#embedded-qr-the-iframe-the-script-builds). */
const JSSDK_ORDER = Object.freeze(['appid', 'scope', 'redirect_uri', 'state', 'login_type', 'self_redirect']);

/** WeChat's authorize error pages (docs/wechat-protocol.md#authorize-pages-errors-shown-in-the-browser). */
export const PAGE_ERRORS = Object.freeze({
  appidEmpty: { errcode: 10012, zh: 'appid不能为空', en: 'appid must not be empty' },
  appidUnknown: { zh: 'AppID参数错误', en: 'Invalid AppID', hint: 'No app with this appid is registered in the emulator.' },
  redirectEmpty: { errcode: 10011, zh: 'redirect_uri不能为空', en: 'redirect_uri must not be empty' },
  scopeEmpty: { errcode: 10010, zh: 'scope不能为空', en: 'scope must not be empty' },
  responseType: {
    zh: '该链接无法访问',
    en: 'This link cannot be accessed',
    hint: 'response_type must be "code".',
  },
  scopeOfficialAccount: {
    errcode: 10005,
    zh: '此公众号并没有这些scope的权限',
    en: 'This Official Account does not have permission for these scopes',
  },
  scopeWebsite: { errcode: 10005, zh: 'Scope 参数错误或没有 Scope 权限', en: 'Scope parameter error or no scope permission' },
  openPlatformAppid: {
    errcode: 10016,
    zh: '不支持微信开放平台的Appid，请使用公众号Appid',
    en: 'Open Platform AppIDs are not supported; use the Official Account AppID',
  },
  redirectDomain: {
    errcode: 10003,
    zh: 'redirect_uri域名与后台配置不一致',
    en: 'redirect_uri domain does not match the configured callback domain',
  },
  parameterOrder: {
    zh: '该链接无法访问',
    en: 'This link cannot be accessed',
    hint: 'Parameters must come in the order appid, redirect_uri, response_type, scope, state, as WeChat requires (start the emulator with strictParameterOrder: false to accept any order).',
  },
  unknownUser: { zh: '未知的测试用户', en: 'Unknown test user', hint: 'The posted "user" is not registered in the emulator.' },
  noWebLogin: {
    zh: '该应用没有网页登录权限',
    en: 'This app has no web login',
    hint: 'Mini Program and Mobile Application AppIDs have no web login page: their users sign in with wx.login() or the Open SDK, and the app posts the code.',
  },
} satisfies Record<string, ErrorPageView>);

/** WeChat's checks, each answered with its HTML error page (docs/wechat-protocol.md#authorize-pages-errors-shown-in-the-browser). */
export function validateAuthorize(
  endpoint: EmulatorPageEndpoint,
  params: URLSearchParams,
  appOf: (appid: string) => EmulatorApp | undefined,
): AuthorizeRequest | ErrorPageView {
  const appid = params.get('appid') ?? '';
  if (appid === '') return PAGE_ERRORS.appidEmpty;
  const app = appOf(appid);
  if (app === undefined) return PAGE_ERRORS.appidUnknown;
  // NOTE: Mini Programs and Mobile Applications sign in with a posted code; WeChat's page for their AppID is undocumented.
  if (app.kind === 'miniprogram' || app.kind === 'mobile-app') return PAGE_ERRORS.noWebLogin;
  const redirectUri = params.get('redirect_uri') ?? '';
  if (redirectUri === '') return PAGE_ERRORS.redirectEmpty;
  const scope = params.get('scope') ?? '';
  if (scope === '') return PAGE_ERRORS.scopeEmpty;
  const embedded = isJssdk(endpoint, params) ? embeddedViewOf(params) : null;
  // NOTE: wxLogin.js's iframe URL carries no response_type (docs/wechat-protocol.md#embedded-qr-the-iframe-the-script-builds); every other link needs `code`.
  const responseType = params.get('response_type');
  if (responseType !== 'code' && !(embedded !== null && responseType === null)) return PAGE_ERRORS.responseType;
  const scopes = permittedScopes(endpoint, app, scope);
  if (!Array.isArray(scopes)) return scopes;
  const problem = redirectUriProblem(app, redirectUri);
  if (problem !== null) return { ...PAGE_ERRORS.redirectDomain, hint: problem };
  return {
    endpoint,
    app,
    redirectUri,
    scopes,
    state: params.get('state'),
    lang: pageLangOf(params),
    forcePopup: params.get('forcePopup') === 'true',
    embedded,
  };
}

export function isDocumentedOrder(keys: readonly string[], jssdk: boolean): boolean {
  if (jssdk) return JSSDK_ORDER.every((key, index) => keys[index] === key);
  const expected = keys.includes('state') ? DOCUMENTED_ORDER : DOCUMENTED_ORDER.slice(0, 4);
  return expected.every((key, index) => keys[index] === key);
}

/** wxLogin.js's iframe says `login_type=jssdk`; only the QR page has that mode (docs/wechat-protocol.md#embedded-qr-the-iframe-the-script-builds). */
export function isJssdk(endpoint: EmulatorPageEndpoint, params: URLSearchParams): boolean {
  return endpoint === 'qrconnect' && params.get('login_type') === 'jssdk';
}

export function pageLangOf(params: URLSearchParams): PageLang {
  return params.get('lang') === 'en' ? 'en' : 'cn';
}

/** The scopes, or the page for an app of the wrong kind or a scope the page does not offer. */
function permittedScopes(endpoint: EmulatorPageEndpoint, app: EmulatorApp, scope: string): WeChatScope[] | ErrorPageView {
  if (endpoint === 'oauth2/authorize' && app.kind === 'website') return PAGE_ERRORS.openPlatformAppid; // 10016 (docs/wechat-protocol.md#authorize-pages-errors-shown-in-the-browser)
  const pageError = endpoint === 'qrconnect' ? PAGE_ERRORS.scopeWebsite : PAGE_ERRORS.scopeOfficialAccount;
  // NOTE: an Official Account has no snsapi_login, so qrconnect answers it with the scope error (docs/wechat-protocol.md#scopes-per-login-page).
  if (endpoint === 'qrconnect' && app.kind === 'official-account') return pageError;
  return parseScopes(endpoint, scope) ?? pageError;
}

/** The 10003 reason for a redirect_uri, or null when the app accepts it (docs/wechat-protocol.md#website-qr-login-callback-domain-and-ports). */
function redirectUriProblem(app: EmulatorApp, redirectUri: string): string | null {
  let url: URL;
  try {
    url = new URL(redirectUri);
  } catch {
    return 'redirect_uri is not an absolute URL.';
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return 'redirect_uri must be http or https.';
  if (!app.callbackDomains.includes(url.hostname)) {
    return `Host "${url.hostname}" is not a registered callback domain (${app.callbackDomains.join(', ')}).`;
  }
  // NOTE: "redirect_uri不支持带端口号" — only the scheme's default port works (docs/wechat-protocol.md#website-qr-login-callback-domain-and-ports).
  if (url.port !== '' && !app.allowPorts) return 'redirect_uri must not carry a port (allowPorts is false).';
  return null;
}

/** What the iframe's query asks of the QR box (docs/wechat-protocol.md#embedded-qr-the-iframe-the-script-builds): compared as wxLogin.js writes them. */
function embeddedViewOf(params: URLSearchParams): EmbeddedView {
  const selfRedirect = params.get('self_redirect');
  const href = params.get('href') ?? '';
  return {
    selfRedirect: selfRedirect === 'true' || selfRedirect === 'false' ? selfRedirect : 'default',
    stylelite: params.get('stylelite') === '1',
    fastLogin: params.get('fast_login') !== '0',
    style: params.get('style') === 'white' ? 'white' : 'black',
    // NOTE: custom CSS is https or a data:text/css;base64 URI, and stylelite ignores it (docs/wechat-protocol.md#embedded-qr-style-href-and-stylelite).
    href: /^(https:|data:text\/css;base64,)/.test(href) ? href : null,
  };
}
