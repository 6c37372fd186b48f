import { describe, expect, it } from 'vitest';
import { QR_CONNECT_URL, buildAuthorizeURL } from '../lib/authorize.js';
import { WeChatOptionsError } from '../lib/errors.js';

const APPID = 'wx8f3c2a1b9d7e6f50';
const CALLBACK = 'https://login.example.com/auth/wechat/callback';
const ENCODED_CALLBACK = 'https%3A%2F%2Flogin.example.com%2Fauth%2Fwechat%2Fcallback';

describe('buildAuthorizeURL', () => {
  it("builds WeChat's QR login link byte for byte, in the documented order, with #wechat_redirect", () => {
    const url = buildAuthorizeURL(QR_CONNECT_URL, { appid: APPID, redirectURI: CALLBACK, scope: 'snsapi_login', state: 'q8Zr3xT0' });

    expect(url).toBe(
      'https://open.weixin.qq.com/connect/qrconnect?appid=wx8f3c2a1b9d7e6f50' +
        `&redirect_uri=${ENCODED_CALLBACK}&response_type=code&scope=snsapi_login&state=q8Zr3xT0#wechat_redirect`,
    );
  });

  it('puts lang after state', () => {
    const url = buildAuthorizeURL(QR_CONNECT_URL, {
      appid: APPID,
      redirectURI: CALLBACK,
      scope: 'snsapi_login',
      state: 'q8Zr3xT0',
      extra: [['lang', 'en']],
    });

    expect(url).toBe(
      'https://open.weixin.qq.com/connect/qrconnect?appid=wx8f3c2a1b9d7e6f50' +
        `&redirect_uri=${ENCODED_CALLBACK}&response_type=code&scope=snsapi_login&state=q8Zr3xT0&lang=en#wechat_redirect`,
    );
  });

  it('leaves state out entirely when there is none', () => {
    const url = buildAuthorizeURL(QR_CONNECT_URL, { appid: APPID, redirectURI: CALLBACK, scope: 'snsapi_login' });

    expect(url).toBe(
      'https://open.weixin.qq.com/connect/qrconnect?appid=wx8f3c2a1b9d7e6f50' +
        `&redirect_uri=${ENCODED_CALLBACK}&response_type=code&scope=snsapi_login#wechat_redirect`,
    );
  });

  it('puts extra parameters right after scope when there is no state', () => {
    const url = buildAuthorizeURL(QR_CONNECT_URL, {
      appid: APPID,
      redirectURI: CALLBACK,
      scope: 'snsapi_login',
      extra: [['lang', 'en']],
    });

    expect(url).toBe(
      'https://open.weixin.qq.com/connect/qrconnect?appid=wx8f3c2a1b9d7e6f50' +
        `&redirect_uri=${ENCODED_CALLBACK}&response_type=code&scope=snsapi_login&lang=en#wechat_redirect`,
    );
  });

  it('encodes the callback URL whole, its own query and percent signs included', () => {
    const url = buildAuthorizeURL(QR_CONNECT_URL, {
      appid: APPID,
      redirectURI: 'https://login.example.com/auth/wechat/callback?next=%2Fdashboard&tab=1',
      scope: 'snsapi_login',
      state: 'abc',
    });

    expect(url).toBe(
      'https://open.weixin.qq.com/connect/qrconnect?appid=wx8f3c2a1b9d7e6f50' +
        '&redirect_uri=https%3A%2F%2Flogin.example.com%2Fauth%2Fwechat%2Fcallback%3Fnext%3D%252Fdashboard%26tab%3D1' +
        '&response_type=code&scope=snsapi_login&state=abc#wechat_redirect',
    );
    expect(new URL(url).searchParams.get('redirect_uri')).toBe('https://login.example.com/auth/wechat/callback?next=%2Fdashboard&tab=1');
  });

  it('appends to a base URL that already has a query', () => {
    const url = buildAuthorizeURL('https://wechat-emulator.test/connect/qrconnect?tenant=a1', {
      appid: APPID,
      redirectURI: CALLBACK,
      scope: 'snsapi_login',
      state: 'abc',
    });

    expect(url).toBe(
      'https://wechat-emulator.test/connect/qrconnect?tenant=a1&appid=wx8f3c2a1b9d7e6f50' +
        `&redirect_uri=${ENCODED_CALLBACK}&response_type=code&scope=snsapi_login&state=abc#wechat_redirect`,
    );
  });

  it("replaces a base URL's fragment with the single #wechat_redirect", () => {
    const url = buildAuthorizeURL(`${QR_CONNECT_URL}#wechat_redirect`, {
      appid: APPID,
      redirectURI: CALLBACK,
      scope: 'snsapi_login',
      state: 'abc',
    });

    expect(url).toBe(
      'https://open.weixin.qq.com/connect/qrconnect?appid=wx8f3c2a1b9d7e6f50' +
        `&redirect_uri=${ENCODED_CALLBACK}&response_type=code&scope=snsapi_login&state=abc#wechat_redirect`,
    );
  });

  it('keeps the query of a base URL that has both a query and a fragment', () => {
    const url = buildAuthorizeURL('https://wechat-emulator.test/connect/qrconnect?tenant=a1#old', {
      appid: APPID,
      redirectURI: CALLBACK,
      scope: 'snsapi_login',
    });

    expect(url).toBe(
      'https://wechat-emulator.test/connect/qrconnect?tenant=a1&appid=wx8f3c2a1b9d7e6f50' +
        `&redirect_uri=${ENCODED_CALLBACK}&response_type=code&scope=snsapi_login#wechat_redirect`,
    );
  });

  it('leaves the comma between several scopes unencoded, as WeChat writes it', () => {
    const url = buildAuthorizeURL('https://open.weixin.qq.com/connect/oauth2/authorize', {
      appid: APPID,
      redirectURI: CALLBACK,
      scope: 'snsapi_base,snsapi_userinfo',
      state: 'abc',
    });

    expect(url).toBe(
      'https://open.weixin.qq.com/connect/oauth2/authorize?appid=wx8f3c2a1b9d7e6f50' +
        `&redirect_uri=${ENCODED_CALLBACK}&response_type=code&scope=snsapi_base,snsapi_userinfo&state=abc#wechat_redirect`,
    );
  });

  it('accepts a state of exactly 128 letters and digits', () => {
    const state = 'aZ09'.repeat(32);

    const url = buildAuthorizeURL(QR_CONNECT_URL, { appid: APPID, redirectURI: CALLBACK, scope: 'snsapi_login', state });

    expect(state).toHaveLength(128);
    expect(url.endsWith(`&scope=snsapi_login&state=${state}#wechat_redirect`)).toBe(true);
  });

  it.each([
    ['an empty state', ''],
    ['a state of 129 characters', 'a'.repeat(129)],
    ['a state with a dash', 'abc-123'],
    ['a state with an underscore', 'abc_123'],
    ['a state with a space', 'abc 123'],
    ['a state that would smuggle a parameter', 'abc&scope=snsapi_userinfo'],
    ['a state with a fragment', 'abc#x'],
    ['a base64 state', 'q8Zr3xT0+/=='],
    ['a state with non-ASCII letters', 'état'],
  ])('refuses %s with a WeChatOptionsError', (_what, state) => {
    const build = () => buildAuthorizeURL(QR_CONNECT_URL, { appid: APPID, redirectURI: CALLBACK, scope: 'snsapi_login', state });

    expect(build).toThrow(WeChatOptionsError);
    expect(build).toThrow(/1 to 128 letters and digits/);
  });

  it('gives the invalid-state error the code WECHAT_INVALID_OPTIONS', () => {
    let caught: unknown;
    try {
      buildAuthorizeURL(QR_CONNECT_URL, { appid: APPID, redirectURI: CALLBACK, scope: 'snsapi_login', state: 'a-b' });
    } catch (error) {
      caught = error;
    }

    expect(caught).toBeInstanceOf(WeChatOptionsError);
    expect((caught as WeChatOptionsError).code).toBe('WECHAT_INVALID_OPTIONS');
  });
});
