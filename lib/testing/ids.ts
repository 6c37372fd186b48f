/**
 * Identifiers that look like WeChat's: random codes, tokens, session keys and `rid`s, and
 * openids, unionids and avatar URLs derived from the app and user, so they are stable across runs.
 *
 * @internal Not part of the public `passport-wechat-oauth2/testing` API.
 */
import { createHash, randomBytes } from 'node:crypto';
import { SECOND } from './options.js';
import type { EmulatorUser } from './types.js';

const ALPHANUMERIC = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const BASE64URL = `${ALPHANUMERIC}-_`;

/** Codes look like `001HKCFa1UWlqz0ZsPHa1zrEwD2HKCF3`: 32 alphanumerics (docs/wechat-protocol.md#cross-cutting-codes-tokens-and-ids). */
export function newCode(): string {
  return randomChars(ALPHANUMERIC, 32);
}

/** A phone code (getPhoneNumber's `e.detail.code`) looks like 64 hex digits, as in getuserphonenumber's example. */
export function newPhoneCode(): string {
  return randomBytes(32).toString('hex');
}

/** A session key is base64 of 16 random bytes: an AES-128 key (docs/wechat-protocol.md#mini-program-session-key-and-user-data). */
export function newSessionKey(): string {
  return randomBytes(16).toString('base64');
}

/** Tokens look like `86_` + ~100 base64url characters (docs/wechat-protocol.md#cross-cutting-codes-tokens-and-ids). */
export function newToken(): string {
  return `86_${randomChars(BASE64URL, 104)}`;
}

/** The `, rid: xxxxxxxx-xxxxxxxx-xxxxxxxx` suffix; the first part is the hex Unix time, as in real rids (docs/wechat-protocol.md#cross-cutting-the-request-id-in-errmsg). */
export function ridFor(nowMs: number): string {
  const seconds = Math.floor(nowMs / SECOND).toString(16).padStart(8, '0').slice(-8);
  return `${seconds}-${randomBytes(4).toString('hex')}-${randomBytes(4).toString('hex')}`;
}

/** The openid a user has in one app: different per app (docs/wechat-protocol.md#cross-cutting-codes-tokens-and-ids). */
export function openidOf(appid: string, userId: string): string {
  return wechatId(`openid:${appid}`, userId);
}

/** The unionid a user has across the apps of one Open Platform account, or undefined when they have none. */
export function unionidOf(user: EmulatorUser, unionGroup: string): string | undefined {
  if (user.unionid === false) return undefined;
  return typeof user.unionid === 'string' ? user.unionid : wechatId(`unionid:${unionGroup}`, user.id);
}

/** A user's default avatar, on WeChat's avatar host and in its URL shape (docs/wechat-protocol.md#user-info-the-avatar-url). */
export function avatarUrlOf(userId: string): string {
  return `http://thirdwx.qlogo.cn/mmopen/vi_32/${digest(`avatar:${userId}`)}/132`;
}

/** Unbiased random characters (rejection sampling over random bytes). */
function randomChars(alphabet: string, length: number): string {
  const limit = 256 - (256 % alphabet.length);
  let out = '';
  while (out.length < length) {
    for (const byte of randomBytes(length * 2)) {
      if (byte < limit && out.length < length) out += alphabet.charAt(byte % alphabet.length);
    }
  }
  return out;
}

function digest(text: string): string {
  return createHash('sha256').update(text).digest('base64url');
}

/** 28 characters starting with `o`: a 5-character prefix per namespace (as real openids share per app), then per user (docs/wechat-protocol.md#cross-cutting-codes-tokens-and-ids). */
function wechatId(namespace: string, subject: string): string {
  return `o${digest(`ns:${namespace}`).slice(0, 5)}${digest(`id:${namespace}:${subject}`).slice(0, 22)}`;
}
