/**
 * The demo app's login, tested the way docs/testing.md tells users to test their own: supertest
 * drives the app, the local WeChat emulator plays WeChat and the user. No browser, no network.
 * (The examples import the built package: run `npm run build` first.)
 */
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { WeChatOfficialAccountOptions } from 'passport-wechat-oauth2';
import {
  DEMO_MINIPROGRAM_APP,
  DEMO_MOBILE_APP,
  DEMO_OFFICIAL_ACCOUNT_APP,
  DEMO_WEBSITE_APP,
  WeChatEmulator,
} from 'passport-wechat-oauth2/testing';
import request from 'supertest';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { createApp, jsonForScript, WXLOGIN_SCRIPT_URL } from '../examples/express/app.ts';
import { chooseMode, emulatorSimulator, startDemo, type RunningDemo } from '../examples/express/server.ts';

let emulator: WeChatEmulator;

beforeAll(async () => {
  emulator = await WeChatEmulator.start(); // 127.0.0.1, a free port, the demo apps and users
});
afterEach(() => {
  emulator.reset(); // forget codes, tokens, queued faults, latency and calls
  vi.restoreAllMocks();
});
afterAll(() => emulator.close());

function buildApp(strategy: { callbackURL?: string; timeout?: number; officialAccount?: WeChatOfficialAccountOptions } = {}) {
  return createApp({
    strategy: {
      ...emulator.strategyOptions(DEMO_WEBSITE_APP.appid),
      // Never requested in these tests: the emulator only checks that its host is a registered callback domain.
      callbackURL: 'http://localhost:3000/auth/wechat/callback',
      ...strategy,
    },
    sessionSecret: 'test session secret',
    wxLoginScriptURL: emulator.endpoints.wxLoginScriptURL,
  });
}

/**
 * The demo app as `npm run demo` builds it with the emulator: plus the Mini Program, the mobile app
 * and the demo-only stand-ins for the phone (`/demo/emulator/*`).
 */
function buildAppWithPhone() {
  return createApp({
    strategy: { ...emulator.strategyOptions(DEMO_WEBSITE_APP.appid), callbackURL: 'http://localhost:3000/auth/wechat/callback' },
    sessionSecret: 'test session secret',
    miniProgram: emulator.miniProgramStrategyOptions(DEMO_MINIPROGRAM_APP.appid),
    mobileApp: emulator.appStrategyOptions(DEMO_MOBILE_APP.appid),
    simulator: emulatorSimulator(emulator),
  });
}

/** What the phone's wx.login() button does first: a code from the demo-only endpoint. */
async function wxLoginCode(app: ReturnType<typeof createApp>, user: string, endpoint = '/demo/emulator/wx-login'): Promise<string> {
  return ((await request(app).post(endpoint).send({ user }).expect(200)).body as { code: string }).code;
}

/** The emulator's Official Account, as `npm run demo` adds it: its AppID, AppSecret and authorize page. */
function officialAccount(): WeChatOfficialAccountOptions {
  const { clientID, clientSecret, authorizationURL } = emulator.strategyOptions(DEMO_OFFICIAL_ACCOUNT_APP.appid);
  return { clientID, clientSecret, authorizationURL, scope: 'snsapi_userinfo' };
}

// WeChat's browser on an iPhone, as it introduces itself.
const WECHAT_IOS =
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 ' +
  'MicroMessenger/8.0.49(0x18003129) NetType/WIFI Language/zh_CN';

/** The `new WxLogin(options)` options a page holds in `<script type="application/json" id="wxlogin-options">`. */
function wxLoginOptionsIn(html: string): Record<string, unknown> {
  const json = /<script type="application\/json" id="wxlogin-options">([^<]*)<\/script>/.exec(html)?.[1];
  if (json === undefined) throw new Error('no wxlogin-options element on the page');
  return JSON.parse(json) as Record<string, unknown>;
}

/** The iframe URL wxLogin.js builds from those options: concatenated raw, no response_type (wechat-api.md §2.3). */
function wxLoginIframeURL(options: Record<string, unknown>): string {
  const selfRedirect = options.self_redirect === true ? 'true' : options.self_redirect === false ? 'false' : 'default';
  return `${emulator.endpoints.authorizationURL}?appid=${String(options.appid)}&scope=${String(options.scope)}` +
    `&redirect_uri=${String(options.redirect_uri)}&state=${String(options.state)}&login_type=jssdk&self_redirect=${selfRedirect}` +
    `&styletype=&sizetype=&bgcolor=&rst=${options.stylelite === 1 ? '&stylelite=1' : ''}`;
}

