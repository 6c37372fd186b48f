/**
 * The `sns/*` JSON API of api.weixin.qq.com: access_token, refresh_token, userinfo, auth and
 * jscode2session, each checking its parameters in WeChat's order and answering WeChat's errcodes,
 * and the answer an injected fault puts in their place.
 *
 * @internal Not part of the public `passport-wechat-oauth2/testing` API.
 */
import { apiReply } from './api-reply.js';
import type { Grant } from './grant.js';
import type { Reply } from './http.js';
import { newSessionKey } from './ids.js';
import { SECOND, type ResolvedOptions } from './options.js';
import type { AccessTokenRecord, CodeRecord, EmulatorStore } from './store.js';
import type { SnsEndpoint } from './routes.js';
import type { EmulatorApp, EmulatorFault, HangFault } from './types.js';
import type { ApiResult, JsonObject } from './wechat-json.js';

const USERINFO_LANGS = Object.freeze(['zh_CN', 'zh_TW', 'en']); // docs/wechat-protocol.md#user-info-request-and-lang

export class SnsApi {
  private readonly store: EmulatorStore;
  private readonly options: ResolvedOptions;
  /** The emulator's base URL, known once it listens: where it serves WeChat's avatars. */
  private readonly origin: () => string;

  constructor(store: EmulatorStore, options: ResolvedOptions, origin: () => string) {
    this.store = store;
    this.options = options;
    this.origin = origin;
  }

  /** The answer to one call, or the one `fault` puts in its place (a hang never answers, so it is the caller's). */
  reply(endpoint: SnsEndpoint, params: URLSearchParams, fault: Exclude<EmulatorFault, HangFault> | undefined): Reply {
    return apiReply(() => this.answer(endpoint, params), fault, this.options);
  }

  private answer(endpoint: SnsEndpoint, params: URLSearchParams): ApiResult {
    switch (endpoint) {
      case 'access_token':
        return this.exchangeCode(params);
      case 'refresh_token':
        return this.refresh(params);
      case 'userinfo':
        return this.userinfo(params);
      case 'auth':
        return this.checkToken(params);
      case 'jscode2session':
        return this.codeToSession(params);
    }
  }

  // -- the checks several endpoints share ----------------------------------------

  /** The app for appid, or the 41002 / 40013 answer (docs/wechat-protocol.md#global-error-codes-and-our-classification). */
  private appFor(params: URLSearchParams): EmulatorApp | ApiResult {
    const appid = params.get('appid') ?? '';
    if (appid === '') return { errcode: 41002 };
    return this.store.app(appid) ?? { errcode: 40013 };
  }

  /** The app for appid on an OAuth endpoint: a Mini Program has no OAuth codes or tokens, so 40013 (docs/wechat-protocol.md#where-the-emulator-chooses). */
  private oauthAppFor(params: URLSearchParams): EmulatorApp | ApiResult {
    const app = this.appFor(params);
    if ('appid' in app && app.kind === 'miniprogram') return { errcode: 40013 };
    return app;
  }

  /** The 41004 / 40125 answer for a missing or wrong secret, or null when it is the app's. */
  private secretProblem(app: EmulatorApp, params: URLSearchParams): ApiResult | null {
    const secret = params.get('secret') ?? '';
    if (secret === '') return { errcode: 41004 };
    return secret === app.secret ? null : { errcode: 40125 };
  }

  /** Spends a code of this app, or answers 40029 (unknown, another app's, expired) / 40163 (used) (docs/wechat-protocol.md#codes-lifetime-and-single-use). */
  private spendCode(app: EmulatorApp, code: string): CodeRecord | ApiResult {
    const record = this.store.code(code);
    // NOTE: a code of another app is as unknown as a made-up one (docs/wechat-protocol.md#codes-lifetime-and-single-use).
    if (record === undefined || record.grant.app.appid !== app.appid) return { errcode: 40029 };
    if (record.used) return { errcode: 40163 }; // "code been used" (docs/wechat-protocol.md#codes-lifetime-and-single-use)
    // NOTE: expired answers 40029 like an unknown code (staff: 40029 = invalid oauth_code); 42003 is rarely seen (docs/wechat-protocol.md#codes-lifetime-and-single-use).
    if (this.options.clock() >= record.expiresAt) return { errcode: 40029 };
    record.used = true;
    return record;
  }

  /** The access_token record for `access_token` + `openid`, or the 41001 / 41009 / unknown / 42001 / 40003 answer. */
  private tokenFor(params: URLSearchParams, unknownErrcode: number): AccessTokenRecord | ApiResult {
    const token = params.get('access_token') ?? '';
    if (token === '') return { errcode: 41001 };
    const openid = params.get('openid') ?? '';
    if (openid === '') return { errcode: 41009 };
    const record = this.store.accessToken(token);
    if (record === undefined) return { errcode: unknownErrcode };
    if (this.options.clock() >= record.expiresAt) return { errcode: 42001 };
    if (record.grant.openid !== openid) return { errcode: 40003 };
    return record;
  }

  // -- the endpoints ---------------------------------------------------------------

  /** `sns/oauth2/access_token` (docs/wechat-protocol.md#token-exchange-request): website apps, Official Accounts and Mobile Applications. */
  private exchangeCode(params: URLSearchParams): ApiResult {
    const app = this.oauthAppFor(params);
    if (!('appid' in app)) return app;
    const secretProblem = this.secretProblem(app, params);
    if (secretProblem !== null) return secretProblem;
    const code = params.get('code') ?? '';
    if (code === '') return { errcode: 41008 };
    if (params.get('grant_type') !== 'authorization_code') return { errcode: 40002 };
    const record = this.spendCode(app, code);
    if (!('grant' in record)) return record;
    return { body: this.issueTokens(record.grant) };
  }

