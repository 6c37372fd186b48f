/**
 * HTML of the emulator's open.weixin.qq.com pages: the login (phone stand-in)
 * page, WeChat's error pages, the "you declined" page and an nginx-style
 * gateway error. Pure string builders; every interpolated value is escaped.
 *
 * @internal Not part of the public `passport-wechat-oauth2/testing` API.
 */
import { createHash } from 'node:crypto';

/** The QR page's UI language: `cn` or `en` (docs/wechat-protocol.md#website-qr-login-the-authorize-url), not userinfo's `zh_CN|zh_TW|en`. */
export type PageLang = 'cn' | 'en';

/** One of WeChat's authorize-page errors (docs/wechat-protocol.md#authorize-pages-errors-shown-in-the-browser). */
export interface ErrorPageView {
  /** The number WeChat prints, e.g. 10003; absent for pages WeChat shows without one. */
  readonly errcode?: number;
  /** The Chinese text WeChat shows. */
  readonly zh: string;
  /** An English rendering, e.g. from the troubleshooting page. */
  readonly en: string;
  /** An emulator-only explanation of what exactly was wrong. */
  readonly hint?: string;
}

/** What wxLogin.js's iframe URL asks of the QR box (docs/wechat-protocol.md#embedded-qr-the-iframe-the-script-builds). */
export interface EmbeddedView {
  /** `self_redirect`: `'true'` redirects inside the iframe; `'false'` and `'default'` the top window. */
  readonly selfRedirect: 'true' | 'false' | 'default';
  /** `stylelite=1`: the new, compact UI, which ignores `href`. */
  readonly stylelite: boolean;
  /** `fast_login=0` turns PC quick login off (the emulator has none; shown for tests). */
  readonly fastLogin: boolean;
  /** `style=white` for dark pages. */
  readonly style: 'black' | 'white';
  /** Custom CSS (https or `data:text/css;base64,`), or null. */
  readonly href: string | null;
}

/** What the login page needs to know. */
export interface LoginPageView {
  readonly endpoint: 'qrconnect' | 'oauth2/authorize';
  readonly appName: string;
  readonly lang: PageLang;
  /** Scopes being requested, e.g. `['snsapi_userinfo']`. */
  readonly scopes: readonly string[];
  /** Parameters the form posts back unchanged (appid, redirect_uri, …), in order. */
  readonly fields: ReadonlyArray<readonly [string, string]>;
  readonly users: ReadonlyArray<{ readonly id: string; readonly nickname: string }>;
  /** `_top` when the page sits in wxLogin.js's iframe without self_redirect (docs/wechat-protocol.md#embedded-qr-where-the-redirect-lands). */
  readonly formTarget: '_self' | '_top';
  /** Where Decline's answer goes: `_self` when WeChat answers it with its own page. */
  readonly declineTarget: '_self' | '_top';
  /** Set when wxLogin.js's iframe opened the QR page: render the compact box. */
  readonly embedded: EmbeddedView | null;
  /** Varies the placeholder QR so two logins look different. */
  readonly qrSeed: string;
}

interface PageText {
  readonly qrTitle: string;
  readonly qrPrompt: (app: string) => string;
  readonly oaTitle: string;
  readonly oaPrompt: (app: string) => string;
  readonly userinfoScope: string;
  readonly baseScope: string;
  readonly chooseUser: string;
  readonly noUsers: string;
  readonly confirmLogin: string;
  readonly allow: string;
  readonly cancel: string;
  readonly reject: string;
  readonly declinedTitle: string;
  readonly declinedBody: string;
  readonly emulatorNote: string;
}

