/**
 * Which path is which WeChat endpoint, both ways: the emulator serves WeChat's hosts (the pages,
 * the API, wxLogin.js and the avatar host) path-based from one server, on the paths WeChat uses.
 *
 * @internal Not part of the public `passport-wechat-oauth2/testing` API.
 */
import type { EmulatorApiEndpoint, EmulatorEndpoint, EmulatorEndpoints, EmulatorPageEndpoint } from './types.js';

/** Where the emulator serves its wxLogin.js, on the path of `res.wx.qq.com`'s (docs/wechat-protocol.md#embedded-qr-the-script). */
const WXLOGIN_SCRIPT_PATH = '/connect/zh_CN/htmledition/js/wxLogin.js';

/** The API endpoints WeChat serves as a POST with a JSON body (cgi-bin, wxa); the `sns/*` ones are GETs. */
export type PostEndpoint = Extract<EmulatorApiEndpoint, 'stable_token' | 'getuserphonenumber'>;
export type SnsEndpoint = Exclude<EmulatorApiEndpoint, PostEndpoint>;

export function isPostEndpoint(endpoint: EmulatorApiEndpoint): endpoint is PostEndpoint {
  return endpoint === 'stable_token' || endpoint === 'getuserphonenumber';
}

export type Route =
  | { readonly kind: 'api'; readonly endpoint: EmulatorApiEndpoint }
  | { readonly kind: 'page'; readonly endpoint: EmulatorPageEndpoint }
  | { readonly kind: 'form'; readonly endpoint: EmulatorPageEndpoint; readonly decision: 'confirm' | 'decline' }
  | { readonly kind: 'script' }
  | { readonly kind: 'avatar' }
  | { readonly kind: 'not-found' };

/** The emulator's URLs under WeChat's names, for a server at `baseUrl`. */
export function endpointsAt(baseUrl: string): EmulatorEndpoints {
  return {
    authorizationURL: `${baseUrl}/connect/qrconnect`,
    officialAccountAuthorizationURL: `${baseUrl}/connect/oauth2/authorize`,
    wxLoginScriptURL: `${baseUrl}${WXLOGIN_SCRIPT_PATH}`,
    tokenURL: `${baseUrl}/sns/oauth2/access_token`,
    refreshTokenURL: `${baseUrl}/sns/oauth2/refresh_token`,
    userProfileURL: `${baseUrl}/sns/userinfo`,
    checkTokenURL: `${baseUrl}/sns/auth`,
    sessionURL: `${baseUrl}/sns/jscode2session`,
    stableTokenURL: `${baseUrl}/cgi-bin/stable_token`,
    phoneNumberURL: `${baseUrl}/wxa/business/getuserphonenumber`,
  };
}

export function routeOf(pathname: string): Route {
  switch (pathname) {
    case '/sns/oauth2/access_token':
      return { kind: 'api', endpoint: 'access_token' };
    case '/sns/oauth2/refresh_token':
      return { kind: 'api', endpoint: 'refresh_token' };
    case '/sns/userinfo':
      return { kind: 'api', endpoint: 'userinfo' };
    case '/sns/auth':
      return { kind: 'api', endpoint: 'auth' };
    case '/sns/jscode2session':
      return { kind: 'api', endpoint: 'jscode2session' };
    case '/cgi-bin/stable_token':
      return { kind: 'api', endpoint: 'stable_token' };
    case '/wxa/business/getuserphonenumber':
      return { kind: 'api', endpoint: 'getuserphonenumber' };
    case '/connect/qrconnect':
      return { kind: 'page', endpoint: 'qrconnect' };
    case '/connect/oauth2/authorize':
      return { kind: 'page', endpoint: 'oauth2/authorize' };
    case '/connect/qrconnect/confirm':
      return { kind: 'form', endpoint: 'qrconnect', decision: 'confirm' };
    case '/connect/qrconnect/decline':
      return { kind: 'form', endpoint: 'qrconnect', decision: 'decline' };
    case '/connect/oauth2/authorize/confirm':
      return { kind: 'form', endpoint: 'oauth2/authorize', decision: 'confirm' };
    case '/connect/oauth2/authorize/decline':
      return { kind: 'form', endpoint: 'oauth2/authorize', decision: 'decline' };
    case WXLOGIN_SCRIPT_PATH:
      return { kind: 'script' };
    default:
      // thirdwx.qlogo.cn's avatar paths (docs/wechat-protocol.md#user-info-the-avatar-url), served path-based too.
      return pathname.startsWith('/mmopen/') ? { kind: 'avatar' } : { kind: 'not-found' };
  }
}

export function endpointOf(route: Route): EmulatorEndpoint {
  if (route.kind === 'not-found') return 'not-found';
  if (route.kind === 'script') return 'wxLogin.js';
  if (route.kind === 'avatar') return 'avatar';
  return route.kind === 'form' ? `${route.endpoint}/${route.decision}` : route.endpoint;
}
