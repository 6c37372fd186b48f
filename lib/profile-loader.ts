/**
 * Reading a logged-in user's profile, for the website, Official Account and native-app logins:
 * the `sns/userinfo` call when the token's scope lets WeChat answer it, else the ids from the
 * token alone (WeChat refuses userinfo for `snsapi_base` with 48001).
 */
import type { WeChatClient, WeChatUserInfoLang } from './client.js';
import { profileFromToken, profileOfCleanJSON, type WeChatIdentity, type WeChatProfile } from './profile.js';

/** What a profile is read with: the token response's access token and ids. */
export type ProfileToken = WeChatIdentity & { access_token: string; scope?: string };

/** Whether a granted scope (comma-separated) lets `sns/userinfo` answer. */
function grantsUserInfo(scope: string): boolean {
  const scopes = scope.split(',');
  return scopes.includes('snsapi_userinfo') || scopes.includes('snsapi_login');
}

/**
 * The profile of `token`'s user in the app `appid`. `fallbackScope` stands in when the
 * token response carries no scope (the app's configured scope).
 */
export async function loadProfile(
  client: WeChatClient,
  appid: string,
  token: ProfileToken,
  fallbackScope: string,
  lang: WeChatUserInfoLang | undefined,
): Promise<WeChatProfile> {
  const identity = { openid: token.openid, unionid: token.unionid, appid };
  if (!grantsUserInfo(token.scope || fallbackScope)) return profileFromToken(identity);
  const { json, raw } = await client.getUserInfo(token.access_token, token.openid, lang);
  // The client's parse already dropped prototype-polluting keys.
  return profileOfCleanJSON(json, identity, raw);
}
