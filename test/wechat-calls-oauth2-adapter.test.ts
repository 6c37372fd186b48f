/**
 * The strategy's `_oauth2`, the node-oauth-shaped object passport-oauth2 and
 * passport-oauth2-refresh drive: the WeChat calls it makes when a host or a library calls
 * getOAuthAccessToken itself, the fields node-oauth code reads from it, and a copy of it built
 * without the strategy's token function. WeChat is mocked with nock at the network edge.
 */
import nock from 'nock';
import { OAuth2 } from 'oauth';
import refresh from 'passport-oauth2-refresh';
import { afterEach, describe, expect, it } from 'vitest';
import { WeChatOptionsError, WeChatStrategy } from '../lib/index.js';
import type { TokenCallback, WeChatOAuth2Adapter } from '../lib/oauth2-adapter.js';
import { useNockAtTheEdge } from './helpers/nock.js';
import { APPID, CODE, SECRET, TEXT, WEBSITE_LOGIN, WECHAT_API, tokenBody } from './helpers/wechat.js';

const TOKEN_URL = 'https://wechat-gateway.example/sns/oauth2/access_token';

function newStrategy(): WeChatStrategy {
  return new WeChatStrategy({ clientID: APPID, clientSecret: SECRET, callbackURL: 'https://example.com/cb' }, (_a, _r, p, done) => done(null, p));
}

/** The strategy's OAuth2 object, as passport-oauth2 and passport-oauth2-refresh see it. */
function oauth2Of(strategy: WeChatStrategy): WeChatOAuth2Adapter {
  return (strategy as unknown as { _oauth2: WeChatOAuth2Adapter })._oauth2;
}

/** Calls getOAuthAccessToken and resolves with what its callback got. */
function tokenFrom(oauth2: WeChatOAuth2Adapter, code: string, params: Record<string, unknown> | undefined) {
  return new Promise<Parameters<TokenCallback>>((resolve) => {
    oauth2.getOAuthAccessToken(code, params as Record<string, unknown>, (...args) => resolve(args));
  });
}

const codeExchange = () =>
  nock(WECHAT_API)
    .get('/sns/oauth2/access_token')
    .query({ appid: APPID, secret: SECRET, code: CODE, grant_type: 'authorization_code' })
    .reply(200, tokenBody(WEBSITE_LOGIN), TEXT);

useNockAtTheEdge({ failOnUnmatched: true });

describe("the strategy's _oauth2.getOAuthAccessToken, called the way node-oauth's is", () => {
  it('exchanges a code on sns/oauth2/access_token with the AppSecret when grant_type is authorization_code', async () => {
    codeExchange();

    const [err, accessToken, refreshToken, params] = await tokenFrom(oauth2Of(newStrategy()), CODE, { grant_type: 'authorization_code' });

    expect(err).toBeNull();
    expect(accessToken).toBe(WEBSITE_LOGIN.accessToken);
    expect(refreshToken).toBe(WEBSITE_LOGIN.refreshToken);
    expect(params).toMatchObject({ openid: WEBSITE_LOGIN.openid, unionid: WEBSITE_LOGIN.unionid });
  });

  it('exchanges a code when params are left out, as node-oauth tolerates', async () => {
    codeExchange();

    const [err, accessToken] = await tokenFrom(oauth2Of(newStrategy()), CODE, undefined);

    expect(err).toBeNull();
    expect(accessToken).toBe(WEBSITE_LOGIN.accessToken);
  });

  it('lets an exception thrown by the callback surface as an uncaught exception instead of swallowing it', async () => {
    codeExchange();
    const saved = process.listeners('uncaughtException');
    process.removeAllListeners('uncaughtException');
    const uncaught: unknown[] = [];
    const record = (error: unknown) => uncaught.push(error);
    process.on('uncaughtException', record);
    const bug = new Error('a bug in the host callback');
    try {
      await new Promise<void>((resolve) => {
        oauth2Of(newStrategy()).getOAuthAccessToken(CODE, {}, () => {
          resolve();
          throw bug;
        });
      });
      // Rethrown on process.nextTick: past by the time setImmediate runs.
      await new Promise((resolve) => setImmediate(resolve));
    } finally {
      process.removeListener('uncaughtException', record);
      for (const listener of saved) process.on('uncaughtException', listener);
    }

    expect(uncaught).toEqual([bug]);
  });
});

describe("node-oauth's fields on the strategy's _oauth2", () => {
  it("give node-oauth's OAuth2, built from them, the strategy's token URL (an empty _baseSite before it)", () => {
    const strategy = new WeChatStrategy(
      { clientID: APPID, clientSecret: SECRET, callbackURL: 'https://example.com/cb', tokenURL: TOKEN_URL },
      (_a, _r, p, done) => done(null, p),
    );
    const theirs = oauth2Of(strategy);

    const copy = new OAuth2(theirs._clientId, 'their own secret', theirs._baseSite, theirs._authorizeUrl, theirs._accessTokenUrl);

    expect((copy as unknown as { _getAccessTokenUrl(): string })._getAccessTokenUrl()).toBe(TOKEN_URL);
  });

  it('hold no AppSecret: _clientSecret, where node-oauth keeps it, is empty', () => {
    expect(oauth2Of(newStrategy())._clientSecret).toBe('');
  });
});

describe('a copy of the adapter built without the strategy (new _oauth2.constructor(...))', () => {
  type AdapterClass = new (clientId: string, clientSecret?: string, baseSite?: string, authorizeUrl?: string, accessTokenUrl?: string) => WeChatOAuth2Adapter;

  it('answers a refresh through passport-oauth2-refresh with a WeChatOptionsError, calling no WeChat endpoint', async () => {
    const strategy = newStrategy();
    // passport-oauth2-refresh's third argument, which its published types leave out.
    const use = refresh.use.bind(refresh) as (name: string, strategy: unknown, options: { setRefreshOAuth2(adapters: { strategyOAuth2: object }): unknown }) => void;
    use('wechat-calls-bare-copy', strategy, {
      setRefreshOAuth2: ({ strategyOAuth2 }) => {
        const Adapter = strategyOAuth2.constructor as AdapterClass;
        return new Adapter(APPID);
      },
    });

    const err = await new Promise((resolve) => refresh.requestNewAccessToken('wechat-calls-bare-copy', 'some-refresh-token', (error) => resolve(error)));

    expect(err).toBeInstanceOf(WeChatOptionsError);
    expect(err).toMatchObject({ code: 'WECHAT_INVALID_OPTIONS' });
  });

  it('has empty endpoint URLs when given only a client id, never made-up ones', () => {
    const Adapter = oauth2Of(newStrategy()).constructor as AdapterClass;

    const copy = new Adapter(APPID);

    expect(copy).toMatchObject({ _clientId: APPID, _authorizeUrl: '', _accessTokenUrl: '' });
  });
});

afterEach(() => {
  expect(nock.isDone()).toBe(true);
});
