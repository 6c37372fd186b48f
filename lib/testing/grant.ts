/**
 * What a user's consent grants an app: the scopes, and the openid and unionid WeChat gives
 * that kind of app for them. Fixed when the code is issued; codes and tokens carry it.
 *
 * @internal Not part of the public `passport-wechat-oauth2/testing` API.
 */
import { openidOf, unionidOf } from './ids.js';
import type { EmulatorApp, EmulatorUser, WeChatScope } from './types.js';

/** What a user's consent grants; fixed when the code is issued. */
export interface Grant {
  readonly app: EmulatorApp;
  readonly user: EmulatorUser;
  readonly scopes: readonly WeChatScope[];
  readonly openid: string;
  readonly unionid: string | undefined;
  /** A snapshot-page virtual account (docs/wechat-protocol.md#official-account-snapshot-page-users). */
  readonly snapshot: boolean;
}

export function grantFor(app: EmulatorApp, user: EmulatorUser, scopes: readonly WeChatScope[]): Grant {
  const wantsProfile = scopes.includes('snsapi_userinfo');
  // NOTE: OA tokens carry unionid only for snsapi_userinfo, and any app only when bound to an Open Platform account (docs/wechat-protocol.md#token-exchange-answer).
  const group = app.kind !== 'official-account' || wantsProfile ? app.unionGroup : null;
  return {
    app,
    user,
    scopes,
    openid: openidOf(app.appid, user.id),
    unionid: group === null ? undefined : unionidOf(user, group),
    snapshot: app.kind === 'official-account' && wantsProfile && user.snapshot,
  };
}
