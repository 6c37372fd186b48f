import { runInNewContext } from 'node:vm';
import request from 'supertest';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createApp } from '../examples/express/app.ts';
import {
  DEMO_MINIPROGRAM_APP,
  DEMO_MOBILE_APP,
  DEMO_OFFICIAL_ACCOUNT_APP,
  DEMO_WEBSITE_APP,
  WeChatEmulator,
  type EmulatorApp,
  type WeChatEmulatorOptions,
} from '../lib/testing/index.js';
import { decryptUserData, verifyUserDataSignature, type WeChatDecryptedUserInfo } from '../lib/userdata.js';

const START = Date.UTC(2025, 0, 1);
const MINUTE = 60_000;
const RID = /, rid: [0-9a-f]{8}-[0-9a-f]{8}-[0-9a-f]{8}$/;
const WEB = DEMO_WEBSITE_APP;
const OA = DEMO_OFFICIAL_ACCOUNT_APP;
const MP = DEMO_MINIPROGRAM_APP;
const MOBILE = DEMO_MOBILE_APP;
const CALLBACK = 'http://localhost:3000/auth/wechat/callback';

let now = START;
const running: WeChatEmulator[] = [];
let emulator: WeChatEmulator;

async function start(options: WeChatEmulatorOptions = {}): Promise<WeChatEmulator> {
  const started = await WeChatEmulator.start({ clock: () => now, ...options });
  running.push(started);
  return started;
}

beforeEach(async () => {
  now = START;
  emulator = await start();
});

afterEach(async () => {
  await Promise.all(running.splice(0).map((started) => started.close()));
});

// -- helpers: a browser and a server-side client, both plain fetch ------------

interface Answer {
  status: number;
  contentType: string;
  location: string | null;
  text: string;
}

async function get(url: string): Promise<Answer> {
  const res = await fetch(url, { redirect: 'manual' });
  return { status: res.status, contentType: res.headers.get('content-type') ?? '', location: res.headers.get('location'), text: await res.text() };
}

async function post(url: string, form: URLSearchParams): Promise<Answer> {
  const res = await fetch(url, { method: 'POST', body: form, redirect: 'manual' });
  return { status: res.status, contentType: res.headers.get('content-type') ?? '', location: res.headers.get('location'), text: await res.text() };
}

/** Calls an sns endpoint and parses the body as JSON whatever the Content-Type, as clients must (§0). */
async function api(url: string, params: Record<string, string>): Promise<Record<string, unknown>> {
  const answer = await get(`${url}?${new URLSearchParams(params)}`);
  expect(answer.status).toBe(200);
  return JSON.parse(answer.text) as Record<string, unknown>;
}

function authorizeUrl(endpoint: string, params: Record<string, string>): string {
  return `${endpoint}?${new URLSearchParams(params)}#wechat_redirect`;
}

function qrUrl(overrides: Record<string, string> = {}, on = emulator): string {
  return authorizeUrl(on.endpoints.authorizationURL, {
    appid: WEB.appid,
    redirect_uri: CALLBACK,
    response_type: 'code',
    scope: 'snsapi_login',
    state: 'st4te',
    ...overrides,
  });
}

function oaUrl(overrides: Record<string, string> = {}, on = emulator): string {
  return authorizeUrl(on.endpoints.officialAccountAuthorizationURL, {
    appid: OA.appid,
    redirect_uri: CALLBACK,
    response_type: 'code',
    scope: 'snsapi_userinfo',
    state: 'st4te',
    ...overrides,
  });
}

/** The iframe URL in wxLogin.js's own order (§2.3): no response_type, login_type after state. */
function jssdkUrl(overrides: Record<string, string> = {}, on = emulator): string {
  return `${on.endpoints.authorizationURL}?${new URLSearchParams({
    appid: WEB.appid,
    scope: 'snsapi_login',
    redirect_uri: CALLBACK,
    state: 'st4te',
    login_type: 'jssdk',
    self_redirect: 'default',
    ...overrides,
  })}`;
}

function decodeHtml(text: string): string {
  return text.replaceAll('&quot;', '"').replaceAll('&#39;', "'").replaceAll('&lt;', '<').replaceAll('&gt;', '>').replaceAll('&amp;', '&');
}

/** What a browser submits: the page's hidden fields plus the chosen user. */
function formOf(html: string, user?: string): URLSearchParams {
  const form = new URLSearchParams();
  for (const match of html.matchAll(/<input type="hidden" name="([^"]*)" value="([^"]*)">/g)) {
    form.append(decodeHtml(match[1] ?? ''), decodeHtml(match[2] ?? ''));
  }
  if (user !== undefined) form.set('user', user);
  return form;
}

/** Opens the login page and presses Confirm (or Decline) as `user`. */
async function pressButton(pageUrl: string, button: 'confirm' | 'decline', user = 'alice', on = emulator): Promise<Answer> {
  const page = await get(pageUrl);
  expect(page.text).toContain('data-testid="login-page"');
  const path = new URL(pageUrl).pathname;
  return post(`${on.url}${path}/${button}`, formOf(page.text, user));
}

async function codeFromPage(pageUrl: string, user = 'alice', on = emulator): Promise<string> {
  const answer = await pressButton(pageUrl, 'confirm', user, on);
  expect(answer.status).toBe(302);
  return new URL(answer.location ?? '').searchParams.get('code') ?? '';
}

function exchange(code: string, app: EmulatorApp = WEB, on = emulator): Promise<Record<string, unknown>> {
  return api(on.endpoints.tokenURL, { appid: app.appid, secret: app.secret, code, grant_type: 'authorization_code' });
}

function userinfo(token: Record<string, unknown>, extra: Record<string, string> = {}): Promise<Record<string, unknown>> {
  return api(emulator.endpoints.userProfileURL, { access_token: String(token.access_token), openid: String(token.openid), ...extra });
}

function refresh(refreshToken: string, app: EmulatorApp = WEB, on = emulator): Promise<Record<string, unknown>> {
  return api(on.endpoints.refreshTokenURL, { appid: app.appid, grant_type: 'refresh_token', refresh_token: refreshToken });
}

function errcodeOf(body: Record<string, unknown>): unknown {
  return body.errcode;
}

/** A Mini Program server's code2Session call (§8). */
function codeToSession(jsCode: string, app: EmulatorApp = MP, on = emulator): Promise<Record<string, unknown>> {
  return api(on.endpoints.sessionURL, { appid: app.appid, secret: app.secret, js_code: jsCode, grant_type: 'authorization_code' });
}

/** `wx.login()` in the Mini Program: a js_code, and a new session key. */
function wxLogin(user = 'alice', on = emulator): string {
  return on.issueCode({ appid: MP.appid, user });
}

// -----------------------------------------------------------------------------

