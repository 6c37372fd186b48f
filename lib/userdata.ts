/**
 * Data a Mini Program posts about its user, checked with the login's session_key: `rawData` +
 * `signature` (sha1) and `encryptedData` + `iv` (AES-128-CBC). Pure: no I/O, no clock.
 *
 * WeChat's algorithm: https://developers.weixin.qq.com/miniprogram/dev/framework/open-ability/signature.html
 */
import { crypto, util } from './builtins.js';
import { WeChatUserDataError } from './errors.js';

/** What WeChat stamps into every encrypted payload: the app it was made for, and when. */
export interface WeChatWatermark {
  appid: string;
  /** Unix time in seconds. */
  timestamp: number;
}

/** `wx.getUserInfo`'s `encryptedData` (before 2022-11-08 the real profile; since, "微信用户" and a grey avatar). */
export interface WeChatDecryptedUserInfo {
  /**
   * Not proof of who the user is: the client chooses the iv, and with CBC that lets it rewrite the
   * start of this field without the key. Identify the user by the login's `profile.openid` /
   * `profile.id` (from `sns/jscode2session`) instead.
   */
  openId: string;
  nickName: string;
  /** 0 unknown, 1 male, 2 female. */
  gender: number;
  language: string;
  city: string;
  province: string;
  country: string;
  avatarUrl: string;
  /** Only when the Mini Program is bound to an Open Platform account. Not proof of identity either: use `profile.unionid`. */
  unionId?: string;
  watermark: WeChatWatermark;
}

/** The legacy `getPhoneNumber` button's `encryptedData`. */
export interface WeChatDecryptedPhoneNumber {
  /** With the area code for numbers outside China, e.g. `'13580006666'`. */
  phoneNumber: string;
  /** Without the country code. */
  purePhoneNumber: string;
  countryCode: string;
  watermark: WeChatWatermark;
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const SHA1_HEX = /^[0-9a-f]{40}$/i;
const BLOCK = 16;

/**
 * Whether `signature` is WeChat's `sha1(rawData + session_key)` for this session key. Compares in
 * constant time; anything that is not a 40-digit hex signature is `false`.
 *
 * @param rawData - exactly the string the Mini Program got from WeChat (re-serialized JSON fails)
 * @example
 * ```ts
 * if (!verifyUserDataSignature(req.body.rawData, req.body.signature, storedSessionKey)) return res.sendStatus(400);
 * ```
 */
export function verifyUserDataSignature(rawData: string, signature: string, sessionKey: string): boolean {
  if (typeof rawData !== 'string' || typeof signature !== 'string' || typeof sessionKey !== 'string') return false;
  if (sessionKey === '' || !SHA1_HEX.test(signature)) return false;
  const expected = crypto.createHash('sha1').update(rawData + sessionKey, 'utf8').digest();
  return crypto.timingSafeEqual(expected, Buffer.from(signature, 'hex'));
}

/**
 * Decrypts a Mini Program's `encryptedData` (AES-128-CBC, PKCS#7, base64) with the login's
 * session key and checks that its `watermark.appid` is `appid`. `T` is not checked: it is what
 * you expect WeChat to have encrypted (e.g. {@link WeChatDecryptedPhoneNumber}).
 *
 * NOTE: WeChat's scheme has no MAC. Every failure to decrypt — wrong key, wrong iv, tampering, bad
 * padding, not JSON — is the same `WECHAT_USERDATA_UNDECRYPTABLE` error, so your answers cannot
 * act as a padding oracle; answer all of them the same way too. Without a MAC, data that decrypts
 * is not proven untouched: the client picks the iv and so can change the first 16 bytes of the
 * plaintext. Never take the user's identity (`openId`, `unionId`) from it; use the login's profile.
 *
 * @throws {@link WeChatUserDataError} `WECHAT_USERDATA_MALFORMED`, `WECHAT_USERDATA_UNDECRYPTABLE`
 *   or `WECHAT_USERDATA_WRONG_APPID`
 * @example
 * ```ts
 * const phone = decryptUserData<WeChatDecryptedPhoneNumber>(body.encryptedData, body.iv, storedSessionKey, APPID);
 * ```
 */
export function decryptUserData<T extends object = Record<string, unknown>>(
  encryptedData: string,
  iv: string,
  sessionKey: string,
  appid: string,
): T & { watermark: WeChatWatermark } {
  const key = decodeBase64(sessionKey, 'the session key', BLOCK);
  const ivBytes = decodeBase64(iv, 'iv', BLOCK);
  const ciphertext = decodeBase64(encryptedData, 'encryptedData');
  // Never 0 bytes: decodeBase64 refuses '', and any other base64 it accepts holds at least one byte.
  if (ciphertext.length % BLOCK !== 0) {
    throw malformed('encryptedData is not whole AES blocks (a multiple of 16 bytes).');
  }
  const json = decryptObject(key, ivBytes, ciphertext);
  const watermark = json.watermark as Partial<WeChatWatermark> | undefined;
  if (typeof watermark !== 'object' || watermark === null || watermark.appid !== appid) {
    throw new WeChatUserDataError(
      'The decrypted Mini Program data was made for another AppID (watermark.appid): use the session key and AppID of the Mini Program that sent it.',
      { code: 'WECHAT_USERDATA_WRONG_APPID' },
    );
  }
  return json as T & { watermark: WeChatWatermark };
}

/**
 * One login's `session_key`, to check and decrypt what the Mini Program posts. The key stays in a
 * private field: `util.inspect`, `String()` and `JSON.stringify` show `[redacted]`.
 *
 * @example
 * ```ts
 * new WeChatMiniProgramStrategy(options, (sessionKey, profile, done) => {
 *   // Keep it server-side only if later requests must decrypt (each wx.login() makes a new one).
 *   sessions.save(profile.openid, sessionKey.reveal()).then(() => done(null, { id: profile.id }), done);
 * });
 * // later, in another request:
 * const phone = new WeChatSessionKey(await sessions.load(openid), APPID).decrypt<WeChatDecryptedPhoneNumber>(encryptedData, iv);
 * ```
 */
export class WeChatSessionKey {
  /** The Mini Program the key belongs to; decrypted data must carry it as `watermark.appid`. */
  readonly appid: string;
  readonly #key: string;

