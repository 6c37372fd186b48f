/**
 * What a whole login does when WeChat (or something in between) misbehaves at the byte level:
 * a real node:http server on 127.0.0.1 hangs, drips, floods, resets, answers HTML, broken JSON,
 * a redirect or nothing. Each login must end in Passport's `error` with a typed WeChatError, hold
 * no secret, keep memory bounded and never follow a redirect. The strategy's timeout is short, so a
 * broken guard (no deadline, no size cap) fails here at once with the wrong error code; a login
 * that does not end at all fails after GUARD_MS with a message saying so, not as a hung worker.
 * How fast anything is, is measured by `npm run bench`, not asserted here.
 * (No nock here: nock and an aborted undici request trip an uncaught assertion.)
 */
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  WeChatError,
  WeChatRequestError,
  WeChatResponseError,
  WeChatStrategy,
  type WeChatErrorCode,
} from '../lib/index.js';
import { authenticate, sessionWithState, type Outcome } from './helpers/passport.js';
import { expectNoSecrets } from './helpers/secrets.js';
import { ACCESS_TOKEN, APPID, CODE, OPENID, REFRESH_TOKEN, SECRET, STATE, UNIONID, WEBSITE_LOGIN, tokenBody } from './helpers/wechat.js';

const SECRETS = [SECRET, CODE, ACCESS_TOKEN, REFRESH_TOKEN];

const TIMEOUT_MS = 500;
/**
 * The timeout of a login through a fault that ends on its own (a reset, an HTML page, a redirect):
 * long enough that a loaded machine still sees the fault before the deadline, so the expected code
 * does not turn into WECHAT_TIMEOUT; GUARD_MS still catches a login that never ends.
 */
const RELAXED_TIMEOUT_MS = 4_000;
/**
 * A login still running this long after it started has not ended at all (the deadline is
 * TIMEOUT_MS): the test stops waiting and fails with that, well before vitest's own timeout.
 */
const GUARD_MS = 5_000;
const MiB = 1024 * 1024;
/** What the flood offers: far more than maxResponseBytes (1 MiB by default), and then it stops. */
const FLOOD_BYTES = 64 * MiB;

const TOKEN_BODY = tokenBody(WEBSITE_LOGIN);
const USERINFO_BODY = JSON.stringify({
  openid: OPENID,
  nickname: '张三',
  sex: 0,
  language: '',
  city: '',
  province: '',
  country: '',
  headimgurl: 'http://thirdwx.qlogo.cn/mmopen/vi_32/Q0j4TwGTfTK/132',
  privilege: [],
  unionid: UNIONID,
});
const NGINX_502 =
  '<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n' +
  '<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n';

type Fault =
  | 'hang'
  | 'drip-head'
  | 'drip-body'
  | 'flood-64MiB'
  | 'declare-64MiB'
  | 'close'
  | 'reset'
  | 'reset-mid-body'
  | 'html-502'
  | 'malformed-json'
  | 'redirect-302'
  | 'redirect-307'
  | 'empty-body';

type Target = 'access_token' | 'userinfo';

/** What each fault must end in: the error class, its stable code, and whether it waits for the deadline. */
const EXPECTED: Record<Fault, { kind: typeof WeChatError; code: WeChatErrorCode; waitsForDeadline: boolean }> = {
  hang: { kind: WeChatRequestError, code: 'WECHAT_TIMEOUT', waitsForDeadline: true },
  'drip-head': { kind: WeChatRequestError, code: 'WECHAT_TIMEOUT', waitsForDeadline: true },
  'drip-body': { kind: WeChatRequestError, code: 'WECHAT_TIMEOUT', waitsForDeadline: true },
  'flood-64MiB': { kind: WeChatResponseError, code: 'WECHAT_RESPONSE_TOO_LARGE', waitsForDeadline: false },
  'declare-64MiB': { kind: WeChatResponseError, code: 'WECHAT_RESPONSE_TOO_LARGE', waitsForDeadline: false },
  close: { kind: WeChatRequestError, code: 'WECHAT_NETWORK_ERROR', waitsForDeadline: false },
  reset: { kind: WeChatRequestError, code: 'WECHAT_NETWORK_ERROR', waitsForDeadline: false },
  'reset-mid-body': { kind: WeChatRequestError, code: 'WECHAT_NETWORK_ERROR', waitsForDeadline: false },
  'html-502': { kind: WeChatResponseError, code: 'WECHAT_HTTP_ERROR', waitsForDeadline: false },
  'malformed-json': { kind: WeChatResponseError, code: 'WECHAT_MALFORMED_RESPONSE', waitsForDeadline: false },
  'redirect-302': { kind: WeChatResponseError, code: 'WECHAT_REDIRECT', waitsForDeadline: false },
  'redirect-307': { kind: WeChatResponseError, code: 'WECHAT_REDIRECT', waitsForDeadline: false },
  'empty-body': { kind: WeChatResponseError, code: 'WECHAT_MALFORMED_RESPONSE', waitsForDeadline: false },
};

