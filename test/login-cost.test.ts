/**
 * What keeps a login as cheap as a minimal implementation (docs/benchmarks.md, "Where the time
 * goes"), each as behaviour a user could see: the query string parsed once per request, no timer
 * left behind by a finished WeChat call, a call whose deadline passed while it waited for a
 * connection never sent, nicknames with emoji parsed without the slow path yet a key spelled with
 * escapes still dropped, the in-memory duplicate store dropping its oldest entries, authorize
 * links right for every callback URL, and state handles that never repeat.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import session from 'express-session';
import { Passport } from 'passport';
import request from 'supertest';
import { Agent } from 'undici';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { MemoryCallbackStore, WeChatError, WeChatStrategy } from '../lib/index.js';
import { WeChatClient } from '../lib/client.js';
import { parseJSONWithoutProto } from '../lib/json.js';
import { mockWeChatLogin, useNockAtTheEdge } from './helpers/nock.js';
import { APPID, SECRET, WEBSITE_LOGIN, userinfoBody } from './helpers/wechat.js';

const CALLBACK = 'https://shop.example.cn/auth/wechat/callback';

useNockAtTheEdge({ allowLocalhost: true });

/** An Express 5 app whose query parser counts its runs. */
function countingApp(): { app: express.Express; parses: () => number } {
  let parses = 0;
  const passport = new Passport();
  passport.use(new WeChatStrategy({ clientID: APPID, clientSecret: SECRET, callbackURL: CALLBACK }, (_a, _r, profile, done) => done(null, { id: profile.id })));
  const app = express();
  app.set('query parser', (text: string) => {
    parses += 1;
    return Object.fromEntries(new URLSearchParams(text));
  });
  app.use(session({ secret: 'login-cost test', resave: false, saveUninitialized: false }));
  app.get('/auth/wechat', passport.authenticate('wechat', { session: false }));
  app.get('/auth/wechat/callback', passport.authenticate('wechat', { session: false }), (req, res) => {
    res.json({ id: (req.user as { id: string }).id });
  });
  return { app, parses: () => parses };
}

describe('the query string of a request', () => {
  it('is parsed once when a login starts and once when its callback comes (Express 5 parses again on every read of req.query)', async () => {
    const { app, parses } = countingApp();
    const agent = request.agent(app);
    const start = await agent.get('/auth/wechat').expect(302);
    expect(parses()).toBe(1);
    const state = new URL(start.headers.location as string).searchParams.get('state');
    const wechat = mockWeChatLogin(WEBSITE_LOGIN, userinfoBody(WEBSITE_LOGIN, 'Ann'));
    wechat.mockToken();
    wechat.mockUserInfo();

    await agent.get(`/auth/wechat/callback?code=${WEBSITE_LOGIN.code}&state=${state}`).expect(200);

    expect(parses()).toBe(2);
  });
});

describe('a finished WeChat call', () => {
  const timers = () => process.getActiveResourcesInfo().filter((kind) => kind === 'Timeout').length;

  it('leaves no timer behind, whether it succeeded or failed (a 10 s timer per call would pile up under load)', async () => {
    const client = new WeChatClient({ appId: APPID, appSecret: SECRET, endpoints: { tokenURL: 'https://api.weixin.qq.com/sns/oauth2/access_token', refreshTokenURL: '', userProfileURL: '', checkTokenURL: '' }, timeout: 10_000, maxResponseBytes: 4096 });
    const wechat = mockWeChatLogin(WEBSITE_LOGIN, userinfoBody(WEBSITE_LOGIN, 'Ann'));
    wechat.mockToken();
    await client.exchangeCode(WEBSITE_LOGIN.code); // undici loaded, pools open
    const before = timers();

    wechat.mockToken();
    await client.exchangeCode(WEBSITE_LOGIN.code);
    await expect(client.exchangeCode('0'.repeat(32))).rejects.toBeInstanceOf(WeChatError); // nock: nothing matches

    expect(timers()).toBe(before);
  });

  it("leaves a test's fake timers nothing to run or count once it ended", async () => {
    const clientWith = (timeout: number) =>
      new WeChatClient({ appId: APPID, appSecret: SECRET, endpoints: { tokenURL: 'https://api.weixin.qq.com/sns/oauth2/access_token', refreshTokenURL: '', userProfileURL: '', checkTokenURL: '' }, timeout, maxResponseBytes: 4096 });
    const wechat = mockWeChatLogin(WEBSITE_LOGIN, userinfoBody(WEBSITE_LOGIN, 'Ann'));
    wechat.mockToken();
    await clientWith(10_000).exchangeCode(WEBSITE_LOGIN.code); // undici loaded, pools open
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval'] });
    try {
      wechat.mockToken();
      // A timeout no other test uses: whatever the package keeps per timeout is made under the fakes.
      await clientWith(7_001).exchangeCode(WEBSITE_LOGIN.code);
      expect(vi.getTimerCount()).toBe(0);
      expect(() => vi.runAllTimers()).not.toThrow();
    } finally {
      vi.useRealTimers();
    }
  });
});