  /** `sns/jscode2session` (code2Session, docs/wechat-protocol.md#mini-program-code2session): a Mini Program's `wx.login()` code for openid, unionid and session_key. */
  private codeToSession(params: URLSearchParams): ApiResult {
    const appid = params.get('appid') ?? '';
    if (appid === '') return { errcode: 41002 };
    const app = this.store.app(appid);
    // NOTE: only a Mini Program AppID has code2Session; any other is as invalid as an unknown one (docs/wechat-protocol.md#where-the-emulator-chooses).
    if (app === undefined || app.kind !== 'miniprogram') return { errcode: 40013 };
    const secretProblem = this.secretProblem(app, params);
    if (secretProblem !== null) return secretProblem;
    const jsCode = params.get('js_code') ?? '';
    if (jsCode === '') return { errcode: 41008 };
    if (params.get('grant_type') !== 'authorization_code') return { errcode: 40002 };
    const record = this.spendCode(app, jsCode);
    if (!('grant' in record)) return record;
    // NOTE: a high-risk user's code is spent, then refused: "code blocked" (docs/wechat-protocol.md#mini-program-errors).
    if (record.grant.user.highRisk) return { errcode: 40226 };
    const { openid, unionid } = record.grant;
    // NOTE: no errcode on success, whatever the doc's example shows (docs/wechat-protocol.md#cross-cutting-success-has-no-errcode).
    return { body: { session_key: record.sessionKey ?? newSessionKey(), openid, ...(unionid === undefined ? {} : { unionid }) } };
  }

  private issueTokens(grant: Grant): JsonObject {
    const { accessToken, refreshToken } = this.store.issueTokens(grant);
    return {
      access_token: accessToken,
      expires_in: this.options.accessTokenTtlMs / SECOND,
      refresh_token: refreshToken,
      openid: grant.openid,
      scope: grant.scopes.join(','),
      ...(grant.snapshot ? { is_snapshotuser: 1 } : {}), // present only when 1 (docs/wechat-protocol.md#official-account-snapshot-page-users)
      ...(grant.unionid === undefined ? {} : { unionid: grant.unionid }),
    };
  }

  /** `sns/oauth2/refresh_token`: no secret; same token, reset expiry, unless expired (docs/wechat-protocol.md#refresh-request-and-answer). */
  private refresh(params: URLSearchParams): ApiResult {
    const app = this.oauthAppFor(params);
    if (!('appid' in app)) return app;
    if (params.get('grant_type') !== 'refresh_token') return { errcode: 40002 };
    const token = params.get('refresh_token') ?? '';
    if (token === '') return { errcode: 41003 };
    const record = this.store.refreshToken(token);
    const now = this.options.clock();
    // NOTE: expired answers 40030 like an invalid token, as observed (docs/wechat-protocol.md#refresh-errors); 42002 is in the table but unconfirmed.
    if (record === undefined || record.grant.app.appid !== app.appid || now >= record.expiresAt) return { errcode: 40030 };
    const accessToken = this.store.renewAccessToken(record, now);
    const refreshToken = this.options.rotateRefreshToken ? this.store.rotateRefreshToken(token, record) : token;
    return {
      body: {
        access_token: accessToken,
        expires_in: this.options.accessTokenTtlMs / SECOND,
        refresh_token: refreshToken,
        openid: record.grant.openid,
        scope: record.grant.scopes.join(','),
      },
    };
  }

  /** `sns/userinfo` in its post-2021 shape (docs/wechat-protocol.md#user-info-changes-since-2021-10-20). */
  private userinfo(params: URLSearchParams): ApiResult {
    const record = this.tokenFor(params, 40001);
    if (!('grant' in record)) return record;
    const { grant } = record;
    const profileScope = grant.scopes.includes('snsapi_userinfo') || grant.scopes.includes('snsapi_login');
    // NOTE: snsapi_base tokens and snapshot-page virtual users get 48001 (docs/wechat-protocol.md#user-info-errors).
    if (!profileScope || grant.snapshot) return { errcode: 48001 };
    const lang = params.get('lang') ?? '';
    // NOTE: WeChat's answer to a bad lang is undocumented; 40097 "invalid args" is the generic one (docs/wechat-protocol.md#user-info-request-and-lang).
    if (lang !== '' && !USERINFO_LANGS.includes(lang)) return { errcode: 40097 };
    return { body: profileOf(grant, this.origin()) };
  }

  /** `sns/auth`: the one endpoint that says `{"errcode":0,"errmsg":"ok"}` on success (docs/wechat-protocol.md#token-check). */
  private checkToken(params: URLSearchParams): ApiResult {
    const record = this.tokenFor(params, 40003);
    if (!('grant' in record)) return record;
    return { body: { errcode: 0, errmsg: 'ok' } };
  }
}

/** Since 2021-10-20: `sex` 0 and empty region fields; `language` is `""` (docs/wechat-protocol.md#user-info-changes-since-2021-10-20). */
function profileOf(grant: Grant, origin: string): JsonObject {
  return {
    openid: grant.openid,
    nickname: grant.user.nickname,
    sex: 0,
    language: '',
    city: '',
    province: '',
    country: '',
    // WeChat's avatar host is played by the emulator too, so a login shows its avatar offline.
    headimgurl: grant.user.headimgurl.replace(/^https?:\/\/thirdwx\.qlogo\.cn(?=\/mmopen\/)/, origin),
    privilege: [],
    ...(grant.unionid === undefined ? {} : { unionid: grant.unionid }),
  };
}