/**
 * Plays the browser and the phone: starts the login, lets a test user confirm (or decline) on
 * the emulator, and returns where WeChat sends the browser back: the callback's path and query.
 */
async function wechatLogin(agent: ReturnType<typeof request.agent>, choice: { user?: string; decline?: boolean }) {
  const start = await agent.get('/auth/wechat').expect(302);
  const outcome = emulator.authorize(start.headers.location as string, choice);
  if (outcome.type !== 'redirect') throw new Error(`WeChat did not redirect back: ${outcome.type}`);
  const callback = new URL(outcome.location);
  return callback.pathname + callback.search;
}

describe('the demo app, logging in through the WeChat emulator', () => {
  it('sends "Log in with WeChat" to the QR page with the callback URL and a state', async () => {
    const agent = request.agent(buildApp());
    const home = await agent.get('/').expect(200);
    expect(home.text).toContain('<a class="button" href="/auth/wechat">Log in with WeChat</a>');
    expect(home.text).toContain('<a class="button secondary" href="/login/embedded">Embedded QR</a>');
    const start = await agent.get('/auth/wechat').expect(302);
    const location = new URL(start.headers.location as string);
    expect(location.origin + location.pathname).toBe(emulator.endpoints.authorizationURL);
    expect(location.searchParams.get('redirect_uri')).toBe('http://localhost:3000/auth/wechat/callback');
    expect(location.searchParams.get('state')).toMatch(/^[A-Za-z0-9]{8,}$/);
    expect(location.hash).toBe('#wechat_redirect');
  });

  it('logs Alice in: confirm on WeChat, back to the callback, then /profile shows her unionid as id', async () => {
    const agent = request.agent(buildApp());
    // The same agent both times: its session cookie holds the state the callback must match.
    await agent.get(await wechatLogin(agent, { user: 'alice' })).expect(302).expect('location', '/profile');

    const profile = await agent.get('/profile').expect(200);
    const unionid = emulator.unionidFor('alice') ?? '';
    expect(profile.text).toContain(`<th scope="row">id</th><td><code>${unionid}</code></td>`);
    expect(profile.text).toContain(`<th scope="row">openid</th><td><code>${emulator.openidFor(DEMO_WEBSITE_APP.appid, 'alice')}</code>`);
    expect(profile.text).toContain('<th scope="row">displayName</th><td>Alice 🐼</td>');
    // The avatar comes from the emulator, which plays WeChat's avatar host: it shows offline.
    const avatar = /<img src="([^"]+)"/.exec(profile.text)?.[1] ?? '';
    expect(avatar).toMatch(new RegExp(`^${emulator.url.replaceAll('.', '\\.')}/mmopen/vi_32/[^"]+/132$`));
    // What reached WeChat's API, server to server (authorize() itself is not recorded):
    expect(emulator.calls.map((call) => call.endpoint)).toEqual(['access_token', 'userinfo']);
    expect(emulator.calls[0]?.query).toEqual({
      appid: DEMO_WEBSITE_APP.appid,
      secret: '[redacted]',
      code: '[redacted]',
      grant_type: 'authorization_code',
    });
    expect((await fetch(avatar)).headers.get('content-type')).toBe('image/svg+xml');
  });

  it('shows Bob, who has no unionid and no avatar: id is his openid, unionid "—", no image', async () => {
    const agent = request.agent(buildApp());
    await agent.get(await wechatLogin(agent, { user: 'bob' })).expect(302).expect('location', '/profile');
    const profile = await agent.get('/profile').expect(200);
    const openid = emulator.openidFor(DEMO_WEBSITE_APP.appid, 'bob');
    expect(profile.text).toContain(`<th scope="row">id</th><td><code>${openid}</code></td>`);
    expect(profile.text).toContain('<th scope="row">unionid</th><td>—</td>');
    expect(profile.text).toContain('<th scope="row">avatar</th><td>—</td>');
    expect(profile.text).not.toContain('<img');
  });

  it('sends a user who declined to /login/failed with the reason, shown once, without calling WeChat', async () => {
    const agent = request.agent(buildApp());
    await agent.get(await wechatLogin(agent, { decline: true })).expect(302).expect('location', '/login/failed');
    const failed = await agent.get('/login/failed').expect(200);
    expect(failed.text).toContain('The WeChat login was declined or cancelled.');
    expect(failed.text).toContain('<a class="button" href="/auth/wechat">Try again</a>');
    expect((await agent.get('/login/failed')).text).toContain('The login did not complete.');
    expect(emulator.calls).toEqual([]);
  });

  it("leaves the user on WeChat's page with declineBehaviour 'stay', as real WeChat mostly does", async () => {
    const stay = await WeChatEmulator.start({ declineBehaviour: 'stay' });
    try {
      const app = createApp({
        strategy: { ...stay.strategyOptions(DEMO_WEBSITE_APP.appid), callbackURL: 'http://localhost:3000/auth/wechat/callback' },
        sessionSecret: 'test session secret',
      });
      const start = await request.agent(app).get('/auth/wechat').expect(302);
      expect(stay.authorize(start.headers.location as string, { decline: true })).toEqual({ type: 'declined-page' });
    } finally {
      await stay.close();
    }
  });

  it('shows error page 10003 when the callback URL is not on a registered callback domain', async () => {
    const app = buildApp({ callbackURL: 'https://shop.example.cn/auth/wechat/callback' });
    const start = await request(app).get('/auth/wechat').expect(302);
    expect(emulator.authorize(start.headers.location as string)).toMatchObject({ type: 'error-page', errcode: 10003 });
  });

  it('sends a code WeChat says was already used (40163) to /login/failed', async () => {
    emulator.failNext('access_token', { errcode: 40163 });
    const agent = request.agent(buildApp());
    await agent.get(await wechatLogin(agent, { user: 'alice' })).expect(302).expect('location', '/login/failed');
    expect((await agent.get('/login/failed')).text).toContain('WeChat rejected the login code');
    expect(emulator.calls.map((call) => [call.endpoint, call.errcode])).toEqual([['access_token', 40163]]);
  });

  it('shows an HTML 502 from WeChat as an error page with its code, never a stack, and keeps running', async () => {
    const logged = vi.spyOn(console, 'error').mockImplementation(() => {});
    const crashes: unknown[] = [];
    const onCrash = (error: unknown) => crashes.push(error);
    process.on('uncaughtException', onCrash);
    try {
      emulator.failNext('userinfo', { status: 502, html: true });
      const agent = request.agent(buildApp());
      const response = await agent.get(await wechatLogin(agent, { user: 'alice' })).expect(500);
      expect(response.text).toContain('<code>WECHAT_HTTP_ERROR</code>');
      expect(response.text).not.toMatch(/\bat .+:\d+:\d+|node_modules/);
      expect(logged).toHaveBeenCalledOnce(); // the details go to the server log
      await new Promise((resolve) => setTimeout(resolve, 50)); // a stray stream error surfaces a few ticks later
      expect(crashes, 'an uncaught exception would have stopped a real server').toEqual([]);
    } finally {
      process.off('uncaughtException', onCrash);
    }
  });

  it('still logs in when WeChat is slow, and gives up after the strategy timeout', async () => {
    emulator.setLatency({ minMs: 20, maxMs: 60 }); // every API call
    const slow = request.agent(buildApp());
    await slow.get(await wechatLogin(slow, { user: 'alice' })).expect(302).expect('location', '/profile');

    vi.spyOn(console, 'error').mockImplementation(() => {});
    emulator.failNext('access_token', { delayMs: 2000 }); // this one call only
    const stuck = request.agent(buildApp({ timeout: 200 }));
    expect((await stuck.get(await wechatLogin(stuck, { user: 'alice' })).expect(500)).text).toContain('WECHAT_TIMEOUT');
  });

  it('refuses a callback replayed into another browser session (state)', async () => {
    const app = buildApp();
    const callback = await wechatLogin(request.agent(app), { user: 'alice' }); // started in one browser…
    const other = request.agent(app);
    await other.get(callback).expect(302).expect('location', '/login/failed'); // …finished in another
    expect((await other.get('/login/failed')).text).toContain('This login link has expired or was opened in another browser.');
    expect(emulator.calls).toEqual([]); // the code was never exchanged
  });

  it('escapes what WeChat sends: a nickname is user input', async () => {
    emulator.registerUser({ id: 'mallory', nickname: '<img src=x onerror=alert(1)>' });
    const agent = request.agent(buildApp());
    await agent.get(await wechatLogin(agent, { user: 'mallory' })).expect(302);
    const profile = await agent.get('/profile').expect(200);
    expect(profile.text).toContain('&lt;img src=x onerror=alert(1)&gt;');
    expect(profile.text).not.toContain('<img src=x');
  });

  it('keeps /profile for logged-in users, and logs out', async () => {
    const agent = request.agent(buildApp());
    await agent.get('/profile').expect(302).expect('location', '/');
    await agent.get(await wechatLogin(agent, { user: 'alice' })).expect(302);
    expect((await agent.get('/').expect(200)).text).toContain('Logged in as <strong>Alice 🐼</strong>');
    await agent.post('/logout').expect(303).expect('location', '/');
    await agent.get('/profile').expect(302).expect('location', '/');
    expect((await agent.get('/').expect(200)).text).toContain('Log in with WeChat');
  });
});