// ---------------------------------------------------------------------------
// The misbehaving WeChat: one bare node:http server, one fault armed at a time
// ---------------------------------------------------------------------------

interface Hit {
  path: string;
  /** Resolves when the client's connection for this request is gone or the answer was finished. */
  done: Promise<void>;
}

let server: http.Server;
let base = '';
let armed: { target: Target; fault: Fault } | undefined;
const hits: Hit[] = [];
/** Bytes of the 64 MiB answer actually written before the client hung up. */
let floodWritten = 0;
const timers = new Set<NodeJS.Timeout>();

function endpointOf(path: string): Target | 'trap' | 'unknown' {
  if (path === '/sns/oauth2/access_token') return 'access_token';
  if (path === '/sns/userinfo') return 'userinfo';
  if (path.startsWith('/trap')) return 'trap';
  return 'unknown';
}

function handle(req: IncomingMessage, res: ServerResponse): void {
  const url = new URL(req.url ?? '/', base);
  const endpoint = endpointOf(url.pathname);
  hits.push({
    path: url.pathname,
    done: new Promise((resolve) => res.once('close', () => resolve())),
  });
  if (endpoint === 'trap' || endpoint === 'unknown') {
    res.writeHead(404).end();
    return;
  }
  if (armed?.target === endpoint) {
    misbehave(armed.fault, req, res);
    return;
  }
  res.writeHead(200, { 'content-type': 'text/plain' }).end(endpoint === 'access_token' ? TOKEN_BODY : USERINFO_BODY);
}

