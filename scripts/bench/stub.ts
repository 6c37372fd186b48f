/**
 * A minimal, stateless WeChat API stub for the soak and the benchmark: `sns/oauth2/access_token`
 * and `sns/userinfo` answered at once, over http or https, on 127.0.0.1 only. Stateless on
 * purpose: nothing it keeps grows with the number of logins, so a long soak measures the client.
 *
 * It still checks what WeChat checks (appid, secret, grant_type, the code, the token/openid pair)
 * and answers in WeChat's shape: HTTP 200 whatever happened, JSON as text/plain, slashes escaped
 * (wechat-api.md §0, §4, §6).
 *
 * Codes are `c<serial>u<user>`; the access token carries the user, so userinfo needs no store.
 *
 * Run as a child process (`node scripts/bench/stub.ts`): it reports `{ port }` over IPC, then
 * answers `{ type: 'stats' }` with its counters. Env: STUB_TLS_KEY / STUB_TLS_CERT (file paths;
 * https when set), STUB_APPID, STUB_SECRET.
 */
import { readFileSync } from 'node:fs';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';

export const STUB_APPID = 'wx5f3c2a9e8d1b7046';
export const STUB_SECRET = '3f9a1c7e5b2d4068a1c3e5f7092b4d6e';

export interface StubStats {
  /** TCP connections accepted. */
  connections: number;
  /** TCP connections open now. */
  open: number;
  /** TLS handshakes completed (0 over plain http). */
  tlsHandshakes: number;
  /** TLS handshakes that resumed a session. */
  tlsResumed: number;
  requests: number;
  tokenCalls: number;
  userinfoCalls: number;
  /** Answers that carried an errcode (a stub or client bug if non-zero in a benchmark). */
  errors: number;
}

export interface StubOptions {
  tls?: { key: string | Buffer; cert: string | Buffer };
  appid?: string;
  secret?: string;
  /** Server keep-alive for idle connections, ms. Default 60 s (nginx's default is 75 s). */
  keepAliveTimeout?: number;
}

/** The openid and unionid a stub user has: 28 characters starting with `o`, like WeChat's (§0). */
export function stubIds(user: number): { openid: string; unionid: string } {
  const digits = String(user).padStart(10, '0');
  return { openid: `oRrdQt2LF0SpCODdV4Kh${digits.slice(-8)}`, unionid: `oU5Yyt8X-WpQeBsNFS4H${digits.slice(-8)}` };
}

/** A code WeChat might have issued to `user`. */
export function stubCode(serial: number, user: number): string {
  return `c${serial}u${user}`;
}

const CODE = /^c\d+u(\d+)$/;
const TOKEN = /^86_u(\d+)_/;
const TOKEN_PADDING = 'x'.repeat(96); // real tokens are ~110 characters (§0)
const AVATAR = 'http:\\/\\/thirdwx.qlogo.cn\\/mmopen\\/vi_32\\/Q0j4TwGTfTKLeBsNFS4HuvmDwEhs\\/132';

export async function startStub(options: StubOptions = {}): Promise<{ url: string; stats: () => StubStats; close: () => Promise<void> }> {
  const appid = options.appid ?? STUB_APPID;
  const secret = options.secret ?? STUB_SECRET;
  const stats: StubStats = { connections: 0, open: 0, tlsHandshakes: 0, tlsResumed: 0, requests: 0, tokenCalls: 0, userinfoCalls: 0, errors: 0 };

  const answer = (res: ServerResponse, body: string): void => {
    res.writeHead(200, { 'content-type': 'text/plain', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  };
  const fail = (res: ServerResponse, errcode: number, errmsg: string): void => {
    stats.errors += 1;
    answer(res, `{"errcode":${errcode},"errmsg":"${errmsg}, rid: 65a33cd8-023106e1-2dc7e2f6"}`);
  };

  const handler = (req: IncomingMessage, res: ServerResponse): void => {
    stats.requests += 1;
    const url = new URL(req.url ?? '/', 'http://stub.invalid');
    const q = url.searchParams;
    if (url.pathname === '/sns/oauth2/access_token') {
      stats.tokenCalls += 1;
      if (q.get('appid') !== appid) return fail(res, 40013, 'invalid appid');
      if (q.get('secret') !== secret) return fail(res, 40125, 'invalid appsecret');
      if (q.get('grant_type') !== 'authorization_code') return fail(res, 40002, 'invalid grant_type');
      const user = CODE.exec(q.get('code') ?? '')?.[1];
      if (user === undefined) return fail(res, 40029, 'invalid code');
      const { openid, unionid } = stubIds(Number(user));
      return answer(
        res,
        `{"access_token":"86_u${user}_${TOKEN_PADDING}","expires_in":7200,"refresh_token":"86_r${user}_${TOKEN_PADDING}",` +
          `"openid":"${openid}","scope":"snsapi_login","unionid":"${unionid}"}`,
      );
    }
    if (url.pathname === '/sns/userinfo') {
      stats.userinfoCalls += 1;
      const user = TOKEN.exec(q.get('access_token') ?? '')?.[1];
      if (user === undefined) return fail(res, 40001, 'invalid credential, access_token is invalid or not latest');
      const { openid, unionid } = stubIds(Number(user));
      if (q.get('openid') !== openid) return fail(res, 40003, 'invalid openid');
      return answer(
        res,
        `{"openid":"${openid}","nickname":"User ${user}","sex":0,"language":"","city":"","province":"","country":"",` +
          `"headimgurl":"${AVATAR}","privilege":[],"unionid":"${unionid}"}`,
      );
    }
    res.writeHead(404, { 'content-type': 'text/html' }).end('<html><body>404 Not Found</body></html>');
  };

  const server = options.tls ? https.createServer({ key: options.tls.key, cert: options.tls.cert }, handler) : http.createServer(handler);
  server.keepAliveTimeout = options.keepAliveTimeout ?? 60_000;
  server.on('connection', (socket: { once(event: 'close', listener: () => void): void }) => {
    stats.connections += 1;
    stats.open += 1;
    socket.once('close', () => {
      stats.open -= 1;
    });
  });
  server.on('secureConnection', (socket: { isSessionReused(): boolean }) => {
    stats.tlsHandshakes += 1;
    if (socket.isSessionReused()) stats.tlsResumed += 1;
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `${options.tls ? 'https' : 'http'}://127.0.0.1:${port}`,
    stats: () => ({ ...stats }),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

// As a child process: start, report the URL, answer stats requests, stop when the parent goes.
if (import.meta.main) {
  const key = process.env.STUB_TLS_KEY;
  const cert = process.env.STUB_TLS_CERT;
  const stub = await startStub({
    ...(key && cert ? { tls: { key: readFileSync(key), cert: readFileSync(cert) } } : {}),
  });
  process.on('message', (message: { type?: string; id?: number }) => {
    if (message.type === 'stats') process.send?.({ type: 'stats', id: message.id, stats: stub.stats() });
  });
  process.on('disconnect', () => {
    void stub.close().then(() => process.exit(0));
  });
  process.send?.({ type: 'ready', url: stub.url });
}
