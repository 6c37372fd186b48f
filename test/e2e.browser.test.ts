/**
 * The demo app in a real browser: headless Chromium (driven by playwright-core) clicks through
 * the logins on the local WeChat emulator's pages, as a person would: the QR page, the Official
 * Account page a WeChat User-Agent gets, the QR code embedded in the app's page by wxLogin.js, and
 * the phone on /miniprogram that plays a Mini Program posting its wx.login() code. Needs Debian's Chromium
 * (`apt-get install -y chromium`, or CHROMIUM_PATH); SKIP_BROWSER_TESTS=1 skips the file.
 * The examples import the built package: run `npm run build` first.
 */
import { once } from 'node:events';
import { existsSync, mkdirSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import {
  DEMO_MINIPROGRAM_APP,
  DEMO_MOBILE_APP,
  DEMO_OFFICIAL_ACCOUNT_APP,
  DEMO_WEBSITE_APP,
  WeChatEmulator,
} from 'passport-wechat-oauth2/testing';
import { chromium, type Browser, type BrowserContextOptions, type Page } from 'playwright-core';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createApp } from '../examples/express/app.ts';
import { emulatorSimulator } from '../examples/express/server.ts';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
const SCREENSHOT = fileURLToPath(new URL('../.tmp/demo-profile.png', import.meta.url));
// WeChat's browser on an iPhone, as it introduces itself.
const WECHAT_IOS = {
  userAgent:
    'Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 ' +
    'MicroMessenger/8.0.49(0x18003129) NetType/WIFI Language/zh_CN',
  viewport: { width: 390, height: 844 },
  isMobile: true,
  hasTouch: true,
} satisfies BrowserContextOptions;

