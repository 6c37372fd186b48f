import { readFileSync } from 'node:fs';
import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import {
  WeChatAPIError,
  WeChatCodeError,
  WeChatCredentialsError,
  WeChatError,
  WeChatOptionsError,
  WeChatRequestError,
  WeChatResponseError,
  WeChatTokenError,
  errorFromErrcode,
  splitErrmsg,
  type WeChatErrorCode,
} from '../lib/errors.js';

/** WeChat's errmsg as it arrives, read from a recorded body (escaped slashes and all). */
function errmsgOf(fixture: string): string {
  const body = JSON.parse(readFileSync(new URL(`./fixtures/${fixture}`, import.meta.url), 'utf8')) as { errmsg: string };
  return body.errmsg;
}

type APIErrorClass = typeof WeChatAPIError;

// Every errcode of lib/errors.ts's table, with the class, code and retryability the package promises.
const ROWS: ReadonlyArray<[errcode: number, kind: APIErrorClass, code: WeChatErrorCode, retryable: boolean]> = [
  [-1, WeChatAPIError, 'WECHAT_SYSTEM_BUSY', true],
  [40029, WeChatCodeError, 'WECHAT_INVALID_CODE', false],
  [40163, WeChatCodeError, 'WECHAT_INVALID_CODE', false],
  [42003, WeChatCodeError, 'WECHAT_INVALID_CODE', false],
  [41008, WeChatCodeError, 'WECHAT_INVALID_CODE', false],
  [40013, WeChatCredentialsError, 'WECHAT_BAD_CREDENTIALS', false],
  [40125, WeChatCredentialsError, 'WECHAT_BAD_CREDENTIALS', false],
  [41002, WeChatCredentialsError, 'WECHAT_BAD_CREDENTIALS', false],
  [41004, WeChatCredentialsError, 'WECHAT_BAD_CREDENTIALS', false],
  [40164, WeChatCredentialsError, 'WECHAT_BAD_CREDENTIALS', false],
  [40001, WeChatTokenError, 'WECHAT_INVALID_TOKEN', false],
  [40014, WeChatTokenError, 'WECHAT_INVALID_TOKEN', false],
  [42001, WeChatTokenError, 'WECHAT_INVALID_TOKEN', false],
  [41001, WeChatTokenError, 'WECHAT_INVALID_TOKEN', false],
  [40003, WeChatTokenError, 'WECHAT_INVALID_TOKEN', false],
  [41009, WeChatTokenError, 'WECHAT_INVALID_TOKEN', false],
  [40030, WeChatTokenError, 'WECHAT_INVALID_REFRESH_TOKEN', false],
  [42002, WeChatTokenError, 'WECHAT_INVALID_REFRESH_TOKEN', false],
  [42007, WeChatTokenError, 'WECHAT_INVALID_REFRESH_TOKEN', false],
  [41003, WeChatTokenError, 'WECHAT_INVALID_REFRESH_TOKEN', false],
  [48001, WeChatAPIError, 'WECHAT_SCOPE_UNAUTHORIZED', false],
  [50001, WeChatAPIError, 'WECHAT_SCOPE_UNAUTHORIZED', false],
  [45011, WeChatAPIError, 'WECHAT_RATE_LIMITED', true],
  [45009, WeChatAPIError, 'WECHAT_RATE_LIMITED', true],
];
const TABLE = ROWS.map(([errcode, kind, code, retryable]) => ({ errcode, kind, code, retryable }));

