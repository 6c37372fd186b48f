/**
 * WeChat mocked with nock at the network edge: the hooks a test file registers, and interceptors
 * for a login's two calls with WeChat's exact queries (any parameter added, missing or misspelt
 * makes the interceptor miss).
 */
import nock from 'nock';
import { afterAll, afterEach, beforeAll, beforeEach, expect } from 'vitest';
import { TEXT, WECHAT_API, tokenBody, type WeChatTestLogin } from './wechat.js';

export interface NockAtTheEdgeOptions {
  /** Let requests to 127.0.0.1 through: a supertest app, or a local server a test starts. */
  allowLocalhost?: boolean;
  /**
   * Also fail a test that sent a request no interceptor matched (a retry, a followed redirect, a
   * stray call). Requests to 127.0.0.1 are reached on purpose and not counted.
   */
  failOnUnmatched?: boolean;
}

/**
 * Call at the top of a test file: no request leaves the machine while it runs, and after each test
 * every interceptor it set up must have been used (then all are removed).
 */
export function useNockAtTheEdge({ allowLocalhost = false, failOnUnmatched = false }: NockAtTheEdgeOptions = {}): void {
  let unmatched: string[] = [];
  const recordUnmatched = (req: { href?: string; url?: string }) => {
    const url = String(req.href ?? req.url);
    if (!url.startsWith('http://127.0.0.1:')) unmatched.push(url);
  };

  beforeAll(() => {
    nock.disableNetConnect();
    if (allowLocalhost) nock.enableNetConnect('127.0.0.1');
    if (failOnUnmatched) nock.emitter.on('no match', recordUnmatched);
  });
  beforeEach(() => {
    unmatched = [];
  });
  afterEach(() => {
    const pending = nock.pendingMocks();
    nock.cleanAll();
    expect(pending, 'every WeChat call the test expected was made').toEqual([]);
    if (failOnUnmatched) expect(unmatched, 'no request went anywhere unexpected').toEqual([]);
  });
  afterAll(() => {
    nock.emitter.removeListener('no match', recordUnmatched);
    nock.enableNetConnect();
  });
}

/**
 * `mockToken()` and `mockUserInfo()` for `login`: sns/oauth2/access_token with the login's AppID,
 * AppSecret and code, and sns/userinfo with its access token and openid, each answering 200 with
 * `body` labelled text/plain, as WeChat does (errors included).
 */
export function mockWeChatLogin(login: WeChatTestLogin, userinfo: string) {
  return {
    mockToken(body = tokenBody(login), code = login.code) {
      return nock(WECHAT_API)
        .get('/sns/oauth2/access_token')
        .query({ appid: login.appid, secret: login.secret, code, grant_type: 'authorization_code' })
        .reply(200, body, TEXT);
    },
    mockUserInfo(body = userinfo, query: Record<string, string> = { access_token: login.accessToken, openid: login.openid }) {
      return nock(WECHAT_API).get('/sns/userinfo').query(query).reply(200, body, TEXT);
    },
  };
}
