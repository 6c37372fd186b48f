/**
 * Two instances of the example app behind one "load balancer": they share a real Redis server
 * (sessions through connect-redis, duplicate callbacks through the Redis callback store). A login
 * starts on one instance and finishes on the other; a callback delivered twice, once to each,
 * logs the user in on both with a single code exchange.
 *
 * Needs Debian's redis-server (.ci/run installs it and passes REDIS_URL); without REDIS_URL the
 * test starts its own redis-server on a free loopback port.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { RedisStore } from 'connect-redis';
import { createClient } from 'redis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../examples/express/app.ts';
import { redisCallbackStore } from '../examples/production/redis-callback-store.ts';
import { DEMO_WEBSITE_APP, WeChatEmulator } from '../lib/testing/index.js';

const REDIS_SERVER = '/usr/bin/redis-server';
const skip = process.env.SKIP_REDIS_TESTS === '1';

let emulator: WeChatEmulator;
let redisProcess: ChildProcess | undefined;
let redis: ReturnType<typeof createClient>;
const servers: Server[] = [];
let instanceA: string;
let instanceB: string;

async function freePort(): Promise<number> {
  const probe = createServer();
  probe.listen(0, '127.0.0.1');
  await once(probe, 'listening');
  const { port } = probe.address() as AddressInfo;
  probe.close();
  return port;
}

async function startRedis(): Promise<string> {
  if (process.env.REDIS_URL) return process.env.REDIS_URL;
  if (!existsSync(REDIS_SERVER)) {
    throw new Error('redis-server is missing: apt-get install -y redis-server (or set SKIP_REDIS_TESTS=1)');
  }
  const port = await freePort();
  redisProcess = spawn(REDIS_SERVER, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {
    stdio: 'ignore',
  });
  return `redis://127.0.0.1:${port}`;
}

async function connect(url: string): Promise<ReturnType<typeof createClient>> {
  for (let attempt = 0; ; attempt++) {
    const client = createClient({ url, socket: { reconnectStrategy: false } });
    client.on('error', () => {});
    try {
      await client.connect();
      return client;
    } catch (error) {
      if (attempt > 50) throw error;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

async function startInstance(): Promise<string> {
  const app = createApp({
    strategy: {
      ...emulator.strategyOptions(DEMO_WEBSITE_APP.appid),
      callbackURL: 'http://localhost:3000/auth/wechat/callback',
      duplicateCallbacks: { store: redisCallbackStore(redis) },
    },
    sessionSecret: 'one secret for every instance',
    sessionStore: new RedisStore({ client: redis, prefix: 'demo-sess:' }),
  });
  const server = app.listen(0, '127.0.0.1');
  await once(server, 'listening');
  servers.push(server);
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** A browser: one cookie jar, whichever instance answers. */
class Browser {
  cookie = '';
  async get(url: string): Promise<Response> {
    const response = await fetch(url, { redirect: 'manual', headers: this.cookie ? { cookie: this.cookie } : {} });
    const set = response.headers.getSetCookie().map((c) => c.split(';')[0]).filter(Boolean);
    if (set.length > 0) this.cookie = set.join('; ');
    return response;
  }
}

/** Starts a login on one instance and plays the user on WeChat; returns the callback's path and query. */
async function startLogin(browser: Browser, instance: string, user = 'alice'): Promise<string> {
  const start = await browser.get(`${instance}/auth/wechat`);
  expect(start.status).toBe(302);
  const outcome = emulator.authorize(start.headers.get('location') ?? '', { user });
  if (outcome.type !== 'redirect') throw new Error(outcome.type);
  const url = new URL(outcome.location);
  return url.pathname + url.search;
}

const tokenCalls = () => emulator.calls.filter((call) => call.endpoint === 'access_token').length;

describe.skipIf(skip)('two instances sharing Redis', () => {
  beforeAll(async () => {
    emulator = await WeChatEmulator.start();
    redis = await connect(await startRedis());
    instanceA = await startInstance();
    instanceB = await startInstance();
  });

  afterAll(async () => {
    for (const server of servers) {
      server.closeAllConnections();
      server.close();
    }
    await redis?.quit().catch(() => {});
    redisProcess?.kill();
    await emulator?.close();
  });

  it('finishes on instance B a login that started on instance A', async () => {
    emulator.reset();
    const browser = new Browser();
    const callback = await startLogin(browser, instanceA);
    const finished = await browser.get(`${instanceB}${callback}`);
    expect(finished.status).toBe(302);
    expect(finished.headers.get('location')).toBe('/profile');
    const profile = await browser.get(`${instanceA}/profile`);
    expect(profile.status).toBe(200);
    expect(await profile.text()).toContain(emulator.unionidFor('alice') ?? 'missing unionid');
  });

  it('logs the user in on both instances when the callback is delivered to each at once', async () => {
    emulator.reset();
    emulator.setLatency({ minMs: 100, maxMs: 150 });
    const browser = new Browser();
    const callback = await startLogin(browser, instanceB, 'bob');
    const cookie = browser.cookie;
    const twice = [new Browser(), new Browser()];
    for (const copy of twice) copy.cookie = cookie;
    const [onA, onB] = await Promise.all([twice[0]!.get(`${instanceA}${callback}`), twice[1]!.get(`${instanceB}${callback}`)]);
    expect([onA.status, onB.status]).toEqual([302, 302]);
    expect([onA.headers.get('location'), onB.headers.get('location')]).toEqual(['/profile', '/profile']);
    expect(tokenCalls()).toBe(1);
    for (const copy of twice) {
      const profile = await copy.get(`${instanceA}/profile`);
      expect(await profile.text()).toContain(emulator.openidFor(DEMO_WEBSITE_APP.appid, 'bob'));
    }
  });

  it('lets a refresh of the callback on the other instance end in the same login', async () => {
    emulator.reset();
    const browser = new Browser();
    const callback = await startLogin(browser, instanceA);
    expect((await browser.get(`${instanceA}${callback}`)).headers.get('location')).toBe('/profile');
    const again = await browser.get(`${instanceB}${callback}`);
    expect(again.headers.get('location')).toBe('/profile');
    expect(tokenCalls()).toBe(1);
  });

  it('keeps only hashed keys in Redis, never a code', async () => {
    const keys = await redis.keys('wechat:callback:*');
    expect(keys.length).toBeGreaterThan(0);
    for (const key of keys) expect(key).toMatch(/^wechat:callback:[0-9a-f]{64}$/);
    expect(await redis.ttl(keys[0]!)).toBeGreaterThan(0);
  });
});
