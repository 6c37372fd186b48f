/**
 * One implementation under benchmark, in its own process: an Express 5 app whose
 * `GET /auth/wechat/callback?code=…` runs a full WeChat login (token → userinfo → verify) against
 * the HTTPS stub, and answers `{ id }`. Started by scripts/bench/run.ts:
 *
 *   node scripts/bench/app.ts <ours|passport-wechat|passport-oauth2>
 *
 * Env: BENCH_STUB_URL (https://127.0.0.1:PORT), BENCH_CA (the CA certificate file),
 * BENCH_PACKAGE (this package's built ESM entry; a snapshot, so a rebuild mid-run cannot change
 * it). The two peers trust the CA through NODE_EXTRA_CA_CERTS, which run.ts sets before spawning.
 *
 * All three: `session: false`, no state nonce (passport-wechat has none; the others turn it off),
 * so each measures exactly callback → token → userinfo → verify.
 */
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import type { ConnectionOptions, TLSSocket } from 'node:tls';
import express, { type ErrorRequestHandler } from 'express';
import { Passport, type Strategy } from 'passport';
import { STUB_APPID, STUB_SECRET } from './stub.ts';

export type Implementation = 'ours' | 'passport-wechat' | 'passport-oauth2';

const require = createRequire(import.meta.url);
const CALLBACK = 'https://app.example.com/auth/wechat/callback';

interface LoggedIn {
  id: string;
}
type Done = (err: unknown, user?: LoggedIn | false, info?: unknown) => void;

/** passport-wechat-oauth2, with an undici Agent that trusts the benchmark CA. */
async function ours(stub: string, ca: Buffer): Promise<Strategy> {
  const entry = process.env.BENCH_PACKAGE ?? 'passport-wechat-oauth2';
  const { WeChatStrategy } = (await import(entry)) as typeof import('passport-wechat-oauth2');
  const { Agent } = await import('undici');
  return new WeChatStrategy(
    {
      clientID: STUB_APPID,
      clientSecret: STUB_SECRET,
      callbackURL: CALLBACK,
      tokenURL: `${stub}/sns/oauth2/access_token`,
      userProfileURL: `${stub}/sns/userinfo`,
      state: false,
      dispatcher: new Agent({ connect: { ca } }),
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
function passportOAuth2(stub: string): Strategy {
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

async function main(): Promise<void> {
  const implementation = process.argv[2] as Implementation;
  const stub = process.env.BENCH_STUB_URL ?? '';
  const ca = readFileSync(process.env.BENCH_CA ?? '');
  const strategy =
    implementation === 'ours' ? await ours(stub, ca)
    : implementation === 'passport-wechat' ? passportWechat(stub)
    : implementation === 'passport-oauth2' ? passportOAuth2(stub)
    : undefined;
  if (!strategy) throw new Error(`unknown implementation ${implementation}`);

  const passport = new Passport();
  passport.use('wechat', strategy);
  const app = express();
  app.disable('x-powered-by');
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
  process.on('message', (message: { type?: string; id?: number }) => {
    if (message.type === 'mark') {
      mark = process.cpuUsage();
      process.send?.({ type: 'mark', id: message.id });
    } else if (message.type === 'usage') {
      const cpu = process.cpuUsage(mark);
      process.send?.({ type: 'usage', id: message.id, cpuMicros: cpu.user + cpu.system, maxRssKB: process.resourceUsage().maxRSS });
    }
  });
  process.on('disconnect', () => {
    server.close(() => process.exit(0));
    server.closeAllConnections();
  });
  process.send?.({ type: 'ready', url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` });
}

await main();
