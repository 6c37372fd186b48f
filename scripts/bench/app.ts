/**
 * One implementation under benchmark, in its own process: an Express 5 app whose
 * `GET /auth/wechat/callback?code=…` runs a full WeChat login (token → userinfo → verify) against
 * the HTTPS stub, and answers `{ id }`. Started by scripts/bench/run.ts and profile.ts:
 *
 *   node scripts/bench/app.ts <ours|minimal|passport-wechat|passport-oauth2>
 *
 * Env: BENCH_STUB_URL (https://127.0.0.1:PORT), BENCH_CA (the CA certificate file),
 * BENCH_PACKAGE (this package's built ESM entry; a snapshot, so a rebuild mid-run cannot change
 * it), BENCH_STATE (1: express-session, `GET /auth/wechat` starts a login and the callback checks
 * its state nonce), BENCH_MINIMAL_BURN_US (the minimal implementation spins this many µs per
 * login: a known cost, to see how much of it the bench's CPU figures show). This package and the
 * peers trust the CA through NODE_EXTRA_CA_CERTS, which run.ts sets before spawning; the minimal
 * implementation through its own undici Agent.
 *
 * All: `session: false` on the callback (no req.login), so each measures exactly the login.
 * Without BENCH_STATE there is no state nonce (passport-wechat has none; the others turn it off).
 */
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import type { ConnectionOptions, TLSSocket } from 'node:tls';
import { GCProfiler, getHeapStatistics } from 'node:v8';
import express, { type ErrorRequestHandler } from 'express';
import session from 'express-session';
import { Passport, type Strategy } from 'passport';
import { STUB_APPID, STUB_SECRET } from './stub.ts';

export type Implementation = 'ours' | 'minimal' | 'passport-wechat' | 'passport-oauth2';

const require = createRequire(import.meta.url);
const CALLBACK = 'https://app.example.com/auth/wechat/callback';
const BURN_US = Number(process.env.BENCH_MINIMAL_BURN_US ?? 0);

interface LoggedIn {
  id: string;
}
type Done = (err: unknown, user?: LoggedIn | false, info?: unknown) => void;

/**
 * passport-wechat-oauth2 as an app uses it: no `dispatcher`, so its own shared keep-alive Agent
 * (and only undici's agent module loaded). It trusts the benchmark CA through NODE_EXTRA_CA_CERTS.
 */
async function ours(stub: string, withState: boolean): Promise<Strategy> {
  const entry = process.env.BENCH_PACKAGE ?? 'passport-wechat-oauth2';
  const { WeChatStrategy, MemoryCallbackStore } = (await import(entry)) as typeof import('passport-wechat-oauth2');
  return new WeChatStrategy(
    {
      clientID: STUB_APPID,
      clientSecret: STUB_SECRET,
      callbackURL: CALLBACK,
      tokenURL: `${stub}/sns/oauth2/access_token`,
      userProfileURL: `${stub}/sns/userinfo`,
      state: withState,
      // BENCH_NO_DUPLICATE_GUARD=1: what the duplicate-callback guard costs (profiling only).
      ...(process.env.BENCH_NO_DUPLICATE_GUARD === '1' ? { duplicateCallbacks: false as const } : {}),
      // BENCH_GUARD_MAX_ENTRIES: the in-memory duplicate store's bound (profiling only).
      ...(process.env.BENCH_GUARD_MAX_ENTRIES ? { duplicateCallbacks: { store: new MemoryCallbackStore({ maxEntries: Number(process.env.BENCH_GUARD_MAX_ENTRIES) }) } } : {}),
    },
    (_accessToken, _refreshToken, profile, done) => done(null, { id: profile.id }),
  ) as unknown as Strategy;
}

/**
 * passport-wechat 2.0.4 (liangyali): wechat-oauth 1.5 calls https://api.weixin.qq.com through
 * urllib 2 with hard-coded URLs. Its default https.Agent (urllib's own, keepAlive off) is kept
 * as is; only its createConnection is redirected to the stub on 127.0.0.1, with the TLS server
 * name (SNI and certificate check) still api.weixin.qq.com. The CA comes from NODE_EXTRA_CA_CERTS.
 */