describe('the demo app with an Official Account, and the embedded QR code', () => {
  it("logs Alice in inside WeChat through the Official Account, with the same id as her QR login", async () => {
    const app = buildApp({ officialAccount: officialAccount() });
    const desktop = request.agent(app);
    await desktop.get(await wechatLogin(desktop, { user: 'alice' })).expect(302).expect('location', '/profile');
    const inWeChat = request.agent(app);
    const start = await inWeChat.get('/auth/wechat').set('User-Agent', WECHAT_IOS).expect(302);
    expect(start.headers.location).toMatch(new RegExp(`^${emulator.endpoints.officialAccountAuthorizationURL}\\?appid=${DEMO_OFFICIAL_ACCOUNT_APP.appid}&`));
    const outcome = emulator.authorize(start.headers.location as string, { user: 'alice' });
    if (outcome.type !== 'redirect') throw new Error(outcome.type);
    const callback = new URL(outcome.location);
    await inWeChat.get(callback.pathname + callback.search).set('User-Agent', WECHAT_IOS).expect(302).expect('location', '/profile');

    const unionid = emulator.unionidFor('alice') ?? '';
    for (const agent of [desktop, inWeChat]) {
      expect((await agent.get('/profile').expect(200)).text).toContain(`<th scope="row">id</th><td><code>${unionid}</code></td>`);
    }
    const profile = (await inWeChat.get('/profile')).text;
    expect(profile).toContain(`<th scope="row">openid</th><td><code>${emulator.openidFor(DEMO_OFFICIAL_ACCOUNT_APP.appid, 'alice')}</code>`);
    expect(profile).toContain(`<th scope="row">appid</th><td><code>${DEMO_OFFICIAL_ACCOUNT_APP.appid}</code>`);
    expect(emulator.calls.filter((call) => call.endpoint === 'access_token').map((call) => call.query.appid))
      .toEqual([DEMO_WEBSITE_APP.appid, DEMO_OFFICIAL_ACCOUNT_APP.appid]);
  });

  it('embeds the QR code: a container, the options as JSON, wxLogin.js, then new WxLogin(options)', async () => {
    const page = await request.agent(buildApp({ officialAccount: officialAccount() })).get('/login/embedded').expect(200);
    expect(page.text).toContain('<div id="wechat-qr" class="qr"></div>');
    expect(page.text).toContain(`<script src="${emulator.endpoints.wxLoginScriptURL}"></script>`);
    expect(page.text).toContain("new WxLogin(JSON.parse(document.getElementById('wxlogin-options').textContent));");
    expect(wxLoginOptionsIn(page.text)).toEqual({
      self_redirect: false,
      id: 'wechat-qr',
      appid: DEMO_WEBSITE_APP.appid,
      scope: 'snsapi_login',
      redirect_uri: encodeURIComponent('http://localhost:3000/auth/wechat/callback'),
      state: expect.stringMatching(/^w[A-Za-z0-9]+$/) as unknown,
      stylelite: 1,
    });
  });

  it("loads WeChat's own wxLogin.js unless told otherwise", async () => {
    const app = createApp({ strategy: { ...emulator.strategyOptions(DEMO_WEBSITE_APP.appid), callbackURL: 'http://localhost:3000/cb' }, sessionSecret: 's' });
    const page = await request(app).get('/login/embedded').expect(200);
    expect(page.text).toContain('<script src="https://res.wx.qq.com/connect/zh_CN/htmledition/js/wxLogin.js"></script>');
    expect(WXLOGIN_SCRIPT_URL).toBe('https://res.wx.qq.com/connect/zh_CN/htmledition/js/wxLogin.js');
  });

  it("finishes an embedded login on the usual callback: the page's state is in the session", async () => {
    const agent = request.agent(buildApp());
    const options = wxLoginOptionsIn((await agent.get('/login/embedded').expect(200)).text);
    const outcome = emulator.authorize(wxLoginIframeURL(options), { user: 'alice' }); // Alice confirms inside the iframe
    if (outcome.type !== 'redirect') throw new Error(outcome.type);
    const callback = new URL(outcome.location);
    await agent.get(callback.pathname + callback.search).expect(302).expect('location', '/profile');
    expect((await agent.get('/profile').expect(200)).text).toContain(`<td><code>${emulator.unionidFor('alice')}</code></td>`);
  });

  it('sends WeChat\'s browser from /login/embedded to the Official Account login: there is nothing to scan', async () => {
    await request(buildApp({ officialAccount: officialAccount() })).get('/login/embedded').set('User-Agent', WECHAT_IOS)
      .expect(302).expect('location', '/auth/wechat');
  });

  it('writes JSON that no value can break out of: </script> and <!-- stay inside the element', () => {
    const evil = { state: '</script><script>alert(1)</script><!--', appid: 'a&b>c' };
    const json = jsonForScript(evil);
    expect(json).not.toMatch(/[<>&]/);
    expect(JSON.parse(json)).toEqual(evil);
  });
});

