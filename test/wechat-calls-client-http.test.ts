/**
 * What the WeChat client sends and how it reads WeChat's HTTP answer at the edges: the request
 * line and headers WeChat receives, the HTTP status ranges, a Content-Length right at the
 * maxResponseBytes limit, connections released after an answer it refuses, and how a network
 * failure is named. WeChat is a local HTTP server (to see real headers and sockets) or nock.
 */
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import nock from 'nock';
import { Agent } from 'undici';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_ENDPOINTS, WeChatClient, type WeChatClientOptions } from '../lib/client.js';
import { WeChatRequestError, WeChatResponseError, type WeChatError } from '../lib/errors.js';
import { useNockAtTheEdge } from './helpers/nock.js';
import { rejectionWithoutSecrets } from './helpers/secrets.js';
import { APPID, CODE, SECRET, TEXT, WEBSITE_LOGIN, WECHAT_API, tokenBody } from './helpers/wechat.js';

const TOKEN = tokenBody(WEBSITE_LOGIN);

function newClient(options: Partial<WeChatClientOptions> = {}): WeChatClient {
  return new WeChatClient({
    appId: APPID,
    appSecret: SECRET,
    endpoints: DEFAULT_ENDPOINTS,
    timeout: 5_000,
    maxResponseBytes: 64 * 1024,
    ...options,
  });
}

function failure(call: Promise<unknown>): Promise<WeChatError> {
  return rejectionWithoutSecrets(call, [SECRET, CODE]);
}

const tokenCall = () =>
  nock(WECHAT_API).get('/sns/oauth2/access_token').query({ appid: APPID, secret: SECRET, code: CODE, grant_type: 'authorization_code' });

useNockAtTheEdge({ allowLocalhost: true, failOnUnmatched: true });

describe('the request WeChat receives', () => {
  let server: http.Server;
  let base: string;
  const received: http.IncomingHttpHeaders[] = [];
  const methods: string[] = [];

  beforeAll(async () => {
    server = http.createServer((req, res) => {
      received.push(req.headers);
      methods.push(req.method ?? '');
      res.writeHead(200, TEXT).end(TOKEN);
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  it("asks for JSON or text with an Accept header, since WeChat labels its JSON text/plain", async () => {
    const client = newClient({ endpoints: { ...DEFAULT_ENDPOINTS, tokenURL: `${base}/sns/oauth2/access_token` } });

    await client.exchangeCode(CODE);

    expect(methods.at(-1)).toBe('GET');
    expect(received.at(-1)?.accept).toBe('application/json, text/plain, */*');
  });
});

describe('HTTP statuses other than 200', () => {
  it.each([
    [300, 'WECHAT_REDIRECT'],
    [301, 'WECHAT_REDIRECT'],
    [399, 'WECHAT_REDIRECT'],
    [400, 'WECHAT_HTTP_ERROR'],
    [204, 'WECHAT_HTTP_ERROR'],
    [201, 'WECHAT_HTTP_ERROR'],
  ] as const)('reports HTTP %i as %s, not as a token answer', async (status, code) => {
    tokenCall().reply(status, status === 204 ? undefined : TOKEN, { ...TEXT, Location: 'https://elsewhere.example/' });

    const err = await failure(newClient().exchangeCode(CODE));

    expect(err).toBeInstanceOf(WeChatResponseError);
    expect(err).toMatchObject({ code, status, retryable: false });
  });

  it.each([500, 503])('lets a login retry later after HTTP %i from WeChat or a proxy', async (status) => {
    tokenCall().reply(status, 'Internal Server Error', TEXT);

    const err = await failure(newClient().exchangeCode(CODE));

    expect(err).toMatchObject({ code: 'WECHAT_HTTP_ERROR', status, retryable: true });
  });
});

describe('a local WeChat with real sockets', () => {
  let server: http.Server;
  let base: string;

  beforeAll(async () => {
    server = http.createServer((req, res) => {
      if (req.url?.startsWith('/exact')) {
        res.writeHead(200, { ...TEXT, 'Content-Length': String(Buffer.byteLength(TOKEN)) }).end(TOKEN);
      } else if (req.url?.startsWith('/stalled-error-page')) {
        // A proxy's error page whose body never ends: only the client can let go of the socket.
        res.writeHead(502, { 'Content-Type': 'text/html' });
        res.write(`<html><body>${'Bad Gateway '.repeat(1000)}`);
      } else {
        res.writeHead(200, TEXT).end(TOKEN);
      }
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  const at = (path: string, options: Partial<WeChatClientOptions> = {}) =>
    newClient({ ...options, endpoints: { ...DEFAULT_ENDPOINTS, tokenURL: `${base}${path}` } });

  it('accepts an answer whose Content-Length announces exactly maxResponseBytes', async () => {
    const token = await at('/exact', { maxResponseBytes: Buffer.byteLength(TOKEN) }).exchangeCode(CODE);

    expect(token.openid).toBe(WEBSITE_LOGIN.openid);
  });

  it('refuses an answer whose Content-Length announces one byte more than maxResponseBytes', async () => {
    const err = await failure(at('/exact', { maxResponseBytes: Buffer.byteLength(TOKEN) - 1 }).exchangeCode(CODE));

    expect(err).toMatchObject({ code: 'WECHAT_RESPONSE_TOO_LARGE' });
  });

  it("lets go of the connection after refusing an answer, so the next login on a one-connection dispatcher is not stuck behind it", async () => {
    const dispatcher = new Agent({ connections: 1 });
    try {
      // The first login's own deadline is far away: only releasing the socket frees the connection in time.
      const err = await failure(at('/stalled-error-page', { dispatcher, timeout: 60_000 }).exchangeCode(CODE));
      expect(err).toMatchObject({ code: 'WECHAT_HTTP_ERROR', status: 502 });

      const token = await at('/token', { dispatcher, timeout: 3_000 }).exchangeCode(CODE);

      expect(token.access_token).toBe(WEBSITE_LOGIN.accessToken);
    } finally {
      await dispatcher.destroy();
    }
  });
});

describe('a network failure', () => {
  it("names the code of a failure whose message is empty, as Node's AggregateError of a refused connect has", async () => {
    tokenCall().replyWithError(Object.assign(new AggregateError([], ''), { code: 'ECONNREFUSED' }));

    const err = await failure(newClient().exchangeCode(CODE));

    expect(err).toBeInstanceOf(WeChatRequestError);
    expect(err.code).toBe('WECHAT_NETWORK_ERROR');
    expect(err.message).toContain('ECONNREFUSED');
  });

  it('says which call could not reach WeChat, and nothing made up, when the failure has neither message nor code', async () => {
    tokenCall().replyWithError(new Error(''));

    const err = await failure(newClient().exchangeCode(CODE));

    expect(err.code).toBe('WECHAT_NETWORK_ERROR');
    expect(err.message).toMatch(/WeChat access_token$/);
    expect(err.message).not.toContain('undefined');
  });
});

afterEach(() => {
  expect(nock.isDone()).toBe(true);
});
