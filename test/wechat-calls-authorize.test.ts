/**
 * The authorize link WeChat receives when a login starts: which of the strategy's options show in
 * which flow's link, what an app's own authorizationParams add, and endpoint URLs given with a
 * trailing `?` or `&`. Driven through the strategy the way Passport drives it; no network.
 */
import { describe, expect, it } from 'vitest';
import { QR_CONNECT_URL, buildAuthorizeURL } from '../lib/authorize.js';
import { WeChatStrategy, type WeChatStrategyOptions, type WeChatVerifyFunction } from '../lib/index.js';
import { authenticate, type Outcome } from './helpers/passport.js';
import { APPID, SECRET } from './helpers/wechat.js';

const CALLBACK = 'https://example.com/auth/wechat/callback';
const OA_APPID = 'wx0a1b2c3d4e5f6a7b';
const OA_SECRET = 'feedbeeffeedbeeffeedbeeffeedbeef';
const WECHAT_UA =
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 ' +
  'MicroMessenger/8.0.49(0x18003129) NetType/WIFI Language/zh_CN';
const DESKTOP_UA = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/142.0.0.0 Safari/537.36';

function bothApps(overrides: Record<string, unknown> = {}, officialAccount: Record<string, unknown> = {}): WeChatStrategyOptions {
  return {
    clientID: APPID,
    clientSecret: SECRET,
    callbackURL: CALLBACK,
    ...overrides,
    officialAccount: { clientID: OA_APPID, clientSecret: OA_SECRET, scope: 'snsapi_userinfo', ...officialAccount },
  } as WeChatStrategyOptions;
}

const verify: WeChatVerifyFunction = (_a, _r, profile, done) => done(null, profile);

/** Starts a login with `userAgent` and returns the link the browser is sent to. */
async function loginLink(strategy: WeChatStrategy, userAgent: string): Promise<URL> {
  const outcome: Outcome = await authenticate(strategy, { headers: { host: 'example.com', 'user-agent': userAgent }, session: {} });
  expect(outcome.action).toBe('redirect');
  return new URL((outcome as { url: string }).url);
}

describe('the QR page language (qrLang)', () => {
  it("is sent to WeChat's QR login page", async () => {
    const link = await loginLink(new WeChatStrategy(bothApps({ qrLang: 'en' }), verify), DESKTOP_UA);

    expect(link.pathname).toBe('/connect/qrconnect');
    expect(link.searchParams.get('lang')).toBe('en');
  });

  it('is not sent to the Official Account authorize page of a login inside WeChat', async () => {
    const link = await loginLink(new WeChatStrategy(bothApps({ qrLang: 'en' }), verify), WECHAT_UA);

    expect(link.pathname).toBe('/connect/oauth2/authorize');
    expect(link.searchParams.get('appid')).toBe(OA_APPID);
    expect(link.searchParams.has('lang')).toBe(false);
  });
});

describe("the Official Account's forcePopup", () => {
  it("is not sent to the website's QR login page", async () => {
    const link = await loginLink(new WeChatStrategy(bothApps({}, { forcePopup: true }), verify), DESKTOP_UA);

    expect(link.pathname).toBe('/connect/qrconnect');
    expect(link.searchParams.has('forcePopup')).toBe(false);
  });
});

describe("parameters an app's authorizationParams add", () => {
  /** A strategy whose authorizationParams returns `params`, as passport-oauth2 subclasses do. */
  function withParams(params: Record<string, string>): WeChatStrategy {
    class Custom extends WeChatStrategy {
      override authorizationParams(): object {
        return params;
      }
    }
    return new Custom({ clientID: APPID, clientSecret: SECRET, callbackURL: CALLBACK, state: false }, verify);
  }

  it('are kept, after the parameters WeChat checks, before #wechat_redirect', async () => {
    const outcome = await authenticate(withParams({ self_redirect: 'true' }), {});

    expect(outcome).toMatchObject({
      action: 'redirect',
      url:
        `https://open.weixin.qq.com/connect/qrconnect?appid=${APPID}&redirect_uri=https%3A%2F%2Fexample.com%2Fauth%2Fwechat%2Fcallback` +
        '&response_type=code&scope=snsapi_login&self_redirect=true#wechat_redirect',
    });
  });

  it("cannot add a second appid to the link: WeChat reads the strategy's own", async () => {
    const outcome = await authenticate(withParams({ appid: 'wxffffffffffffffff' }), {});

    const link = new URL((outcome as { url: string }).url);
    expect(link.searchParams.getAll('appid')).toEqual([APPID]);
  });
});

describe('an authorize page URL that ends in ? or &', () => {
  it.each([
    ['?', 'https://wechat-proxy.example/connect/qrconnect?'],
    ['&', 'https://wechat-proxy.example/connect/qrconnect?tenant=7&'],
  ])('appends the parameters right after the trailing %s', (_end, base) => {
    const url = buildAuthorizeURL(base, { appid: APPID, redirectURI: CALLBACK, scope: 'snsapi_login' });

    expect(url).toBe(`${base}appid=${APPID}&redirect_uri=https%3A%2F%2Fexample.com%2Fauth%2Fwechat%2Fcallback&response_type=code&scope=snsapi_login#wechat_redirect`);
  });

  it('builds the same link for the base with and without its trailing ?', () => {
    const params = { appid: APPID, redirectURI: CALLBACK, scope: 'snsapi_login', state: 'q8Zr3xT0' };

    expect(buildAuthorizeURL(`${QR_CONNECT_URL}?`, params)).toBe(buildAuthorizeURL(QR_CONNECT_URL, params));
  });
});