describe('the demo app: Mini Program and native-app sign-in (a posted code)', () => {
  it('links /miniprogram and /app from the home page when they are configured', async () => {
    const home = await request(buildAppWithPhone()).get('/').expect(200);
    expect(home.text).toContain('<a href="/miniprogram">Mini Program sign-in</a> · <a href="/app">Native-app sign-in</a>');
  });

  it('has neither the links nor the routes of /miniprogram and /app when they are not configured', async () => {
    const plain = buildApp();
    expect((await request(plain).get('/').expect(200)).text).not.toContain('/miniprogram');
    await request(plain).get('/miniprogram').expect(404);
    await request(plain).post('/auth/wechat/miniprogram').send({ code: 'x' }).expect(404);
    await request(plain).post('/auth/wechat/app').send({ code: 'x' }).expect(404);
    await request(plain).post('/demo/emulator/wx-login').send({ user: 'alice' }).expect(404);
  });

  it('shows a phone on /miniprogram: the test users, wx.login(), Reuse code and Decrypt user data', async () => {
    const page = (await request(buildAppWithPhone()).get('/miniprogram').expect(200)).text;
    expect(page).toContain('<div class="phone" data-testid="phone">');
    for (const user of ['alice', 'bob', 'eve']) expect(page).toContain(`data-testid="user-${user}"`);
    expect(page).toContain('data-testid="wx-login">wx.login()</button>');
    expect(page).toContain('data-testid="reuse" disabled>Reuse code</button>');
    expect(page).toContain('data-testid="decrypt">Decrypt user data</button>');
    expect(page).toContain('"route":"/auth/wechat/miniprogram","login":"/demo/emulator/wx-login"');
  });

  it("signs Alice in with a wx.login() code: JSON { user } with her unionid as id, no session key, no cookie", async () => {
    const app = buildAppWithPhone();
    const response = await request(app).post('/auth/wechat/miniprogram').send({ code: await wxLoginCode(app, 'alice') }).expect(200);
    expect(response.body).toEqual({
      user: {
        id: emulator.unionidFor('alice'),
        openid: emulator.openidFor(DEMO_MINIPROGRAM_APP.appid, 'alice'),
        unionid: emulator.unionidFor('alice'),
        appid: DEMO_MINIPROGRAM_APP.appid,
        displayName: '',
      },
    });
    expect(response.headers['set-cookie']).toBeUndefined(); // session: false
    expect(response.text).not.toContain(emulator.sessionKeyFor(DEMO_MINIPROGRAM_APP.appid, 'alice'));
    expect(emulator.calls.map((call) => [call.endpoint, call.query.js_code])).toEqual([['jscode2session', '[redacted]']]);
  });

  it('answers a reused code with 401, as JSON the phone shows', async () => {
    const app = buildAppWithPhone();
    const code = await wxLoginCode(app, 'bob');
    expect((await request(app).post('/auth/wechat/miniprogram').send({ code }).expect(200)).body.user.id)
      .toBe(emulator.openidFor(DEMO_MINIPROGRAM_APP.appid, 'bob')); // no unionid: the openid
    const reused = await request(app).post('/auth/wechat/miniprogram').send({ code }).expect(401);
    expect(reused.body).toEqual({ code: 'WECHAT_INVALID_CODE', message: expect.stringContaining('Call wx.login() again') as unknown });
  });

  it('answers a high-risk user with 403, as JSON the phone shows', async () => {
    const app = buildAppWithPhone();
    const eve = await request(app).post('/auth/wechat/miniprogram').send({ code: await wxLoginCode(app, 'eve') }).expect(403);
    expect(eve.body.code).toBe('WECHAT_USER_BLOCKED');
  });

  it('answers a post without a code with 400, as JSON the phone shows', async () => {
    await request(buildAppWithPhone()).post('/auth/wechat/miniprogram').send({}).expect(400, { code: 'WECHAT_MISSING_CODE', message: 'The request carries no WeChat code (field "code").' });
  });

  it("decrypts wx.getUserInfo()'s data with the login's session key in verify, and refuses it after a new wx.login()", async () => {
    const app = buildAppWithPhone();
    const code = await wxLoginCode(app, 'alice'); // first: the data is encrypted with this login's session key
    const data = (await request(app).post('/demo/emulator/user-info').send({ user: 'alice' }).expect(200)).body as Record<string, string>;
    expect(Object.keys(data)).toEqual(['rawData', 'signature', 'encryptedData', 'iv']);
    const response = await request(app).post('/auth/wechat/miniprogram').send({ code, ...data }).expect(200);
    expect(response.body.user.signatureValid).toBe(true);
    expect(response.body.user.userInfo).toMatchObject({
      nickName: '微信用户',
      openId: emulator.openidFor(DEMO_MINIPROGRAM_APP.appid, 'alice'),
      unionId: emulator.unionidFor('alice'),
      watermark: { appid: DEMO_MINIPROGRAM_APP.appid },
    });

    const again = await wxLoginCode(app, 'alice'); // a new session key: the old data no longer decrypts
    const stale = await request(app).post('/auth/wechat/miniprogram').send({ code: again, ...data }).expect(401);
    expect(stale.body).toEqual({ code: 'USERDATA_REFUSED', message: 'The posted user data could not be read.' });
  });

  it('answers WeChat being busy with 503 and retryable: true, and logs it', async () => {
    const logged = vi.spyOn(console, 'error').mockImplementation(() => {});
    const app = buildAppWithPhone();
    emulator.failNext('jscode2session', { errcode: -1 });
    const busy = await request(app).post('/auth/wechat/miniprogram').send({ code: await wxLoginCode(app, 'alice') }).expect(503);
    expect(busy.body).toMatchObject({ code: 'WECHAT_SYSTEM_BUSY', retryable: true });
    expect(logged).toHaveBeenCalledOnce();
  });

  it('answers a body that is not JSON with 400 and retryable: false', async () => {
    const bad = await request(buildAppWithPhone()).post('/auth/wechat/miniprogram').set('Content-Type', 'application/json').send('{"code":').expect(400);
    expect(bad.body).toMatchObject({ code: 'BAD_REQUEST', retryable: false });
  });

  it('signs Alice in from the native-app page: SendAuth code, POST /auth/wechat/app, the same id; reuse gives 401', async () => {
    const app = buildAppWithPhone();
    const page = (await request(app).get('/app').expect(200)).text;
    expect(page).toContain('data-testid="send-auth">Log in with WeChat (SendAuth)</button>');
    expect(page).not.toContain('data-testid="decrypt"');
    const code = await wxLoginCode(app, 'alice', '/demo/emulator/send-auth');
    const response = await request(app).post('/auth/wechat/app').send({ code }).expect(200);
    expect(response.body.user).toEqual({
      id: emulator.unionidFor('alice'),
      openid: emulator.openidFor(DEMO_MOBILE_APP.appid, 'alice'),
      unionid: emulator.unionidFor('alice'),
      appid: DEMO_MOBILE_APP.appid,
      displayName: 'Alice 🐼',
    });
    expect((await request(app).post('/auth/wechat/app').send({ code }).expect(401)).body.code).toBe('WECHAT_INVALID_CODE');
  });

  it('lets the demo-only wx.login() refuse an unknown user', async () => {
    expect((await request(buildAppWithPhone()).post('/demo/emulator/wx-login').send({ user: 'zed' }).expect(400)).body.message).toMatch(/no user zed/);
  });

  it('lets the demo-only user data refuse a user before any wx.login()', async () => {
    expect((await request(buildAppWithPhone()).post('/demo/emulator/user-info').send({ user: 'bob' }).expect(400)).body.message).toMatch(/issueCode\(\) first/);
  });

  it('lets the demo-only SendAuth refuse a request without a user', async () => {
    expect((await request(buildAppWithPhone()).post('/demo/emulator/send-auth').send({}).expect(400)).body.code).toBe('DEMO_BAD_REQUEST');
  });

  it('shows the client code instead of the phone with real credentials, and has no demo-only endpoints', async () => {
    const app = createApp({
      strategy: { ...emulator.strategyOptions(DEMO_WEBSITE_APP.appid), callbackURL: 'http://localhost:3000/auth/wechat/callback' },
      sessionSecret: 's',
      miniProgram: { clientID: 'wx1f2e3d4c5b6a7981', clientSecret: 'c0ffee00c0ffee00c0ffee00c0ffee01' },
      mobileApp: { clientID: 'wx1f2e3d4c5b6a7982', clientSecret: 'c0ffee00c0ffee00c0ffee00c0ffee02' },
    });
    const miniProgram = (await request(app).get('/miniprogram').set('Host', 'api.example.com').expect(200)).text;
    expect(miniProgram).toContain('wx.login({');
    expect(miniProgram).toContain("url: &#39;http://api.example.com/auth/wechat/miniprogram&#39;,");
    expect(miniProgram).not.toContain('data-testid="phone"');
    expect((await request(app).get('/app').expect(200)).text).toContain('req.scope = &quot;snsapi_userinfo&quot;;');
    await request(app).post('/demo/emulator/wx-login').send({ user: 'alice' }).expect(404);
    await request(app).post('/auth/wechat/miniprogram').send({}).expect(400); // the route itself is there
  });
});

