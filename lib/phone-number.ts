/**
 * The phone number part of a Mini Program sign-in: the phone code the Mini Program posts beside
 * its `wx.login()` code, its exchange with `wxa/business/getuserphonenumber` under the app's
 * access token, the watermark check, and what the profile gets. docs/miniprogram.md#phone-number-sign-in.
 */
import type { Request } from 'express';
import type { WeChatAppTokenProvider } from './app-token.js';
import type { WeChatClient } from './client.js';
import { WeChatError, WeChatOptionsError, WeChatResponseError, type WeChatErrorCode } from './errors.js';
import type { WeChatFailureInfo } from './failures.js';
import { fieldOf, isPlausibleCode } from './request.js';
import type { WeChatPhoneInfo } from './wechat-answers.js';

/** Whether a sign-in asks for the user's phone number, and whether it may end without one. */
export type WeChatPhoneNumberMode = 'optional' | 'required';

export interface PhoneSettings {
  mode: WeChatPhoneNumberMode;
  field: string;
}

const FIELD_NAME = /^[A-Za-z_$][\w$-]{0,63}$/;

/** The phone options of a Mini Program strategy, checked; undefined when phone numbers are off. */
export function resolvePhoneSettings(o: Record<string, unknown>): PhoneSettings | undefined {
  const mode = o.phoneNumber;
  const field = o.phoneCodeField ?? 'phoneCode';
  if (mode === undefined || mode === false) {
    if (o.phoneCodeField !== undefined) throw new WeChatOptionsError('phoneCodeField needs phoneNumber: "optional" or "required".');
    return undefined;
  }
  if (mode !== 'optional' && mode !== 'required') throw new WeChatOptionsError('phoneNumber must be "optional", "required" or false.');
  if (typeof field !== 'string' || !FIELD_NAME.test(field)) throw new WeChatOptionsError('phoneCodeField must be a field name such as "phoneCode".');
  if (field === (o.codeField ?? 'code')) throw new WeChatOptionsError('phoneCodeField must differ from codeField: the login code and the phone code are two codes.');
  return { mode, field };
}

/** The phone code posted in the parsed body (never the query), absent, or why it is unusable. */
export function readPhoneCode(req: Request, settings: PhoneSettings): { code: string } | { absent: true } | { failure: WeChatFailureInfo } {
  const value = fieldOf(req.body, settings.field);
  if (value === undefined || value === null || value === '') {
    if (settings.mode === 'optional') return { absent: true };
    return {
      failure: {
        code: 'WECHAT_MISSING_PHONE_CODE',
        message: `This sign-in needs the user's phone number: post the code of <button open-type="getPhoneNumber"> in field "${settings.field}".`,
      },
    };
  }
  if (!isPlausibleCode(value)) return { failure: { code: 'WECHAT_MALFORMED_PHONE_CODE', message: `The phone number code in field "${settings.field}" is malformed.` } };
  return { code: value };
}

/** What the profile gets from a phone number: Passport's `phoneNumbers` and WeChat's `phone_info`. */
export interface PhoneProfileFields {
  phoneNumbers: [{ value: string }];
  _phoneInfo: WeChatPhoneInfo;
}

/**
 * The user's phone number for `phoneCode`, with the app token (refreshed and retried once when
 * WeChat refuses it). The watermark must name this app: a phone number issued to another app
 * (a misrouted answer, a proxy mixing apps) is refused, never attached to this user.
 */
export async function phoneNumberOf(appToken: WeChatAppTokenProvider, client: WeChatClient, phoneCode: string): Promise<PhoneProfileFields> {
  const info = await appToken.withToken((token) => client.getPhoneNumber(token, phoneCode));
  if (info.watermark.appid !== client.appId) {
    throw new WeChatResponseError('WeChat getuserphonenumber answered a phone number issued to another app (watermark.appid).', {
      code: 'WECHAT_PHONE_WRONG_APPID',
    });
  }
  return { phoneNumbers: [{ value: `+${info.countryCode}${info.purePhoneNumber}` }], _phoneInfo: info };
}

/** Why an optional phone number is missing, for the verify callback: the error's code and whether a retry may work. */
export interface WeChatPhoneNumberError {
  code: WeChatErrorCode | 'WECHAT_ERROR';
  retryable: boolean;
}

export function phoneErrorOf(error: unknown): WeChatPhoneNumberError {
  return error instanceof WeChatError ? { code: error.code, retryable: error.retryable } : { code: 'WECHAT_ERROR', retryable: false };
}
