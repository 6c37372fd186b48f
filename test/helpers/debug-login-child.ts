/**
 * Run by test/debug-log.test.ts in a child process with NODE_DEBUG set (util.debuglog reads it at
 * start-up): one login through the example app (the built package) against the emulator, then a
 * callback declined on WeChat's page. Prints the secrets it saw as its last stdout line, so the
 * test can look for them in the debug output on stderr.
 */
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { DEMO_WEBSITE_APP, WeChatEmulator } from 'passport-wechat-oauth2/testing';
import { createApp } from '../../examples/express/app.ts';

const emulator = await WeChatEmulator.start();
const options = { ...emulator.strategyOptions(DEMO_WEBSITE_APP.appid), callbackURL: 'http://localhost:3000/auth/wechat/callback' };
const server = createApp({ strategy: options, sessionSecret: 'debug-log-test' }).listen(0, '127.0.0.1');
await once(server, 'listening');
const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
let cookie = '';
const get = async (path: string) => {
  const res = await fetch(base + path, { redirect: 'manual', headers: { cookie } });
  const set = res.headers.getSetCookie().map((c) => c.split(';')[0]);
  if (set.length > 0) cookie = set.join('; ');
  return res;
};
try {
  const seen: string[] = [options.clientSecret];
  for (const choice of [{ user: 'alice' }, { decline: true }]) {
    const start = await get('/auth/wechat');
    const outcome = emulator.authorize(start.headers.get('location') ?? '', choice);
    if (outcome.type !== 'redirect') throw new Error(`no redirect: ${outcome.type}`);
    const callback = new URL(outcome.location);
    for (const key of ['code', 'state']) if (callback.searchParams.get(key)) seen.push(callback.searchParams.get(key) as string);
    await get(callback.pathname + callback.search);
  }
  // The profile page shows the user's openid (and unionid): ids that stay out of logs too.
  seen.push(...((await (await get('/profile')).text()).match(/\bo[A-Za-z0-9_-]{20,}/g) ?? []));
  console.log(JSON.stringify(seen));
} finally {
  server.close();
  await emulator.close();
}
