/**
 * Load: a bounded autocannon run (10 s by default, loopback only) on the demo app's callback
 * route (examples/express/app.ts, `createApp`), each request a complete login: callback →
 * sns/oauth2/access_token → sns/userinfo → verify → session → 302 to /profile.
 *
 *   npm run load                    # build, then this script
 *   node scripts/load.ts            # with a build already in dist/
 *
 * The choice: every callback needs a fresh, single-use code and the state nonce of its own
 * browser session. A load generator has no browser, so
 *   - the WeChat emulator runs in this process and pre-issues a code per request, in autocannon's
 *     `setupRequest` hook (`emulator.issueCode()`: a code as if the user had confirmed on the
 *     phone), so every request carries a code WeChat has never seen used;
 *   - the demo app runs with `state: false` (the CSRF nonce is off for this run only), since the
 *     redirect leg that would put the nonce in the session is not part of the measured request.
 * The app runs in a child process (one core), autocannon and the emulator in this one (the other).
 *
 * Env: LOAD_SECONDS (10), LOAD_CONNECTIONS (32), LOAD_USERS (1000).
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { DEMO_WEBSITE_APP, WeChatEmulator } from 'passport-wechat-oauth2/testing';
import type { WeChatStrategyOptions } from 'passport-wechat-oauth2';
import { envNumber, startChild, table } from './bench/child.ts';

const SECONDS = envNumber('LOAD_SECONDS', 10);
const CONNECTIONS = envNumber('LOAD_CONNECTIONS', 32);
const USERS = envNumber('LOAD_USERS', 1_000);

/** The child: the demo app on 127.0.0.1, with the strategy options it was given. */
async function runApp(): Promise<void> {
  const { createApp } = await import('../examples/express/app.ts');
  const strategy = JSON.parse(process.env.LOAD_STRATEGY ?? '{}') as WeChatStrategyOptions;
  const server = createServer(createApp({ strategy, sessionSecret: 'load test session secret' }));
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const cpuAtStart = process.cpuUsage();
  process.on('message', (message: { type?: string; id?: number }) => {
    if (message.type === 'usage') {
      const cpu = process.cpuUsage(cpuAtStart);
      process.send?.({ type: 'usage', id: message.id, cpuMicros: cpu.user + cpu.system, maxRssKB: process.resourceUsage().maxRSS });
    } else if (message.type === 'mark') {
      Object.assign(cpuAtStart, process.cpuUsage());
      process.send?.({ type: 'mark', id: message.id });
    }
  });
  process.on('disconnect', () => {
    server.close(() => process.exit(0));
    server.closeAllConnections();
  });
  process.send?.({ type: 'ready', url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` });
}

async function main(): Promise<number> {
  const emulator = await WeChatEmulator.start(); // 127.0.0.1, a free port
  for (let i = 0; i < USERS; i++) emulator.registerUser({ id: `load${i}`, unionid: i % 3 !== 0 });
  const strategy: WeChatStrategyOptions = {
    ...emulator.strategyOptions(DEMO_WEBSITE_APP.appid),
    callbackURL: 'http://localhost:3000/auth/wechat/callback',
    state: false, // see the header: the nonce's redirect leg is not part of this load
  };
  const app = await startChild(fileURLToPath(import.meta.url), {
    args: ['--app'],
    env: { ...process.env, LOAD_STRATEGY: JSON.stringify(strategy) },
  });
  const url = String(app.ready.url);
  let serial = 0;
  const outcomes = new Map<string, number>();

  const run = (seconds: number) =>
    autocannon({
      url,
      connections: CONNECTIONS,
      duration: seconds,
      requests: [
        {
          method: 'GET',
          setupRequest: (request) => {
            const code = emulator.issueCode({ appid: DEMO_WEBSITE_APP.appid, user: `load${serial++ % USERS}` });
            return { ...request, path: `/auth/wechat/callback?code=${code}` };
          },
          onResponse: (status, _body, _context, headers) => {
            const location = Object.entries(headers ?? {}).find(([name]) => name.toLowerCase() === 'location')?.[1];
            const where = `${status} ${String(location ?? '')}`.trim();
            outcomes.set(where, (outcomes.get(where) ?? 0) + 1);
          },
        },
      ],
    });

  console.log(`load: ${CONNECTIONS} connections for ${SECONDS} s on ${url}/auth/wechat/callback (demo app, state: false, codes pre-issued by the emulator)`);
  await run(2); // warm-up: JIT, keep-alive pools
  await new Promise((resolve) => setTimeout(resolve, 1_000)); // let the warm-up's last logins finish
  outcomes.clear();
  emulator.reset();
  await app.ask('mark');
  const result = await run(SECONDS);
  const usage = await app.ask<{ cpuMicros: number; maxRssKB: number }>('usage');
  await new Promise((resolve) => setTimeout(resolve, 1_000)); // logins still in flight when autocannon stopped
  const calls = emulator.calls;
  await app.stop();
  await emulator.close();

  const logins = outcomes.get('302 /profile') ?? 0;
  const tokenCalls = calls.filter((call) => call.endpoint === 'access_token').length;
  const userinfoCalls = calls.filter((call) => call.endpoint === 'userinfo').length;
  const refused = calls.filter((call) => call.errcode !== undefined).length;
  console.log('');
  console.log(
    table(
      ['logins/s', 'p50 ms', 'p99 ms', 'max ms', 'logins', 'other answers', 'errors/timeouts', 'app CPU ms/login', 'app peak RSS MB'],
      [
        [
          (logins / result.duration).toFixed(0),
          result.latency.p50,
          result.latency.p99,
          result.latency.max,
          logins,
          [...outcomes].filter(([where]) => where !== '302 /profile').map(([where, n]) => `${where}: ${n}`).join(', ') || '0',
          `${result.errors}/${result.timeouts}`,
          (usage.cpuMicros / 1000 / Math.max(1, logins)).toFixed(2),
          (usage.maxRssKB / 1024).toFixed(0),
        ],
      ],
    ),
  );
  console.log('');
  console.log(`emulator: ${tokenCalls} token calls, ${userinfoCalls} userinfo calls, ${refused} errcode answers`);
  // Every answered callback made exactly its two calls; requests cut off at the end made theirs too.
  const ok = logins > 0 && result.errors === 0 && outcomes.size === 1 && refused === 0 && tokenCalls === userinfoCalls && tokenCalls >= logins;
  if (!ok) console.error('load: FAILED, some requests did not end in a login (see the table).');
  return ok ? 0 : 1;
}

if (process.argv.includes('--app')) await runApp();
else process.exitCode = await main();
