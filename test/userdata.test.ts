/**
 * The Mini Program's posted data, checked with the session key: rawData/signature (sha1) and
 * encryptedData/iv (AES-128-CBC). Fixtures are encrypted here with node:crypto, plus WeChat's own
 * published example, so the decryption is checked against WeChat and not only against itself.
 */
import { createCipheriv, createHash, randomBytes } from 'node:crypto';
import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { WeChatError, WeChatUserDataError } from '../lib/errors.js';
import {
  WeChatSessionKey,
  decryptUserData,
  verifyUserDataSignature,
  type WeChatDecryptedPhoneNumber,
  type WeChatDecryptedUserInfo,
} from '../lib/userdata.js';
import { expectNoSecrets } from './helpers/secrets.js';

const APPID = 'wx4f4bc4dec97d474b';
const SESSION_KEY = randomBytes(16).toString('base64');
const OTHER_KEY = randomBytes(16).toString('base64');

// WeChat's documented user-info shape (open-ability/signature.html).
const USER_INFO: WeChatDecryptedUserInfo = {
  openId: 'oGZUI0egBJY1zhBYw2KhdUfwVJJE',
  nickName: 'Band',
  gender: 1,
  language: 'zh_CN',
  city: 'Guangzhou',
  province: 'Guangdong',
  country: 'CN',
  avatarUrl: 'http://wx.qlogo.cn/mmopen/vi_32/aSKcBBPpibyKNicHNTMM0qJVh8Kjgiak2AHWr8MHM4WgMEm7GFhsf8OYrySdbvAMvTsw3mo8ibKicsnfN5pRjl1p8HQ/0',
  unionId: 'ocMvos6NjeKLIBqg5Mr9QjxrP1FA',
  watermark: { timestamp: 1477314187, appid: APPID },
};

const PHONE: WeChatDecryptedPhoneNumber = {
  phoneNumber: '13580006666',
  purePhoneNumber: '13580006666',
  countryCode: '86',
  watermark: { timestamp: 1700000000, appid: APPID },
};

/** Encrypts like WeChat: AES-128-CBC, PKCS#7, base64 in and out. */
function encrypt(plaintext: string | Buffer, key = SESSION_KEY, iv = randomBytes(16)): { encryptedData: string; iv: string } {
  const cipher = createCipheriv('aes-128-cbc', Buffer.from(key, 'base64'), iv);
  const data = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return { encryptedData: data.toString('base64'), iv: iv.toString('base64') };
}

/** Encrypts without padding: the caller pads (or mis-pads) to whole blocks itself. */
function encryptRaw(plaintext: Buffer, key = SESSION_KEY, iv = randomBytes(16)): { encryptedData: string; iv: string } {
  const cipher = createCipheriv('aes-128-cbc', Buffer.from(key, 'base64'), iv).setAutoPadding(false);
  return { encryptedData: Buffer.concat([cipher.update(plaintext), cipher.final()]).toString('base64'), iv: iv.toString('base64') };
}

function flipByte(base64: string, index: number): string {
  const bytes = Buffer.from(base64, 'base64');
  bytes[index] = (bytes[index] ?? 0) ^ 0x01;
  return bytes.toString('base64');
}