// Local HTTP servers standing in for WeChat, closed after each test.
const localServers: Array<ReturnType<typeof createServer>> = [];
afterEach(async () => {
  for (const server of localServers.splice(0)) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});

/** Starts `server` on 127.0.0.1 and resolves its base URL. */
async function listenLocally(server: ReturnType<typeof createServer>): Promise<string> {
  localServers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

describe('a call whose deadline passes while it waits for a connection', () => {
  it('fails with WECHAT_TIMEOUT on time, and is never sent once the connection frees', async () => {
    const seen: string[] = [];
    let release: (() => void) | undefined;
    const server = createServer((req: IncomingMessage, res: ServerResponse) => {
      seen.push(new URL(req.url ?? '/', 'http://x').searchParams.get('code') ?? '');
      const answer = () => res.writeHead(200, { 'content-type': 'text/plain' }).end(JSON.stringify({ access_token: 'a', openid: 'o', expires_in: 7200 }));
      if (seen.length === 1) release = answer; // the first call holds the only connection
      else answer();
    });
    const base = await listenLocally(server);
    const dispatcher = new Agent({ connections: 1 });
    const clientWith = (timeout: number) =>
      new WeChatClient({ appId: APPID, appSecret: SECRET, endpoints: { tokenURL: `${base}/sns/oauth2/access_token`, refreshTokenURL: '', userProfileURL: '', checkTokenURL: '' }, timeout, maxResponseBytes: 4096, dispatcher });

    const first = clientWith(5_000).exchangeCode('first-code').catch((error: unknown) => error);
    await new Promise((resolve) => setTimeout(resolve, 50));
    const started = Date.now();
    const queued = await clientWith(300).exchangeCode('queued-code').catch((error: unknown) => error);

    expect(queued).toMatchObject({ code: 'WECHAT_TIMEOUT' });
    expect(Date.now() - started).toBeLessThan(1_000);
    release?.();
    await first;
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(seen).not.toContain('queued-code');
    await dispatcher.close();
  });
});

describe('an answer that starts with an informational response', () => {
  it('reads the 200 that follows a 103 Early Hints (a proxy in front of WeChat may send one)', async () => {
    const server = createServer((_req: IncomingMessage, res: ServerResponse) => {
      res.writeEarlyHints({ link: '</style.css>; rel=preload; as=style' });
      res.writeHead(200, { 'content-type': 'text/plain' }).end(JSON.stringify({ access_token: 'a', openid: 'o', expires_in: 7200 }));
    });
    const base = await listenLocally(server);
    const dispatcher = new Agent();
    const client = new WeChatClient({ appId: APPID, appSecret: SECRET, endpoints: { tokenURL: `${base}/sns/oauth2/access_token`, refreshTokenURL: '', userProfileURL: '', checkTokenURL: '' }, timeout: 5_000, maxResponseBytes: 4096, dispatcher });

    await expect(client.exchangeCode('early-hints-code')).resolves.toMatchObject({ access_token: 'a', openid: 'o' });
    await dispatcher.close();
  });
});

describe('WeChat JSON', () => {
  it("reads a nickname's emoji escapes as they are", () => {
    expect(parseJSONWithoutProto('{"nickname":"Ann \\ud83d\\ude00","openid":"o1"}')).toEqual({ nickname: 'Ann 😀', openid: 'o1' });
  });

  it.each([
    ['{"__pro\\u0074o__":{"polluted":1},"openid":"o1"}'],
    ['{"\\u005F_proto__":{"polluted":1},"openid":"o1"}'],
    ['{"a":"\\ud83d\\ude00","\\u0063onstructor":{"prototype":{"polluted":1}},"openid":"o1"}'],
  ])('still drops a prototype key spelled with escapes: %s', (text) => {
    const parsed = parseJSONWithoutProto(text) as Record<string, unknown>;
    expect(Object.keys(parsed)).toEqual(parsed.a === undefined ? ['openid'] : ['a', 'openid']);
    expect(({} as { polluted?: unknown }).polluted).toBeUndefined();
  });
});

describe('the in-memory duplicate store under more callbacks than it keeps', () => {
  it('forgets the oldest first, a key written again counting from its last write', async () => {
    const store = new MemoryCallbackStore({ maxEntries: 3 });
    await store.set('a', '1', 60);
    await store.set('b', '2', 60);
    await store.set('c', '3', 60);
    await store.set('a', '1 again', 60); // now the newest
    await store.set('d', '4', 60);

    expect(await store.get('b')).toBeUndefined();
    expect(await store.get('a')).toBe('1 again');
    expect(await store.get('c')).toBe('3');
    expect(await store.get('d')).toBe('4');
    expect(store.size).toBe(3);
  });

  it('keeps its bound over many more writes than it holds', async () => {
    const store = new MemoryCallbackStore({ maxEntries: 100 });
    for (let i = 0; i < 5_000; i++) expect(await store.claim(`k${i}`, String(i), 60)).toBe(true);

    expect(store.size).toBe(100);
    expect(await store.get('k4900')).toBe('4900');
    expect(await store.get('k4999')).toBe('4999');
    expect(await store.get('k4899')).toBeUndefined();
    expect(await store.get('k0')).toBeUndefined();
  });

  it('drops entries as they expire', async () => {
    let now = 1_000_000;
    const store = new MemoryCallbackStore({ now: () => now });
    await store.set('a', '1', 1);
    now += 5_000;
    await store.set('b', '2', 60);

    expect(store.size).toBe(1);
    expect(await store.get('a')).toBeUndefined();
  });
});

describe('authorize links', () => {
  it('carry the callback URL of each login, for more callback URLs than the strategy keeps prefixes of', async () => {
    const passport = new Passport();
    passport.use(new WeChatStrategy({ clientID: APPID, clientSecret: SECRET, callbackURL: '/auth/wechat/callback' }, (_a, _r, profile, done) => done(null, { id: profile.id })));
    const app = express();
    app.use(session({ secret: 'login-cost test', resave: false, saveUninitialized: false }));
    app.get('/auth/wechat', passport.authenticate('wechat', { session: false }));

    for (let tenant = 0; tenant < 40; tenant++) {
      const response = await request(app).get('/auth/wechat').set('Host', `tenant${tenant % 20}.example.cn`).expect(302);
      const link = new URL(response.headers.location as string);
      expect(link.searchParams.get('redirect_uri')).toBe(`http://tenant${tenant % 20}.example.cn/auth/wechat/callback`);
      expect(link.searchParams.get('appid')).toBe(APPID);
      expect(link.searchParams.get('state')).toMatch(/^[0-9a-f]{24}$/);
    }
  });
});

describe('state handles', () => {
  it('never repeat across many logins and are 24 hex digits', async () => {
    const passport = new Passport();
    passport.use(new WeChatStrategy({ clientID: APPID, clientSecret: SECRET, callbackURL: CALLBACK }, (_a, _r, profile, done) => done(null, { id: profile.id })));
    const app = express();
    app.use(session({ secret: 'login-cost test', resave: false, saveUninitialized: false }));
    app.get('/auth/wechat', passport.authenticate('wechat', { session: false }));

    const states = new Set<string>();
    for (let i = 0; i < 400; i++) {
      const response = await request(app).get('/auth/wechat').expect(302);
      const state = new URL(response.headers.location as string).searchParams.get('state') ?? '';
      expect(state).toMatch(/^[0-9a-f]{24}$/);
      states.add(state);
    }
    expect(states.size).toBe(400);
  });
});
