/**
 * Two instances of the example app behind one "load balancer": they share a real Redis server
 * (sessions through connect-redis, duplicate callbacks through the Redis callback store). A login
 * starts on one instance and finishes on the other; a callback delivered twice, once to each,
 * logs the user in on both with a single code exchange.
 *
 * Needs Debian's redis-server (.ci/run installs it and passes REDIS_URL); without REDIS_URL the
 * test starts its own redis-server on a Unix socket in a temporary directory (no port to race for).
 * Each test starts its own logins: any one runs alone (`-t`) as it runs with the others.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { RedisStore } from 'connect-redis';
import { createClient, type RedisClientOptions } from 'redis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../examples/express/app.ts';
import { redisCallbackStore } from 'passport-wechat-oauth2/redis';
import { DEMO_WEBSITE_APP, WeChatEmulator } from '../lib/testing/index.js';
import { callbackFrom } from './helpers/emulator-login.js';

const REDIS_SERVER = '/usr/bin/redis-server';
const skip = process.env.SKIP_REDIS_TESTS === '1';

let emulator: WeChatEmulator;
let redisProcess: ChildProcess | undefined;
let redisDir: string | undefined;
let redis: ReturnType<typeof createClient>;
const servers: Server[] = [];
let instanceA: string;
let instanceB: string;

/** REDIS_URL's server, or a redis-server of its own on a Unix socket (port 0: no TCP at all). */
function startRedis(): RedisClientOptions {
  if (process.env.REDIS_URL) return { url: process.env.REDIS_URL, socket: { reconnectStrategy: false } };
  if (!existsSync(REDIS_SERVER)) {
    throw new Error('redis-server is missing: apt-get install -y redis-server (or set SKIP_REDIS_TESTS=1)');
  }
  redisDir = mkdtempSync(path.join(tmpdir(), 'wechat-redis-'));
  const socket = path.join(redisDir, 'redis.sock');
  redisProcess = spawn(REDIS_SERVER, ['--port', '0', '--unixsocket', socket, '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  return { socket: { path: socket, tls: false, reconnectStrategy: false } };
}

async function connect(options: RedisClientOptions): Promise<ReturnType<typeof createClient>> {
  for (let attempt = 0; ; attempt++) {
    const client = createClient(options);
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
  return callbackFrom(emulator, start.headers.get('location') ?? '', { user });
}

const tokenCalls = () => emulator.calls.filter((call) => call.endpoint === 'access_token').length;

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/** The Redis key of a callback (path and query): a hash of the AppID, the code and the state. */
function keyOf(callback: string): string {
  const query = new URL(callback, 'http://localhost').searchParams;
  return `wechat:callback:${sha256(`${DEMO_WEBSITE_APP.appid}\u0000${query.get('code')}\u0000${query.get('state')}`)}`;
}

interface StoredCallback {
  status: string;
  sessions: string[];
  user?: { id: string };
}

/**
 * Waits (up to 2 s) until the record of `callback` lists `sessionId` (hashed) among its owners. The
 * session Passport gives the browser at login joins the record only once the login's answer is out
 * (lib/duplicate-guard.ts, rememberSessionAfterLogin): a reload sent at once can come first.
 */
async function ownedBy(callback: string, sessionId: string): Promise<StoredCallback | undefined> {
  const deadline = Date.now() + 2_000;
  for (;;) {
    const record = JSON.parse((await redis.get(keyOf(callback))) ?? 'null') as StoredCallback | null;
    if (record?.sessions.includes(sha256(sessionId))) return record;
    if (Date.now() > deadline) return undefined;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** The express-session id behind a browser's signed session cookie (`s:<id>.<signature>`). */
function sessionIdOf(browser: Browser): string {
  const signed = /(?:^|; )demo\.sid=([^;]+)/.exec(browser.cookie)?.[1];
  if (signed === undefined) throw new Error(`no session cookie in "${browser.cookie}"`);
  const value = decodeURIComponent(signed);
  return value.slice(2, value.lastIndexOf('.'));
}

describe.skipIf(skip)('two instances sharing Redis', () => {
  beforeAll(async () => {
    emulator = await WeChatEmulator.start();
    redis = await connect(startRedis());
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
    if (redisDir !== undefined) rmSync(redisDir, { recursive: true, force: true });
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
    // Slow answers, so the two deliveries overlap: the second arrives while the first exchanges the code.
    emulator.failNext('access_token', { delayMs: 150 });
    emulator.failNext('userinfo', { delayMs: 100 });
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
    expect(await ownedBy(callback, sessionIdOf(browser)), 'the session given at login owns the record').toBeDefined();
    const again = await browser.get(`${instanceB}${callback}`);
    expect(again.headers.get('location')).toBe('/profile');
    expect(tokenCalls()).toBe(1);
  });

  it("keeps a login's callback in Redis under a hash of the AppID, code and state, for the claim's TTL", async () => {
    emulator.reset();
    const browser = new Browser();
    const callback = await startLogin(browser, instanceA);
    const key = keyOf(callback);
    expect(key).toMatch(/^wechat:callback:[0-9a-f]{64}$/);
    expect((await browser.get(`${instanceB}${callback}`)).headers.get('location')).toBe('/profile');

    expect(await redis.exists(key)).toBe(1);
    const ttl = await redis.ttl(key);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(60); // the default ttlSeconds
    const keys = await redis.keys('wechat:callback:*');
    for (const each of keys) expect(each).toMatch(/^wechat:callback:[0-9a-f]{64}$/);
  });

  it('stores the outcome for duplicates with hashed session ids, and no code, state, session id or AppSecret', async () => {
    emulator.reset();
    const browser = new Browser();
    const callback = await startLogin(browser, instanceA);
    const query = new URL(callback, 'http://localhost').searchParams;
    const [code, state] = [query.get('code') ?? '', query.get('state') ?? ''];
    const claimedBy = sessionIdOf(browser);
    expect((await browser.get(`${instanceB}${callback}`)).headers.get('location')).toBe('/profile');
    const loggedIn = sessionIdOf(browser); // Passport gives the browser a new session at login
    expect(loggedIn).not.toBe(claimedBy);

    expect(await ownedBy(callback, loggedIn), 'the session given at login owns the record').toBeDefined();
    const stored = await redis.get(keyOf(callback));
    const record = JSON.parse(stored ?? 'null') as StoredCallback;
    expect(record).toMatchObject({ status: 'success', user: { id: emulator.unionidFor('alice') } });
    expect(record.sessions).toEqual([sha256(claimedBy), sha256(loggedIn)]);
    for (const secret of [code, state, claimedBy, loggedIn, DEMO_WEBSITE_APP.secret]) {
      expect(stored, `the stored record shows ${secret.slice(0, 6)}…`).not.toContain(secret);
    }
  });
});
