/**
 * The options handed to WeChat's `new WxLogin({...})` for a QR code embedded in the app's own page:
 * which choices reach wxLogin.js and in which form, and which are refused before a page is built.
 * `buildWxLoginOptions` is the pure unit behind `strategy.wxLoginOptions(req, style)`.
 */
import { describe, expect, it } from 'vitest';
import { WeChatOptionsError } from '../lib/errors.js';
import { buildWxLoginOptions, type WxLoginStyle } from '../lib/wxlogin.js';
import { WeChatStrategy } from '../lib/strategy.js';
import { APPID, SECRET } from './helpers/wechat.js';

const CALLBACK = 'https://shop.example.cn/auth/wechat/callback';

function build(style: Partial<WxLoginStyle> & Record<string, unknown> = {}, ...state: [string | undefined] | []) {
  return buildWxLoginOptions(APPID, CALLBACK, state.length === 0 ? 'w4bc' : state[0], { id: 'wechat-qr', ...style } as WxLoginStyle);
}

function refusal(run: () => unknown): WeChatOptionsError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(WeChatOptionsError);
    return error as WeChatOptionsError;
  }
  throw new Error('expected a WeChatOptionsError, got options');
}

describe('the options for new WxLogin()', () => {
  it('holds only what wxLogin.js needs when no style is chosen: no state, style, href, stylelite, fast_login or lang keys', () => {
    // toStrictEqual: a key present with the value undefined would differ from an absent one.
    expect(build({}, undefined)).toStrictEqual({
      self_redirect: false,
      id: 'wechat-qr',
      appid: APPID,
      scope: 'snsapi_login',
      redirect_uri: encodeURIComponent(CALLBACK),
    });
  });

  it('carries every style choice in the form wxLogin.js compares it', () => {
    const options = build({
      selfRedirect: true,
      style: 'white',
      href: 'https://cdn.example.com/wx.css',
      stylelite: true,
      fastLogin: false,
      lang: 'en',
    });
    expect(options).toStrictEqual({
      self_redirect: true,
      id: 'wechat-qr',
      appid: APPID,
      scope: 'snsapi_login',
      redirect_uri: encodeURIComponent(CALLBACK),
      state: 'w4bc',
      style: 'white',
      href: 'https://cdn.example.com/wx.css',
      stylelite: 1,
      fast_login: 0,
      lang: 'en',
    });
  });

  it('leaves the defaults of wxLogin.js alone for the default values: black style, quick login on, Chinese', () => {
    const options = build({ selfRedirect: false, style: 'black', stylelite: false, fastLogin: true, lang: 'cn' });
    expect(options).toStrictEqual({
      self_redirect: false,
      id: 'wechat-qr',
      appid: APPID,
      scope: 'snsapi_login',
      redirect_uri: encodeURIComponent(CALLBACK),
      state: 'w4bc',
      style: 'black',
    });
  });

  it('accepts CSS as a data:text/css;base64, URI', () => {
    const href = `data:text/css;base64,${Buffer.from('.impowerBox .qrcode { width: 200px; }').toString('base64')}`;
    expect(build({ href }).href).toBe(href);
  });
});

describe('choices wxLogin.js cannot use, refused with a WeChatOptionsError', () => {
  it.each([
    ['an empty id', ''],
    ['no id at all', undefined],
    ['an id that is not a string', 42],
  ])('refuses %s: there would be no element to hold the QR code', (_name, id) => {
    expect(refusal(() => build({ id: id as string })).message).toContain('id');
  });

  it.each([
    ['a state with a hyphen', 'abc-123'],
    ['an empty state', ''],
    ['a state of 129 characters', 'a'.repeat(129)],
  ])('refuses %s: wxLogin.js puts the state into the iframe URL unencoded', (_name, state) => {
    expect(refusal(() => build({}, state)).message).toContain('state');
  });

  it.each([
    ['a plain http URL', 'http://cdn.example.com/wx.css'],
    ['a javascript: URL', 'javascript:alert(1)'],
    ['an https URL not at the start', 'x https://cdn.example.com/wx.css'],
    ['a data URI of another type', 'data:text/html;base64,PHNjcmlwdD4='],
  ])('refuses an href that is %s', (_name, href) => {
    expect(refusal(() => build({ href })).message).toContain('href');
  });
});

describe('strategy.wxLoginOptions(req, style)', () => {
  const strategy = () =>
    new WeChatStrategy({ clientID: APPID, clientSecret: SECRET, callbackURL: CALLBACK }, (_a, _r, profile, done) => done(null, profile));
  const req = () => ({ headers: { host: 'shop.example.cn' }, url: '/login', session: {} }) as never;

  it('gives the options with the state it stored in the session', async () => {
    const options = await strategy().wxLoginOptions(req(), { id: 'wechat-qr', stylelite: true });
    expect(options).toMatchObject({ id: 'wechat-qr', appid: APPID, redirect_uri: encodeURIComponent(CALLBACK), stylelite: 1 });
    expect(options.state).toMatch(/^[A-Za-z0-9]{1,128}$/);
  });

  it('rejects with a WeChatOptionsError for a style without an id', async () => {
    await expect(strategy().wxLoginOptions(req(), { id: '' })).rejects.toBeInstanceOf(WeChatOptionsError);
  });
});
