/**
 * WeChat's side of a login in the tests that play it themselves (nock or a local server): the
 * website application and user most of them log in as, and the bodies WeChat answers with.
 * No nock here: test/faults.test.ts uses these without nock, and importing nock intercepts.
 */

/** WeChat's API host: sns/oauth2/access_token, sns/userinfo, sns/jscode2session, … */
export const WECHAT_API = 'https://api.weixin.qq.com';

/** WeChat labels its JSON answers text/plain. */
export const TEXT = { 'Content-Type': 'text/plain' };

// The website application (QR login), the code its user brought back, and what WeChat gives for it.
export const APPID = 'wx1f2e3d4c5b6a7980';
export const SECRET = 'c0ffee00c0ffee00c0ffee00c0ffee00';
export const CODE = '001HKCFa1UWlqz0ZsPHa1zrEwD2HKCF3';
export const ACCESS_TOKEN = '86_95Uv_nF2DaccessTokenXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX';
export const REFRESH_TOKEN = '86_refreshTokenYYYYYYYYYYYYYYYYYYYYYYYYYYYYYYYYYYYYYYYYYYYYYYYYYYYYYYYY';
export const OPENID = 'oRrdQt2LF0SpCODdV4KhLuEoPgwg';
export const UNIONID = 'oU5Yyt8X-WpQeBsNFS4HuvmDwEhs';
/** The state nonce a callback carries back (and the session holds). */
export const STATE = 'abcDEF123456abcDEF123456';

/** One app's login as WeChat sees it: the app's credentials, the code, and the tokens and ids it answers with. */
export interface WeChatTestLogin {
  appid: string;
  secret: string;
  code: string;
  accessToken: string;
  refreshToken: string;
  openid: string;
  unionid: string;
  /** The scope the token answer reports. */
  scope: string;
}

/** The website login with the constants above, as WeChat's QR login grants it (snsapi_login). */
export const WEBSITE_LOGIN: WeChatTestLogin = {
  appid: APPID,
  secret: SECRET,
  code: CODE,
  accessToken: ACCESS_TOKEN,
  refreshToken: REFRESH_TOKEN,
  openid: OPENID,
  unionid: UNIONID,
  scope: 'snsapi_login',
};

/** sns/oauth2/access_token's answer for `login`, with `extra` fields added or replaced (`undefined` drops one). */
export function tokenBody(login: WeChatTestLogin, extra: Record<string, unknown> = {}): string {
  return JSON.stringify({
    access_token: login.accessToken,
    expires_in: 7200,
    refresh_token: login.refreshToken,
    openid: login.openid,
    scope: login.scope,
    unionid: login.unionid,
    ...extra,
  });
}

/** sns/userinfo's answer for `login`'s user: the real post-2021 shape, slashes escaped as WeChat's encoder does. */
export function userinfoBody(login: WeChatTestLogin, nickname: string): string {
  return (
    `{"openid":"${login.openid}","nickname":"${nickname}","sex":0,"language":"","city":"","province":"","country":"",` +
    `"headimgurl":"http:\\/\\/thirdwx.qlogo.cn\\/mmopen\\/vi_32\\/Q0j4TwGTfTK\\/132","privilege":[],"unionid":"${login.unionid}"}`
  );
}
