/**
 * The two POST endpoints of api.weixin.qq.com that a Mini Program's phone-number sign-in needs:
 * `cgi-bin/stable_token` (the app's own access token, app-tokens.ts keeps them) and
 * `wxa/business/getuserphonenumber` (the number behind a phone code, for that token). Both take a
 * JSON body and answer WeChat's errcodes with HTTP 200.
 *
 * @internal Not part of the public `passport-wechat-oauth2/testing` API.
 */
import { apiReply } from './api-reply.js';
import type { AppTokens } from './app-tokens.js';
import type { Reply } from './http.js';
import { SECOND, type ResolvedOptions } from './options.js';
import type { PostEndpoint } from './routes.js';
import type { EmulatorStore, PhoneCodeRecord } from './store.js';
import type { EmulatorApp, EmulatorFault, EmulatorUser, HangFault } from './types.js';
import type { ApiResult, JsonObject } from './wechat-json.js';

/** What the app API reads of a request: the method, the query and the body if it was a JSON object. */
export interface PostedCall {
  readonly method: string;
  readonly params: URLSearchParams;
  /** null when the body was empty or not a JSON object. */
  readonly body: Readonly<Record<string, unknown>> | null;
}

/** NOTE: the emulator's choice: stable_token for the apps that have server APIs; a website app or a Mobile Application is refused like an unknown appid. */
const APP_TOKEN_KINDS: ReadonlySet<EmulatorApp['kind']> = new Set(['miniprogram', 'official-account']);

export class AppApi {
  private readonly store: EmulatorStore;
  private readonly tokens: AppTokens;
  private readonly options: ResolvedOptions;

  constructor(store: EmulatorStore, tokens: AppTokens, options: ResolvedOptions) {
    this.store = store;
    this.tokens = tokens;
    this.options = options;
  }

  /** The answer to one call, or the one `fault` puts in its place (a hang never answers, so it is the caller's). */
  reply(endpoint: PostEndpoint, call: PostedCall, fault: Exclude<EmulatorFault, HangFault> | undefined): Reply {
    return apiReply(() => this.answer(endpoint, call), fault, this.options);
  }

  private answer(endpoint: PostEndpoint, call: PostedCall): ApiResult {
    // NOTE: both are POST-only; WeChat answers a GET with 43002 "require POST method", as JSON with HTTP 200.
    if (call.method !== 'POST') return { errcode: 43002 };
    return endpoint === 'stable_token' ? this.stableToken(call.body) : this.phoneNumber(call.params, call.body);
  }

  /** `cgi-bin/stable_token`: `{ grant_type: 'client_credential', appid, secret, force_refresh }`. */
  private stableToken(body: PostedCall['body']): ApiResult {
    // NOTE: a form or query instead of a JSON body is "data format error" (47001), as WeChat answers.
    if (body === null) return { errcode: 47001 };
    const appid = typeof body.appid === 'string' ? body.appid : '';
    if (appid === '') return { errcode: 41002 };
    const app = this.store.app(appid);
    if (app === undefined || !APP_TOKEN_KINDS.has(app.kind)) return { errcode: 40013 };
    const secret = typeof body.secret === 'string' ? body.secret : '';
    if (secret === '') return { errcode: 41004 };
    if (secret !== app.secret) return { errcode: 40125 };
    if (body.grant_type !== 'client_credential') return { errcode: 40002 };
    const now = this.options.clock();
    const outcome = body.force_refresh === true ? this.tokens.forceRefresh(appid, now) : this.tokens.normal(appid, now);
    // NOTE: 45009 for the per-minute and per-day limits and the 21st forced refresh of a day alike.
    if (outcome === 'quota-reached') return { errcode: 45009 };
    // The time left, not the full lifetime: a token renewed in its last minutes is never answered with less than the renewal window.
    return { body: { access_token: outcome.token, expires_in: Math.floor((outcome.expiresAt - now) / SECOND) } };
  }

  /** `wxa/business/getuserphonenumber?access_token=…` with `{ code }`: the token first, then the code. */
  private phoneNumber(params: URLSearchParams, body: PostedCall['body']): ApiResult {
    const token = params.get('access_token') ?? '';
    if (token === '') return { errcode: 41001 };
    const record = this.tokens.record(token);
    // Unknown, made up or revoked by a forced refresh: 40001; expired: 42001.
    if (record === undefined) return { errcode: 40001 };
    const now = this.options.clock();
    if (now >= record.expiresAt) return { errcode: 42001 };
    // NOTE: the emulator's choice: an Official Account's token has no phone numbers to read, "api unauthorized".
    if (this.store.app(record.appid)?.kind !== 'miniprogram') return { errcode: 48001 };
    if (body === null) return { errcode: 47001 };
    const code = typeof body.code === 'string' ? body.code : '';
    if (code === '') return { errcode: 41008 };
    const phoneCode = this.spendPhoneCode(record.appid, code, now);
    if (phoneCode === undefined) return { errcode: 40029 };
    return { body: { errcode: 0, errmsg: 'ok', phone_info: phoneInfoOf(phoneCode.user, record.appid, now) } };
  }

  /** The phone code, now spent; undefined when unknown, another app's, used or expired (all 40029). */
  private spendPhoneCode(appid: string, code: string, now: number): PhoneCodeRecord | undefined {
    const record = this.store.phoneCode(code);
    if (record === undefined || record.appid !== appid || record.used || now >= record.expiresAt) return undefined;
    record.used = true;
    return record;
  }
}

/** `phone_info`: `phoneNumber` with the country code outside China, `purePhoneNumber` never; the watermark names the app. */
function phoneInfoOf(user: EmulatorUser, appid: string, now: number): JsonObject {
  const pure = user.phoneNumber ?? '';
  const countryCode = user.phoneCountryCode;
  return {
    phoneNumber: countryCode === '86' ? pure : `+${countryCode}${pure}`,
    purePhoneNumber: pure,
    countryCode,
    watermark: { timestamp: Math.floor(now / SECOND), appid },
  };
}