/** Runs a call that must throw a WeChatUserDataError; checks it shows none of `secrets`. */
function userDataError(call: () => unknown, secrets: readonly string[] = [SESSION_KEY]): WeChatUserDataError {
  let caught: unknown;
  try {
    call();
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(WeChatUserDataError);
  expectNoSecrets(caught, secrets);
  return caught as WeChatUserDataError;
}

describe("WeChat's published example", () => {
  it('decrypts the documented encryptedData to the documented user info', () => {
    const encryptedData =
      'CiyLU1Aw2KjvrjMdj8YKliAjtP4gsMZMQmRzooG2xrDcvSnxIMXFufNstNGTyaGS9uT5geRa0W4oTOb1WT7fJlAC+oNPdbB+3hVbJSRgv+4lGOETKUQz6OYStslQ142dNCuabNPGBzlooOmB231qMM85d2/fV6ChevvXvQP8Hkue1poOFtnEtpyxVLW1zAo6/1Xx1COxFvrc2d7UL/lmHInNlxuacJXwu0fjpXfz/YqYzBIBzD6WUfTIF9GRHpOn/Hz7saL8xz+W//FRAUid1OksQaQx4CMs8LOddcQhULW4ucetDf96JcR3g0gfRK4PC7E/r7Z6xNrXd2UIeorGj5Ef7b1pJAYB6Y5anaHqZ9J6nKEBvB4DnNLIVWSgARns/8wR2SiRS7MNACwTyrGvt9ts8p12PKFdlqYTopNHR1Vf7XjfhQlVsAJdNiKdYmYVoKlaRv85IfVunYzO0IKXsyl7JCUjCpoG20f0a04COwfneQAGGwd5oa+T8yO5hzuyDb/XcxxmK01EpqOyuxINew==';

    const data = decryptUserData<WeChatDecryptedUserInfo>(encryptedData, 'r7BXXKkLb8qrSNn05n0qiA==', 'tiihtNczf5v6AKRyjwEUhQ==', APPID);

    expect(data).toEqual(USER_INFO);
  });

  it('accepts the documented rawData signature', () => {
    const rawData =
      '{"nickName":"Band","gender":1,"language":"zh_CN","city":"Guangzhou","province":"Guangdong","country":"CN","avatarUrl":"http://wx.qlogo.cn/mmopen/vi_32/1vZvI39NWFQ9XM4LtQpFrQJ1xlgZxx3w7bQxKARol6503Iuswjjn6nIGBiaycAjAtpujxyzYsrztuuICqIM5ibXQ/0"}';

    expect(verifyUserDataSignature(rawData, '75e81ceda165f4ffa64f4068af58c64b8f54b88c', 'HyVFkGl5F5OQWJZZaNzBBg==')).toBe(true);
  });
});

describe('decryptUserData', () => {
  it('decrypts user info in WeChat\'s documented shape', () => {
    const { encryptedData, iv } = encrypt(JSON.stringify(USER_INFO));

    expect(decryptUserData<WeChatDecryptedUserInfo>(encryptedData, iv, SESSION_KEY, APPID)).toEqual(USER_INFO);
  });

  it("lets a client rewrite the start of openId through the iv, without the key: encryptedData's ids prove nothing", () => {
    const { encryptedData, iv } = encrypt(JSON.stringify(USER_INFO));
    // CBC: the first plaintext block is decrypt(C1) XOR iv, and the client sends the iv. The block
    // is `{"openId":"oGZUI`, so XORing the iv's last five bytes swaps in characters of its choice.
    const forgedIv = Buffer.from(iv, 'base64');
    const [was, wanted] = [Buffer.from('oGZUI'), Buffer.from('oEVIL')];
    for (let i = 0; i < 5; i += 1) forgedIv[11 + i] = (forgedIv[11 + i] ?? 0) ^ (was[i] ?? 0) ^ (wanted[i] ?? 0);

    const forged = decryptUserData<WeChatDecryptedUserInfo>(encryptedData, forgedIv.toString('base64'), SESSION_KEY, APPID);

    expect(forged.openId).toBe('oEVIL0egBJY1zhBYw2KhdUfwVJJE'); // docs/miniprogram.md: identify users by profile.id only
    expect(forged.watermark.appid).toBe(APPID);
  });

  it('decrypts a legacy getPhoneNumber payload', () => {
    const { encryptedData, iv } = encrypt(JSON.stringify(PHONE));

    const phone = decryptUserData<WeChatDecryptedPhoneNumber>(encryptedData, iv, SESSION_KEY, APPID);

    expect(phone.purePhoneNumber).toBe('13580006666');
    expect(phone.watermark.appid).toBe(APPID);
  });

  it('decrypts a payload that ends exactly on a block boundary (a whole block of padding)', () => {
    const exact = JSON.stringify({ a: 'x'.repeat(9), watermark: { appid: APPID, timestamp: 1 } });
    const padded = `${exact}${' '.repeat((16 - (exact.length % 16)) % 16)}`;
    expect(padded.length % 16).toBe(0);
    const { encryptedData, iv } = encrypt(padded);

    expect(Buffer.from(encryptedData, 'base64').length).toBe(padded.length + 16);
    expect(decryptUserData(encryptedData, iv, SESSION_KEY, APPID)).toMatchObject({ a: 'x'.repeat(9) });
  });

  it('refuses data made for another Mini Program (watermark.appid)', () => {
    const { encryptedData, iv } = encrypt(JSON.stringify({ ...PHONE, watermark: { appid: 'wx0000000000000000', timestamp: 1 } }));

    const error = userDataError(() => decryptUserData(encryptedData, iv, SESSION_KEY, APPID), [SESSION_KEY, '13580006666']);

    expect(error.code).toBe('WECHAT_USERDATA_WRONG_APPID');
  });

  it('refuses data without a watermark', () => {
    const { encryptedData, iv } = encrypt(JSON.stringify({ phoneNumber: '13580006666' }));

    expect(userDataError(() => decryptUserData(encryptedData, iv, SESSION_KEY, APPID)).code).toBe('WECHAT_USERDATA_WRONG_APPID');
  });

  it.each([
    ['the wrong session key', () => encrypt(JSON.stringify(PHONE), OTHER_KEY)],
    ['a flipped byte that breaks the padding', () => {
      const data = encrypt(JSON.stringify(PHONE));
      const length = Buffer.from(data.encryptedData, 'base64').length;
      return { ...data, encryptedData: flipByte(data.encryptedData, length - 17) };
    }],
    ['a flipped byte in the first block (garbled JSON)', () => {
      const data = encrypt(JSON.stringify(PHONE));
      return { ...data, encryptedData: flipByte(data.encryptedData, 3) };
    }],
    ['the wrong iv', () => ({ ...encrypt(JSON.stringify(PHONE)), iv: randomBytes(16).toString('base64') })],
    ['a valid padding around text that is not JSON', () => encrypt('not json at all')],
    ['JSON that is not an object', () => encrypt('["watermark"]')],
    ['bytes that are not UTF-8', () => encrypt(Buffer.from([0xff, 0xfe, 0x7b, 0x7d]))],
  ])('cannot decrypt with %s', (_case, make) => {
    const { encryptedData, iv } = make();

    const error = userDataError(() => decryptUserData(encryptedData, iv, SESSION_KEY, APPID), [SESSION_KEY, OTHER_KEY, '13580006666']);

    expect(error.code).toBe('WECHAT_USERDATA_UNDECRYPTABLE');
    expect(error.retryable).toBe(false);
  });

  it('answers bad padding and bad JSON with the same error, so a client gets no padding oracle', () => {
    const badPadding = encryptRaw(Buffer.concat([Buffer.from('{"watermark":{}}'), Buffer.alloc(16, 0x11)]));
    const badJson = encrypt('{"watermark":');

    const padding = userDataError(() => decryptUserData(badPadding.encryptedData, badPadding.iv, SESSION_KEY, APPID));
    const json = userDataError(() => decryptUserData(badJson.encryptedData, badJson.iv, SESSION_KEY, APPID));

    expect(padding.toJSON()).toEqual(json.toJSON());
    expect(padding.cause).toBeUndefined();
    expect(json.cause).toBeUndefined();
  });

  it.each([
    ['encryptedData is not base64', () => ['***', randomBytes(16).toString('base64'), SESSION_KEY], /encryptedData is not base64/],
    ['the iv is not 16 bytes', () => [encrypt('{}').encryptedData, randomBytes(8).toString('base64'), SESSION_KEY], /iv must be 16 bytes/],
    ['the session key is not 16 bytes', () => [encrypt('{}').encryptedData, randomBytes(16).toString('base64'), randomBytes(32).toString('base64')], /session key must be 16 bytes/],
    ['encryptedData is not whole blocks', () => [randomBytes(20).toString('base64'), randomBytes(16).toString('base64'), SESSION_KEY], /multiple of 16/],
    ['encryptedData is empty', () => ['', randomBytes(16).toString('base64'), SESSION_KEY], /non-empty/],
    ['a value is not a string', () => [{ $gt: '' }, randomBytes(16).toString('base64'), SESSION_KEY], /non-empty base64/],
  ])('refuses input that WeChat never sends: %s', (_case, make, message) => {
    const [encryptedData, iv, key] = make() as [string, string, string];

    const error = userDataError(() => decryptUserData(encryptedData, iv, key, APPID));

    expect(error.code).toBe('WECHAT_USERDATA_MALFORMED');
    expect(error.message).toMatch(message);
  });

  it("says that a space in base64 is a '+' lost in a form post", () => {
    const { encryptedData, iv } = encrypt(JSON.stringify(PHONE));
    const mangled = `${encryptedData.slice(0, 10)} ${encryptedData.slice(11)}`;

    expect(userDataError(() => decryptUserData(mangled, iv, SESSION_KEY, APPID)).message).toMatch(/'\+' was probably decoded as a space/);
  });

  it('is a WeChatError with a stable code, safe to log', () => {
    const error = userDataError(() => decryptUserData(encrypt('{}', OTHER_KEY).encryptedData, randomBytes(16).toString('base64'), SESSION_KEY, APPID));

    expect(error).toBeInstanceOf(WeChatError);
    expect(error.name).toBe('WeChatUserDataError');
    expect(JSON.parse(JSON.stringify(error))).toMatchObject({ name: 'WeChatUserDataError', code: 'WECHAT_USERDATA_UNDECRYPTABLE' });
  });
});

describe('verifyUserDataSignature', () => {
  const rawData = JSON.stringify({ nickName: '微信用户', gender: 0, avatarUrl: '' });
  const signature = createHash('sha1').update(rawData + SESSION_KEY).digest('hex');

  it('accepts sha1(rawData + session_key)', () => {
    expect(verifyUserDataSignature(rawData, signature, SESSION_KEY)).toBe(true);
    expect(verifyUserDataSignature(rawData, signature.toUpperCase(), SESSION_KEY)).toBe(true);
  });

  it.each([
    ['rawData changed', `${rawData} `, signature, SESSION_KEY],
    ['another session key', rawData, signature, OTHER_KEY],
    ['a signature that is one digit off', rawData, `${signature.slice(0, -1)}${signature.endsWith('0') ? '1' : '0'}`, SESSION_KEY],
    ['a truncated signature', rawData, signature.slice(0, 39), SESSION_KEY],
    ['a signature that is not hex', rawData, 'z'.repeat(40), SESSION_KEY],
    ['an empty session key', rawData, createHash('sha1').update(rawData).digest('hex'), ''],
    ['a signature that is not a string', rawData, ['x'], SESSION_KEY],
  ])('rejects %s', (_case, data, sig, key) => {
    expect(verifyUserDataSignature(data, sig as string, key)).toBe(false);
  });
});

describe('WeChatSessionKey', () => {
  const sessionKey = new WeChatSessionKey(SESSION_KEY, APPID);

  it('shows [redacted] in util.inspect, String() and JSON, and only reveal() gives the key', () => {
    expect(inspect(sessionKey)).toBe(`WeChatSessionKey { appid: "${APPID}", session_key: [redacted] }`);
    expect(inspect({ nested: sessionKey }, { depth: 10, showHidden: true })).not.toContain(SESSION_KEY);
    expect(String(sessionKey)).toBe('[redacted]');
    expect(`${sessionKey}`).toBe('[redacted]');
    expect(JSON.stringify({ sessionKey })).toBe('{"sessionKey":"[redacted]"}');
    expect(Object.values(sessionKey)).toEqual([APPID]);
    expect(sessionKey.reveal()).toBe(SESSION_KEY);
  });

  it('decrypts with its own key and checks the watermark against its AppID', () => {
    const { encryptedData, iv } = encrypt(JSON.stringify(PHONE));
    expect(sessionKey.decrypt<WeChatDecryptedPhoneNumber>(encryptedData, iv).phoneNumber).toBe('13580006666');

    const other = new WeChatSessionKey(SESSION_KEY, 'wx0000000000000000');
    expect(userDataError(() => other.decrypt(encryptedData, iv)).code).toBe('WECHAT_USERDATA_WRONG_APPID');
  });

  it('verifies rawData signatures with its own key', () => {
    const rawData = '{"nickName":"Band"}';
    expect(sessionKey.verifySignature(rawData, createHash('sha1').update(rawData + SESSION_KEY).digest('hex'))).toBe(true);
    expect(sessionKey.verifySignature(rawData, createHash('sha1').update(rawData + OTHER_KEY).digest('hex'))).toBe(false);
  });

  it('can be rebuilt from a stored key', () => {
    const { encryptedData, iv } = encrypt(JSON.stringify(PHONE));
    const stored = sessionKey.reveal();

    expect(new WeChatSessionKey(stored, APPID).decrypt(encryptedData, iv)).toEqual(PHONE);
  });

  it('refuses an empty key or AppID', () => {
    expect(() => new WeChatSessionKey('', APPID)).toThrow(WeChatUserDataError);
    expect(() => new WeChatSessionKey(SESSION_KEY, '')).toThrow(/AppID/);
  });
});