describe.skipIf(process.env.SKIP_BROWSER_TESTS === '1')('the demo app in Chromium, against the WeChat emulator', () => {
  let emulator: WeChatEmulator | undefined;
  let server: Server | undefined;
  let browser: Browser | undefined;
  let appURL = '';

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) {
      throw new Error(
        `No Chromium at ${CHROMIUM}: install it with \`apt-get install -y chromium\` (or set CHROMIUM_PATH), ` +
          'or set SKIP_BROWSER_TESTS=1 to skip the browser tests.',
      );
    }
    emulator = await WeChatEmulator.start();
    server = createServer().listen(0, '127.0.0.1');
    await once(server, 'listening');
    // localhost, not 127.0.0.1: the emulator also lives on 127.0.0.1, and cookies ignore ports.
    appURL = `http://localhost:${(server.address() as AddressInfo).port}`;
    const callbackURL = `${appURL}/auth/wechat/callback`;
    // Wired as `npm run demo` does: the website app, the Official Account, the emulator's wxLogin.js,
    // the Mini Program, the mobile app and the demo-only stand-ins for the phone.
    const { clientID, clientSecret, authorizationURL } = emulator.strategyOptions(DEMO_OFFICIAL_ACCOUNT_APP.appid);
    const strategy = {
      ...emulator.strategyOptions(DEMO_WEBSITE_APP.appid),
      callbackURL,
      officialAccount: { clientID, clientSecret, authorizationURL, scope: 'snsapi_userinfo' as const },
    };
    server.on('request', createApp({
      strategy,
      sessionSecret: 'e2e',
      wxLoginScriptURL: emulator.endpoints.wxLoginScriptURL,
      miniProgram: emulator.miniProgramStrategyOptions(DEMO_MINIPROGRAM_APP.appid),
      mobileApp: emulator.appStrategyOptions(DEMO_MOBILE_APP.appid),
      simulator: emulatorSimulator(emulator),
    }));
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  });

  afterAll(async () => {
    await browser?.close();
    server?.closeAllConnections();
    await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
    await emulator?.close();
  });

  beforeEach(() => emulator?.reset());

  /** A fresh browser profile (no cookies) per scenario. Nothing is faked: the emulator serves the avatars. */
  async function withPage(scenario: (page: Page) => Promise<void>, options: BrowserContextOptions = {}): Promise<void> {
    if (!browser) throw new Error('Chromium did not start');
    const context = await browser.newContext({ viewport: { width: 1000, height: 700 }, ...options });
    try {
      await scenario(await context.newPage());
    } finally {
      await context.close();
    }
  }

  /** Home → "Log in with WeChat" → the emulator's QR page, as the user sees it. */
  async function openWeChatLogin(page: Page): Promise<void> {
    await page.goto(`${appURL}/`);
    await page.getByRole('link', { name: 'Log in with WeChat' }).click();
    await page.getByTestId('login-page').waitFor();
    expect(page.url()).toMatch(new RegExp(`^${emulator?.url}/connect/qrconnect\\?appid=${DEMO_WEBSITE_APP.appid}&`));
  }

  async function logInAs(page: Page, user: string): Promise<void> {
    await openWeChatLogin(page);
    await page.getByTestId(`user-${user}`).check();
    await page.getByTestId('confirm').click();
    await page.waitForURL(`${appURL}/profile`);
  }

  function cell(page: Page, field: string) {
    return page.locator(`tr:has(th:text-is("${field}")) td`);
  }

  it('logs Alice in: "Log in with WeChat", the QR page, Alice, Confirm, then her profile', async () => {
    await withPage(async (page) => {
      await logInAs(page, 'alice');
      const unionid = emulator?.unionidFor('alice') ?? 'no unionid';
      await expect.poll(() => cell(page, 'displayName').textContent()).toBe('Alice 🐼');
      expect(await cell(page, 'id').textContent()).toBe(unionid);
      expect(await cell(page, 'unionid').textContent()).toBe(unionid);
      expect(await cell(page, 'openid').textContent()).toBe(emulator?.openidFor(DEMO_WEBSITE_APP.appid, 'alice'));
      const avatar = page.locator('td img');
      expect(await avatar.getAttribute('src')).toMatch(new RegExp(`^${emulator?.url}/mmopen/vi_32/.+/132$`));
      await avatar.evaluate((img) => (img as unknown as { decode(): Promise<void> }).decode());
      const loaded = await avatar.evaluate((img) => (img as unknown as { naturalWidth: number }).naturalWidth > 0);
      expect(loaded).toBe(true); // the image really loaded, from the emulator, with no route faked
      expect(await page.locator('pre').textContent()).toContain('"nickname": "Alice 🐼"');
      mkdirSync(fileURLToPath(new URL('../.tmp/', import.meta.url)), { recursive: true });
      await page.screenshot({ path: SCREENSHOT });
    });
  });

  it('sends a user who declines to /login/failed with the reason, and never back to WeChat', async () => {
    await withPage(async (page) => {
      await openWeChatLogin(page);
      const visited: string[] = [];
      page.on('request', (request) => visited.push(request.url()));
      await page.getByTestId('decline').click();
      await page.waitForURL(`${appURL}/login/failed`);
      await expect.poll(() => page.locator('.error').textContent()).toBe('The WeChat login was declined or cancelled.');
      await page.waitForLoadState('networkidle');
      expect(visited.filter((url) => url.includes('/connect/qrconnect?'))).toEqual([]);
      const pages = emulator?.calls.map((call) => call.endpoint).filter((endpoint) => endpoint !== 'not-found'); // e.g. a favicon
      expect(pages).toEqual(['qrconnect', 'qrconnect/decline']);
      await expect.poll(() => page.getByRole('link', { name: 'Try again' }).getAttribute('href')).toBe('/auth/wechat');
    });
  });

  it('shows Bob, who has no unionid and no avatar: his openid as id, "—" for unionid', async () => {
    await withPage(async (page) => {
      await logInAs(page, 'bob');
      const openid = emulator?.openidFor(DEMO_WEBSITE_APP.appid, 'bob');
      await expect.poll(() => cell(page, 'id').textContent()).toBe(openid);
      expect(await cell(page, 'openid').textContent()).toBe(openid);
      expect(await cell(page, 'unionid').textContent()).toBe('—');
      expect(await page.locator('td img').count()).toBe(0);
    });
  });

  it('logs out: back home with "Log in with WeChat", and /profile sends you home', async () => {
    await withPage(async (page) => {
      await logInAs(page, 'alice');
      await page.getByRole('button', { name: 'Log out' }).click();
      await page.waitForURL(`${appURL}/`);
      await page.getByRole('link', { name: 'Log in with WeChat' }).waitFor();
      await page.goto(`${appURL}/profile`);
      expect(page.url()).toBe(`${appURL}/`);
    });
  });
  it('logs Alice in inside WeChat: the Official Account page, Allow, then the same id as her QR login', async () => {
    let websiteId: string | null = null;
    await withPage(async (page) => {
      await logInAs(page, 'alice');
      websiteId = await cell(page, 'id').textContent();
    });
    await withPage(async (page) => {
      await page.goto(`${appURL}/`);
      await page.getByRole('link', { name: 'Log in with WeChat' }).click();
      await page.getByTestId('login-page').waitFor();
      expect(page.url()).toMatch(
        new RegExp(`^${emulator?.url}/connect/oauth2/authorize\\?appid=${DEMO_OFFICIAL_ACCOUNT_APP.appid}&.*&scope=snsapi_userinfo&state=o\\w+#wechat_redirect$`),
      );
      expect(await page.getByTestId('scope').textContent()).toBe('获得你的公开信息（昵称、头像等）');
      await page.getByTestId('user-alice').check();
      await page.getByTestId('confirm').click(); // 允许 (Allow)
      await page.waitForURL(`${appURL}/profile`);
      await expect.poll(() => cell(page, 'id').textContent()).toBe(websiteId);
      expect(websiteId).toBe(emulator?.unionidFor('alice'));
      expect(await cell(page, 'openid').textContent()).toBe(emulator?.openidFor(DEMO_OFFICIAL_ACCOUNT_APP.appid, 'alice'));
      expect(await cell(page, 'appid').textContent()).toBe(DEMO_OFFICIAL_ACCOUNT_APP.appid);
      const exchanges = emulator?.calls.filter((call) => call.endpoint === 'access_token').map((call) => call.query.appid);
      expect(exchanges).toEqual([DEMO_WEBSITE_APP.appid, DEMO_OFFICIAL_ACCOUNT_APP.appid]);
    }, WECHAT_IOS);
  });

  it('logs Alice in with the embedded QR code: wxLogin.js, its iframe, Confirm inside it, then the whole page on /profile', async () => {
    await withPage(async (page) => {
      await page.goto(`${appURL}/`);
      await page.getByRole('link', { name: 'Embedded QR' }).click();
      await page.waitForURL(`${appURL}/login/embedded`);
      const iframe = page.locator('#wechat-qr iframe');
      await iframe.waitFor();
      expect(await iframe.evaluate((element) => [element.getAttribute('width'), element.getAttribute('height'), element.getAttribute('frameborder')]))
        .toEqual(['300px', '400px', '0']);
      expect(await iframe.getAttribute('src')).toMatch(
        new RegExp(`^${emulator?.url}/connect/qrconnect\\?appid=${DEMO_WEBSITE_APP.appid}&scope=snsapi_login&redirect_uri=http%3A%2F%2F.+&state=w\\w+&login_type=jssdk&self_redirect=false&.*&stylelite=1$`),
      );
      const qr = page.frameLocator('#wechat-qr iframe');
      await qr.getByTestId('qrcode').waitFor();
      await qr.getByTestId('user-alice').check();
      await qr.getByTestId('confirm').click();
      await page.waitForURL(`${appURL}/profile`); // the top window, not the iframe
      await expect.poll(() => cell(page, 'id').textContent()).toBe(emulator?.unionidFor('alice'));
      expect(await cell(page, 'openid').textContent()).toBe(emulator?.openidFor(DEMO_WEBSITE_APP.appid, 'alice'));
      const pages = emulator?.calls.map((call) => call.endpoint).filter((endpoint) => endpoint !== 'not-found' && endpoint !== 'avatar'); // the favicon, and the avatar the page loads
      expect(pages).toEqual(['wxLogin.js', 'qrconnect', 'qrconnect/confirm', 'access_token', 'userinfo']);
    });
  });

  /** What the demo page shows of the last answer: its status line and its JSON. */
  async function answerOf(page: Page): Promise<{ status: string | null; json: { user?: Record<string, unknown>; code?: string } }> {
    return { status: await page.getByTestId('status').textContent(), json: JSON.parse((await page.getByTestId('response').textContent()) ?? 'null') as never };
  }

  it('signs Alice in on the Mini Program page: pick Alice, wx.login(), her unionid as id; reusing the code gives 401', async () => {
    await withPage(async (page) => {
      await page.goto(`${appURL}/`);
      await page.getByRole('link', { name: 'Mini Program sign-in' }).click();
      await page.waitForURL(`${appURL}/miniprogram`);
      await page.getByTestId('user-alice').check();
      await page.getByRole('button', { name: 'wx.login()' }).click();
      await expect.poll(() => page.getByTestId('status').textContent()).toBe('POST /auth/wechat/miniprogram → HTTP 200');
      const signedIn = await answerOf(page);
      expect(signedIn.json.user).toMatchObject({ id: emulator?.unionidFor('alice'), appid: DEMO_MINIPROGRAM_APP.appid });
      expect(JSON.stringify(signedIn.json)).not.toContain(emulator?.sessionKeyFor(DEMO_MINIPROGRAM_APP.appid, 'alice'));

      await page.getByRole('button', { name: 'Reuse code' }).click();
      await expect.poll(() => page.getByTestId('status').textContent()).toBe('POST /auth/wechat/miniprogram → HTTP 401');
      expect((await answerOf(page)).json.code).toBe('WECHAT_INVALID_CODE');
      expect(await page.getByTestId('log').locator('li').allTextContents()).toEqual([
        expect.stringMatching(/^wx\.login\(\) → code \w{32}$/),
        'POST /auth/wechat/miniprogram → 200',
        'POST /auth/wechat/miniprogram → 401',
      ]);
      expect(emulator?.calls.map((call) => [call.endpoint, call.errcode])).toEqual([['jscode2session', undefined], ['jscode2session', 40163]]);
    });
  });

  it("decrypts wx.getUserInfo()'s data on the Mini Program page, and shows a high-risk user's 403", async () => {
    await withPage(async (page) => {
      await page.goto(`${appURL}/miniprogram`);
      await page.getByTestId('user-alice').check();
      await page.getByRole('button', { name: 'Decrypt user data' }).click();
      await expect.poll(() => page.getByTestId('status').textContent()).toBe('POST /auth/wechat/miniprogram → HTTP 200');
      expect((await answerOf(page)).json.user).toMatchObject({ signatureValid: true, userInfo: { nickName: '微信用户', unionId: emulator?.unionidFor('alice') } });

      await page.getByTestId('user-eve').check();
      await page.getByRole('button', { name: 'wx.login()' }).click();
      await expect.poll(() => page.getByTestId('status').textContent()).toBe('POST /auth/wechat/miniprogram → HTTP 403');
      expect((await answerOf(page)).json.code).toBe('WECHAT_USER_BLOCKED');
    });
  });

  it('signs Bob in on the native-app page with a SendAuth code: his openid as id', async () => {
    await withPage(async (page) => {
      await page.goto(`${appURL}/app`);
      await page.getByTestId('user-bob').check();
      await page.getByRole('button', { name: 'Log in with WeChat (SendAuth)' }).click();
      await expect.poll(() => page.getByTestId('status').textContent()).toBe('POST /auth/wechat/app → HTTP 200');
      expect((await answerOf(page)).json.user).toMatchObject({ id: emulator?.openidFor(DEMO_MOBILE_APP.appid, 'bob'), unionid: null, displayName: 'Bob' });
    });
  });
});
