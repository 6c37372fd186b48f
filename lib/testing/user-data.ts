/**
 * What a Mini Program gets from WeChat's client APIs, made the way WeChat makes it: `encryptedData`
 * under the user's session key, and `wx.getUserInfo()`'s signed, anonymised profile. Pure.
 *
 * @internal Not part of the public `passport-wechat-oauth2/testing` API.
 */
import { createCipheriv, createHash, randomBytes } from 'node:crypto';
import type { Grant } from './grant.js';
import { SECOND } from './options.js';
import type { EmulatorEncryptedData, EmulatorUserInfoData } from './types.js';

/** The grey avatar every Mini Program user has had in `wx.getUserInfo` since 2022-11-08 (docs/wechat-protocol.md#user-info-placeholder-nickname-and-avatar). */
const MINIPROGRAM_DEFAULT_AVATAR =
  'https://thirdwx.qlogo.cn/mmopen/vi_32/POgEwh4mIHO4nibH0KlMECNjjGxQUq24ZEaGT4poC6icRiccVGKSyXwibcPq4BWmiaIGuG1icwxaQX6grC9VemZoJ8rg/132';

/** `payload` with a `watermark` `{ appid, timestamp }` added, encrypted under `sessionKey`. */
export function encryptUserData(
  sessionKey: string,
  appid: string,
  nowMs: number,
  payload: Readonly<Record<string, unknown>>,
): EmulatorEncryptedData {
  const watermark = { appid, timestamp: Math.floor(nowMs / SECOND) };
  return encryptJson(sessionKey, { ...payload, watermark });
}

/** "微信用户" and the grey avatar, no gender or region (docs/wechat-protocol.md#user-info-placeholder-nickname-and-avatar); `rawData` signed, and encrypted with the ids. */
export function userInfoData(sessionKey: string, appid: string, grant: Grant, nowMs: number): EmulatorUserInfoData {
  const profile = { nickName: '微信用户', gender: 0, language: '', city: '', province: '', country: '', avatarUrl: MINIPROGRAM_DEFAULT_AVATAR };
  const rawData = JSON.stringify(profile);
  const signature = createHash('sha1').update(rawData + sessionKey, 'utf8').digest('hex');
  const ids = { openId: grant.openid, ...(grant.unionid === undefined ? {} : { unionId: grant.unionid }) };
  return { rawData, signature, ...encryptUserData(sessionKey, appid, nowMs, { ...ids, ...profile }) };
}

/** AES-128-CBC with PKCS#7 padding, base64 in and out: WeChat's encryptedData scheme (lib/userdata.ts). */
function encryptJson(sessionKey: string, value: Readonly<Record<string, unknown>>): EmulatorEncryptedData {
  const iv = randomBytes(16);
  const cipher = createCipheriv('aes-128-cbc', Buffer.from(sessionKey, 'base64'), iv);
  const ciphertext = Buffer.concat([cipher.update(JSON.stringify(value), 'utf8'), cipher.final()]);
  return { encryptedData: ciphertext.toString('base64'), iv: iv.toString('base64') };
}
