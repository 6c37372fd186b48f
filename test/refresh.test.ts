/**
 * passport-oauth2-refresh drives the strategy's OAuth2 adapter by itself (it constructs a copy
 * and calls getOAuthAccessToken with grant_type=refresh_token); it must work unchanged.
 */
import { inspect } from 'node:util';
import nock from 'nock';
import refresh from 'passport-oauth2-refresh';
import { describe, expect, it } from 'vitest';
import { WeChatStrategy, WeChatTokenError } from '../lib/index.js';
import { useNockAtTheEdge } from './helpers/nock.js';
import { APPID, OPENID, SECRET, TEXT, WECHAT_API } from './helpers/wechat.js';

const REFRESH_TOKEN = '86_refreshTokenYYYYYYYYYYYYYYYYYYYYYYYYYYYYYYYYYYYYYYYY';

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

useNockAtTheEdge();

describe('passport-oauth2-refresh', () => {
  it('refreshes through sns/oauth2/refresh_token with WeChat\'s parameters and keeps the openid', async () => {
    register('wechat-refresh-ok');
    nock(WECHAT_API)
      .get('/sns/oauth2/refresh_token')
      .query({ appid: APPID, grant_type: 'refresh_token', refresh_token: REFRESH_TOKEN })
      .reply(200, JSON.stringify({ access_token: 'fresh', expires_in: 7200, refresh_token: REFRESH_TOKEN, openid: OPENID, scope: 'snsapi_login' }), TEXT);
    const result = await requestNewAccessToken('wechat-refresh-ok', REFRESH_TOKEN);
    expect(result).toMatchObject({ err: null, accessToken: 'fresh', refreshToken: REFRESH_TOKEN, params: { openid: OPENID } });
  });

  it('reports an expired refresh token as a typed error without the token in it', async () => {
    register('wechat-refresh-expired');
    nock(WECHAT_API)
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