function misbehave(fault: Fault, req: IncomingMessage, res: ServerResponse): void {
  const socket = req.socket;
  const body = armed?.target === 'access_token' ? TOKEN_BODY : USERINFO_BODY;
  switch (fault) {
    case 'hang':
      return; // never answer; the socket stays open until the client gives up
    case 'drip-head':
      // Status line, headers and body, one byte every 20 ms, straight onto the socket.
      return drip(socket, `HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
    case 'drip-body':
      res.writeHead(200, { 'content-type': 'text/plain', 'content-length': Buffer.byteLength(body) + 2_000 });
      res.flushHeaders();
      return drip(socket, body + ' '.repeat(2_000));
    case 'flood-64MiB':
      return flood(res, FLOOD_BYTES);
    case 'declare-64MiB':
      // Says 64 MiB up front; sends a little and then waits.
      res.writeHead(200, { 'content-type': 'text/plain', 'content-length': 64 * MiB });
      res.write('{"access_token":"');
      return;
    case 'close':
      socket.destroy(); // a plain close (FIN) without a word
      return;
    case 'reset':
      socket.resetAndDestroy(); // TCP RST
      return;
    case 'reset-mid-body':
      res.writeHead(200, { 'content-type': 'text/plain', 'content-length': Buffer.byteLength(body) });
      res.write(body.slice(0, 20));
      setTimeout(() => socket.resetAndDestroy(), 20);
      return;
    case 'html-502':
      res.writeHead(502, { 'content-type': 'text/html', server: 'nginx' }).end(NGINX_502);
      return;
    case 'malformed-json':
      res.writeHead(200, { 'content-type': 'text/plain' }).end(body.slice(0, body.length / 2));
      return;
    case 'redirect-302':
    case 'redirect-307':
      // The trap would be requested with the same query string, secret and code included.
      res.writeHead(fault === 'redirect-302' ? 302 : 307, { location: `${base}/trap${new URL(req.url ?? '/', base).search}`, 'content-type': 'text/html' });
      res.end('<html><body>Moved</body></html>');
      return;
    case 'empty-body':
      res.writeHead(200, { 'content-type': 'text/plain', 'content-length': 0 }).end();
      return;
  }
}

function drip(socket: Socket, text: string): void {
  const bytes = Buffer.from(text);
  let at = 0;
  const timer = setInterval(() => {
    if (socket.destroyed || at >= bytes.length) {
      clearInterval(timer);
      timers.delete(timer);
      return;
    }
    socket.write(bytes.subarray(at, at + 1));
    at += 1;
  }, 20);
  timers.add(timer);
  socket.once('close', () => {
    clearInterval(timer);
    timers.delete(timer);
  });
}

/** Streams `total` bytes of JSON-ish text from one reused 64 KiB buffer, honouring backpressure. */
function flood(res: ServerResponse, total: number): void {
  const chunk = Buffer.alloc(64 * 1024, 'a');
  floodWritten = 0;
  res.writeHead(200, { 'content-type': 'text/plain' }); // chunked: no length to refuse up front
  res.write('{"access_token":"');
  const pump = (): void => {
    while (floodWritten < total && !res.destroyed) {
      floodWritten += chunk.length;
      if (!res.write(chunk)) return void res.once('drain', pump);
    }
    if (!res.destroyed) res.end('"}');
  };
  pump();
}

// ---------------------------------------------------------------------------
// A full login, driven the way Passport drives it
// ---------------------------------------------------------------------------

function newStrategy(timeout = TIMEOUT_MS): WeChatStrategy {
  return new WeChatStrategy(
    {
      clientID: APPID,
      clientSecret: SECRET,
      callbackURL: 'https://example.com/auth/wechat/callback',
      tokenURL: `${base}/sns/oauth2/access_token`,
      userProfileURL: `${base}/sns/userinfo`,
      refreshTokenURL: `${base}/sns/oauth2/refresh_token`,
      checkTokenURL: `${base}/sns/auth`,
      timeout,
    },
    (_accessToken, _refreshToken, profile, done) => done(null, { id: profile.id }),
  );
}

/** One login's outcome, and how long it took; rejects if it has not ended after GUARD_MS. */
async function login(strategy = newStrategy()): Promise<{ outcome: Outcome; ms: number }> {
  const started = performance.now();
  let guard: NodeJS.Timeout | undefined;
  const stuck = new Promise<never>((_resolve, reject) => {
    guard = setTimeout(
      () => reject(new Error(`the login had not ended ${GUARD_MS} ms after it started, with a ${TIMEOUT_MS} ms timeout: the deadline does not bound the exchange`)),
      GUARD_MS,
    );
  });
  try {
    const outcome = await Promise.race([
      authenticate(strategy, {
        query: { code: CODE, state: STATE },
        session: sessionWithState(STATE),
        url: `/auth/wechat/callback?code=${CODE}&state=${STATE}`,
      }),
      stuck,
    ]);
    return { outcome, ms: performance.now() - started };
  } finally {
    clearTimeout(guard);
  }
}

function errorOf(outcome: Outcome): Error {
  if (outcome.action !== 'error') throw new Error(`expected the error action, got ${JSON.stringify(outcome)}`);
  return outcome.error;
}

beforeAll(async () => {
  server = http.createServer(handle);
  server.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterEach(() => {
  armed = undefined;
  hits.length = 0;
});

afterAll(async () => {
  for (const timer of timers) clearInterval(timer);
  const closed = new Promise((resolve) => server.close(resolve));
  server.closeAllConnections();
  await closed;
});

describe('a login against a healthy server (the harness itself)', () => {
  it('succeeds with the unionid as id, one token call and one userinfo call', async () => {
    const { outcome } = await login();
    expect(outcome).toMatchObject({ action: 'success', user: { id: UNIONID } });
    expect(hits.map((hit) => hit.path)).toEqual(['/sns/oauth2/access_token', '/sns/userinfo']);
  });
});

const FAULTS = Object.keys(EXPECTED) as Fault[];
const TARGETS: Target[] = ['access_token', 'userinfo'];

describe.each(TARGETS)('when %s misbehaves', (target) => {
  it.each(FAULTS)('%s: ends with a typed error, no secret, no redirect followed', async (fault) => {
    armed = { target, fault };
    const rssBefore = process.memoryUsage().rss;
    let rssPeak = rssBefore;
    const sampler = setInterval(() => {
      rssPeak = Math.max(rssPeak, process.memoryUsage().rss);
    }, 5);
    let result: Awaited<ReturnType<typeof login>>;
    try {
      result = await login(newStrategy(EXPECTED[fault].waitsForDeadline ? TIMEOUT_MS : RELAXED_TIMEOUT_MS));
    } finally {
      clearInterval(sampler);
    }
    rssPeak = Math.max(rssPeak, process.memoryUsage().rss);
    const { outcome, ms } = result;
    const expected = EXPECTED[fault];

    // A typed error through Passport's error action, with the stable code.
    const error = errorOf(outcome);
    expect(error).toBeInstanceOf(expected.kind);
    expect(error).toBeInstanceOf(WeChatError);
    expect((error as WeChatError).code).toBe(expected.code);
    if (fault === 'html-502') expect(error).toMatchObject({ status: 502, retryable: true });
    if (fault.startsWith('redirect-')) expect((error as WeChatError).status).toBe(Number(fault.slice(-3)));

    // The deadline bounds the whole call, body included (login() fails a login that does not end);
    // a fault that never finishes its answer ends at the deadline, not before. The other faults
    // end without it: their code is not WECHAT_TIMEOUT.
    if (expected.waitsForDeadline) expect(ms).toBeGreaterThanOrEqual(TIMEOUT_MS - 50);

    // Nothing secret in any rendering of the error (message, stack, String, JSON, inspect with causes).
    expectNoSecrets(error, SECRETS);

    // The calls WeChat saw: the token call, the userinfo call only when the token call worked,
    // and never the redirect's Location.
    const paths = hits.map((hit) => hit.path);
    expect(paths).toEqual(target === 'access_token' ? ['/sns/oauth2/access_token'] : ['/sns/oauth2/access_token', '/sns/userinfo']);
    expect(paths.filter((path) => path.startsWith('/trap'))).toEqual([]);

    // The client let go of the faulty answer: its request is closed, not left hanging.
    const faulty = hits.at(-1) as Hit;
    await expect(Promise.race([faulty.done.then(() => 'closed'), delay(1_000).then(() => 'still open')])).resolves.toBe('closed');

    if (fault === 'flood-64MiB') {
      // Read at most ~1 MiB (maxResponseBytes), then hung up: the server never got to send all it
      // offered, and this process did not grow by anything near it.
      expect(floodWritten, `the server wrote ${floodWritten} of the ${FLOOD_BYTES} bytes it offered before the client hung up`).toBeLessThan(16 * MiB);
      expect(rssPeak - rssBefore).toBeLessThan(32 * MiB);
    }
  });
});

describe('after the faults', () => {
  it('the same strategy still logs users in (no poisoned pool or leftover state)', async () => {
    const strategy = newStrategy();
    for (const fault of ['reset', 'hang', 'flood-64MiB'] as const) {
      armed = { target: 'userinfo', fault };
      expect((await login(strategy)).outcome.action).toBe('error');
    }
    armed = undefined;
    hits.length = 0;
    const { outcome } = await login(strategy);
    expect(outcome).toMatchObject({ action: 'success', user: { id: UNIONID } });
    expect(hits.map((hit) => hit.path)).toEqual(['/sns/oauth2/access_token', '/sns/userinfo']);
  });

  it('twenty 64 MiB floods in a row keep memory bounded (each read stops at maxResponseBytes)', async () => {
    armed = { target: 'userinfo', fault: 'flood-64MiB' };
    const strategy = newStrategy();
    for (let i = 0; i < 3; i++) await login(strategy); // warm up
    const before = process.memoryUsage().rss;
    let peak = before;
    // Bounded in count; 20 x 64 MiB offered = 1.25 GiB that must not be read.
    for (let i = 0; i < 20; i++) {
      expect(errorOf((await login(strategy)).outcome)).toMatchObject({ code: 'WECHAT_RESPONSE_TOO_LARGE' });
      peak = Math.max(peak, process.memoryUsage().rss);
    }
    expect(peak - before).toBeLessThan(48 * MiB);
  });
});

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
