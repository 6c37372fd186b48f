/**
 * The demo app in a real browser: headless Chromium (driven by playwright-core) clicks through
 * the login on the local WeChat emulator's QR page, as a person would. Needs Debian's Chromium
 * (`apt-get install -y chromium`, or CHROMIUM_PATH); SKIP_BROWSER_TESTS=1 skips the file.
 * The examples import the built package: run `npm run build` first.
 */
import { once } from 'node:events';
import { existsSync, mkdirSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { DEMO_WEBSITE_APP, WeChatEmulator } from 'passport-wechat-oauth2/testing';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createApp } from '../examples/express/app.ts';

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
// WeChat avatars live on thirdwx.qlogo.cn; the browser gets this one instead of the network.
const AVATAR_SVG =
  '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 64 64"><rect width="64" height="64" fill="#07c160"/>' +
  '<circle cx="32" cy="26" r="12" fill="#fff"/><path d="M12 58c2-12 10-18 20-18s18 6 20 18z" fill="#fff"/></svg>';

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
    server.on('request', createApp({ strategy: { ...emulator.strategyOptions(DEMO_WEBSITE_APP.appid), callbackURL }, sessionSecret: 'e2e' }));
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  });

  afterAll(async () => {
    await browser?.close();
    server?.closeAllConnections();
    await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
    await emulator?.close();
  });

  beforeEach(() => emulator?.reset());

  /** A fresh browser profile (no cookies) per scenario, with WeChat's avatar host answered locally. */
  async function withPage(scenario: (page: Page) => Promise<void>): Promise<void> {
    if (!browser) throw new Error('Chromium did not start');
    const context = await browser.newContext({ viewport: { width: 1000, height: 700 } });
    try {
      await context.route('https://thirdwx.qlogo.cn/**', (route) => route.fulfill({ contentType: 'image/svg+xml', body: AVATAR_SVG }));
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
      expect(await avatar.getAttribute('src')).toMatch(/^https:\/\/thirdwx\.qlogo\.cn\/mmopen\/vi_32\/.+\/132$/);
      const loaded = await avatar.evaluate((img) => (img as unknown as { naturalWidth: number }).naturalWidth > 0);
      expect(loaded).toBe(true); // the image really loaded (served by the route above)
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
});