describe('errorFromErrcode', () => {
  it.each(TABLE)('classifies errcode $errcode as a $kind.name with code $code (retryable: $retryable)', ({ errcode, kind, code, retryable }) => {
    const err = errorFromErrcode('userinfo', errcode, 'some text, rid: 66b1e3a2-4c5d7e8f-1a2b3c4d');

    expect(err.constructor).toBe(kind);
    expect(err).toBeInstanceOf(WeChatAPIError);
    expect(err.code).toBe(code);
    expect(err.retryable).toBe(retryable);
    expect(err.errcode).toBe(errcode);
    expect(err.errmsg).toBe('some text');
    expect(err.rid).toBe('66b1e3a2-4c5d7e8f-1a2b3c4d');
  });

  it('treats a 40163 as a used code the user must retry', () => {
    const err = errorFromErrcode('access_token', 40163, errmsgOf('error-40163-rid.json'));

    expect(err).toBeInstanceOf(WeChatCodeError);
    expect(err.code).toBe('WECHAT_INVALID_CODE');
    expect(err.retryable).toBe(false);
    expect(err.message).toMatch(/log ?in again/i);
  });

  it('treats a 40001 on the code exchange as a wrong AppSecret the operator must fix', () => {
    const err = errorFromErrcode('access_token', 40001, errmsgOf('error-40001-rid.json'));

    expect(err.constructor).toBe(WeChatCredentialsError);
    expect(err.code).toBe('WECHAT_BAD_CREDENTIALS');
    expect(err.message).toContain('AppSecret');
  });

  it('treats a 40001 on userinfo as an access token to refresh', () => {
    const err = errorFromErrcode('userinfo', 40001, errmsgOf('error-40001-rid.json'));

    expect(err.constructor).toBe(WeChatTokenError);
    expect(err.code).toBe('WECHAT_INVALID_TOKEN');
    expect(err.errmsg).toBe('invalid credential, access_token is invalid or not latest');
  });

  it('marks a -1 system error as busy and worth retrying', () => {
    const err = errorFromErrcode('access_token', -1, errmsgOf('error-system-busy-hints.json'));

    expect(err.constructor).toBe(WeChatAPIError);
    expect(err.code).toBe('WECHAT_SYSTEM_BUSY');
    expect(err.retryable).toBe(true);
    expect(err.errcode).toBe(-1);
    expect(err.errmsg).toBe('system error');
    expect(err.rid).toBe('5Gx1aA0577th12');
  });

  it('marks a 45011 minute quota as rate limiting worth retrying later', () => {
    const err = errorFromErrcode('access_token', 45011, errmsgOf('error-45011-rid.json'));

    expect(err.constructor).toBe(WeChatAPIError);
    expect(err.code).toBe('WECHAT_RATE_LIMITED');
    expect(err.retryable).toBe(true);
    expect(err.errmsg).toBe('api minute-quota reach limit, must slower, retry next minute');
  });

  it('turns an unknown errcode into a plain WeChatAPIError, never a success', () => {
    const err = errorFromErrcode('userinfo', 40999, 'something new, rid: 66b1eaf5-0e1d2c3b-4a5f6e7d');

    expect(err.constructor).toBe(WeChatAPIError);
    expect(err.code).toBe('WECHAT_API_ERROR');
    expect(err.retryable).toBe(false);
    expect(err.errcode).toBe(40999);
    expect(err.message).toContain('40999');
    expect(err.message).toContain('something new');
  });

  it('tells the operator to fix the AppSecret on a 40125', () => {
    const err = errorFromErrcode('access_token', 40125, errmsgOf('error-40125-rid.json'));

    expect(err.message).toContain('errcode 40125');
    expect(err.message).toContain('invalid appsecret');
    expect(err.message).toContain('AppSecret');
    expect(err.message).toContain('clientSecret');
    expect(err.message).not.toContain('rid:');
  });

  it('tells the operator to fix the AppID on a 40013', () => {
    const err = errorFromErrcode('access_token', 40013, errmsgOf('error-40013-rid.json'));

    expect(err.message).toContain('errcode 40013');
    expect(err.message).toContain('AppID');
    expect(err.message).toContain('clientID');
  });

  it('keeps the "view more" link of an old 40125 answer and moves its req_id to rid', () => {
    const err = errorFromErrcode('access_token', 40125, errmsgOf('error-40125-view-more.json'));

    expect(err).toBeInstanceOf(WeChatCredentialsError);
    expect(err.errmsg).toBe('invalid appsecret, view more at http://t.cn/RAEkdVq');
    expect(err.rid).toBe('3Hd5dA0891th38');
    expect(err.message).not.toContain('hints');
  });

  it('names the endpoint that failed in the message', () => {
    expect(errorFromErrcode('refresh_token', 40030, 'invalid refresh_token').message).toMatch(/^WeChat refresh_token call failed/);
    expect(errorFromErrcode('userinfo', 40001, 'x').message).toMatch(/^WeChat userinfo call failed/);
  });

  it('says only the errcode when WeChat sends an empty errmsg', () => {
    const err = errorFromErrcode('auth', 40003, '');

    expect(err.message).toContain('(errcode 40003)');
    expect(err.errmsg).toBe('');
    expect(err.rid).toBeUndefined();
  });
});

