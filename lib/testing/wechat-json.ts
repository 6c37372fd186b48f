/**
 * How api.weixin.qq.com writes its answers: HTTP 200 whatever happened, JSON in a `text/plain`
 * body by default, slashes escaped, and errors as `{ errcode, errmsg }` with WeChat's text and a
 * `rid` suffix (docs/wechat-protocol.md#cross-cutting-errors-arrive-as-http-200).
 *
 * @internal Not part of the public `passport-wechat-oauth2/testing` API.
 */
import type { Reply } from './http.js';
import { ridFor } from './ids.js';
import type { EmulatorContentType } from './types.js';

type JsonValue = string | number | readonly string[] | JsonObject;
export type JsonObject = { readonly [key: string]: JsonValue };

/** What an endpoint decided: a success body, or an errcode (errmsg defaults to WeChat's text for it). */
export type ApiResult = { readonly body: JsonObject } | { readonly errcode: number; readonly errmsg?: string };

/** WeChat's errmsg for each errcode the emulator emits (docs/wechat-protocol.md#global-error-codes-and-our-classification). */
const ERRMSG: Readonly<Record<number, string>> = Object.freeze({
  [-1]: 'system error',
  40001: 'invalid credential, access_token is invalid or not latest',
  40002: 'invalid grant_type',
  40003: 'invalid openid',
  40013: 'invalid appid',
  40014: 'invalid access_token',
  40029: 'invalid code',
  40030: 'invalid refresh_token',
  40097: 'invalid args',
  40125: 'invalid appsecret',
  40163: 'code been used',
  43002: 'require POST method',
  45009: 'reach max api daily quota limit',
  47001: 'data format error',
  41001: 'access_token missing',
  41002: 'appid missing',
  41003: 'refresh_token missing',
  41004: 'appsecret missing',
  41008: 'missing code',
  41009: 'missing openid',
  42001: 'access_token expired',
  42002: 'refresh_token expired',
  42003: 'code expired',
  40226: 'code blocked',
  45011: 'api minute-quota reach limit, must slower, retry next minute',
  48001: 'api unauthorized',
});


/** HTTP 200 whatever happened, JSON in a `text/plain` body by default (docs/wechat-protocol.md#cross-cutting-json-sent-as-plain-text). `clock` dates the rid. */
export function jsonReply(result: ApiResult, contentTypeOption: EmulatorContentType, clock: () => number): Reply {
  const contentType = contentTypeOption === 'application/json' ? 'application/json; charset=utf-8' : 'text/plain';
  if ('body' in result) {
    const errcode = result.body.errcode;
    return { status: 200, contentType, body: encodeJson(result.body), errcode: typeof errcode === 'number' ? errcode : undefined };
  }
  const errmsg = result.errmsg ?? ERRMSG[result.errcode] ?? 'unknown error';
  // NOTE: newer WeChat errmsgs end in ", rid: xxxxxxxx-xxxxxxxx-xxxxxxxx" (docs/wechat-protocol.md#cross-cutting-the-request-id-in-errmsg).
  const body = encodeJson({ errcode: result.errcode, errmsg: `${errmsg}, rid: ${ridFor(clock())}` });
  return { status: 200, contentType, body, errcode: result.errcode, errmsg };
}

/** WeChat's encoder escapes slashes: `http:\/\/thirdwx.qlogo.cn\/...` (docs/wechat-protocol.md#cross-cutting-json-sent-as-plain-text). */
function encodeJson(value: JsonObject): string {
  return JSON.stringify(value).replaceAll('/', '\\/');
}