describe('npm run demo (examples/express/server.ts)', () => {
  const REAL = { WECHAT_APP_ID: 'wx1f2e3d4c5b6a7980', WECHAT_APP_SECRET: 'c0ffee00c0ffee00c0ffee00c0ffee00', WECHAT_CALLBACK_URL: 'https://www.example.com/auth/wechat/callback' };

  it('uses real WeChat only when WECHAT_APP_ID, WECHAT_APP_SECRET and WECHAT_CALLBACK_URL are all set', () => {
    expect(chooseMode(REAL)).toEqual({
      mode: 'wechat',
      port: 3000,
      appId: REAL.WECHAT_APP_ID,
      appSecret: REAL.WECHAT_APP_SECRET,
      callbackURL: REAL.WECHAT_CALLBACK_URL,
    });
  });

  it('runs the emulator when none of them is set, on localhost:PORT (default 3000)', () => {
    expect(chooseMode({})).toEqual({ mode: 'emulator', port: 3000, callbackURL: 'http://localhost:3000/auth/wechat/callback', missing: [] });
    expect(chooseMode({ PORT: '8080' })).toMatchObject({ mode: 'emulator', port: 8080, callbackURL: 'http://localhost:8080/auth/wechat/callback' });
  });

  it('runs the emulator when only some are set (or set blank), naming the missing ones', () => {
    expect(chooseMode({ ...REAL, WECHAT_APP_SECRET: undefined })).toMatchObject({ mode: 'emulator', missing: ['WECHAT_APP_SECRET'] });
    expect(chooseMode({ ...REAL, WECHAT_CALLBACK_URL: '  ' })).toMatchObject({ mode: 'emulator', missing: ['WECHAT_CALLBACK_URL'] });
    expect(chooseMode({ WECHAT_APP_ID: 'wx1f2e3d4c5b6a7980' })).toMatchObject({
      mode: 'emulator',
      missing: ['WECHAT_APP_SECRET', 'WECHAT_CALLBACK_URL'],
    });
  });

  it('adds an Official Account with WECHAT_OA_APP_ID and WECHAT_OA_APP_SECRET, and refuses one without the other', () => {
    const OA = { WECHAT_OA_APP_ID: 'wx91e7c0a54d3b6820', WECHAT_OA_APP_SECRET: 'feed00feed00feed00feed00feed00fe' };
    expect(chooseMode({ ...REAL, ...OA })).toMatchObject({
      mode: 'wechat',
      officialAccount: { appId: OA.WECHAT_OA_APP_ID, appSecret: OA.WECHAT_OA_APP_SECRET },
    });
    expect(chooseMode(REAL)).not.toHaveProperty('officialAccount');
    expect(() => chooseMode({ ...REAL, WECHAT_OA_APP_ID: OA.WECHAT_OA_APP_ID })).toThrow(/WECHAT_OA_APP_SECRET is not set/);
    expect(() => chooseMode({ ...REAL, WECHAT_OA_APP_SECRET: OA.WECHAT_OA_APP_SECRET })).toThrow(/WECHAT_OA_APP_ID is not set/);
    expect(chooseMode(OA)).toMatchObject({ mode: 'emulator' }); // the emulator always has its own Official Account
  });

  it('adds a Mini Program and a Mobile Application with their WECHAT_MP_* and WECHAT_MOBILE_* pairs, both or neither', () => {
    const MP = { WECHAT_MP_APP_ID: 'wx3a8d5c0e7f2b9165', WECHAT_MP_APP_SECRET: 'feed00feed00feed00feed00feed00ff' };
    const MOBILE = { WECHAT_MOBILE_APP_ID: 'wxc6f1e9a3b5d70285', WECHAT_MOBILE_APP_SECRET: 'beef00beef00beef00beef00beef00be' };
    expect(chooseMode({ ...REAL, ...MP, ...MOBILE })).toMatchObject({
      mode: 'wechat',
      miniProgram: { appId: MP.WECHAT_MP_APP_ID, appSecret: MP.WECHAT_MP_APP_SECRET },
      mobileApp: { appId: MOBILE.WECHAT_MOBILE_APP_ID, appSecret: MOBILE.WECHAT_MOBILE_APP_SECRET },
    });
    expect(chooseMode({ ...REAL, ...MP })).not.toHaveProperty('mobileApp');
    expect(() => chooseMode({ ...REAL, WECHAT_MP_APP_ID: MP.WECHAT_MP_APP_ID })).toThrow(/WECHAT_MP_APP_SECRET is not set: set both WECHAT_MP_APP_ID and WECHAT_MP_APP_SECRET, or neither/);
    expect(() => chooseMode({ ...REAL, WECHAT_MOBILE_APP_SECRET: MOBILE.WECHAT_MOBILE_APP_SECRET })).toThrow(/WECHAT_MOBILE_APP_ID is not set/);
    expect(chooseMode({ ...MP, ...MOBILE })).toMatchObject({ mode: 'emulator' }); // the emulator has its own
  });

  it('refuses a PORT that is not a port number', () => {
    expect(() => chooseMode({ PORT: 'http' })).toThrow(/PORT must be a port number/);
    expect(() => chooseMode({ PORT: '70000' })).toThrow(/PORT/);
  });

  it('refuses a relative WECHAT_CALLBACK_URL', () => {
    expect(() => chooseMode({ ...REAL, WECHAT_CALLBACK_URL: '/auth/wechat/callback' })).toThrow(/absolute URL/);
  });

  it('starts the emulator and the app: the login starts on the emulator and comes back to localhost:PORT', async () => {
    const { port, demo } = await startDemoOnAFreePort();
    try {
      expect(demo.url).toBe(`http://localhost:${port}/`);
      const home = await fetch(`http://127.0.0.1:${port}/`);
      expect(await home.text()).toContain('Log in with WeChat');
      const start = await fetch(`http://127.0.0.1:${port}/auth/wechat`, { redirect: 'manual' });
      const location = new URL(start.headers.get('location') ?? '');
      expect(location.pathname).toBe('/connect/qrconnect');
      expect(location.searchParams.get('appid')).toBe(DEMO_WEBSITE_APP.appid);
      expect(location.searchParams.get('redirect_uri')).toBe(`http://localhost:${port}/auth/wechat/callback`);

      const inWeChat = await fetch(`http://127.0.0.1:${port}/auth/wechat`, { redirect: 'manual', headers: { 'User-Agent': WECHAT_IOS } });
      const authorize = new URL(inWeChat.headers.get('location') ?? '');
      expect(authorize.pathname).toBe('/connect/oauth2/authorize');
      expect(authorize.searchParams.get('appid')).toBe(DEMO_OFFICIAL_ACCOUNT_APP.appid);
      expect(authorize.searchParams.get('scope')).toBe('snsapi_userinfo');

      const embedded = await (await fetch(`http://127.0.0.1:${port}/login/embedded`)).text();
      expect(embedded).toMatch(/<script src="http:\/\/127\.0\.0\.1:\d+\/connect\/zh_CN\/htmledition\/js\/wxLogin\.js"><\/script>/);

      // The Mini Program page's phone: a code from the demo-only endpoint, posted to the real route.
      expect(await (await fetch(`http://127.0.0.1:${port}/miniprogram`)).text()).toContain('data-testid="user-eve"');
      const post = (path: string, body: unknown) =>
        fetch(`http://127.0.0.1:${port}${path}`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
      const { code } = (await (await post('/demo/emulator/wx-login', { user: 'alice' })).json()) as { code: string };
      const signedIn = (await (await post('/auth/wechat/miniprogram', { code })).json()) as { user: { appid: string } };
      expect(signedIn.user.appid).toBe(DEMO_MINIPROGRAM_APP.appid);
      expect((await post('/auth/wechat/app', { code: 'not-a-code-WeChat-gave' })).status).toBe(401); // the app route too (40029)
    } finally {
      await demo.close();
    }
  });
});

/**
 * `startDemo` on a port that was free a moment before. It cannot listen on port 0 and read the
 * port back (the callback URL it registers names the port before it listens), so when something
 * took that port in between (EADDRINUSE), it tries another.
 */
async function startDemoOnAFreePort(): Promise<{ port: number; demo: RunningDemo }> {
  for (let attempt = 1; ; attempt++) {
    const probe = createServer().listen(0, '127.0.0.1');
    await once(probe, 'listening');
    const { port } = probe.address() as AddressInfo;
    await new Promise((resolve) => probe.close(resolve));
    try {
      return { port, demo: await startDemo({ PORT: String(port) }) };
    } catch (error) {
      if ((error as { code?: unknown }).code !== 'EADDRINUSE' || attempt === 5) throw error;
    }
  }
}