describe('splitErrmsg', () => {
  it.each([
    ['error-40029-rid.json', 'invalid code', '65a33cd8-023106e1-2dc7e2f6'],
    ['error-42001-rid-no-comma.json', 'access_token expired', '66c669e3-2d4b6f81-0c3e5a79'],
    ['error-40029-hints.json', 'invalid code', '1foBSgMre-Hz'],
    ['error-40125-view-more.json', 'invalid appsecret, view more at http://t.cn/RAEkdVq', '3Hd5dA0891th38'],
    ['error-45011-rid.json', 'api minute-quota reach limit, must slower, retry next minute', '66b1eaf5-0e1d2c3b-4a5f6e7d'],
    ['error-system-busy-hints.json', 'system error', '5Gx1aA0577th12'],
    ['error-40029-bare.json', 'invalid code', undefined],
    ['error-40003.json', 'invalid openid', undefined],
  ])('splits the errmsg of %s into its text and request id', (fixture, text, rid) => {
    expect(splitErrmsg(errmsgOf(fixture))).toEqual({ text, rid });
  });

  it('reads an errmsg that is only a request id as an empty text', () => {
    expect(splitErrmsg('rid: 66b1e3a2-4c5d7e8f-1a2b3c4d')).toEqual({ text: '', rid: '66b1e3a2-4c5d7e8f-1a2b3c4d' });
  });

  it('leaves an empty errmsg empty', () => {
    expect(splitErrmsg('')).toEqual({ text: '', rid: undefined });
  });

  // A body of up to maxResponseBytes (1 MiB by default) reaches splitErrmsg; a regex that backtracks
  // quadratically over a run of white space would block the event loop for minutes.
  // Not a speed test: a quadratic split of a 1 MiB errmsg takes tens of minutes, so it cannot
  // finish within the test timeout at all, while a linear one returns at once.
  it('splits an errmsg of 1 MiB of white space without backtracking', () => {
    const errmsg = `invalid code${' '.repeat(1024 * 1024)}x`;

    const { text, rid } = splitErrmsg(errmsg);

    expect(rid).toBeUndefined();
    expect(text).toBe(errmsg);
  });

  it('does not take a "rid" in the middle of the text for a request id', () => {
    expect(splitErrmsg('rid: abc is not the end, see docs')).toEqual({ text: 'rid: abc is not the end, see docs', rid: undefined });
  });
});

describe('what an error shows', () => {
  const err = errorFromErrcode('access_token', 40029, errmsgOf('error-40029-rid.json'));

  it('exposes the request id so the operator can quote it to WeChat support', () => {
    expect(err.rid).toBe('65a33cd8-023106e1-2dc7e2f6');
    expect(err.errmsg).toBe('invalid code');
  });

  it('serializes to JSON with code, errcode, errmsg and rid but no stack or cause', () => {
    const json = JSON.parse(JSON.stringify(err)) as Record<string, unknown>;

    expect(json).toEqual({
      name: 'WeChatCodeError',
      code: 'WECHAT_INVALID_CODE',
      message: err.message,
      retryable: false,
      errcode: 40029,
      errmsg: 'invalid code',
      rid: '65a33cd8-023106e1-2dc7e2f6',
    });
  });

  it('keeps a cause out of JSON, so a log line cannot carry what the cause holds', () => {
    const cause = new Error('socket hang up while sending secret=3b9f0c7e2d5a4f1e8c6b0a9d7e5f3c21');
    const wrapped = new WeChatRequestError('Could not reach WeChat access_token', { code: 'WECHAT_NETWORK_ERROR', cause });

    expect(wrapped.cause).toBe(cause);
    expect(JSON.stringify(wrapped)).not.toContain('3b9f0c7e2d5a4f1e8c6b0a9d7e5f3c21');
    expect(JSON.stringify(wrapped)).not.toContain('cause');
  });

  it('shows code and errcode in util.inspect', () => {
    const shown = inspect(err);

    expect(shown).toContain("code: 'WECHAT_INVALID_CODE'");
    expect(shown).toContain('errcode: 40029');
    expect(shown).toContain('WeChatCodeError');
  });
});