  /** Rebuilds a key an app stored with {@link WeChatSessionKey.reveal}. */
  constructor(sessionKey: string, appid: string) {
    if (typeof sessionKey !== 'string' || sessionKey === '') throw malformed('A session key must be a non-empty string.');
    if (typeof appid !== 'string' || appid === '') throw malformed('A session key needs the AppID of its Mini Program.');
    this.#key = sessionKey;
    this.appid = appid;
  }

  /** Whether `signature` is `sha1(rawData + session_key)`, compared in constant time. */
  verifySignature(rawData: string, signature: string): boolean {
    return verifyUserDataSignature(rawData, signature, this.#key);
  }

  /** Decrypts `encryptedData` and checks its watermark against {@link WeChatSessionKey.appid}; see {@link decryptUserData}. */
  decrypt<T extends object = Record<string, unknown>>(encryptedData: string, iv: string): T & { watermark: WeChatWatermark } {
    return decryptUserData<T>(encryptedData, iv, this.#key, this.appid);
  }

  /** The key itself, for an app that must store it server-side. Never send it to the client. */
  reveal(): string {
    return this.#key;
  }

  toString(): string {
    return '[redacted]';
  }

  toJSON(): string {
    return '[redacted]';
  }

  [util.inspect.custom](): string {
    return `WeChatSessionKey { appid: ${JSON.stringify(this.appid)}, session_key: [redacted] }`;
  }
}

function decodeBase64(value: unknown, what: string, bytes?: number): Buffer {
  if (typeof value !== 'string' || value === '') throw malformed(`${what} must be a non-empty base64 string.`);
  if (!BASE64.test(value)) {
    // NOTE: a form post that does not URL-encode turns base64's '+' into a space.
    const hint = value.includes(' ') ? " It holds spaces: a '+' was probably decoded as a space; URL-encode it or post JSON." : '';
    throw malformed(`${what} is not base64.${hint}`);
  }
  const decoded = Buffer.from(value, 'base64');
  if (bytes !== undefined && decoded.length !== bytes) throw malformed(`${what} must be ${bytes} bytes, not ${decoded.length}.`);
  return decoded;
}

// One exit for every failure (bad padding, not UTF-8, not JSON, not an object): no cause, and not
// the parser's error, whose message quotes the decrypted text. Which step failed must not show.
function decryptObject(key: Buffer, iv: Buffer, ciphertext: Buffer): Record<string, unknown> {
  try {
    const aes = crypto.createDecipheriv('aes-128-cbc', key, iv); // PKCS#7 padding is checked by final()
    const plain = Buffer.concat([aes.update(ciphertext), aes.final()]);
    const json: unknown = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(plain));
    if (typeof json === 'object' && json !== null && !Array.isArray(json)) return json as Record<string, unknown>;
  } catch {
    // Answered below, the same way as JSON that is not an object.
  }
  throw undecryptable();
}

function undecryptable(): WeChatUserDataError {
  return new WeChatUserDataError(
    'The Mini Program data does not decrypt with this session key: the key is wrong or stale (each wx.login() makes a new one), ' +
      'or encryptedData/iv were altered.',
    { code: 'WECHAT_USERDATA_UNDECRYPTABLE' },
  );
}

function malformed(message: string): WeChatUserDataError {
  return new WeChatUserDataError(message, { code: 'WECHAT_USERDATA_MALFORMED' });
}