function passportWechat(stub: string): Strategy {
  const WechatStrategy = require('passport-wechat') as new (options: Record<string, unknown>, verify: (...args: never[]) => void) => Strategy;
  const wechatOAuth = createRequire(require.resolve('passport-wechat'));
  const urllib = createRequire(wechatOAuth.resolve('wechat-oauth'))('urllib') as {
    httpsAgent: { createConnection: (options: ConnectionOptions, callback?: (err: Error | null, socket: TLSSocket) => void) => TLSSocket };
  };
  const port = Number(new URL(stub).port);
  const agent = urllib.httpsAgent;
  const connect = agent.createConnection.bind(agent);
  agent.createConnection = (options, callback) =>
    connect({ ...options, host: '127.0.0.1', port, servername: 'api.weixin.qq.com' }, callback);
  return new WechatStrategy(
    { appID: STUB_APPID, appSecret: STUB_SECRET, client: 'web', callbackURL: CALLBACK, scope: 'snsapi_login', state: 'bench' },
    ((_accessToken: string, _refreshToken: string, profile: { openid: string; unionid?: string }, _expiresIn: number, done: Done) =>
      done(null, { id: profile.unionid ?? profile.openid })) as (...args: never[]) => void,
  );
}

interface NodeOAuth2 {
  _request(method: string, url: string, headers: Record<string, string> | null, body: string | null, accessToken: string | null, callback: (err: unknown, data?: string) => void): void;
  get(url: string, accessToken: string, callback: (err: unknown, data?: string) => void): void;
  getAuthorizeUrl(params?: Record<string, string>): string;
}

/**
 * A bare passport-oauth2 pointed at WeChat's URLs, with the least overriding that logs a user in:
 *  1. the token call: WeChat wants GET ?appid&secret&code&grant_type, node-oauth POSTs
 *     client_id/client_secret/redirect_uri in a form (`_oauth2._request` rewritten for that URL);
 *  2. the profile: sns/userinfo needs the openid from the token answer, which passport-oauth2 does
 *     not hand to userProfile(), so `skipUserProfile: true` and verify (with `params`) calls it;
 *  3. WeChat answers errors with HTTP 200 + errcode: verify checks for the openid / errcode;
 *  4. (the redirect leg, not measured) the authorize URL needs appid, not client_id, and
 *     #wechat_redirect: `_oauth2.getAuthorizeUrl` rewritten.
 * Node's https.globalAgent (keep-alive on since Node 19) carries the calls; the CA comes from
 * NODE_EXTRA_CA_CERTS.
 */
function passportOAuth2(stub: string, withState: boolean): Strategy {
  const OAuth2Strategy = require('passport-oauth2') as new (options: Record<string, unknown>, verify: (...args: never[]) => void) => Strategy & {
    _oauth2: NodeOAuth2;
  };
  const tokenURL = `${stub}/sns/oauth2/access_token`;
  const userinfoURL = `${stub}/sns/userinfo`;
  const strategy = new OAuth2Strategy(
    {
      authorizationURL: 'https://open.weixin.qq.com/connect/qrconnect',
      tokenURL,
      clientID: STUB_APPID,
      clientSecret: STUB_SECRET,
      callbackURL: CALLBACK,
      scope: 'snsapi_login',
      skipUserProfile: true,
      state: withState,
    },
    ((accessToken: string | undefined, _refreshToken: string, params: { openid?: string; errcode?: number }, _profile: unknown, done: Done) => {
      if (!accessToken || !params.openid) return done(null, false, params); // errcode with HTTP 200
      oauth2.get(`${userinfoURL}?openid=${encodeURIComponent(params.openid)}`, accessToken, (err, body) => {
        if (err) return done(err);
        let info: { openid?: string; unionid?: string; errcode?: number; errmsg?: string };
        try {
          info = JSON.parse(body ?? '') as typeof info;
        } catch (error) {
          return done(error);
        }
        if (info.errcode) return done(new Error(`WeChat userinfo errcode ${info.errcode}`));
        done(null, { id: info.unionid ?? info.openid ?? '' });
      });
    }) as (...args: never[]) => void,
  );
  const oauth2 = strategy._oauth2;
  const send = oauth2._request.bind(oauth2);
  oauth2._request = (method, url, headers, body, accessToken, callback) => {
    if (method === 'POST' && url === tokenURL) {
      const form = new URLSearchParams(body ?? '');
      const query = new URLSearchParams({
        appid: form.get('client_id') ?? '',
        secret: form.get('client_secret') ?? '',
        code: form.get('code') ?? '',
        grant_type: 'authorization_code',
      });
      return send('GET', `${url}?${query}`, {}, null, null, callback);
    }
    return send(method, url, headers, body, accessToken, callback);
  };
  oauth2.getAuthorizeUrl = (params = {}) => {
    const query = new URLSearchParams({
      appid: STUB_APPID,
      redirect_uri: params.redirect_uri ?? CALLBACK,
      response_type: 'code',
      scope: params.scope ?? 'snsapi_login',
      ...(params.state ? { state: params.state } : {}),
    });
    return `https://open.weixin.qq.com/connect/qrconnect?${query}#wechat_redirect`;
  };
  return strategy;
}