describe('error classes', () => {
  const apiError = (kind: APIErrorClass): WeChatAPIError => new kind('x', { code: 'WECHAT_API_ERROR', errcode: 1 });

  it.each([
    ['WeChatCodeError', apiError(WeChatCodeError)],
    ['WeChatCredentialsError', apiError(WeChatCredentialsError)],
    ['WeChatTokenError', apiError(WeChatTokenError)],
  ])('makes a %s a WeChatAPIError, a WeChatError and an Error', (_name, err) => {
    expect(err).toBeInstanceOf(WeChatAPIError);
    expect(err).toBeInstanceOf(WeChatError);
    expect(err).toBeInstanceOf(Error);
  });

  it.each([
    ['WeChatOptionsError', new WeChatOptionsError('x')],
    ['WeChatRequestError', new WeChatRequestError('x', { code: 'WECHAT_TIMEOUT' })],
    ['WeChatResponseError', new WeChatResponseError('x', { code: 'WECHAT_MALFORMED_RESPONSE' })],
  ])('makes a %s a WeChatError but not a WeChatAPIError', (_name, err) => {
    expect(err).toBeInstanceOf(WeChatError);
    expect(err).toBeInstanceOf(Error);
    expect(err).not.toBeInstanceOf(WeChatAPIError);
  });

  it.each([
    ['WeChatError', new WeChatError('x', { code: 'WECHAT_API_ERROR' })],
    ['WeChatOptionsError', new WeChatOptionsError('x')],
    ['WeChatRequestError', new WeChatRequestError('x', { code: 'WECHAT_NETWORK_ERROR' })],
    ['WeChatResponseError', new WeChatResponseError('x', { code: 'WECHAT_HTTP_ERROR', status: 502 })],
    ['WeChatAPIError', apiError(WeChatAPIError)],
    ['WeChatCodeError', apiError(WeChatCodeError)],
    ['WeChatCredentialsError', apiError(WeChatCredentialsError)],
    ['WeChatTokenError', apiError(WeChatTokenError)],
  ])('names a %s after its class', (name, err) => {
    expect(err.name).toBe(name);
    expect(String(err)).toBe(`${name}: x`);
  });

  it('gives a WeChatOptionsError the code WECHAT_INVALID_OPTIONS and no retry', () => {
    const err = new WeChatOptionsError('clientID is missing');

    expect(err.code).toBe('WECHAT_INVALID_OPTIONS');
    expect(err.retryable).toBe(false);
  });

  it('always lets a WeChatRequestError be retried', () => {
    expect(new WeChatRequestError('x', { code: 'WECHAT_TIMEOUT' }).retryable).toBe(true);
    expect(new WeChatRequestError('x', { code: 'WECHAT_NETWORK_ERROR' }).retryable).toBe(true);
  });

  it('lets a WeChatResponseError be retried only after a 5xx', () => {
    expect(new WeChatResponseError('x', { code: 'WECHAT_HTTP_ERROR', status: 502 }).retryable).toBe(true);
    expect(new WeChatResponseError('x', { code: 'WECHAT_HTTP_ERROR', status: 404 }).retryable).toBe(false);
    expect(new WeChatResponseError('x', { code: 'WECHAT_REDIRECT', status: 302 }).retryable).toBe(false);
    expect(new WeChatResponseError('x', { code: 'WECHAT_MALFORMED_RESPONSE' }).retryable).toBe(false);
  });
});
