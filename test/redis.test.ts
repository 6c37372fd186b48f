/**
 * `passport-wechat-oauth2/redis` against a real redis-server (REDIS_URL's, or one of the test's own
 * on a Unix socket), with each client it names: node-redis v5, node-redis v4 and ioredis. The store
 * is checked by what Redis holds afterwards, and by a login whose callback is reloaded.
 */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { Passport } from 'passport';
import { createClient } from 'redis';
import { createClient as createClientV4 } from 'redis4';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WeChatOptionsError, WeChatStrategy } from '../lib/index.js';
import { redisCallbackStore, type RedisClientLike } from '../lib/redis.js';
import { DEMO_WEBSITE_APP, WeChatEmulator } from '../lib/testing/index.js';
import { loginOnEmulator } from './helpers/emulator-login.js';
import { expressLoginApp } from './helpers/express-app.js';
import { startTestRedis, type TestRedis } from './helpers/redis-server.js';

let server: TestRedis;
let nodeRedis5: ReturnType<typeof createClient>;
let nodeRedis4: ReturnType<typeof createClientV4>;
let ioredis: Redis;
/** A raw view of Redis, to check what the store wrote. */
let raw: Redis;

beforeAll(async () => {
  server = await startTestRedis();
  const nodeOptions = server.url ? { url: server.url } : { socket: { path: server.socketPath as string, tls: false as const } };
  nodeRedis5 = createClient(nodeOptions);
  nodeRedis4 = createClientV4(nodeOptions);
  await Promise.all([nodeRedis5.connect(), nodeRedis4.connect()]);
  ioredis = server.url ? new Redis(server.url) : new Redis({ path: server.socketPath as string });
  raw = server.url ? new Redis(server.url) : new Redis({ path: server.socketPath as string });
});

afterAll(async () => {
  await Promise.all([nodeRedis5?.quit(), nodeRedis4?.quit(), ioredis?.quit(), raw?.quit()]);
  server?.stop();
});

/** A key of its own for each test, so tests share nothing in Redis. */
const freshKey = () => `test:${randomUUID()}`;

const clients: [string, () => RedisClientLike][] = [
  ['node-redis v5', () => nodeRedis5],
  ['node-redis v4', () => nodeRedis4],
  ['ioredis', () => ioredis],
];

describe.each(clients)('redisCallbackStore on %s', (_name, client) => {
  it('claims a key that is absent, and stores the value under it', async () => {
    const key = freshKey();
    expect(await redisCallbackStore(client()).claim(key, 'first', 60)).toBe(true);
    expect(await raw.get(key)).toBe('first');
  });

  it('refuses a claim of a key that is present, and keeps the first value', async () => {
    const key = freshKey();
    const store = redisCallbackStore(client());
    await store.claim(key, 'first', 60);
    expect(await store.claim(key, 'second', 60)).toBe(false);
    expect(await raw.get(key)).toBe('first');
  });

  it('gives a claimed key the time to live asked for', async () => {
    const key = freshKey();
    await redisCallbackStore(client()).claim(key, 'v', 60);
    const ttl = await raw.ttl(key);
    expect(ttl).toBeGreaterThan(50);
    expect(ttl).toBeLessThanOrEqual(60);
  });

  it('replaces a value with set, with the new time to live', async () => {
    const key = freshKey();
    const store = redisCallbackStore(client());
    await store.claim(key, 'pending', 60);
    await store.set(key, 'done', 30);
    expect(await raw.get(key)).toBe('done');
    expect(await raw.ttl(key)).toBeLessThanOrEqual(30);
  });

  it('reads back what it stored, and null for a key that is absent', async () => {
    const key = freshKey();
    const store = redisCallbackStore(client());
    await store.set(key, '{"status":"pending"}', 60);
    expect(await store.get(key)).toBe('{"status":"pending"}');
    expect(await store.get(freshKey())).toBeNull();
  });

  it('rounds a time to live under a second up to one second, which Redis accepts', async () => {
    const key = freshKey();
    expect(await redisCallbackStore(client()).claim(key, 'v', 0.2)).toBe(true);
    expect(await raw.ttl(key)).toBe(1);
  });

  it('puts the prefix before every key it reads and writes', async () => {
    const key = freshKey();
    const store = redisCallbackStore(client(), { prefix: 'app1:' });
    await store.claim(key, 'v', 60);
    expect(await raw.get(`app1:${key}`)).toBe('v');
    expect(await raw.exists(key)).toBe(0);
    expect(await store.get(key)).toBe('v');
  });

  it('rejects when Redis answers an error, so the strategy handles the callback without the store', async () => {
    const key = freshKey();
    await raw.rpush(key, 'a list, not a string');
    await expect(redisCallbackStore(client()).get(key)).rejects.toThrow(/WRONGTYPE/);
  });
});

