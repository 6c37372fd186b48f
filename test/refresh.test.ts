/**
 * passport-oauth2-refresh drives the strategy's OAuth2 adapter by itself (it constructs a copy
 * and calls getOAuthAccessToken with grant_type=refresh_token); it must work unchanged.
 */
import { inspect } from 'node:util';
import nock from 'nock';
import refresh from 'passport-oauth2-refresh';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { WeChatStrategy, WeChatTokenError } from '../lib/index.js';

const APPID = 'wx1f2e3d4c5b6a7980';
const SECRET = 'c0ffee00c0ffee00c0ffee00c0ffee00';
const REFRESH_TOKEN = '86_refreshTokenYYYYYYYYYYYYYYYYYYYYYYYYYYYYYYYYYYYYYYYY';
const OPENID = 'oRrdQt2LF0SpCODdV4KhLuEoPgwg';

function register(name: string) {
  const strategy = new WeChatStrategy({ clientID: APPID, clientSecret: SECRET, callbackURL: 'https://a.example/cb' }, (_a, _r, p, d) =>
    d(null, p),
  );
  refresh.use(name, strategy);
  return strategy;
}

function requestNewAccessToken(name: string, token: string) {
  return new Promise<{ err: unknown; accessToken?: string; refreshToken?: string; params?: Record<string, unknown> }>((resolve) =>
    refresh.requestNewAccessToken(name, token, (err, accessToken, refreshToken, params) =>
      resolve({ err, accessToken, refreshToken, params: params as Record<string, unknown> }),
    ),
  );
}

beforeAll(() => nock.disableNetConnect());
afterEach(() => {
  const pending = nock.pendingMocks();
  nock.cleanAll();
  expect(pending).toEqual([]);
});
afterAll(() => nock.enableNetConnect());

describe('passport-oauth2-refresh', () => {
  it('refreshes through sns/oauth2/refresh_token with WeChat\'s parameters and keeps the openid', async () => {
    register('wechat-refresh-ok');
    nock('https://api.weixin.qq.com')
      .get('/sns/oauth2/refresh_token')
      .query({ appid: APPID, grant_type: 'refresh_token', refresh_token: REFRESH_TOKEN })
      .reply(200, JSON.stringify({ access_token: 'fresh', expires_in: 7200, refresh_token: REFRESH_TOKEN, openid: OPENID, scope: 'snsapi_login' }), {
        'Content-Type': 'text/plain',
      });
    const result = await requestNewAccessToken('wechat-refresh-ok', REFRESH_TOKEN);
    expect(result).toMatchObject({ err: null, accessToken: 'fresh', refreshToken: REFRESH_TOKEN, params: { openid: OPENID } });
  });

  it('reports an expired refresh token as a typed error without the token in it', async () => {
    register('wechat-refresh-expired');
    nock('https://api.weixin.qq.com')
      .get('/sns/oauth2/refresh_token')
      .query(true)
      .reply(200, `{"errcode":40030,"errmsg":"invalid refresh_token: ${REFRESH_TOKEN}, rid: 1-2-3"}`);
    const { err } = await requestNewAccessToken('wechat-refresh-expired', REFRESH_TOKEN);
    expect(err).toBeInstanceOf(WeChatTokenError);
    expect(err).toMatchObject({ code: 'WECHAT_INVALID_REFRESH_TOKEN', errcode: 40030 });
    expect(inspect(err, { depth: 10, showHidden: true })).not.toContain(REFRESH_TOKEN);
    expect(JSON.stringify(err)).not.toContain(REFRESH_TOKEN);
  });
});
