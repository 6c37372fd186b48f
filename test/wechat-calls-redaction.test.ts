/**
 * The pure pieces behind every WeChat call's failure: `redact` (secrets out of a text),
 * `safeCause` (the allow-listed copy of a network failure the client hands out as `cause`),
 * `splitErrmsg` (WeChat's errmsg and its request id) and what a WeChatError holds.
 */
import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { WeChatRequestError, WeChatResponseError, splitErrmsg } from '../lib/errors.js';
import { redact, safeCause } from '../lib/redaction.js';

describe('redact', () => {
  it('redacts a secret of exactly four characters', () => {
    expect(redact('echoed code=k9Qz back', ['k9Qz'])).toBe('echoed code=[redacted] back');
  });

  it('leaves a text alone for a secret shorter than four characters, which would match ordinary words by chance', () => {
    expect(redact('the token was not accepted', ['the'])).toBe('the token was not accepted');
  });

  it('redacts the longer of two secrets whole when the shorter one starts it, leaving none of it readable', () => {
    // The shorter secret listed first: replacing it first would leave "EFGH…" of the longer one.
    const text = 'GET /sns/auth?access_token=ABCDEFGH12345678&openid=ABCDEFGH';

    expect(redact(text, ['ABCDEFGH', 'ABCDEFGH12345678'])).toBe('GET /sns/auth?access_token=[redacted]&openid=[redacted]');
  });
});

describe('safeCause', () => {
  it('gives a failure without a cause no cause either', () => {
    const copy = safeCause(new Error('socket hang up'), []);

    expect(copy.cause).toBeUndefined();
    expect(inspect(copy)).not.toContain('[cause]');
  });

  it('gives a failure whose cause is null no cause', () => {
    const copy = safeCause(new Error('socket hang up', { cause: null }), []);

    expect(copy.cause).toBeUndefined();
  });

  it('names a failure "Error" when its name is empty', () => {
    const nameless = Object.assign(new Error('socket hang up'), { name: '' });

    expect(safeCause(nameless, []).name).toBe('Error');
  });

  it('names a failure "Error" when it is an object without a name', () => {
    expect(safeCause({ message: 'socket hang up' }, []).name).toBe('Error');
  });

  it('copies a thrown string as the message of an Error named "Error"', () => {
    const copy = safeCause('socket hang up', []);

    expect(copy).toBeInstanceOf(Error);
    expect(copy.name).toBe('Error');
    expect(copy.message).toBe('socket hang up');
  });

  it('still says something when a thrown object has no message', () => {
    expect(safeCause({ code: 'ECONNRESET' }, []).message).not.toBe('');
  });

  it('copies what it can of a failure whose getters throw, instead of throwing itself', () => {
    const hostile = {
      get name(): string {
        throw new Error('no name for you');
      },
      code: 'ECONNRESET',
      message: 'read ECONNRESET',
    };

    const copy = safeCause(hostile, []);

    expect(copy).toMatchObject({ name: 'Error', code: 'ECONNRESET', message: 'read ECONNRESET' });
  });

  it('keeps a message of exactly 500 characters whole, without the ellipsis of a cut one', () => {
    const message = 'x'.repeat(500);

    expect(safeCause(new Error(message), []).message).toBe(message);
  });
});

describe('splitErrmsg', () => {
  it('drops the space before the comma that precedes the request id', () => {
    expect(splitErrmsg('invalid code , rid: 66b1e3a2-4c5d7e8f-1a2b3c4d')).toEqual({ text: 'invalid code', rid: '66b1e3a2-4c5d7e8f-1a2b3c4d' });
  });
});

describe('a WeChatError made without a cause', () => {
  it('has no cause property, so logs show no "[cause]: undefined"', () => {
    const err = new WeChatResponseError('WeChat access_token answered HTTP 502 instead of 200.', { code: 'WECHAT_HTTP_ERROR', status: 502 });

    expect(Object.hasOwn(err, 'cause')).toBe(false);
    expect(inspect(err)).not.toContain('[cause]');
  });

  it('keeps a cause it was given as the standard Error.cause', () => {
    const cause = new Error('read ECONNRESET');

    const err = new WeChatRequestError('Could not reach WeChat access_token: read ECONNRESET', { code: 'WECHAT_NETWORK_ERROR', cause });

    expect(err.cause).toBe(cause);
  });
});
