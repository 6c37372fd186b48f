/**
 * WeChat's answers read at their edges: a token lifetime sent as text, an errcode without an
 * errmsg, and a code2Session answer whose body starts with a byte order mark. The parsers are
 * called directly (they are pure and exported for tests); the session-key redaction is checked
 * through the client, with WeChat mocked by nock at the network edge.
 */
import nock from 'nock';
import { describe, expect, it } from 'vitest';
import { DEFAULT_ENDPOINTS, WeChatClient } from '../lib/client.js';
import { WeChatCodeError } from '../lib/errors.js';
import { parseTokenResponse, parseWeChatJSON, sessionKeyIn } from '../lib/wechat-answers.js';
import { useNockAtTheEdge } from './helpers/nock.js';
import { expectNoSecrets } from './helpers/secrets.js';
import { ACCESS_TOKEN, OPENID, TEXT, WECHAT_API } from './helpers/wechat.js';

const MINI_APPID = 'wx8f3c2a1b9d7e6f51';
const MINI_SECRET = '5d0c9e8f7a6b5c4d3e2f1a0b9c8d7e6f';
const JS_CODE = '0e3XyZ000Tq2bV1uPnH00wA9Kp3XyZ0S';
const SESSION_KEY = 'tiihtNczf5v6AKRyjwEUhQ==';

useNockAtTheEdge({ failOnUnmatched: true });

describe('the lifetime of a token (expires_in)', () => {
  const token = (expires_in: unknown) => parseTokenResponse({ access_token: ACCESS_TOKEN, openid: OPENID, expires_in }, 'access_token');

  it('reads decimal text padded with white space as its seconds', () => {
    expect(token(' 7200 ').expires_in).toBe(7200);
    expect(token('\t7200\n').expires_in).toBe(7200);
  });

  it.each([
    ['text before the number', 'about 7200'],
    ['text after the number', '7200 seconds'],
    ['a word glued to the number', 'x7200'],
    ['a unit glued to the number', '7200s'],
  ])('reads %s as 0 (unknown), never NaN', (_case, expires_in) => {
    expect(token(expires_in).expires_in).toBe(0);
  });
});

describe('an errcode answer without a usable errmsg', () => {
  function thrownBy(raw: string): unknown {
    try {
      parseWeChatJSON(raw, 'access_token');
    } catch (error) {
      return error;
    }
    return undefined;
  }

  it.each([
    ['no errmsg', '{"errcode":40029}'],
    ['an errmsg that is not text', '{"errcode":40029,"errmsg":{"text":"invalid code"}}'],
  ])('gives an error with %s an empty errmsg, and no invented text in its message', (_case, raw) => {
    const error = thrownBy(raw);

    expect(error).toBeInstanceOf(WeChatCodeError);
    expect(error).toMatchObject({ code: 'WECHAT_INVALID_CODE', errcode: 40029, errmsg: '' });
    expect((error as Error).message).toContain('(errcode 40029)');
  });
});

describe('the session key of a code2Session answer, found to be redacted', () => {
  const client = () =>
    new WeChatClient({ appId: MINI_APPID, appSecret: MINI_SECRET, endpoints: DEFAULT_ENDPOINTS, timeout: 5_000, maxResponseBytes: 65_536 });
  const BOM = '\uFEFF';

  it('is redacted from the errmsg of an answer that starts with a UTF-8 byte order mark', async () => {
    const body = `${BOM}${JSON.stringify({ errcode: 40029, errmsg: `invalid code, key ${SESSION_KEY}`, session_key: SESSION_KEY })}`;
    nock(WECHAT_API)
      .get('/sns/jscode2session')
      .query({ appid: MINI_APPID, secret: MINI_SECRET, js_code: JS_CODE, grant_type: 'authorization_code' })
      .reply(200, body, TEXT);

    const error = await client().codeToSession(JS_CODE).catch((e: unknown) => e);

    expect(error).toMatchObject({ code: 'WECHAT_INVALID_CODE', errmsg: 'invalid code, key [redacted]' });
    expectNoSecrets(error, [MINI_SECRET, JS_CODE, SESSION_KEY]);
  });

  it('is found whatever white space surrounds the answer', () => {
    expect(sessionKeyIn(`${BOM} {"openid":"${OPENID}","session_key":"${SESSION_KEY}"}\n`)).toEqual([SESSION_KEY]);
  });

  it.each([
    ['is not JSON', 'oops'],
    ['is a JSON array', `["${SESSION_KEY}"]`],
    ['has a blank session_key', '{"session_key":"   "}'],
    ['has no session_key', `{"openid":"${OPENID}"}`],
  ])('is nothing when the answer %s', (_case, raw) => {
    expect(sessionKeyIn(raw)).toEqual([]);
  });
});
