/**
 * The open.weixin.qq.com authorize pages (qrconnect, oauth2/authorize) as a flow: opening a
 * link (an error page, a silent snsapi_base confirm, or the login page), then the user's
 * Confirm (a code and the redirect) or Decline.
 *
 * @internal Not part of the public `passport-wechat-oauth2/testing` API.
 */
import { isDocumentedOrder, isJssdk, PAGE_ERRORS, pageLangOf, validateAuthorize, type AuthorizeRequest } from './authorize-request.js';
import { grantFor } from './grant.js';
import { errorPageReply, htmlReply, type Reply } from './http.js';
import type { ResolvedOptions } from './options.js';
import { renderDeclinedPage, renderLoginPage, type ErrorPageView, type LoginPageView, type PageLang } from './pages.js';
import type { EmulatorStore } from './store.js';
import type { AuthorizeOutcome, EmulatorPageEndpoint, EmulatorUser } from './types.js';

/** What opening an authorize link leads to: an outcome already, or the page where the user chooses. */
export type Opened =
  | AuthorizeOutcome
  | { readonly type: 'login-page'; readonly request: AuthorizeRequest; readonly params: URLSearchParams };

export class AuthorizePages {
  private readonly store: EmulatorStore;
  private readonly options: ResolvedOptions;

  constructor(store: EmulatorStore, options: ResolvedOptions) {
    this.store = store;
    this.options = options;
  }

  /** The GET of an authorize page. */
  pageReply(endpoint: EmulatorPageEndpoint, params: URLSearchParams): Reply {
    const opened = this.open(endpoint, params);
    if (opened.type !== 'login-page') return this.outcomeReply(opened, pageLangOf(params));
    return htmlReply(renderLoginPage(this.loginView(opened.request, params)));
  }

  /** The Confirm / Decline post: re-validates the hidden fields, since a browser can change them. */
  formReply(endpoint: EmulatorPageEndpoint, decision: 'confirm' | 'decline', form: URLSearchParams): Reply {
    const request = validateAuthorize(endpoint, form, (appid) => this.store.app(appid));
    if ('zh' in request) return errorPageReply(request);
    if (decision === 'decline') return this.outcomeReply(this.decline(request), request.lang);
    const user = this.store.user(form.get('user') ?? '');
    if (user === undefined) return errorPageReply(PAGE_ERRORS.unknownUser, 400);
    return this.outcomeReply(this.confirm(request, user), request.lang);
  }

  /** What opening an authorize URL in the browser leads to (docs/wechat-protocol.md#website-qr-login-the-authorize-url). */
  open(endpoint: EmulatorPageEndpoint, params: URLSearchParams): Opened {
    // NOTE: WeChat matches the authorize link with a strict regex; wrong order breaks the page (docs/wechat-protocol.md#parameter-order).
    if (this.options.strictParameterOrder && !isDocumentedOrder([...params.keys()], isJssdk(endpoint, params))) {
      return errorOutcome(PAGE_ERRORS.parameterOrder);
    }
    const request = validateAuthorize(endpoint, params, (appid) => this.store.app(appid));
    if ('zh' in request) return errorOutcome(request);
    const silentUser = this.shouldConfirmSilently(request) ? this.store.firstUser() : undefined;
    if (silentUser !== undefined) return this.confirm(request, silentUser);
    return { type: 'login-page', request, params };
  }

  /** Confirm: a single-use code, then `redirect_uri?code=CODE&state=STATE` (docs/wechat-protocol.md#website-qr-login-the-redirect-back). */
  confirm(request: AuthorizeRequest, user: EmulatorUser): AuthorizeOutcome {
    const code = this.store.createCode(grantFor(request.app, user, request.scopes));
    const params: Array<[string, string]> = [['code', code]];
    if (request.state !== null) params.push(['state', request.state]);
    return { type: 'redirect', location: appendQuery(request.redirectUri, params), code };
  }

  /** Decline: no redirect in practice, or `redirect_uri?state=STATE` per the old doc (docs/wechat-protocol.md#declined-logins). */
  decline(request: AuthorizeRequest): AuthorizeOutcome {
    if (this.options.declineBehaviour === 'stay') return { type: 'declined-page' };
    const params: Array<[string, string]> = request.state === null ? [] : [['state', request.state]];
    return { type: 'redirect', location: appendQuery(request.redirectUri, params) };
  }

  private outcomeReply(outcome: AuthorizeOutcome, lang: PageLang): Reply {
    if (outcome.type === 'redirect') return { status: 302, contentType: 'text/html; charset=utf-8', body: '', location: outcome.location };
    if (outcome.type === 'declined-page') return htmlReply(renderDeclinedPage(lang));
    return errorPageReply({ errcode: outcome.errcode, zh: outcome.message, en: outcome.messageEn, hint: outcome.hint });
  }

  /** snsapi_base is silent (docs/wechat-protocol.md#official-account-silent-and-consent-scopes) unless forcePopup=true asks for the popup (docs/wechat-protocol.md#official-account-silent-and-consent-scopes). */
  private shouldConfirmSilently(request: AuthorizeRequest): boolean {
    const baseOnly = request.scopes.every((scope) => scope === 'snsapi_base');
    return request.endpoint === 'oauth2/authorize' && baseOnly && this.options.autoConfirmBase && !request.forcePopup;
  }

  private loginView(request: AuthorizeRequest, params: URLSearchParams): LoginPageView {
    const passThrough = ['appid', 'redirect_uri', 'response_type', 'scope', 'state', 'lang', 'forcePopup', 'login_type', 'self_redirect'];
    const fields = passThrough.flatMap((name): Array<[string, string]> => {
      const value = params.get(name);
      return value === null ? [] : [[name, value]];
    });
    // NOTE: in wxLogin.js's iframe, the redirect goes to the top window unless self_redirect=true (docs/wechat-protocol.md#embedded-qr-where-the-redirect-lands).
    const top = request.embedded !== null && request.embedded.selfRedirect !== 'true';
    // A decline WeChat answers with its own page (declineBehaviour 'stay') stays inside the iframe.
    const declineTop = top && this.options.declineBehaviour === 'redirect';
    return {
      endpoint: request.endpoint,
      appName: request.app.name,
      lang: request.lang,
      scopes: request.scopes,
      fields,
      users: this.store.allUsers().map((user) => ({ id: user.id, nickname: user.nickname })),
      formTarget: top ? '_top' : '_self',
      declineTarget: declineTop ? '_top' : '_self',
      qrSeed: `${request.app.appid}:${request.state ?? ''}:${this.options.clock()}`,
      embedded: request.embedded,
    };
  }
}

function errorOutcome(view: ErrorPageView): AuthorizeOutcome {
  return { type: 'error-page', errcode: view.errcode, message: view.zh, messageEn: view.en, hint: view.hint };
}

/** Appends query parameters before any `#fragment`, keeping the redirect_uri's own query as sent. */
function appendQuery(redirectUri: string, params: ReadonlyArray<readonly [string, string]>): string {
  if (params.length === 0) return redirectUri;
  const hashAt = redirectUri.indexOf('#');
  const base = hashAt === -1 ? redirectUri : redirectUri.slice(0, hashAt);
  const hash = hashAt === -1 ? '' : redirectUri.slice(hashAt);
  const query = params.map(([key, value]) => `${key}=${encodeURIComponent(value)}`).join('&');
  const separator = !base.includes('?') ? '?' : base.endsWith('?') || base.endsWith('&') ? '' : '&';
  return `${base}${separator}${query}${hash}`;
}