/**
 * The floor: a minimal correct WeChat strategy with none of this package's safety. undici
 * `request()` through one keep-alive Agent, `body.text()` + `JSON.parse`, an errcode check, a
 * profile of the unionid (else openid) and nickname; with BENCH_STATE, passport-oauth2's own
 * one-nonce-per-session check. No deadline, no size cap, no typed errors or redaction, no duplicate
 * guard, no per-login view, no URL rewrite. Written for this benchmark only, as a reference.
 */
async function minimal(stub: string, ca: Buffer, withState: boolean): Promise<Strategy> {
  const { Strategy: PassportStrategy } = require('passport-strategy') as { Strategy: new () => Strategy & MinimalActions };
  const { Agent, request } = await import('undici');
  const dispatcher = new Agent({ connect: { ca } });
  const getJSON = async (url: string): Promise<Record<string, string | number | undefined>> => {
    const { body } = await request(url, { dispatcher });
    return JSON.parse(await body.text()) as Record<string, string | number | undefined>;
  };
  const stateKey = 'oauth2:open.weixin.qq.com';
  class MinimalWeChatStrategy extends PassportStrategy {
    override name = 'wechat';
    override authenticate(req: MinimalRequest): void {
      const { code, state } = req.query;
      if (typeof code !== 'string' || code === '') {
        let query = `appid=${STUB_APPID}&redirect_uri=${encodeURIComponent(CALLBACK)}&response_type=code&scope=snsapi_login`;
        if (withState) {
          const nonce = randomBytes(16).toString('base64url');
          (req.session as Record<string, unknown>)[stateKey] = { state: nonce };
          query += `&state=${nonce}`;
        }
        return this.redirect(`https://open.weixin.qq.com/connect/qrconnect?${query}#wechat_redirect`);
      }
      if (withState) {
        const stored = (req.session as Record<string, { state?: string } | undefined>)[stateKey];
        delete (req.session as Record<string, unknown>)[stateKey];
        if (!stored?.state || stored.state !== state) return this.fail({ message: 'Invalid authorization request state.' }, 403);
      }
      const done: Done = (err, user, info) => {
        if (err) return this.error(err as Error);
        if (!user) return this.fail(info as object);
        this.success(user, info as object);
      };
      void (async () => {
        const token = await getJSON(`${stub}/sns/oauth2/access_token?appid=${STUB_APPID}&secret=${STUB_SECRET}&code=${encodeURIComponent(code)}&grant_type=authorization_code`);
        if (token.errcode) return this.fail({ message: String(token.errmsg) }, 401);
        const info = await getJSON(`${stub}/sns/userinfo?access_token=${encodeURIComponent(String(token.access_token))}&openid=${encodeURIComponent(String(token.openid))}`);
        if (info.errcode) return this.error(new Error(`WeChat userinfo errcode ${info.errcode}`));
        const profile = { provider: 'wechat', id: String(info.unionid ?? info.openid), displayName: String(info.nickname ?? ''), _json: info };
        if (BURN_US > 0) for (const until = performance.now() + BURN_US / 1000; performance.now() < until; );
        done(null, { id: profile.id });
      })().catch((error: unknown) => this.error(error as Error));
    }
  }
  return new MinimalWeChatStrategy();
}

interface MinimalActions {
  redirect(url: string, status?: number): void;
  success(user: object, info?: object): void;
  fail(challenge: object, status?: number): void;
  error(err: Error): void;
}
interface MinimalRequest {
  query: Record<string, unknown>;
  session?: object;
}