const TEXT: Readonly<Record<PageLang, PageText>> = Object.freeze({
  cn: {
    qrTitle: '微信登录',
    qrPrompt: (app) => `使用微信扫一扫登录「${app}」`,
    oaTitle: '微信授权',
    oaPrompt: (app) => `${app} 申请获得以下权限：`,
    userinfoScope: '获得你的公开信息（昵称、头像等）',
    baseScope: '获得你的身份标识（openid）',
    chooseUser: '模拟器：选择扫码的微信用户',
    noUsers: '模拟器：尚未注册测试用户',
    confirmLogin: '确认登录',
    allow: '允许',
    cancel: '取消',
    reject: '拒绝',
    declinedTitle: '你已取消此次登录',
    declinedBody: '你可再次扫描登录，或关闭窗口',
    emulatorNote: '本页面由本地微信模拟器生成，并非微信官方页面。',
  },
  en: {
    qrTitle: 'WeChat Login',
    qrPrompt: (app) => `Scan with WeChat to log in to "${app}"`,
    oaTitle: 'WeChat Authorization',
    oaPrompt: (app) => `${app} requests the following permissions:`,
    userinfoScope: 'Your public profile (nickname, profile photo, etc.)',
    baseScope: 'Your identifier (openid)',
    chooseUser: 'Emulator: choose the WeChat user who scans',
    noUsers: 'Emulator: no test users registered',
    confirmLogin: 'Confirm login',
    allow: 'Allow',
    cancel: 'Cancel',
    reject: 'Reject',
    declinedTitle: 'You cancelled this login',
    declinedBody: 'Scan again to log in, or close this window',
    emulatorNote: 'This page comes from a local WeChat emulator, not from WeChat.',
  },
});

const STYLE = [
  'body{font-family:system-ui,-apple-system,"PingFang SC","Microsoft YaHei",sans-serif;',
  'background:#f7f7f7;color:#191919;display:flex;justify-content:center;padding:40px 16px;margin:0}',
  'main{background:#fff;border-radius:8px;padding:32px;max-width:360px;width:100%;text-align:center}',
  'fieldset{border:0;padding:0;margin:16px 0;text-align:left}',
  'label{display:block;padding:6px 0}',
  'button{font-size:16px;padding:10px 20px;margin:6px;border-radius:4px;border:1px solid #d9d9d9;background:#fff}',
  '#confirm{background:#07c160;border-color:#07c160;color:#fff}',
  '.note{color:#999;font-size:12px;margin-top:24px}',
  '.code{color:#999}',
].join('');

// The QR box inside wxLogin.js's 300×400 iframe (scrolling="no"): everything must fit.
const EMBEDDED_STYLE = [
  'body{font-family:system-ui,-apple-system,"PingFang SC","Microsoft YaHei",sans-serif;',
  'background:transparent;color:#191919;margin:0;padding:8px;text-align:center;font-size:13px}',
  'body.white{color:#fff}',
  'h1{font-size:18px;font-weight:500;margin:4px 0 8px}',
  'svg{display:block;margin:0 auto}',
  'p{margin:6px 0}',
  'fieldset{border:0;padding:0;margin:6px 0;text-align:left;max-height:84px;overflow:auto}',
  'legend{font-size:11px;color:#999;padding:0}',
  'label{display:block;padding:1px 0}',
  'button{font-size:13px;padding:5px 12px;margin:2px;border-radius:4px;border:1px solid #d9d9d9;background:#fff;color:#191919}',
  '#confirm{background:#07c160;border-color:#07c160;color:#fff}',
  '.note{color:#999;font-size:10px;margin-top:6px}',
].join('');

/** Escapes text for HTML content and double-quoted attributes. */
export function escapeHtml(text: string): string {
  return text
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;')
    .replaceAll("'", '&#39;');
}

function documentOf(lang: PageLang, title: string, main: string): string {
  const htmlLang = lang === 'en' ? 'en' : 'zh-CN';
  return [
    '<!DOCTYPE html>',
    `<html lang="${htmlLang}">`,
    '<head><meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width,initial-scale=1">',
    `<title>${escapeHtml(title)}</title><style>${STYLE}</style></head>`,
    `<body>${main}</body>`,
    '</html>',
  ].join('\n');
}

