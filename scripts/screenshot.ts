/**
 * Makes docs/images/demo-profile.png: the demo app's profile page after Alice logs in through
 * the WeChat emulator, in headless Chromium. Run `npm run build`, then `node scripts/screenshot.ts`.
 * Env: CHROMIUM_PATH (default /usr/bin/chromium). Install fonts-noto-color-emoji for Alice's 🐼.
 * Nothing is faked: the avatar comes from the emulator, which plays WeChat's avatar host.
 */
import { once } from 'node:events';
import { mkdirSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEMO_WEBSITE_APP, WeChatEmulator } from 'passport-wechat-oauth2/testing';
import { chromium } from 'playwright-core';
import { createApp } from '../examples/express/app.ts';

const OUTPUT = fileURLToPath(new URL('../docs/images/demo-profile.png', import.meta.url));
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];

const emulator = await WeChatEmulator.start();
const server = createServer().listen(0, '127.0.0.1');
await once(server, 'listening');
const appURL = `http://localhost:${(server.address() as AddressInfo).port}`;
const strategy = { ...emulator.strategyOptions(DEMO_WEBSITE_APP.appid), callbackURL: `${appURL}/auth/wechat/callback` };
server.on('request', createApp({ strategy, sessionSecret: 'screenshot' }));
const browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', args: CHROMIUM_ARGS });
try {
  const context = await browser.newContext({ viewport: { width: 1000, height: 700 } });
  const page = await context.newPage();
  await page.goto(`${appURL}/`);
  await page.getByRole('link', { name: 'Log in with WeChat' }).click();
  await page.getByTestId('user-alice').check();
  await page.getByTestId('confirm').click();
  await page.waitForURL(`${appURL}/profile`);
  await page.waitForLoadState('networkidle');
  mkdirSync(dirname(OUTPUT), { recursive: true });
  await page.screenshot({ path: OUTPUT });
  console.log(`wrote ${OUTPUT}`);
} finally {
  await browser.close();
  server.closeAllConnections();
  server.close();
  await emulator.close();
}
