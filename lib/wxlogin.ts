/**
 * The options of WeChat's `new WxLogin({...})` (wxLogin.js), for a QR code embedded in your own
 * page instead of a redirect to open.weixin.qq.com. Pure.
 */
import { STATE_PATTERN } from './authorize.js';
import { WeChatOptionsError } from './errors.js';

/** Style choices of the embedded QR code, typed as wxLogin.js compares them. */
export interface WxLoginStyle {
  /** Id of the element the iframe replaces. Required by wxLogin.js. */
  id: string;
  /** `'black'` (default) or `'white'` text, for light or dark pages. */
  style?: 'black' | 'white';
  /** URL of your own CSS for the iframe (https or a `data:text/css;base64,` URI); ignored with `stylelite`. */
  href?: string;
  /** The new compact UI (`stylelite: 1`); reserve at least 220×220 px. Custom `href` CSS stops working. */
  stylelite?: boolean;
  /** `false` turns WeChat's PC quick login off (`fast_login: 0`; reported to need `stylelite`). */
  fastLogin?: boolean;
  /** `true` redirects inside the iframe after the phone confirms; default redirects the whole page. */
  selfRedirect?: boolean;
  /** `'en'` for an English QR box. */
  lang?: 'cn' | 'en';
}

/**
 * What to pass to `new WxLogin(...)` in the browser, exactly as wxLogin.js reads it.
 *
 * NOTE: wxLogin.js concatenates `redirect_uri` and `state` into the iframe URL without encoding
 * them (docs/wechat-protocol.md#embedded-qr-constructor-parameters): `redirect_uri` is therefore already URL-encoded here, and `state` is
 * alphanumeric. `stylelite` and `fast_login` are numbers because the script compares `1 === …`
 * and `0 === …` strictly.
 */
export interface WxLoginOptions {
  self_redirect: boolean;
  id: string;
  appid: string;
  scope: 'snsapi_login';
  redirect_uri: string;
  state?: string;
  style?: 'black' | 'white';
  href?: string;
  stylelite?: 1;
  fast_login?: 0;
  lang?: 'en';
}

/** Builds the {@link WxLoginOptions} for a website app. Pure. */
export function buildWxLoginOptions(
  appid: string,
  callbackURL: string,
  state: string | undefined,
  style: WxLoginStyle,
): WxLoginOptions {
  if (typeof style.id !== 'string' || style.id === '') {
    throw new WeChatOptionsError('wxLogin needs the id of the element that will hold the QR code.');
  }
  if (state !== undefined && !STATE_PATTERN.test(state)) {
    throw new WeChatOptionsError('wxLogin needs an alphanumeric state of at most 128 characters.');
  }
  if (style.href !== undefined && !/^(https:|data:text\/css;base64,)/.test(style.href)) {
    throw new WeChatOptionsError('wxLogin href must be an https URL or a data:text/css;base64, URI.');
  }
  const options: WxLoginOptions = {
    self_redirect: style.selfRedirect === true,
    id: style.id,
    appid,
    scope: 'snsapi_login',
    redirect_uri: encodeURIComponent(callbackURL),
  };
  if (state !== undefined) options.state = state;
  if (style.style !== undefined) options.style = style.style;
  if (style.href !== undefined) options.href = style.href;
  if (style.stylelite === true) options.stylelite = 1;
  if (style.fastLogin === false) options.fast_login = 0;
  if (style.lang === 'en') options.lang = 'en';
  return options;
}
