/**
 * What a Mini Program posts, read with the session key: values of the wrong type (a form parser
 * turns `signature[]=…` into an array, a store returns null for a key it lost) and decrypted text
 * that is not the JSON object WeChat encrypts. Fixtures are encrypted here with node:crypto and a
 * fixed key and iv, so every run checks the same bytes.
 */
import { createCipheriv, createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { WeChatUserDataError } from '../lib/errors.js';
import { WeChatSessionKey, decryptUserData, verifyUserDataSignature } from '../lib/userdata.js';
import { expectNoSecrets } from './helpers/secrets.js';

const APPID = 'wx4f4bc4dec97d474b';
const SESSION_KEY = Buffer.from('0123456789abcdef').toString('base64');
const IV = Buffer.from('fedcba9876543210').toString('base64');
const WATERMARK = { appid: APPID, timestamp: 1700000000 };

/** Encrypts like WeChat: AES-128-CBC, PKCS#7, base64 in and out. */
function encrypt(plaintext: string | Buffer): string {
  const cipher = createCipheriv('aes-128-cbc', Buffer.from(SESSION_KEY, 'base64'), Buffer.from(IV, 'base64'));
  return Buffer.concat([cipher.update(plaintext), cipher.final()]).toString('base64');
}

/** Runs a call that must throw a WeChatUserDataError, and checks it shows no session key. */
function userDataError(call: () => unknown): WeChatUserDataError {
  let caught: unknown;
  try {
    call();
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(WeChatUserDataError);
  expectNoSecrets(caught, [SESSION_KEY]);
  return caught as WeChatUserDataError;
}

const sha1 = (text: string): string => createHash('sha1').update(text).digest('hex');

describe('verifyUserDataSignature with values a form parser made', () => {
  const rawData = '{"nickName":"Band","gender":1}';

  it('rejects rawData that is an array, even when its text is what was signed', () => {
    const posted = [rawData] as unknown as string;

    expect(verifyUserDataSignature(posted, sha1(rawData + SESSION_KEY), SESSION_KEY)).toBe(false);
  });

  it('rejects a signature that is an array holding the right signature, without throwing', () => {
    const posted = [sha1(rawData + SESSION_KEY)] as unknown as string;

    expect(verifyUserDataSignature(rawData, posted, SESSION_KEY)).toBe(false);
  });

  it('rejects a session key that is an array, even when its text is the key that signed', () => {
    const stored = [SESSION_KEY] as unknown as string;

    expect(verifyUserDataSignature(rawData, sha1(rawData + SESSION_KEY), stored)).toBe(false);
  });
});

describe('WeChatSessionKey rebuilt from a store', () => {
  it.each([
    ['undefined (a store that lost the key)', undefined],
    ['null', null],
    ['a Buffer of the key', Buffer.from(SESSION_KEY, 'base64')],
  ])('refuses a session key that is %s with WECHAT_USERDATA_MALFORMED', (_case, stored) => {
    const error = userDataError(() => new WeChatSessionKey(stored as unknown as string, APPID));

    expect(error.code).toBe('WECHAT_USERDATA_MALFORMED');
  });

  it.each([
    ['undefined', undefined],
    ['a number', 4],
  ])('refuses an AppID that is %s with WECHAT_USERDATA_MALFORMED', (_case, appid) => {
    const error = userDataError(() => new WeChatSessionKey(SESSION_KEY, appid as unknown as string));

    expect(error.code).toBe('WECHAT_USERDATA_MALFORMED');
  });
});

describe('decryptUserData with decrypted text that is not the JSON object WeChat encrypts', () => {
  it('decrypts the fixture this file builds the others from', () => {
    const data = decryptUserData(encrypt(JSON.stringify({ phoneNumber: '13580006666', watermark: WATERMARK })), IV, SESSION_KEY, APPID);

    expect(data).toEqual({ phoneNumber: '13580006666', watermark: WATERMARK });
  });

  it.each([
    ['null', 'null'],
    ['a number', '42'],
    ['a string', '"watermark"'],
    ['true', 'true'],
  ])('cannot decrypt JSON that is %s', (_case, plaintext) => {
    const error = userDataError(() => decryptUserData(encrypt(plaintext), IV, SESSION_KEY, APPID));

    expect(error.code).toBe('WECHAT_USERDATA_UNDECRYPTABLE');
  });

  it('cannot decrypt an object whose text holds bytes that are not UTF-8, rather than replacing them', () => {
    const plaintext = Buffer.concat([
      Buffer.from('{"nickName":"'),
      Buffer.from([0xff, 0xfe]),
      Buffer.from(`","watermark":${JSON.stringify(WATERMARK)}}`),
    ]);

    const error = userDataError(() => decryptUserData(encrypt(plaintext), IV, SESSION_KEY, APPID));

    expect(error.code).toBe('WECHAT_USERDATA_UNDECRYPTABLE');
  });

  it('refuses a null watermark as made for another AppID, not with a TypeError', () => {
    const error = userDataError(() => decryptUserData(encrypt('{"phoneNumber":"13580006666","watermark":null}'), IV, SESSION_KEY, APPID));

    expect(error.code).toBe('WECHAT_USERDATA_WRONG_APPID');
  });
});

describe("the hint about a '+' lost in a form post", () => {
  it('is not given for base64 that is broken another way, without spaces', () => {
    const error = userDataError(() => decryptUserData('abc*', IV, SESSION_KEY, APPID));

    expect(error.code).toBe('WECHAT_USERDATA_MALFORMED');
    expect(error.message).toMatch(/^encryptedData is not base64\.$/);
  });
});
