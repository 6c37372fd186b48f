/**
 * The per-call diagnostics_channel events APM tools subscribe to (docs/troubleshooting.md,
 * "Switching on diagnostics"): one start and one end event per WeChat call, with the endpoint, the
 * AppID, the duration and WeChat's verdict, and never a secret. WeChat is mocked with nock.
 */
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import nock from 'nock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { WECHAT_CALL_END_CHANNEL, WECHAT_CALL_START_CHANNEL, WeChatStrategy, type WeChatCallEvent } from '../lib/index.js';
import { useNockAtTheEdge } from './helpers/nock.js';
import { ACCESS_TOKEN, APPID, OPENID, REFRESH_TOKEN, SECRET, TEXT, UNIONID, WECHAT_API, WEBSITE_LOGIN, tokenBody } from './helpers/wechat.js';

useNockAtTheEdge();

let starts: WeChatCallEvent[];
let ends: WeChatCallEvent[];
const onStart = (message: unknown) => starts.push({ ...(message as WeChatCallEvent) });
const onEnd = (message: unknown) => ends.push({ ...(message as WeChatCallEvent) });
beforeEach(() => {
  starts = [];
  ends = [];
  subscribe(WECHAT_CALL_START_CHANNEL, onStart);
  subscribe(WECHAT_CALL_END_CHANNEL, onEnd);
});
afterEach(() => {
  unsubscribe(WECHAT_CALL_START_CHANNEL, onStart);
  unsubscribe(WECHAT_CALL_END_CHANNEL, onEnd);
});

const strategy = () => new WeChatStrategy({ clientID: APPID, clientSecret: SECRET, callbackURL: 'https://app.example/cb' }, () => {});
const refreshReply = () => nock(WECHAT_API).get('/sns/oauth2/refresh_token').query(true);

describe('diagnostics_channel events of a WeChat call', () => {
  it('publishes a start event naming the endpoint and the AppID', async () => {
    refreshReply().reply(200, tokenBody(WEBSITE_LOGIN), TEXT);
    await strategy().refreshAccessToken(REFRESH_TOKEN);
    expect(starts).toEqual([{ endpoint: 'refresh_token', appid: APPID }]);
  });

  it('publishes an end event with the duration and ok for a call WeChat answered', async () => {
    refreshReply().delay(30).reply(200, tokenBody(WEBSITE_LOGIN), TEXT);
    await strategy().refreshAccessToken(REFRESH_TOKEN);
    expect(ends).toHaveLength(1);
    expect(ends[0]).toMatchObject({ endpoint: 'refresh_token', appid: APPID, ok: true });
    expect(ends[0]?.durationMs).toBeGreaterThanOrEqual(25);
    expect(ends[0]?.durationMs).toBeLessThan(60_000); // milliseconds, not tenths or a timestamp
    expect(ends[0]?.error).toBeUndefined();
  });

  it("publishes WeChat's errcode and rid, and the package's error code, for a call WeChat refused", async () => {
    refreshReply().reply(200, { errcode: 40030, errmsg: 'invalid refresh_token, rid: 6752c0de-4b1d2c3e-0a1b2c3d' }, TEXT);
    await expect(strategy().refreshAccessToken(REFRESH_TOKEN)).rejects.toThrow();
    expect(ends[0]).toMatchObject({ endpoint: 'refresh_token', ok: false, errcode: 40030, rid: '6752c0de-4b1d2c3e-0a1b2c3d' });
    expect(ends[0]?.error).toMatch(/^WECHAT_/);
  });

  it('publishes the HTTP status of an answer that is not 200', async () => {
    refreshReply().reply(502, 'Bad Gateway');
    await expect(strategy().refreshAccessToken(REFRESH_TOKEN)).rejects.toThrow();
    expect(ends[0]).toMatchObject({ ok: false, error: 'WECHAT_HTTP_ERROR', status: 502 });
  });

  it('publishes one start and one end per call of a check and a refresh, in order', async () => {
    refreshReply().reply(200, tokenBody(WEBSITE_LOGIN), TEXT);
    nock(WECHAT_API).get('/sns/auth').query(true).reply(200, { errcode: 0, errmsg: 'ok' }, TEXT);
    const wechat = strategy();
    await wechat.refreshAccessToken(REFRESH_TOKEN);
    await wechat.checkAccessToken(ACCESS_TOKEN, OPENID);
    expect(starts.map((event) => event.endpoint)).toEqual(['refresh_token', 'auth']);
    expect(ends.map((event) => event.endpoint)).toEqual(['refresh_token', 'auth']);
  });

  it('never carries the AppSecret, a token, a code or the user ids', async () => {
    refreshReply().reply(200, tokenBody(WEBSITE_LOGIN), TEXT);
    refreshReply().reply(200, { errcode: 40030, errmsg: `invalid refresh_token ${REFRESH_TOKEN}, rid: 1-2-3` }, TEXT);
    const wechat = strategy();
    await wechat.refreshAccessToken(REFRESH_TOKEN);
    await expect(wechat.refreshAccessToken(REFRESH_TOKEN)).rejects.toThrow();
    const published = JSON.stringify([starts, ends]);
    for (const secret of [SECRET, ACCESS_TOKEN, REFRESH_TOKEN, OPENID, UNIONID, WEBSITE_LOGIN.code]) expect(published).not.toContain(secret);
  });

  it('sets no errcode, rid or status on the end event of an answer that is not a WeChat answer', async () => {
    refreshReply().reply(200, 'not json', TEXT);
    await expect(strategy().refreshAccessToken(REFRESH_TOKEN)).rejects.toThrow();
    expect(ends[0]).toMatchObject({ ok: false, error: 'WECHAT_MALFORMED_RESPONSE' });
    expect(Object.keys(ends[0] ?? {}).sort()).toEqual(['appid', 'durationMs', 'endpoint', 'error', 'ok']);
  });
});

describe('a subscriber of one channel only', () => {
  it.each([
    ['the end channel', WECHAT_CALL_END_CHANNEL],
    ['the start channel', WECHAT_CALL_START_CHANNEL],
  ])('gets its events when it subscribes to %s alone', async (_name, name) => {
    unsubscribe(WECHAT_CALL_START_CHANNEL, onStart);
    unsubscribe(WECHAT_CALL_END_CHANNEL, onEnd);
    const seen: unknown[] = [];
    const listener = (message: unknown) => seen.push(message);
    subscribe(name, listener);
    try {
      refreshReply().reply(200, tokenBody(WEBSITE_LOGIN), TEXT);
      await strategy().refreshAccessToken(REFRESH_TOKEN);
      expect(seen).toHaveLength(1);
      expect(seen[0]).toMatchObject({ endpoint: 'refresh_token', appid: APPID });
    } finally {
      unsubscribe(name, listener);
    }
  });
});