/** A 21×21 placeholder "QR code": three finder squares plus seeded noise. Not scannable, by design. */
export function renderQrSvg(seed: string, sizePx = 200): string {
  const size = 21;
  const bits = createHash('sha512').update(seed).digest();
  let path = '';
  for (let row = 0; row < size; row += 1) {
    for (let col = 0; col < size; col += 1) {
      if (isQrModuleOn(row, col, size, bits)) path += `M${col} ${row}h1v1h-1z`;
    }
  }
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="-2 -2 ${size + 4} ${size + 4}" width="${sizePx}" height="${sizePx}"`,
    ' role="img" aria-label="QR code placeholder" data-testid="qrcode">',
    `<rect x="-2" y="-2" width="${size + 4}" height="${size + 4}" fill="#fff"/>`,
    `<path fill="#000" d="${path}"/></svg>`,
  ].join('');
}

function isQrModuleOn(row: number, col: number, size: number, bits: Buffer): boolean {
  const finder = finderModule(row, col) ?? finderModule(row, size - 1 - col) ?? finderModule(size - 1 - row, col);
  if (finder !== undefined) return finder;
  const index = (row * size + col) % (bits.length * 8);
  return (((bits[index >> 3] ?? 0) >> (index & 7)) & 1) === 1;
}

/** On/off inside a 7×7 finder pattern anchored at the top-left; undefined outside it (and its 1-module margin). */
function finderModule(row: number, col: number): boolean | undefined {
  if (row > 7 || col > 7) return undefined;
  if (row === 7 || col === 7) return false;
  const ring = row === 0 || row === 6 || col === 0 || col === 6;
  const core = row >= 2 && row <= 4 && col >= 2 && col <= 4;
  return ring || core;
}

function hiddenFields(fields: LoginPageView['fields']): string {
  return fields
    .map(([name, value]) => `<input type="hidden" name="${escapeHtml(name)}" value="${escapeHtml(value)}">`)
    .join('\n');
}

function userChoices(users: LoginPageView['users'], text: PageText): string {
  if (users.length === 0) return `<p data-testid="no-users">${escapeHtml(text.noUsers)}</p>`;
  const choices = users.map((user, index) => {
    const id = escapeHtml(`user-${user.id}`);
    const checked = index === 0 ? ' checked' : '';
    return (
      `<label for="${id}"><input type="radio" name="user" id="${id}" data-testid="${id}"` +
      ` value="${escapeHtml(user.id)}"${checked}> ${escapeHtml(user.nickname)} <small>(${escapeHtml(user.id)})</small></label>`
    );
  });
  return `<fieldset><legend>${escapeHtml(text.chooseUser)}</legend>\n${choices.join('\n')}\n</fieldset>`;
}

function headerOf(view: LoginPageView, text: PageText): { title: string; html: string } {
  if (view.endpoint === 'qrconnect') {
    const html = `<h1>${escapeHtml(text.qrTitle)}</h1>\n${renderQrSvg(view.qrSeed)}\n<p>${escapeHtml(text.qrPrompt(view.appName))}</p>`;
    return { title: text.qrTitle, html };
  }
  const wantsProfile = view.scopes.includes('snsapi_userinfo');
  const scopeLine = wantsProfile ? text.userinfoScope : text.baseScope;
  const html = `<h1>${escapeHtml(text.oaTitle)}</h1>\n<p>${escapeHtml(text.oaPrompt(view.appName))}</p>\n<p data-testid="scope">${escapeHtml(scopeLine)}</p>`;
  return { title: text.oaTitle, html };
}

/** The page that stands in for the phone: app name, QR placeholder, test users, Confirm / Decline. */
export function renderLoginPage(view: LoginPageView): string {
  if (view.embedded !== null) return renderEmbeddedLoginPage(view, view.embedded);
  const text = TEXT[view.lang];
  const header = headerOf(view, text);
  const base = `/connect/${view.endpoint}`;
  const isQr = view.endpoint === 'qrconnect';
  const disabled = view.users.length === 0 ? ' disabled' : '';
  const form = [
    `<form method="post" action="${base}/confirm" target="${view.formTarget}" data-testid="login-form">`,
    hiddenFields(view.fields),
    userChoices(view.users, text),
    `<button type="submit" id="confirm" data-testid="confirm"${disabled}>${escapeHtml(isQr ? text.confirmLogin : text.allow)}</button>`,
    declineButton(base, view.declineTarget, isQr ? text.cancel : text.reject),
    '</form>',
  ].join('\n');
  const main = `<main data-testid="login-page" data-endpoint="${view.endpoint}">\n${header.html}\n${form}\n<p class="note">${escapeHtml(text.emulatorNote)}</p>\n</main>`;
  return documentOf(view.lang, header.title, main);
}

function declineButton(base: string, target: LoginPageView['declineTarget'], label: string): string {
  return `<button type="submit" id="decline" data-testid="decline" formaction="${base}/decline" formtarget="${target}">${escapeHtml(label)}</button>`;
}

/**
 * The compact QR box wxLogin.js's iframe shows (old UI, or the smaller new one with
 * `stylelite=1`), sized for the script's 300×400 iframe. Confirm redirects the top window
 * unless `self_redirect=true` (docs/wechat-protocol.md#embedded-qr-where-the-redirect-lands).
 */
function renderEmbeddedLoginPage(view: LoginPageView, embedded: EmbeddedView): string {
  const text = TEXT[view.lang];
  const base = `/connect/${view.endpoint}`;
  const disabled = view.users.length === 0 ? ' disabled' : '';
  const attributes = [
    'data-testid="login-page"',
    `data-endpoint="${view.endpoint}"`,
    'data-embedded="true"',
    `data-self-redirect="${embedded.selfRedirect}"`,
    `data-stylelite="${embedded.stylelite ? '1' : '0'}"`,
    `data-fast-login="${embedded.fastLogin ? '1' : '0'}"`,
  ].join(' ');
  const main = [
    `<main ${attributes}>`,
    embedded.stylelite ? '' : `<h1>${escapeHtml(text.qrTitle)}</h1>`,
    renderQrSvg(view.qrSeed, embedded.stylelite ? 120 : 150),
    `<p>${escapeHtml(text.qrPrompt(view.appName))}</p>`,
    `<form method="post" action="${base}/confirm" target="${view.formTarget}" data-testid="login-form">`,
    hiddenFields(view.fields),
    userChoices(view.users, text),
    `<button type="submit" id="confirm" data-testid="confirm"${disabled}>${escapeHtml(text.confirmLogin)}</button>`,
    declineButton(base, view.declineTarget, text.cancel),
    '</form>',
    `<p class="note">${escapeHtml(text.emulatorNote)}</p>`,
    '</main>',
  ].filter((part) => part !== '');
  // NOTE: custom CSS (href) only applies to the old UI; stylelite=1 ignores it (docs/wechat-protocol.md#embedded-qr-style-href-and-stylelite).
  const css = embedded.href !== null && !embedded.stylelite ? `<link rel="stylesheet" href="${escapeHtml(embedded.href)}">` : '';
  return [
    '<!DOCTYPE html>',
    `<html lang="${view.lang === 'en' ? 'en' : 'zh-CN'}">`,
    '<head><meta charset="utf-8">',
    `<title>${escapeHtml(text.qrTitle)}</title><style>${EMBEDDED_STYLE}</style>${css}</head>`,
    `<body class="${embedded.style}">${main.join('\n')}</body>`,
    '</html>',
  ].join('\n');
}

/** WeChat's authorize error page: HTTP 200 HTML with the code and the Chinese text (docs/wechat-protocol.md#authorize-pages-errors-shown-in-the-browser). */
export function renderErrorPage(view: ErrorPageView): string {
  const code = view.errcode === undefined ? '' : String(view.errcode);
  const parts = [
    `<main data-testid="error-page" data-errcode="${code}">`,
    `<h1 data-testid="error-text">${escapeHtml(view.zh)}</h1>`,
    `<p lang="en" data-testid="error-text-en">${escapeHtml(view.en)}</p>`,
    code === '' ? '' : `<p class="code" data-testid="error-code">错误码 / Error code: ${code}</p>`,
    view.hint === undefined ? '' : `<p class="note" lang="en" data-testid="error-hint">${escapeHtml(view.hint)}</p>`,
    `<p class="note">${escapeHtml(TEXT.cn.emulatorNote)}</p>`,
    '</main>',
  ];
  return documentOf('cn', code === '' ? view.zh : `${code} ${view.zh}`, parts.filter((part) => part !== '').join('\n'));
}

/** Where the user ends up after Decline when WeChat does not redirect (docs/wechat-protocol.md#declined-logins). */
export function renderDeclinedPage(lang: PageLang): string {
  const text = TEXT[lang];
  const main = [
    '<main data-testid="declined-page">',
    `<h1>${escapeHtml(text.declinedTitle)}</h1>`,
    `<p>${escapeHtml(text.declinedBody)}</p>`,
    `<p class="note">${escapeHtml(text.emulatorNote)}</p>`,
    '</main>',
  ].join('\n');
  return documentOf(lang, text.declinedTitle, main);
}

/** The bare page nginx answers with when the service behind it fails (e.g. 502). */
export function renderGatewayPage(status: number, reason: string): string {
  const title = escapeHtml(`${status} ${reason}`);
  return [
    '<html>',
    `<head><title>${title}</title></head>`,
    '<body>',
    `<center><h1>${title}</h1></center>`,
    '<hr><center>nginx</center>',
    '</body>',
    '</html>',
    '',
  ].join('\r\n');
}