describe('WeChatEmulator defaults', () => {
  it('listens on 127.0.0.1 and names its endpoints', () => {
    expect(emulator.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(emulator.endpoints).toEqual({
      authorizationURL: `${emulator.url}/connect/qrconnect`,
      officialAccountAuthorizationURL: `${emulator.url}/connect/oauth2/authorize`,
      wxLoginScriptURL: `${emulator.url}/connect/zh_CN/htmledition/js/wxLogin.js`,
      tokenURL: `${emulator.url}/sns/oauth2/access_token`,
      refreshTokenURL: `${emulator.url}/sns/oauth2/refresh_token`,
      userProfileURL: `${emulator.url}/sns/userinfo`,
      checkTokenURL: `${emulator.url}/sns/auth`,
      sessionURL: `${emulator.url}/sns/jscode2session`,
      stableTokenURL: `${emulator.url}/cgi-bin/stable_token`,
      phoneNumberURL: `${emulator.url}/wxa/business/getuserphonenumber`,
    });
  });

  it.each([WEB, OA, MP, MOBILE].map((app) => [app.name, app] as const))('seeds %s with a WeChat-shaped AppID and AppSecret in one Open Platform group', (_name, app) => {
    expect(app.appid).toMatch(/^wx[0-9a-f]{16}$/);
    expect(app.secret).toMatch(/^[0-9a-f]{32}$/);
    expect(app.unionGroup).toBe('default');
  });

  it('seeds a Mini Program and a Mobile Application', () => {
    expect([MP.kind, MOBILE.kind]).toEqual(['miniprogram', 'mobile-app']);
  });

  it('seeds alice with a unionid and bob without one', () => {
    expect(emulator.unionidFor('alice')).toMatch(/^o[\w-]{27}$/);
    expect(emulator.unionidFor('bob')).toBeUndefined();
  });

  it('gives strategy options per app, choosing the authorize page by the app kind', () => {
    expect(emulator.strategyOptions(WEB.appid)).toEqual({
      clientID: WEB.appid,
      clientSecret: WEB.secret,
      authorizationURL: emulator.endpoints.authorizationURL,
      tokenURL: emulator.endpoints.tokenURL,
      refreshTokenURL: emulator.endpoints.refreshTokenURL,
      userProfileURL: emulator.endpoints.userProfileURL,
      checkTokenURL: emulator.endpoints.checkTokenURL,
    });
    expect(emulator.strategyOptions(OA.appid).authorizationURL).toBe(emulator.endpoints.officialAccountAuthorizationURL);
  });

  it('throws for strategy options of an unknown app', () => {
    expect(() => emulator.strategyOptions('wx_nope')).toThrow(/no app/);
  });

  it('starts empty with seed: false', async () => {
    const empty = await start({ seed: false });
    expect(() => empty.strategyOptions(WEB.appid)).toThrow();
    const page = await get(qrUrl({}, empty));
    expect(page.text).toContain('AppID参数错误');
  });

  it('answers unknown paths with 404', async () => {
    expect((await get(`${emulator.url}/nope`)).status).toBe(404);
  });

  it('answers non-GET API calls with 405', async () => {
    const res = await fetch(emulator.endpoints.tokenURL, { method: 'POST' });
    expect(res.status).toBe(405);
    await res.body?.cancel();
  });
});

describe('the QR login page (qrconnect)', () => {
  it('shows an HTML page with the app, a QR and the test users', async () => {
    const page = await get(qrUrl());
    expect(page.status).toBe(200);
    expect(page.contentType).toMatch(/^text\/html/);
    expect(page.text).toContain(WEB.name);
    expect(page.text).toContain('data-testid="qrcode"');
    expect(page.text).toContain('data-testid="user-alice"');
    expect(page.text).toContain('data-testid="user-bob"');
  });

  it('offers Confirm and Decline, in Chinese by default', async () => {
    const page = await get(qrUrl());
    expect(page.text).toMatch(/id="confirm" data-testid="confirm"/);
    expect(page.text).toMatch(/id="decline" data-testid="decline"/);
    expect(page.text).toContain('确认登录');
  });

  it('passes the query through hidden fields', async () => {
    const page = await get(qrUrl());
    expect(Object.fromEntries(formOf(page.text))).toEqual({
      appid: WEB.appid,
      redirect_uri: CALLBACK,
      response_type: 'code',
      scope: 'snsapi_login',
      state: 'st4te',
    });
  });

  it('speaks English with lang=en and carries lang through the form', async () => {
    const page = await get(qrUrl({ lang: 'en' }));
    expect(page.text).toContain('<html lang="en">');
    expect(page.text).toContain('Confirm login');
    expect(formOf(page.text).get('lang')).toBe('en');
  });

  it('escapes what it reflects', async () => {
    const page = await get(qrUrl({ state: '"><script>alert(1)</script>' }));
    expect(page.text).not.toContain('<script>alert(1)</script>');
    expect(formOf(page.text).get('state')).toBe('"><script>alert(1)</script>');
  });

  it('redirects Confirm to redirect_uri?code=CODE&state=STATE, keeping the redirect_uri query, before its fragment', async () => {
    const answer = await pressButton(qrUrl({ redirect_uri: 'http://localhost:3000/cb?next=%2Fhome#/spa' }), 'confirm');
    expect(answer.status).toBe(302);
    expect(answer.location).toMatch(/^http:\/\/localhost:3000\/cb\?next=%2Fhome&code=[A-Za-z0-9]{32}&state=st4te#\/spa$/);
  });

  it('leaves state out of the redirect when none was given', async () => {
    const url = qrUrl();
    const withoutState = url.replace('&state=st4te', '');
    const answer = await pressButton(withoutState, 'confirm');
    expect(answer.location).toMatch(new RegExp(`^${CALLBACK}\\?code=[A-Za-z0-9]{32}$`));
  });

  it("targets the top window inside wxLogin.js's iframe by default", async () => {
    expect((await get(jssdkUrl({ self_redirect: 'default' }))).text).toContain('target="_top"');
  });

  it("targets the iframe itself inside wxLogin.js's iframe with self_redirect=true", async () => {
    expect((await get(jssdkUrl({ self_redirect: 'true' }))).text).toContain('target="_self"');
  });

  it('redirects Decline to redirect_uri?state=STATE without a code by default', async () => {
    const answer = await pressButton(qrUrl(), 'decline');
    expect(answer.status).toBe(302);
    expect(answer.location).toBe(`${CALLBACK}?state=st4te`);
  });

  it("stays on a 'you declined' page with declineBehaviour 'stay', as WeChat mostly does", async () => {
    const staying = await start({ declineBehaviour: 'stay' });
    const answer = await pressButton(qrUrl({ lang: 'en' }, staying), 'decline', 'alice', staying);
    expect(answer.status).toBe(200);
    expect(answer.location).toBeNull();
    expect(answer.text).toContain('data-testid="declined-page"');
    expect(answer.text).toContain('You cancelled this login');
  });

  it('re-checks the posted fields: a redirect_uri changed in the browser gets 10003', async () => {
    const page = await get(qrUrl());
    const tampered = formOf(page.text, 'alice');
    tampered.set('redirect_uri', 'https://evil.example/steal');
    expect((await post(`${emulator.url}/connect/qrconnect/confirm`, tampered)).text).toContain('10003');
  });

  it('refuses a posted user that is not registered (400)', async () => {
    const page = await get(qrUrl());
    const stranger = await post(`${emulator.url}/connect/qrconnect/confirm`, formOf(page.text, 'mallory'));
    expect(stranger.status).toBe(400);
  });
});

// -- wxLogin.js, run in a one-element document: what it does to the page is its whole job -----

interface FakeIframe {
  tagName: string;
  src?: string;
  frameBorder?: string;
  allowTransparency?: string;
  scrolling?: string;
  width?: string;
  height?: string;
}

/** Loads the emulator's wxLogin.js as a browser would, runs `new WxLogin(options)` on `#qr`, and returns the container. */
async function runWxLogin(options: Record<string, unknown>, on = emulator): Promise<{ innerHTML: string; children: FakeIframe[] }> {
  const script = await get(on.endpoints.wxLoginScriptURL);
  const container = {
    innerHTML: '<p>Loading the QR code…</p>',
    children: [] as FakeIframe[],
    appendChild(child: FakeIframe) {
      this.children.push(child);
    },
  };
  const document = {
    createElement: (tag: string): FakeIframe => ({ tagName: tag.toUpperCase() }),
    getElementById: (id: string) => (id === 'qr' ? container : null),
  };
  const window: { WxLogin?: new (options: Record<string, unknown>) => unknown } = {};
  runInNewContext(script.text, { window, document });
  if (window.WxLogin === undefined) throw new Error('wxLogin.js defined no window.WxLogin');
  new window.WxLogin(options);
  return container;
}

/** What strategy.wxLoginOptions() gives: redirect_uri pre-encoded, stylelite a number. */
function wxLoginOptions(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return { self_redirect: false, id: 'qr', appid: WEB.appid, scope: 'snsapi_login', redirect_uri: encodeURIComponent(CALLBACK), state: 'w4bc', stylelite: 1, ...overrides };
}

async function iframeSrc(options: Record<string, unknown>, on = emulator): Promise<string> {
  const [iframe] = (await runWxLogin(options, on)).children;
  return iframe?.src ?? '';
}

describe('wxLogin.js and the embedded QR box (login_type=jssdk)', () => {
  it("serves wxLogin.js on res.wx.qq.com's path, as JavaScript, and logs the call", async () => {
    const script = await get(emulator.endpoints.wxLoginScriptURL);
    expect(script.status).toBe(200);
    expect(script.contentType).toMatch(/^application\/javascript/);
    expect(script.text).toContain('window.WxLogin');
    expect(emulator.calls.map((call) => [call.endpoint, call.method, call.status])).toEqual([['wxLogin.js', 'GET', 200]]);
  });

  it("replaces the container's content with one 300×400 iframe on the QR page, its URL concatenated like WeChat's", async () => {
    const container = await runWxLogin(wxLoginOptions());
    expect(container.innerHTML).toBe('');
    expect(container.children).toEqual([
      {
        tagName: 'IFRAME',
        src:
          `${emulator.endpoints.authorizationURL}?appid=${WEB.appid}&scope=snsapi_login&redirect_uri=${encodeURIComponent(CALLBACK)}` +
          '&state=w4bc&login_type=jssdk&self_redirect=false&styletype=&sizetype=&bgcolor=&rst=&stylelite=1',
        frameBorder: '0',
        allowTransparency: 'true',
        scrolling: 'no',
        width: '300px',
        height: '400px',
      },
    ]);
  });

  it('compares stylelite and fast_login strictly: the strings "1" and "0" do nothing', async () => {
    expect(await iframeSrc(wxLoginOptions({ stylelite: '1', fast_login: '0' }))).toMatch(/&rst=$/);
  });

  it('writes stylelite=1 and fast_login=0 for the numbers 1 and 0', async () => {
    expect(await iframeSrc(wxLoginOptions({ fast_login: 0 }))).toMatch(/&rst=&stylelite=1&fast_login=0$/);
  });

  it('writes self_redirect=true for true', async () => {
    expect(await iframeSrc(wxLoginOptions({ self_redirect: true }))).toContain('&self_redirect=true&');
  });

  it('writes self_redirect=default for anything but a boolean', async () => {
    expect(await iframeSrc(wxLoginOptions({ self_redirect: 'false' }))).toContain('&self_redirect=default&');
  });

  it('writes style, href and lang=en after rst', async () => {
    const styled = await iframeSrc(wxLoginOptions({ stylelite: undefined, style: 'white', href: 'https://cdn.example.com/wx.css', lang: 'en' }));
    expect(styled).toMatch(/&rst=&style=white&href=https:\/\/cdn\.example\.com\/wx\.css&lang=en$/);
  });

  it('writes "undefined" for a missing state, as WeChat\'s script does', async () => {
    expect(await iframeSrc(wxLoginOptions({ state: undefined }))).toContain('&state=undefined&');
  });

  it('shows the compact QR box for the iframe URL, without response_type', async () => {
    const page = await get(await iframeSrc(wxLoginOptions()));
    expect(page.status).toBe(200);
    expect(page.text).toContain('data-testid="login-page" data-endpoint="qrconnect" data-embedded="true" data-self-redirect="false" data-stylelite="1"');
    expect(page.text).toContain('data-testid="qrcode"');
    expect(page.text).toContain('data-testid="user-alice"');
  });

  it('redirects the top window from the compact box by default', async () => {
    expect((await get(await iframeSrc(wxLoginOptions()))).text).toContain('target="_top"');
  });

  it('passes login_type and self_redirect on through the hidden fields, and logs the iframe URL as in its documented order', async () => {
    const page = await get(await iframeSrc(wxLoginOptions()));
    expect(Object.fromEntries(formOf(page.text))).toEqual({
      appid: WEB.appid,
      redirect_uri: CALLBACK,
      scope: 'snsapi_login',
      state: 'w4bc',
      login_type: 'jssdk',
      self_redirect: 'false',
    });
    expect(emulator.calls.at(-1)).toMatchObject({ endpoint: 'qrconnect', status: 200, documentedOrder: true });
  });

  it("sends Confirm to redirect_uri?code=CODE&state=STATE with a code for the chosen user", async () => {
    const answer = await pressButton(await iframeSrc(wxLoginOptions()), 'confirm', 'bob');
    expect(answer.status).toBe(302);
    expect(answer.location).toMatch(new RegExp(`^${CALLBACK}\\?code=[A-Za-z0-9]{32}&state=w4bc$`));
    const code = new URL(answer.location ?? '').searchParams.get('code') ?? '';
    expect((await exchange(code)).openid).toBe(emulator.openidFor(WEB.appid, 'bob'));
  });

  it('redirects inside the iframe with self_redirect=true', async () => {
    const inside = await get(await iframeSrc(wxLoginOptions({ self_redirect: true })));
    expect(inside.text).toContain('target="_self"');
  });

  it('loses state and login_type when redirect_uri is not encoded and holds a #, as with WeChat\'s script', async () => {
    const src = await iframeSrc(wxLoginOptions({ redirect_uri: 'http://localhost:3000/#/login' }));
    const page = await get(src); // the browser never sends what follows the #
    expect(page.text).toContain('该链接无法访问');
    expect(emulator.calls.at(-1)?.query).toEqual({ appid: WEB.appid, scope: 'snsapi_login', redirect_uri: 'http://localhost:3000/' });
  });

  it('sends a Decline to the top window by default, like Confirm', async () => {
    expect((await get(await iframeSrc(wxLoginOptions()))).text).toMatch(/data-testid="decline" formaction="[^"]+" formtarget="_top"/);
  });

  it("keeps a Decline WeChat answers with its own page inside the iframe (declineBehaviour 'stay')", async () => {
    const staying = await start({ declineBehaviour: 'stay' });
    const page = await get(await iframeSrc(wxLoginOptions(), staying));
    expect(page.text).toMatch(/data-testid="decline" formaction="[^"]+" formtarget="_self"/);
  });

  it('applies custom https CSS without stylelite', async () => {
    const css = '<link rel="stylesheet" href="https://cdn.example.com/wx.css">';
    expect((await get(await iframeSrc(wxLoginOptions({ stylelite: undefined, href: 'https://cdn.example.com/wx.css' })))).text).toContain(css);
  });

  it('ignores custom CSS with stylelite=1', async () => {
    expect((await get(await iframeSrc(wxLoginOptions({ href: 'https://cdn.example.com/wx.css' })))).text).not.toContain('<link');
  });

  it('ignores custom CSS that is neither https nor data:text/css', async () => {
    expect((await get(await iframeSrc(wxLoginOptions({ stylelite: undefined, href: 'javascript:alert(1)' })))).text).not.toContain('<link');
  });

  it("accepts the iframe URL in wxLogin.js's own order by default", async () => {
    expect((await get(await iframeSrc(wxLoginOptions()))).text).toContain('data-embedded="true"');
  });

  it("refuses the iframe URL out of wxLogin.js's order by default", async () => {
    const src = await iframeSrc(wxLoginOptions());
    const reordered = src.replace(`appid=${WEB.appid}&scope=snsapi_login`, `scope=snsapi_login&appid=${WEB.appid}`);
    expect((await get(reordered)).text).toContain('该链接无法访问');
  });

  it('still wants response_type outside the iframe', async () => {
    expect((await get(qrUrl({ response_type: '' }))).text).toContain('该链接无法访问');
  });

  it('lets authorize() play the user on the iframe URL too', async () => {
    const outcome = emulator.authorize(await iframeSrc(wxLoginOptions()), { user: 'alice' });
    expect(outcome).toMatchObject({ type: 'redirect', location: expect.stringMatching(/\?code=\w{32}&state=w4bc$/) as unknown });
  });
});

describe('authorize-page validation (WeChat HTML error pages, HTTP 200)', () => {
  async function errorPage(url: string): Promise<string> {
    const page = await get(url);
    expect(page.status).toBe(200);
    expect(page.contentType).toMatch(/^text\/html/);
    expect(page.location).toBeNull();
    expect(page.text).toContain('data-testid="error-page"');
    return page.text;
  }

  it('shows 10012 for an empty appid', async () => {
    const empty = await errorPage(qrUrl({ appid: '' }));
    expect(empty).toContain('10012');
    expect(empty).toContain('appid不能为空');
  });

  it('shows an AppID error for an unknown appid', async () => {
    expect(await errorPage(qrUrl({ appid: 'wx0000000000000000' }))).toContain('AppID参数错误');
  });

  it('shows 10011 for an empty redirect_uri', async () => {
    const noRedirect = await errorPage(qrUrl({ redirect_uri: '' }));
    expect(noRedirect).toContain('10011');
    expect(noRedirect).toContain('redirect_uri不能为空');
  });

  it('shows 10010 for an empty scope', async () => {
    const noScope = await errorPage(oaUrl({ scope: '' }));
    expect(noScope).toContain('10010');
    expect(noScope).toContain('scope不能为空');
  });

  it.each(['https://evil.example/cb', 'https://pay.example.com/cb', 'https://example.com/cb'])(
    'shows 10003 for %s: not the registered callback domain www.example.com (subdomains and parents included)',
    async (redirect) => {
      emulator.registerApp({ appid: 'wx1111111111111111', secret: 's', kind: 'website', callbackDomains: ['www.example.com'] });
      const text = await errorPage(qrUrl({ appid: 'wx1111111111111111', redirect_uri: redirect }));
      expect(text).toContain('10003');
      expect(text).toContain('redirect_uri域名与后台配置不一致');
    },
  );

  it('accepts any path on the registered callback domain', async () => {
    emulator.registerApp({ appid: 'wx1111111111111111', secret: 's', kind: 'website', callbackDomains: ['www.example.com'] });
    expect((await get(qrUrl({ appid: 'wx1111111111111111', redirect_uri: 'https://www.example.com/any/path' }))).text).toContain('login-page');
  });

  it('shows 10003 for a redirect_uri with a port when the app does not allow ports', async () => {
    emulator.registerApp({ appid: 'wx2222222222222222', secret: 's', kind: 'website', callbackDomains: ['127.0.0.1'] });
    const text = await errorPage(qrUrl({ appid: 'wx2222222222222222', redirect_uri: 'http://127.0.0.1:3000/cb' }));
    expect(text).toContain('10003');
    expect(text).toContain('port');
  });

  it.each(['http://127.0.0.1/cb', 'http://127.0.0.1:80/cb'])('accepts %s: the scheme\'s default port', async (redirect) => {
    emulator.registerApp({ appid: 'wx2222222222222222', secret: 's', kind: 'website', callbackDomains: ['127.0.0.1'] });
    expect((await get(qrUrl({ appid: 'wx2222222222222222', redirect_uri: redirect }))).text).toContain('login-page');
  });

  it('shows 10005 on the QR page for a scope it does not offer', async () => {
    const qr = await errorPage(qrUrl({ scope: 'snsapi_userinfo' }));
    expect(qr).toContain('10005');
    expect(qr).toContain('Scope 参数错误或没有 Scope 权限');
  });

  it('shows 10005 on the Official Account page for a scope it does not offer', async () => {
    const oa = await errorPage(oaUrl({ scope: 'snsapi_login' }));
    expect(oa).toContain('10005');
    expect(oa).toContain('此公众号并没有这些scope的权限');
  });

  it('refuses a website app on oauth2/authorize with 10016', async () => {
    expect(await errorPage(oaUrl({ appid: WEB.appid }))).toContain('10016');
  });

  it('refuses an Official Account on qrconnect with the scope error', async () => {
    expect(await errorPage(qrUrl({ appid: OA.appid }))).toContain('Scope 参数错误或没有 Scope 权限');
  });

  it('requires response_type=code', async () => {
    expect(await errorPage(qrUrl({ response_type: 'token' }))).toContain('该链接无法访问');
  });

  /** The QR page's query with scope first: every parameter there, in the wrong order. */
  const reorderedQrUrl = (on = emulator) =>
    `${on.endpoints.authorizationURL}?scope=snsapi_login&appid=${WEB.appid}&redirect_uri=${encodeURIComponent(CALLBACK)}&response_type=code`;

  it('records the parameter order of a page request, and whether it is the documented one', async () => {
    await get(qrUrl());
    await get(reorderedQrUrl());
    const [inOrder, outOfOrder] = emulator.calls;
    expect(inOrder?.paramOrder).toEqual(['appid', 'redirect_uri', 'response_type', 'scope', 'state']);
    expect(inOrder?.documentedOrder).toBe(true);
    expect(outOfOrder?.documentedOrder).toBe(false);
  });

  it('shows "该链接无法访问" for parameters out of the documented order by default, as WeChat does', async () => {
    const page = await errorPage(reorderedQrUrl());
    expect(page).toContain('该链接无法访问');
    expect(page).toContain('strictParameterOrder: false');
  });

  it('accepts the documented order (appid, redirect_uri, response_type, scope, state) by default', async () => {
    expect((await get(qrUrl())).text).toContain('login-page');
  });

  it('refuses the Official Account page out of order by default too', async () => {
    const reordered = `${emulator.endpoints.officialAccountAuthorizationURL}?appid=${OA.appid}&response_type=code&redirect_uri=${encodeURIComponent(CALLBACK)}&scope=snsapi_userinfo&state=st4te`;
    expect(await errorPage(reordered)).toContain('该链接无法访问');
    expect(emulator.authorize(reordered)).toMatchObject({ type: 'error-page', message: '该链接无法访问' });
  });

  it('accepts any order with strictParameterOrder: false, still recording it as out of order', async () => {
    const loose = await start({ strictParameterOrder: false });
    expect((await get(reorderedQrUrl(loose))).text).toContain('login-page');
    expect(loose.calls[0]?.documentedOrder).toBe(false);
  });
});

describe("a login whose authorize URL is out of WeChat's order, at the HTTP edge", () => {
  /** The demo app (examples/express), the strategy pointed at `on`. */
  function demoApp(on: WeChatEmulator) {
    return createApp({ strategy: { ...on.strategyOptions(WEB.appid), callbackURL: CALLBACK }, sessionSecret: 'test session secret' });
  }

  /** Where the strategy sends the browser: its 302 to WeChat's QR page. */
  async function authorizeLocation(agent: ReturnType<typeof request.agent>): Promise<string> {
    const start = await agent.get('/auth/wechat').expect(302);
    return start.headers.location as string;
  }

  /** The same URL, every parameter and value kept as sent, scope moved first: WeChat's regex no longer matches. */
  function reordered(location: string): string {
    const [withoutFragment = '', fragment = ''] = location.split('#');
    const [base, query = ''] = withoutFragment.split('?');
    const pairs = query.split('&');
    const scope = pairs.filter((pair) => pair.startsWith('scope='));
    const moved = [...scope, ...pairs.filter((pair) => !pair.startsWith('scope='))].join('&');
    return `${base}?${moved}${fragment === '' ? '' : `#${fragment}`}`;
  }

  it("opens the login page at the URL the strategy redirects to, which is in WeChat's order", async () => {
    const location = await authorizeLocation(request.agent(demoApp(emulator)));
    expect(new URL(location).search).toMatch(/^\?appid=[^&]+&redirect_uri=[^&]+&response_type=code&scope=snsapi_login&state=[A-Za-z0-9]+$/);
    const page = await get(location);
    expect(page.text).toContain('data-testid="login-page"');
    expect(emulator.calls.at(-1)).toMatchObject({ endpoint: 'qrconnect', documentedOrder: true });
  });

  it('shows "该链接无法访问" for that URL reordered, with no Confirm to press: the login cannot go on', async () => {
    const location = reordered(await authorizeLocation(request.agent(demoApp(emulator))));
    const page = await get(location);
    expect(page.status).toBe(200);
    expect(page.text).toContain('data-testid="error-page"');
    expect(page.text).toContain('该链接无法访问');
    expect(page.text).not.toContain('data-testid="confirm"');
    expect(emulator.calls.at(-1)).toMatchObject({ endpoint: 'qrconnect', documentedOrder: false });
    expect(emulator.authorize(location, { user: 'alice' })).toMatchObject({ type: 'error-page', message: '该链接无法访问' });
  });

  it('logs the user in through the reordered URL once strictParameterOrder: false loosens the check', async () => {
    const loose = await start({ strictParameterOrder: false });
    const agent = request.agent(demoApp(loose));
    const answer = await pressButton(reordered(await authorizeLocation(agent)), 'confirm', 'alice', loose);
    expect(answer.status).toBe(302);
    const callback = new URL(answer.location ?? '');
    await agent.get(callback.pathname + callback.search).expect(302).expect('location', '/profile');
    expect((await agent.get('/profile').expect(200)).text).toContain(loose.openidFor(WEB.appid, 'alice'));
  });
});

describe('the Official Account authorize page (oauth2/authorize)', () => {
  it('confirms snsapi_base silently as the first user', async () => {
    const silent = await get(oaUrl({ scope: 'snsapi_base' }));
    expect(silent.status).toBe(302);
    expect(silent.location).toMatch(/\?code=[A-Za-z0-9]{32}&state=st4te$/);
  });

  it('shows the page for snsapi_base with forcePopup=true, passing it through the form', async () => {
    const popup = await get(oaUrl({ scope: 'snsapi_base', forcePopup: 'true' }));
    expect(popup.text).toContain('data-testid="login-page"');
    expect(formOf(popup.text).get('forcePopup')).toBe('true');
  });

  it('shows the page for snsapi_base with autoConfirmBase: false', async () => {
    const showing = await start({ autoConfirmBase: false });
    expect((await get(oaUrl({ scope: 'snsapi_base' }, showing))).text).toContain('data-testid="login-page"');
  });

  async function baseToken(): Promise<Record<string, unknown>> {
    const location = (await get(oaUrl({ scope: 'snsapi_base' }))).location ?? '';
    return exchange(new URL(location).searchParams.get('code') ?? '', OA);
  }

  it('gives snsapi_base a token for the first user, without unionid', async () => {
    const token = await baseToken();
    expect(token.scope).toBe('snsapi_base');
    expect(token.openid).toBe(emulator.openidFor(OA.appid, 'alice'));
    expect(token).not.toHaveProperty('unionid');
  });

  it('refuses userinfo to a snsapi_base token with 48001', async () => {
    expect(errcodeOf(await userinfo(await baseToken()))).toBe(48001);
  });

  it('gives snsapi_userinfo a token with the unionid shared with the website app, and a different openid', async () => {
    const oaToken = await exchange(await codeFromPage(oaUrl()), OA);
    const webToken = await exchange(await codeFromPage(qrUrl()));
    expect(oaToken.unionid).toBe(emulator.unionidFor('alice'));
    expect(webToken.unionid).toBe(oaToken.unionid);
    expect(webToken.openid).not.toBe(oaToken.openid);
  });

  it('marks a snapshot-page user with is_snapshotuser: 1', async () => {
    emulator.registerUser({ id: 'snap', nickname: '微信用户', snapshot: true });
    const token = await exchange(await codeFromPage(oaUrl(), 'snap'), OA);
    expect(token.is_snapshotuser).toBe(1);
  });

  it("answers a snapshot-page user's userinfo with 48001", async () => {
    emulator.registerUser({ id: 'snap', nickname: '微信用户', snapshot: true });
    const token = await exchange(await codeFromPage(oaUrl(), 'snap'), OA);
    expect(errcodeOf(await userinfo(token))).toBe(48001);
  });

  it('never marks a snapshot user outside the Official Account page', async () => {
    emulator.registerUser({ id: 'snap', nickname: '微信用户', snapshot: true });
    const webToken = await exchange(emulator.issueCode({ appid: WEB.appid, user: 'snap' }));
    expect(webToken).not.toHaveProperty('is_snapshotuser');
  });
});

describe('sns/oauth2/access_token', () => {
  it('turns a confirmed code into WeChat-shaped tokens', async () => {
    const code = await codeFromPage(qrUrl());
    const token = await exchange(code);
    expect(Object.keys(token)).toEqual(['access_token', 'expires_in', 'refresh_token', 'openid', 'scope', 'unionid']);
    expect(token).toMatchObject({ expires_in: 7200, scope: 'snsapi_login', openid: emulator.openidFor(WEB.appid, 'alice') });
    expect(token.access_token).toMatch(/^86_[\w-]{100,}$/);
    expect(token.refresh_token).toMatch(/^86_[\w-]{100,}$/);
    expect(token.openid).toMatch(/^o[\w-]{27}$/);
  });

  it('gives that token the profile in its post-2021 shape (the whole login)', async () => {
    const token = await exchange(await codeFromPage(qrUrl()));
    const profile = await userinfo(token, { lang: 'zh_CN' });
    expect(profile).toEqual({
      openid: token.openid,
      nickname: 'Alice 🐼',
      sex: 0,
      language: '',
      city: '',
      province: '',
      country: '',
      headimgurl: expect.stringMatching(new RegExp(`^${emulator.url.replaceAll('.', '\\.')}/mmopen/vi_32/[\\w-]+/132$`)) as unknown,
      privilege: [],
      unionid: emulator.unionidFor('alice'),
    });
  });

  it('escapes slashes in JSON like WeChat and answers text/plain by default', async () => {
    const token = await exchange(emulator.issueCode({ appid: WEB.appid, user: 'alice' }));
    const raw = await get(`${emulator.endpoints.userProfileURL}?access_token=${String(token.access_token)}&openid=${String(token.openid)}`);
    expect(raw.contentType).toBe('text/plain');
    expect(raw.text).toContain(`"headimgurl":"${emulator.url.replaceAll('/', '\\/')}\\/mmopen\\/vi_32\\/`);
  });

  it("serves the avatar its userinfo names, as WeChat's avatar host would: a picture, with no network", async () => {
    const token = await exchange(emulator.issueCode({ appid: WEB.appid, user: 'alice' }));
    const profile = await userinfo(token, {});
    const avatar = await fetch(String(profile.headimgurl));
    expect(avatar.status).toBe(200);
    expect(avatar.headers.get('content-type')).toBe('image/svg+xml');
    expect(await avatar.text()).toMatch(/^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
  });

  it('keeps an avatar a user was registered with on another host as it is', async () => {
    emulator.registerUser({ id: 'carol', nickname: 'Carol', headimgurl: 'https://cdn.example/carol.png' });
    const token = await exchange(emulator.issueCode({ appid: WEB.appid, user: 'carol' }));
    expect((await userinfo(token, {})).headimgurl).toBe('https://cdn.example/carol.png');
  });

  it('answers application/json when configured so', async () => {
    const json = await start({ contentType: 'application/json' });
    expect((await get(`${json.endpoints.tokenURL}?appid=${WEB.appid}`)).contentType).toBe('application/json; charset=utf-8');
  });

  it('lets a code be used once: 40163 "code been used" the second time, with a rid suffix', async () => {
    const code = emulator.issueCode({ appid: WEB.appid, user: 'alice' });
    expect(code).toMatch(/^[A-Za-z0-9]{32}$/);
    expect(await exchange(code)).not.toHaveProperty('errcode');
    const again = await exchange(code);
    expect(again.errcode).toBe(40163);
    expect(again.errmsg).toMatch(/^code been used, rid: /);
    expect(again.errmsg).toMatch(RID);
  });

  it('answers 40029 for an unknown code', async () => {
    expect((await exchange('001HKCFa1UWlqz0ZsPHa1zrEwD2HKCF3')).errcode).toBe(40029);
  });

  it('answers 40029 for a code of another app', async () => {
    const oaCode = emulator.issueCode({ appid: OA.appid, user: 'alice' });
    expect((await exchange(oaCode, WEB)).errcode).toBe(40029);
  });

  it('expires oauth2/authorize codes after 5 minutes (40029)', async () => {
    const oaStale = emulator.issueCode({ appid: OA.appid, user: 'alice' });
    now += 5 * MINUTE;
    expect((await exchange(oaStale, OA)).errcode).toBe(40029);
  });

  it('keeps qrconnect codes for 10 minutes, then answers 40029', async () => {
    const fresh = emulator.issueCode({ appid: WEB.appid, user: 'alice' });
    const stale = emulator.issueCode({ appid: WEB.appid, user: 'alice' });
    now += 10 * MINUTE - 1;
    expect(await exchange(fresh)).toHaveProperty('access_token');
    now += 1;
    expect((await exchange(stale)).errcode).toBe(40029);
  });

  it('takes custom code lifetimes', async () => {
    const quick = await start({ codeTtlSeconds: 1 });
    const code = quick.issueCode({ appid: WEB.appid, user: 'alice' });
    now += 1000;
    expect((await exchange(code, WEB, quick)).errcode).toBe(40029);
  });

  it.each<[string, Record<string, string>, number]>([
    ['an empty appid', { appid: '' }, 41002],
    ['an unknown appid', { appid: 'wx0000000000000000' }, 40013],
    ['an empty secret', { secret: '' }, 41004],
    ['a wrong secret', { secret: 'not-the-secret' }, 40125],
    ['an empty code', { code: '' }, 41008],
    ['another grant_type', { grant_type: 'client_credentials' }, 40002],
  ])('answers %s with %i, without spending the code', async (_what, change, errcode) => {
    const code = emulator.issueCode({ appid: WEB.appid, user: 'alice' });
    const params = { appid: WEB.appid, secret: WEB.secret, code, grant_type: 'authorization_code', ...change };
    const body = await api(emulator.endpoints.tokenURL, params);
    expect(body.errcode, JSON.stringify(params)).toBe(errcode);
    expect(body.errmsg).toMatch(RID);
    expect(await exchange(code)).toHaveProperty('access_token'); // the failure did not spend the code
  });

  it('leaves unionid out of the token and the profile of a user without one, and gives an empty headimgurl without an avatar', async () => {
    const bob = await exchange(emulator.issueCode({ appid: WEB.appid, user: 'bob' }));
    expect(bob).not.toHaveProperty('unionid');
    const profile = await userinfo(bob);
    expect(profile).not.toHaveProperty('unionid');
    expect(profile.headimgurl).toBe('');
  });

  const unboundApp = () =>
    emulator.registerApp({ appid: 'wx3333333333333333', secret: 's', kind: 'website', callbackDomains: ['localhost'], unionGroup: null });

  it('leaves unionid out for an app not bound to an Open Platform account', async () => {
    const unbound = unboundApp();
    expect(await exchange(emulator.issueCode({ appid: unbound.appid, user: 'alice' }), unbound)).not.toHaveProperty('unionid');
  });

  it("gives another Open Platform account's app another unionid", async () => {
    const other = emulator.registerApp({ ...unboundApp(), appid: 'wx4444444444444444', unionGroup: 'other-account' });
    const otherToken = await exchange(emulator.issueCode({ appid: other.appid, user: 'alice' }), other);
    expect(otherToken.unionid).toBe(emulator.unionidFor('alice', 'other-account'));
    expect(otherToken.unionid).not.toBe(emulator.unionidFor('alice'));
  });
});

describe('sns/oauth2/refresh_token', () => {
  async function login(on = emulator): Promise<Record<string, unknown>> {
    return exchange(on.issueCode({ appid: WEB.appid, user: 'alice' }), WEB, on);
  }

  it('returns the same tokens while the access_token is valid, and resets its expiry', async () => {
    const token = await login();
    now += 7000 * 1000;
    const refreshed = await refresh(String(token.refresh_token));
    expect(Object.keys(refreshed)).toEqual(['access_token', 'expires_in', 'refresh_token', 'openid', 'scope']);
    expect(refreshed).toMatchObject({ access_token: token.access_token, refresh_token: token.refresh_token, expires_in: 7200 });
    now += 7000 * 1000;
    expect(await userinfo(token)).toHaveProperty('nickname');
  });

  it('issues a new access_token once the old one expired (42001 before the refresh)', async () => {
    const token = await login();
    now += 7200 * 1000;
    expect(errcodeOf(await userinfo(token))).toBe(42001);
    const refreshed = await refresh(String(token.refresh_token));
    expect(refreshed.access_token).not.toBe(token.access_token);
    expect(await userinfo({ ...token, access_token: refreshed.access_token })).toHaveProperty('nickname');
  });

  it('answers 40030 for an unknown refresh_token', async () => {
    expect((await refresh('86_nope')).errcode).toBe(40030);
  });

  it("answers 40030 for another app's refresh_token", async () => {
    const token = await login();
    expect((await refresh(String(token.refresh_token), OA)).errcode).toBe(40030);
  });

  it('answers 41003 without a refresh_token', async () => {
    expect((await api(emulator.endpoints.refreshTokenURL, { appid: WEB.appid, grant_type: 'refresh_token' })).errcode).toBe(41003);
  });

  it('answers 41002 without an appid', async () => {
    expect((await api(emulator.endpoints.refreshTokenURL, { grant_type: 'refresh_token', refresh_token: 'x' })).errcode).toBe(41002);
  });

  it('answers 40030 for a refresh_token 30 days old', async () => {
    const token = await login();
    now += 30 * 24 * 3600 * 1000;
    expect((await refresh(String(token.refresh_token))).errcode).toBe(40030);
  });

  it('rotates the refresh_token with rotateRefreshToken, retiring the old one', async () => {
    const rotating = await start({ rotateRefreshToken: true });
    const token = await login(rotating);
    const refreshed = await refresh(String(token.refresh_token), WEB, rotating);
    expect(refreshed.refresh_token).not.toBe(token.refresh_token);
    expect((await refresh(String(token.refresh_token), WEB, rotating)).errcode).toBe(40030);
    expect(await refresh(String(refreshed.refresh_token), WEB, rotating)).toHaveProperty('access_token');
  });
});

describe('sns/userinfo and sns/auth', () => {
  const aliceToken = () => exchange(emulator.issueCode({ appid: WEB.appid, user: 'alice' }));

  it('answers userinfo with 40001 for an unknown token', async () => {
    expect(errcodeOf(await userinfo({ ...(await aliceToken()), access_token: '86_unknown' }))).toBe(40001);
  });

  it("answers userinfo with 40003 for another user's openid", async () => {
    expect(errcodeOf(await userinfo({ ...(await aliceToken()), openid: emulator.openidFor(WEB.appid, 'bob') }))).toBe(40003);
  });

  it('answers userinfo with 41001 without access_token', async () => {
    const token = await aliceToken();
    expect(errcodeOf(await api(emulator.endpoints.userProfileURL, { openid: String(token.openid) }))).toBe(41001);
  });

  it('answers userinfo with 41009 without openid', async () => {
    const token = await aliceToken();
    expect(errcodeOf(await api(emulator.endpoints.userProfileURL, { access_token: String(token.access_token) }))).toBe(41009);
  });

  it('answers userinfo with 40097 for a lang WeChat does not know (zh-CN, with a hyphen)', async () => {
    expect(errcodeOf(await userinfo(await aliceToken(), { lang: 'zh-CN' }))).toBe(40097);
  });

  it('answers userinfo with lang=en', async () => {
    expect(await userinfo(await aliceToken(), { lang: 'en' })).toHaveProperty('openid');
  });

  const check = (params: Record<string, string>): Promise<Record<string, unknown>> => api(emulator.endpoints.checkTokenURL, params);
  const validCheck = async () => {
    const token = await aliceToken();
    return { access_token: String(token.access_token), openid: String(token.openid) };
  };

  it('says {"errcode":0,"errmsg":"ok"} on sns/auth for a valid token', async () => {
    expect(await check(await validCheck())).toEqual({ errcode: 0, errmsg: 'ok' });
  });

  it('answers sns/auth with 40003 for a wrong openid', async () => {
    expect((await check({ ...(await validCheck()), openid: 'oWrongWrongWrongWrongWrongWr' })).errcode).toBe(40003);
  });

  it('answers sns/auth with 40003 for an unknown token', async () => {
    expect((await check({ ...(await validCheck()), access_token: '86_unknown' })).errcode).toBe(40003);
  });

  it('answers sns/auth with 41001 without access_token', async () => {
    expect((await check({ openid: (await validCheck()).openid })).errcode).toBe(41001);
  });

  it('answers sns/auth with 42001 once the token expired', async () => {
    const valid = await validCheck();
    now += 7200 * 1000;
    expect((await check(valid)).errcode).toBe(42001);
  });
});

describe('injected faults', () => {
  it('answers the next call with an errcode, in queue order, then behaves again', async () => {
    emulator.failNext('access_token', { errcode: -1 });
    emulator.failNext('any', { errcode: 45011 });
    const code = emulator.issueCode({ appid: WEB.appid, user: 'alice' });
    const first = await exchange(code);
    expect(first.errcode).toBe(-1);
    expect(first.errmsg).toMatch(/^system error, rid: /);
    expect((await exchange(code)).errcode).toBe(45011);
    expect(await exchange(code)).toHaveProperty('access_token');
    expect(emulator.calls.map((call) => call.fault)).toEqual(['errcode', 'errcode', undefined]);
  });

  it('can spend the code before failing, so the retry gets 40163 like WeChat after a -1', async () => {
    emulator.failNext('access_token', { errcode: -1, afterProcessing: true });
    const code = emulator.issueCode({ appid: WEB.appid, user: 'alice' });
    expect((await exchange(code)).errcode).toBe(-1);
    expect((await exchange(code)).errcode).toBe(40163);
  });

  it('answers with an nginx HTML 502 page', async () => {
    emulator.failNext('userinfo', { status: 502, html: true });
    const answer = await get(`${emulator.endpoints.userProfileURL}?access_token=x&openid=y`);
    expect(answer.status).toBe(502);
    expect(answer.contentType).toBe('text/html');
    expect(answer.text).toContain('<center><h1>502 Bad Gateway</h1></center>');
    expect(answer.text).toContain('nginx');
  });

  it('answers with a raw, malformed body', async () => {
    emulator.failNext('refresh_token', { body: '{"access_token":"86_abc' });
    const answer = await get(`${emulator.endpoints.refreshTokenURL}?appid=${WEB.appid}`);
    expect(answer.status).toBe(200);
    expect(answer.contentType).toBe('text/plain');
    expect(() => JSON.parse(answer.text) as unknown).toThrow();
  });

  it('delays one answer with a delayMs fault', async () => {
    emulator.failNext('auth', { delayMs: 150 });
    const started = performance.now();
    expect((await api(emulator.endpoints.checkTokenURL, {})).errcode).toBe(41001);
    expect(performance.now() - started).toBeGreaterThanOrEqual(140);
  });

  it('delays every answer with setLatency', async () => {
    emulator.setLatency({ minMs: 60, maxMs: 90 });
    const started = performance.now();
    const answers = await Promise.all([1, 2, 3, 4, 5].map(() => api(emulator.endpoints.checkTokenURL, {})));
    expect(answers.every((body) => body.errcode === 41001)).toBe(true);
    expect(performance.now() - started).toBeGreaterThanOrEqual(55);
  });

  it('hangs an answer forever, and close() still returns promptly', async () => {
    const hanging = await start();
    hanging.failNext('any', { hang: true });
    const pending = fetch(`${hanging.endpoints.tokenURL}?appid=x`).then(
      () => 'answered',
      () => 'cut',
    );
    while (hanging.calls.length === 0) await new Promise((resolve) => setTimeout(resolve, 5));
    expect(hanging.calls[0]).toMatchObject({ endpoint: 'access_token', status: 0, fault: 'hang' });
    const started = performance.now();
    await hanging.close();
    expect(performance.now() - started).toBeLessThan(1000);
    expect(await pending).toBe('cut');
  });

  it('closes with idle keep-alive sockets open', async () => {
    const idle = await start();
    await api(idle.endpoints.checkTokenURL, {});
    const started = performance.now();
    await idle.close();
    await idle.close(); // twice is fine
    expect(performance.now() - started).toBeLessThan(1000);
  });

  it('rejects things that are not faults', () => {
    expect(() => emulator.failNext('userinfo', {} as never)).toThrow(TypeError);
  });

  it('rejects a fault for an endpoint it does not have', () => {
    expect(() => emulator.failNext('nope' as never, { errcode: -1 })).toThrow(TypeError);
  });
});

describe('the call log and reset()', () => {
  describe('after a whole login: page, Confirm, token, refresh, userinfo, and the code again', () => {
    let code: string;
    let token: Record<string, unknown>;

    beforeEach(async () => {
      const confirm = await pressButton(qrUrl(), 'confirm');
      code = new URL(confirm.location ?? '').searchParams.get('code') ?? '';
      token = await exchange(code);
      await refresh(String(token.refresh_token));
      await userinfo(token);
      await exchange(code);
    });

    it('records each call, oldest first', () => {
      expect(emulator.calls.map((call) => call.endpoint)).toEqual([
        'qrconnect',
        'qrconnect/confirm',
        'access_token',
        'refresh_token',
        'userinfo',
        'access_token',
      ]);
    });

    it('records the page with its method, status, order and time', () => {
      expect(emulator.calls[0]).toMatchObject({ method: 'GET', status: 200, documentedOrder: true, at: START });
    });

    it("records the Confirm post with the chosen user and the redirect, the code redacted", () => {
      expect(emulator.calls[1]).toMatchObject({ method: 'POST', status: 302, location: `${CALLBACK}?code=[redacted]&state=st4te` });
      expect(emulator.calls[1]?.form?.user).toBe('alice');
    });

    it('records the token call with its parameter order, the secret and the code redacted', () => {
      expect(emulator.calls[2]?.query).toEqual({ appid: WEB.appid, secret: '[redacted]', code: '[redacted]', grant_type: 'authorization_code' });
      expect(emulator.calls[2]?.paramOrder).toEqual(['appid', 'secret', 'code', 'grant_type']);
    });

    it('redacts the refresh token and the access token', () => {
      expect(emulator.calls[3]?.query.refresh_token).toBe('[redacted]');
      expect(emulator.calls[4]?.query.access_token).toBe('[redacted]');
    });

    it("records an error answer's errcode and errmsg, without the rid", () => {
      expect(emulator.calls[5]).toMatchObject({ status: 200, errcode: 40163, errmsg: 'code been used' });
    });

    it('shows no secret, code or token anywhere', () => {
      const everything = JSON.stringify(emulator.calls);
      for (const secret of [WEB.secret, code, String(token.access_token), String(token.refresh_token)]) {
        expect(everything).not.toContain(secret);
      }
    });
  });

  it('records error pages with their number', async () => {
    await get(qrUrl({ scope: '' }));
    expect(emulator.calls[0]).toMatchObject({ endpoint: 'qrconnect', status: 200, errcode: 10010 });
  });

  it('forgets codes, tokens, faults and calls on reset(), keeping apps and users', async () => {
    const code = emulator.issueCode({ appid: WEB.appid, user: 'alice' });
    emulator.failNext('any', { errcode: -1 });
    emulator.reset();
    expect(emulator.calls).toEqual([]);
    expect((await exchange(code)).errcode).toBe(40029);
    expect(await exchange(emulator.issueCode({ appid: WEB.appid, user: 'alice' }))).toHaveProperty('access_token');
  });
});

describe('the call log: redaction in any letter case, every occurrence, query and location', () => {
  /** Made-up values, each unique, so finding one in the log names the field that leaked it. */
  const LEAKS = {
    upper: 'leakedUPPERCASEsecret000000000000',
    mixed: 'leakedMixedCaseSecret111111111111',
    first: 'leakedFirstCode22222222222222222',
    second: 'leakedSecondCode3333333333333333',
    shouted: 'leakedShoutedCode444444444444444',
    jsCode: 'leakedJsCode5555555555555555555',
    accessToken: 'leakedAccessToken666666666666666',
    refreshToken: 'leakedRefreshToken77777777777777',
  };

  it('redacts SECRET=, Secret=, repeated code= and tokens in any letter case in the recorded query', async () => {
    await get(`${emulator.endpoints.tokenURL}?appid=${WEB.appid}&SECRET=${LEAKS.upper}&Secret=${LEAKS.mixed}` +
      `&code=${LEAKS.first}&code=${LEAKS.second}&CODE=${LEAKS.shouted}&grant_type=authorization_code`);
    await get(`${emulator.endpoints.tokenURL}?appid=${WEB.appid}&secret=${WEB.secret}&code=${LEAKS.first}&Code=${LEAKS.second}`);
    await get(`${emulator.endpoints.sessionURL}?appid=${MP.appid}&Secret=${MP.secret}&JS_CODE=${LEAKS.jsCode}&grant_type=authorization_code`);
    await get(`${emulator.endpoints.userProfileURL}?Access_Token=${LEAKS.accessToken}&openid=o1`);
    await get(`${emulator.endpoints.refreshTokenURL}?appid=${WEB.appid}&grant_type=refresh_token&REFRESH_TOKEN=${LEAKS.refreshToken}`);

    const calls = emulator.calls;
    expect(calls).toHaveLength(5);
    expect(calls[0]?.query).toEqual({ appid: WEB.appid, SECRET: '[redacted]', Secret: '[redacted]', code: '[redacted]', CODE: '[redacted]', grant_type: 'authorization_code' });
    expect(calls[2]?.query).toMatchObject({ Secret: '[redacted]', JS_CODE: '[redacted]' });
    expect(calls[3]?.query).toMatchObject({ Access_Token: '[redacted]' });
    expect(calls[4]?.query).toMatchObject({ REFRESH_TOKEN: '[redacted]' });
    const everything = JSON.stringify(calls);
    for (const value of [...Object.values(LEAKS), WEB.secret, MP.secret]) expect(everything).not.toContain(value);
  });

  it("redacts every code in a redirect's location — a redirect_uri's own code= before WeChat's, other letter cases, the fragment", async () => {
    const redirectUri = `${CALLBACK}?next=/a?code=nested&code=first&Code=second#/done?CODE=inFragment&access_token=tokenInFragment`;
    const answer = await pressButton(qrUrl({ redirect_uri: redirectUri }), 'confirm');
    expect(answer.status).toBe(302);
    const issued = new URL(answer.location ?? '').searchParams.getAll('code').at(-1) ?? '';
    expect(issued).toMatch(/^[A-Za-z0-9]{32}$/); // WeChat's code comes after the redirect_uri's own

    const confirm = emulator.calls.find((call) => call.endpoint === 'qrconnect/confirm');
    expect(confirm?.location).toBe(`${CALLBACK}?next=/a?code=[redacted]&code=[redacted]&Code=[redacted]&code=[redacted]&state=st4te` +
      '#/done?CODE=[redacted]&access_token=[redacted]');
    expect(JSON.stringify(emulator.calls)).not.toContain(issued);
  });

  it("redacts the code in the Official Account page's silent snsapi_base redirect, whatever the redirect_uri carries", async () => {
    const silent = await get(oaUrl({ scope: 'snsapi_base', redirect_uri: `${CALLBACK}?code=#code=` }));
    expect(silent.status).toBe(302);
    const issued = new URL(silent.location ?? '').searchParams.getAll('code').at(-1) ?? '';
    expect(issued).toMatch(/^[A-Za-z0-9]{32}$/);

    expect(emulator.calls[0]?.location).toBe(`${CALLBACK}?code=[redacted]&code=[redacted]&state=st4te#code=[redacted]`);
    expect(JSON.stringify(emulator.calls)).not.toContain(issued);
  });
});

describe('authorize() — the user, without a browser', () => {
  it('confirms as the given user and returns the redirect with the code', async () => {
    const outcome = emulator.authorize(qrUrl(), { user: 'bob' });
    expect(outcome).toMatchObject({ type: 'redirect', location: expect.stringMatching(/^http:\/\/localhost:3000\/auth\/wechat\/callback\?code=\w{32}&state=st4te$/) as unknown });
    const code = outcome.type === 'redirect' ? (outcome.code ?? '') : '';
    expect((await exchange(code)).openid).toBe(emulator.openidFor(WEB.appid, 'bob'));
  });

  it('declines: redirect_uri?state=STATE without a code', () => {
    expect(emulator.authorize(qrUrl(), { decline: true })).toEqual({ type: 'redirect', location: `${CALLBACK}?state=st4te` });
  });

  it('reports error pages with their number and text', () => {
    expect(emulator.authorize(qrUrl({ redirect_uri: 'https://evil.example/' }))).toMatchObject({
      type: 'error-page',
      errcode: 10003,
      message: 'redirect_uri域名与后台配置不一致',
    });
  });

  it('throws for a URL that is not an authorize page', () => {
    expect(() => emulator.authorize(`${emulator.url}/sns/userinfo`)).toThrow(TypeError);
  });
});

describe('Mini Programs: sns/jscode2session (code2Session)', () => {
  it('turns a wx.login() code into session_key, openid and unionid, without errcode', async () => {
    expect(Object.keys(await codeToSession(wxLogin('alice')))).toEqual(['session_key', 'openid', 'unionid']);
  });

  it("gives the Mini Program's own openid", async () => {
    const session = await codeToSession(wxLogin('alice'));
    expect(session.openid).toBe(emulator.openidFor(MP.appid, 'alice'));
    expect(session.openid).not.toBe(emulator.openidFor(WEB.appid, 'alice'));
  });

  it("gives Alice's unionid, the same as her website login's", async () => {
    const session = await codeToSession(wxLogin('alice'));
    expect(session.unionid).toBe(emulator.unionidFor('alice'));
    expect(session.unionid).toBe((await exchange(emulator.issueCode({ appid: WEB.appid, user: 'alice' }))).unionid);
  });

  it("answers the session key of the code's wx.login(): base64 of 16 bytes", async () => {
    const session = await codeToSession(wxLogin('alice'));
    expect(Buffer.from(String(session.session_key), 'base64')).toHaveLength(16);
    expect(session.session_key).toBe(emulator.sessionKeyFor(MP.appid, 'alice'));
  });

  it('leaves unionid out for a user without one', async () => {
    expect(Object.keys(await codeToSession(wxLogin('bob')))).toEqual(['session_key', 'openid']);
  });

  it('leaves unionid out for a Mini Program not bound to an Open Platform account', async () => {
    const unbound = emulator.registerApp({ appid: 'wx00000000000000aa', secret: 'unbound-secret', kind: 'miniprogram', unionGroup: null });
    const session = await codeToSession(emulator.issueCode({ appid: unbound.appid, user: 'alice' }), unbound);
    expect(session).not.toHaveProperty('unionid');
    expect(session.openid).toBe(emulator.openidFor(unbound.appid, 'alice'));
  });

  it('answers text/plain JSON with a rid suffix on errors by default', async () => {
    const plain = await get(`${emulator.endpoints.sessionURL}?appid=${MP.appid}`);
    expect(plain.contentType).toBe('text/plain');
    expect(JSON.parse(plain.text)).toMatchObject({ errcode: 41004, errmsg: expect.stringMatching(RID) as unknown });
  });

  it('answers application/json when configured', async () => {
    const json = await start({ contentType: 'application/json' });
    expect((await get(`${json.endpoints.sessionURL}?appid=${MP.appid}`)).contentType).toBe('application/json; charset=utf-8');
  });

  /** Each wrong call, as the parameters it sends given a good call; in the order WeChat checks them. */
  const sessionChecks: Array<[string, (good: Record<string, string>) => Record<string, string>, number]> = [
    ['no appid', () => ({}), 41002],
    ['an unknown appid', (good) => ({ ...good, appid: 'wx_unknown' }), 40013],
    ['a website AppID, not a Mini Program', (good) => ({ ...good, appid: WEB.appid, secret: WEB.secret }), 40013],
    ['a Mobile Application AppID', (good) => ({ ...good, appid: MOBILE.appid, secret: MOBILE.secret }), 40013],
    ['no secret', () => ({ appid: MP.appid }), 41004],
    ['a wrong secret', (good) => ({ ...good, secret: WEB.secret }), 40125],
    ['no js_code', () => ({ appid: MP.appid, secret: MP.secret }), 41008],
    ['another grant_type', (good) => ({ ...good, grant_type: 'client_credential' }), 40002],
    ['an unknown js_code', (good) => ({ ...good, js_code: 'nope' }), 40029],
  ];
  const goodSession = (code: string) => ({ appid: MP.appid, secret: MP.secret, js_code: code, grant_type: 'authorization_code' });

  it.each(sessionChecks)('answers %s with %i', async (_what, params, errcode) => {
    expect(errcodeOf(await api(emulator.endpoints.sessionURL, params(goodSession(wxLogin()))))).toBe(errcode);
  });

  it('checks appid, secret, js_code and grant_type in that order, spending no code on the way', async () => {
    const code = wxLogin();
    for (const [, params] of sessionChecks) await api(emulator.endpoints.sessionURL, params(goodSession(code)));
    expect((await codeToSession(code)).openid).toBe(emulator.openidFor(MP.appid, 'alice')); // none of those spent it
    expect(emulator.calls.map((call) => call.errcode)).toEqual([41002, 40013, 40013, 40013, 41004, 40125, 41008, 40002, 40029, undefined]);
  });

  it('lets a code be used once (40163)', async () => {
    const code = wxLogin();
    await codeToSession(code);
    const again = await codeToSession(code);
    expect(again.errcode).toBe(40163);
    expect(again.errmsg).toMatch(/^code been used, rid: /);
  });

  it("refuses another Mini Program's code (40029)", async () => {
    const other = emulator.registerApp({ appid: 'wx00000000000000bb', secret: 'other-secret', kind: 'miniprogram' });
    expect((await codeToSession(wxLogin(), other)).errcode).toBe(40029);
  });

  it('refuses a website code (40029)', async () => {
    expect((await codeToSession(emulator.issueCode({ appid: WEB.appid, user: 'alice' }))).errcode).toBe(40029);
  });

  it('expires codes after 5 minutes (40029)', async () => {
    const code = wxLogin();
    now += 5 * MINUTE - 1;
    const fresh = wxLogin();
    now += 1;
    expect((await codeToSession(code)).errcode).toBe(40029);
    expect(await codeToSession(fresh)).toHaveProperty('session_key');
  });

  it('expires codes after codeTtlSeconds.miniprogram', async () => {
    const short = await start({ codeTtlSeconds: { miniprogram: 30 } });
    const shortCode = wxLogin('alice', short);
    now += 30_000;
    expect((await codeToSession(shortCode, MP, short)).errcode).toBe(40029);
  });

  it("blocks a high-risk user with 40226 'code blocked', spending the code", async () => {
    emulator.registerUser({ id: 'mallory', highRisk: true });
    const code = wxLogin('mallory');
    const blocked = await codeToSession(code);
    expect(blocked).toEqual({ errcode: 40226, errmsg: expect.stringMatching(/^code blocked, rid: /) as unknown });
    expect((await codeToSession(code)).errcode).toBe(40163);
  });

  it('lets a high-risk user log in with the QR code: only the Mini Program login rates users', async () => {
    emulator.registerUser({ id: 'mallory', highRisk: true });
    expect(await exchange(emulator.issueCode({ appid: WEB.appid, user: 'mallory' }))).toHaveProperty('access_token');
  });

  it('answers only GET (405 otherwise)', async () => {
    const res = await fetch(emulator.endpoints.sessionURL, { method: 'POST', body: `appid=${MP.appid}` });
    expect(res.status).toBe(405);
    await res.body?.cancel();
  });

  it('refuses a Mini Program AppID on the OAuth endpoints (40013), without spending its code', async () => {
    const code = wxLogin();
    expect((await exchange(code, MP)).errcode).toBe(40013);
    expect((await refresh('86_whatever', MP)).errcode).toBe(40013);
    expect(await codeToSession(code)).toHaveProperty('session_key'); // the OAuth endpoint did not spend it
  });

  it('never shows js_code or session_key in calls', async () => {
    const code = wxLogin();
    const session = await codeToSession(code);
    await codeToSession(code);
    expect(emulator.calls.map((call) => call.endpoint)).toEqual(['jscode2session', 'jscode2session']);
    expect(emulator.calls[0]?.query).toEqual({ appid: MP.appid, secret: '[redacted]', js_code: '[redacted]', grant_type: 'authorization_code' });
    expect(emulator.calls[1]).toMatchObject({ status: 200, errcode: 40163, errmsg: 'code been used' });
    const everything = JSON.stringify(emulator.calls);
    for (const secret of [MP.secret, code, String(session.session_key)]) expect(everything).not.toContain(secret);
  });

  it("takes injected faults: failNext('jscode2session'), 'any', and afterProcessing spends the code", async () => {
    emulator.failNext('jscode2session', { errcode: -1, afterProcessing: true });
    emulator.failNext('any', { errcode: 45011 });
    const code = wxLogin();
    expect((await codeToSession(code)).errcode).toBe(-1);
    expect((await codeToSession(code)).errcode).toBe(45011);
    expect((await codeToSession(code)).errcode).toBe(40163);
    expect(emulator.calls.map((call) => call.fault)).toEqual(['errcode', 'errcode', undefined]);
  });

  it("takes an HTTP fault on jscode2session: nginx's 502", async () => {
    emulator.failNext('jscode2session', { status: 502, html: true });
    expect((await get(`${emulator.endpoints.sessionURL}?appid=${MP.appid}`)).status).toBe(502);
    expect(emulator.calls.map((call) => call.fault)).toEqual(['http-error']);
  });
});

describe('Mini Programs: session keys and encrypted user data', () => {
  it('has no session key before the first wx.login()', () => {
    expect(emulator.sessionKeyFor(MP.appid, 'alice')).toBeUndefined();
  });

  it('starts a new session key with each wx.login(); jscode2session answers the one of its code', async () => {
    const first = wxLogin();
    const firstKey = emulator.sessionKeyFor(MP.appid, 'alice');
    const second = wxLogin();
    const latest = emulator.sessionKeyFor(MP.appid, 'alice');
    expect(latest).not.toBe(firstKey);
    expect((await codeToSession(first)).session_key).toBe(firstKey);
    expect((await codeToSession(second)).session_key).toBe(latest);
    expect(emulator.sessionKeyFor(MP.appid, 'alice')).toBe(latest);
  });

  it("keeps each user's session key apart", () => {
    wxLogin('alice');
    expect(emulator.sessionKeyFor(MP.appid, 'bob')).toBeUndefined();
  });

  it('forgets session keys on reset()', () => {
    wxLogin('alice');
    emulator.reset();
    expect(emulator.sessionKeyFor(MP.appid, 'alice')).toBeUndefined();
  });

  const phone = { phoneNumber: '13580006666', purePhoneNumber: '13580006666', countryCode: '86' };

  it("encrypts a payload as WeChat does, with the watermark, for lib/userdata.ts's decryptUserData", async () => {
    const code = wxLogin();
    const { encryptedData, iv } = emulator.encryptUserData(MP.appid, 'alice', phone);
    expect(Buffer.from(iv, 'base64')).toHaveLength(16);
    const sessionKey = String((await codeToSession(code)).session_key);
    expect(decryptUserData(encryptedData, iv, sessionKey, MP.appid)).toEqual({ ...phone, watermark: { appid: MP.appid, timestamp: START / 1000 } });
  });

  it("marks the data with the Mini Program's AppID, which another app's check refuses", async () => {
    const code = wxLogin();
    const { encryptedData, iv } = emulator.encryptUserData(MP.appid, 'alice', phone);
    const sessionKey = String((await codeToSession(code)).session_key);
    expect(() => decryptUserData(encryptedData, iv, sessionKey, WEB.appid)).toThrow(expect.objectContaining({ code: 'WECHAT_USERDATA_WRONG_APPID' }));
  });

  it('uses a random iv each time', () => {
    wxLogin();
    const { iv } = emulator.encryptUserData(MP.appid, 'alice', phone);
    const other = emulator.encryptUserData(MP.appid, 'alice', phone);
    expect(other.iv).not.toBe(iv);
  });

  it('gives wx.getUserInfo() rawData in the post-2022 shape: "微信用户", the grey avatar', () => {
    wxLogin('alice');
    const data = emulator.userInfoData(MP.appid, 'alice');
    expect(JSON.parse(data.rawData)).toEqual({
      nickName: '微信用户',
      gender: 0,
      language: '',
      city: '',
      province: '',
      country: '',
      avatarUrl: expect.stringMatching(/^https:\/\/thirdwx\.qlogo\.cn\/mmopen\/vi_32\/\w+\/132$/) as unknown,
    });
  });

  it('signs rawData with the session key, as sha1(rawData + session_key)', () => {
    wxLogin('alice');
    const key = emulator.sessionKeyFor(MP.appid, 'alice') ?? '';
    const data = emulator.userInfoData(MP.appid, 'alice');
    expect(verifyUserDataSignature(data.rawData, data.signature, key)).toBe(true);
    expect(verifyUserDataSignature(`${data.rawData} `, data.signature, key)).toBe(false);
  });

  it('encrypts rawData plus openId, unionId and the watermark', () => {
    wxLogin('alice');
    const key = emulator.sessionKeyFor(MP.appid, 'alice') ?? '';
    const data = emulator.userInfoData(MP.appid, 'alice');
    const decrypted = decryptUserData<WeChatDecryptedUserInfo>(data.encryptedData, data.iv, key, MP.appid);
    expect(decrypted).toEqual({
      ...(JSON.parse(data.rawData) as object),
      openId: emulator.openidFor(MP.appid, 'alice'),
      unionId: emulator.unionidFor('alice'),
      watermark: { appid: MP.appid, timestamp: START / 1000 },
    });
  });

  it('leaves unionId out of the encrypted data of a user without one', () => {
    wxLogin('bob');
    const bob = emulator.userInfoData(MP.appid, 'bob');
    expect(decryptUserData(bob.encryptedData, bob.iv, emulator.sessionKeyFor(MP.appid, 'bob') ?? '', MP.appid)).not.toHaveProperty('unionId');
  });

  it('refuses to encrypt before wx.login()', () => {
    expect(() => emulator.encryptUserData(MP.appid, 'alice', {})).toThrow(/no session .*issueCode\(\) first/);
    expect(() => emulator.userInfoData(MP.appid, 'bob')).toThrow(TypeError);
  });

  it('has no session key for an app that is not a Mini Program', () => {
    expect(() => emulator.sessionKeyFor(WEB.appid, 'alice')).toThrow(/website app, not a miniprogram app/);
  });

  it('takes no scope for a Mini Program code', () => {
    expect(() => emulator.issueCode({ appid: MP.appid, user: 'alice', scope: 'snsapi_base' })).toThrow(/no scope/);
  });
});

describe('Mobile Applications (the Open SDK login)', () => {
  const appToken = () => exchange(emulator.issueCode({ appid: MOBILE.appid, user: 'alice' }), MOBILE);

  it("exchanges an app code on sns/oauth2/access_token for snsapi_userinfo tokens with Alice's shared unionid", async () => {
    expect(await appToken()).toMatchObject({ scope: 'snsapi_userinfo', openid: emulator.openidFor(MOBILE.appid, 'alice'), unionid: emulator.unionidFor('alice') });
  });

  it("gives an app token the user's profile", async () => {
    expect((await userinfo(await appToken())).nickname).toBe('Alice 🐼');
  });

  it('says an app token is valid on sns/auth', async () => {
    const token = await appToken();
    expect((await api(emulator.endpoints.checkTokenURL, { access_token: String(token.access_token), openid: String(token.openid) })).errcode).toBe(0);
  });

  it('refreshes an app token', async () => {
    const token = await appToken();
    expect((await refresh(String(token.refresh_token), MOBILE)).access_token).toBe(token.access_token);
  });

  it('expires app codes after 10 minutes', async () => {
    const code = emulator.issueCode({ appid: MOBILE.appid, user: 'alice' });
    now += 10 * MINUTE;
    expect((await exchange(code, MOBILE)).errcode).toBe(40029);
  });

  it('keeps app codes for codeTtlSeconds.app', async () => {
    const short = await start({ codeTtlSeconds: { app: 60 } });
    const shortCode = short.issueCode({ appid: MOBILE.appid, user: 'alice' });
    now += 59_999;
    expect(await exchange(shortCode, MOBILE, short)).toHaveProperty('access_token');
  });

  it('takes one codeTtlSeconds number for every kind of code', async () => {
    const all = await start({ codeTtlSeconds: 20 });
    const [app, mp] = [all.issueCode({ appid: MOBILE.appid, user: 'bob' }), wxLogin('bob', all)];
    now += 20_000;
    expect((await exchange(app, MOBILE, all)).errcode).toBe(40029);
    expect((await codeToSession(mp, MP, all)).errcode).toBe(40029);
  });

  it.each(['snsapi_login', 'snsapi_base'] as const)('refuses app codes with %s', (scope) => {
    expect(() => emulator.issueCode({ appid: MOBILE.appid, user: 'alice', scope })).toThrow(TypeError);
  });

  it('names the scope a mobile app cannot use', () => {
    expect(() => emulator.issueCode({ appid: MOBILE.appid, user: 'alice', scope: 'snsapi_login' })).toThrow(/mobile-app apps cannot use snsapi_login/);
  });

  it('issues app codes with snsapi_userinfo', () => {
    expect(emulator.issueCode({ appid: MOBILE.appid, user: 'alice', scope: 'snsapi_userinfo' })).toMatch(/^\w{32}$/);
  });
});

describe('Mini Programs and Mobile Applications: no web login, their own strategy options', () => {
  it.each([
    ['a Mini Program', 'the QR page', MP, qrUrl],
    ['a Mini Program', 'the Official Account page', MP, oaUrl],
    ['a Mobile Application', 'the QR page', MOBILE, qrUrl],
    ['a Mobile Application', 'the Official Account page', MOBILE, oaUrl],
  ] as const)("refuses %s's AppID on %s with an error page", async (_kind, _page, app, urlOf) => {
    const page = urlOf({ appid: app.appid });
    const answer = await get(page);
    expect(answer.status).toBe(200);
    expect(answer.text).toContain('data-testid="error-page"');
    expect(answer.text).toContain('This app has no web login');
    expect(emulator.authorize(page)).toMatchObject({ type: 'error-page', messageEn: 'This app has no web login' });
  });

  it('points strategyOptions() to miniProgramStrategyOptions() and appStrategyOptions() with a TypeError', () => {
    expect(() => emulator.strategyOptions(MP.appid)).toThrow(/Mini Program; use miniProgramStrategyOptions\(appid\)/);
    expect(() => emulator.strategyOptions(MOBILE.appid)).toThrow(/Mobile Application; use appStrategyOptions\(appid\)/);
    expect(() => emulator.strategyOptions(MP.appid)).toThrow(TypeError);
  });

  it("gives a Mini Program's strategy options", () => {
    const { sessionURL, stableTokenURL, phoneNumberURL } = emulator.endpoints;
    expect(emulator.miniProgramStrategyOptions(MP.appid)).toEqual({ clientID: MP.appid, clientSecret: MP.secret, sessionURL, stableTokenURL, phoneNumberURL });
  });

  it("gives a Mobile Application's strategy options", () => {
    const { tokenURL, refreshTokenURL, userProfileURL, checkTokenURL } = emulator.endpoints;
    expect(emulator.appStrategyOptions(MOBILE.appid)).toEqual({
      clientID: MOBILE.appid,
      clientSecret: MOBILE.secret,
      tokenURL,
      refreshTokenURL,
      userProfileURL,
      checkTokenURL,
    });
  });

  it('refuses the options of one kind for an app of another', () => {
    expect(() => emulator.miniProgramStrategyOptions(MOBILE.appid)).toThrow(TypeError);
    expect(() => emulator.appStrategyOptions(WEB.appid)).toThrow(TypeError);
  });

  it('registers them without callback domains', () => {
    expect(emulator.registerApp({ appid: 'wx00000000000000cc', secret: 's', kind: 'mobile-app' }).callbackDomains).toEqual([]);
  });

  it('still wants callback domains for web apps', () => {
    expect(() => emulator.registerApp({ appid: 'wx00000000000000dd', secret: 's', kind: 'website' })).toThrow(/needs callbackDomains/);
  });

  it('refuses an unknown kind of app', () => {
    expect(() => emulator.registerApp({ appid: 'wx00000000000000ee', secret: 's', kind: 'wxwork' as never })).toThrow(/unknown kind/);
  });
});