async function main(): Promise<void> {
  const implementation = process.argv[2] as Implementation;
  const stub = process.env.BENCH_STUB_URL ?? '';
  const ca = readFileSync(process.env.BENCH_CA ?? '');
  const withState = process.env.BENCH_STATE === '1';
  const strategy =
    implementation === 'ours' ? await ours(stub, withState)
    : implementation === 'minimal' ? await minimal(stub, ca, withState)
    : implementation === 'passport-wechat' && !withState ? passportWechat(stub)
    : implementation === 'passport-oauth2' ? passportOAuth2(stub, withState)
    : undefined;
  if (!strategy) throw new Error(`unknown implementation ${implementation}${withState ? ' with state' : ''}`);

  const passport = new Passport();
  passport.use('wechat', strategy);
  const app = express();
  app.disable('x-powered-by');
  if (withState) {
    // The usual production shape: a session cookie carries the state nonce from the start of the
    // login to its callback (express-session's MemoryStore, so no store I/O is measured).
    app.use(session({ secret: 'bench-session-secret', resave: false, saveUninitialized: false, name: 'sid' }));
    app.get('/auth/wechat', passport.authenticate('wechat', { session: false }));
  }
  app.use(passport.initialize()); // passport-wechat 2 insists on req._passport
  app.get('/auth/wechat/callback', passport.authenticate('wechat', { session: false, failWithError: true }), (req, res) => {
    res.json({ id: (req.user as LoggedIn).id });
  });
  app.use(((error, _req, res, _next) => {
    res.status(500).json({ error: String((error as { message?: unknown }).message ?? error) });
  }) as ErrorRequestHandler);

  const server = createServer(app);
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  let mark = process.cpuUsage();
  let threadMark = process.threadCpuUsage();
  // Bytes allocated on the JS heap since the mark: the growth between collections, from V8's GC
  // profiler. Unlike CPU time it does not move with the machine's load.
  let gcProfiler: GCProfiler | undefined;
  let heapAtMark = 0;
  const allocatedSinceMark = (): number => {
    const statistics = gcProfiler?.stop()?.statistics ?? [];
    gcProfiler = undefined;
    let allocated = 0;
    let previous = heapAtMark;
    for (const gc of statistics) {
      allocated += Math.max(0, gc.beforeGC.heapStatistics.usedHeapSize - previous);
      previous = gc.afterGC.heapStatistics.usedHeapSize;
    }
    return allocated + Math.max(0, getHeapStatistics().used_heap_size - previous);
  };
  let profiler: import('node:inspector/promises').Session | undefined;
  process.on('message', (message: { type?: string; id?: number; file?: string }) => {
    if (message.type === 'mark') {
      mark = process.cpuUsage();
      threadMark = process.threadCpuUsage();
      gcProfiler?.stop();
      heapAtMark = getHeapStatistics().used_heap_size;
      gcProfiler = new GCProfiler();
      gcProfiler.start();
      process.send?.({ type: 'mark', id: message.id });
    } else if (message.type === 'profile-start') {
      // scripts/bench/profile.ts: V8's sampling profiler over the measured phase only (not start-up
      // or warm-up), the same profile `node --cpu-prof` writes.
      void (async () => {
        const { Session } = await import('node:inspector/promises');
        profiler = new Session();
        profiler.connect();
        await profiler.post('Profiler.enable');
        await profiler.post('Profiler.setSamplingInterval', { interval: Number(process.env.BENCH_PROFILE_INTERVAL_US ?? 100) });
        await profiler.post('Profiler.start');
        process.send?.({ type: 'profile-start', id: message.id });
      })();
    } else if (message.type === 'profile-stop') {
      void (async () => {
        const { profile } = (await profiler?.post('Profiler.stop')) ?? {};
        profiler?.disconnect();
        writeFileSync(String(message.file), JSON.stringify(profile));
        process.send?.({ type: 'profile-stop', id: message.id });
      })();
    } else if (message.type === 'usage') {
      const cpu = process.cpuUsage(mark);
      // The main thread's share; the rest ran on V8's and libuv's helper threads (concurrent GC
      // marking and sweeping, compilation, the thread pool).
      const thread = process.threadCpuUsage(threadMark);
      const allocatedBytes = allocatedSinceMark();
      const maxRssKB = process.resourceUsage().maxRSS;
      // With --expose-gc (BENCH_MEMORY_DETAIL=1): the heap the app keeps, not garbage waiting for a collection.
      (globalThis as { gc?: () => void }).gc?.();
      const total = process.cpuUsage();
      process.send?.({ type: 'usage', id: message.id, cpuMicros: cpu.user + cpu.system, mainThreadCpuMicros: thread.user + thread.system, allocatedBytes, totalCpuMicros: total.user + total.system, maxRssKB, memory: process.memoryUsage() });
    }
  });
  process.on('disconnect', () => {
    server.close(() => process.exit(0));
    server.closeAllConnections();
  });
  process.send?.({ type: 'ready', url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` });
}

await main();