describe('redisCallbackStore across clients', () => {
  it('lets exactly one of many simultaneous claims win, whichever client each instance uses', async () => {
    const key = freshKey();
    const stores = [nodeRedis5, nodeRedis4, ioredis].map((client) => redisCallbackStore(client));
    const results = await Promise.all(Array.from({ length: 12 }, (_, i) => stores[i % 3]!.claim(key, `claim ${i}`, 60)));
    expect(results.filter(Boolean)).toHaveLength(1);
    expect(await raw.get(key)).toBe(`claim ${results.indexOf(true)}`);
  });
});

describe('redisCallbackStore with something that is not a Redis client', () => {
  it.each([
    ['an object without sendCommand or call', {}],
    ['undefined', undefined],
  ])('throws a WeChatOptionsError for %s', (_name, client) => {
    expect(() => redisCallbackStore(client as unknown as RedisClientLike)).toThrow(WeChatOptionsError);
  });

  it('throws a WeChatOptionsError for a prefix that is not a string', () => {
    expect(() => redisCallbackStore(nodeRedis5, { prefix: 7 as unknown as string })).toThrow(WeChatOptionsError);
  });
});

/** Waits (up to 2 s) until the callback record at `key` lists `count` owning sessions. */
async function ownersAtLeast(key: string, count: number): Promise<void> {
  for (let waited = 0; ; waited += 10) {
    const record = JSON.parse((await raw.get(key)) ?? '{"sessions":[]}') as { sessions: string[] };
    if (record.sessions.length >= count) return;
    if (waited > 2_000) throw new Error(`the record has ${record.sessions.length} owners, not ${count}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe.each(clients)('a login whose callback is reloaded, with the store on %s', (_name, client) => {
  let emulator: WeChatEmulator;
  beforeAll(async () => {
    emulator = await WeChatEmulator.start();
  });
  afterAll(() => emulator.close());

  it('answers the reload as the first request, with one code exchange, and stores no code in Redis', async () => {
    const prefix = `${randomUUID()}:`;
    const passport = new Passport();
    passport.use(
      new WeChatStrategy(
        {
          ...emulator.strategyOptions(DEMO_WEBSITE_APP.appid),
          callbackURL: 'http://localhost:3000/auth/wechat/callback',
          duplicateCallbacks: { store: redisCallbackStore(client(), { prefix }) },
        },
        (_accessToken, _refreshToken, profile, done) => done(null, { id: profile.id, name: profile.displayName }),
      ),
    );
    passport.serializeUser((user, done) => done(null, JSON.stringify(user)));
    passport.deserializeUser((json: string, done) => done(null, JSON.parse(json) as Express.User));
    const agent = request.agent(expressLoginApp(passport, { sessionSecret: 'test', failurePath: '/failed' }));
    const callback = await loginOnEmulator(emulator, agent, { user: 'alice' });
    const code = new URL(callback, 'http://x').searchParams.get('code') as string;

    await agent.get(callback).expect(302).expect('location', '/me');
    const [key] = await raw.keys(`${prefix}wechat:callback:*`);
    // The session Passport gave the browser at login joins the record once that answer is out
    // (docs/production.md): the reload is sent after it has.
    await ownersAtLeast(key as string, 2);
    await agent.get(callback).expect(302).expect('location', '/me');

    expect((await agent.get('/me')).body.user.name).toBe('Alice 🐼');
    expect(emulator.calls.filter((call) => call.endpoint === 'access_token')).toHaveLength(1);
    expect(await raw.get(key as string)).not.toContain(code);
  });
});
