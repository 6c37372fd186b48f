/**
 * The two strategies whose client posts a WeChat code — WeChatMiniProgramStrategy (`wx.login()`)
 * and WeChatAppStrategy (the Open SDK's SendAuth) — seen from the host: the options they refuse,
 * what a request without a usable code is told, a verify that calls `done` twice, and a host whose
 * Passport actions throw. WeChat is played by the local emulator.
 */
import type { Request } from 'express';
import type { Strategy } from 'passport-strategy';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { WeChatOptionsError } from '../lib/errors.js';
import { WeChatMiniProgramStrategy } from '../lib/miniprogram.js';
import { WeChatAppStrategy } from '../lib/native-app.js';
import { DEMO_MINIPROGRAM_APP, DEMO_MOBILE_APP, WeChatEmulator } from '../lib/testing/index.js';

let emulator: WeChatEmulator;

beforeAll(async () => {
  emulator = await WeChatEmulator.start();
});
afterEach(() => emulator.reset());
afterAll(() => emulator.close());

type Verify = (...args: unknown[]) => void;
/** The last argument is `done`, the one before it the profile, whatever the verify's form. */
const returnProfile: Verify = (...args) => (args.at(-1) as (err: null, user: unknown) => void)(null, args.at(-2));

type Action = { action: 'success'; user: unknown; info: unknown } | { action: 'fail'; challenge: unknown; status: number | undefined } | { action: 'error'; error: Error };

interface Kind {
  name: string;
  /** The constructor as a user calls it. */
  construct(options: unknown, verify: Verify): Strategy;
  build(options?: Record<string, unknown>, verify?: Verify): Strategy;
  /** The app kind whose AppID clientID must be. */
  appKind: string;
  code(): string;
  /** What the failure message tells the client to do about a code WeChat refused. */
  retry: string;
}

const KINDS: Kind[] = [
  {
    name: 'WeChatMiniProgramStrategy',
    construct: (options, verify) => new WeChatMiniProgramStrategy(options as never, verify as never),
    appKind: 'Mini Program',
    build: (options = {}, verify = returnProfile) =>
      new WeChatMiniProgramStrategy({ ...emulator.miniProgramStrategyOptions(DEMO_MINIPROGRAM_APP.appid), ...options }, verify as never),
    code: () => emulator.issueCode({ appid: DEMO_MINIPROGRAM_APP.appid, user: 'alice' }),
    retry: 'Call wx.login() again.',
  },
  {
    name: 'WeChatAppStrategy',
    construct: (options, verify) => new WeChatAppStrategy(options as never, verify as never),
    appKind: 'Mobile Application',
    build: (options = {}, verify = returnProfile) =>
      new WeChatAppStrategy({ ...emulator.appStrategyOptions(DEMO_MOBILE_APP.appid), ...options }, verify as never),
    code: () => emulator.issueCode({ appid: DEMO_MOBILE_APP.appid, user: 'alice' }),
    retry: 'Ask the WeChat SDK for a new one.',
  },
];

function posted(body: unknown, query: Record<string, unknown> = {}): Record<string, unknown> {
  return { method: 'POST', url: '/auth/wechat/app', headers: { host: 'api.example.cn' }, query, body };
}

/**
 * Runs `authenticate(req)` on a Passport-style per-request object, whose actions are recorded
 * (and may be made to throw, as a host that already answered does), and resolves at the first.
 */
function drive(target: Strategy, req: Record<string, unknown>, throwing: Partial<Record<Action['action'], Error>> = {}) {
  const actions: Action[] = [];
  const first = new Promise<Action>((resolve) => {
    const record = (action: Action) => {
      actions.push(action);
      resolve(action);
      const thrown = throwing[action.action];
      if (thrown) throw thrown;
    };
    const delegate = Object.create(target) as Strategy & Record<string, unknown>;
    delegate.success = (user: unknown, info?: unknown) => record({ action: 'success', user, info });
    delegate.fail = (challenge?: unknown, status?: number) => record({ action: 'fail', challenge, status });
    delegate.error = (error: Error) => record({ action: 'error', error });
    delegate.authenticate(req as unknown as Request, {});
  });
  return { first, actions };
}

/** Lets everything already queued run: promise reactions, then the I/O callbacks due now. */
const settled = () => new Promise((resolve) => setImmediate(resolve));

describe.each(KINDS)('$name', (kind) => {
  describe('options it refuses', () => {
    it('refuses null options with a WeChatOptionsError', () => {
      expect(() => kind.construct(null, returnProfile)).toThrow(WeChatOptionsError);
    });

    it('asks for clientID as the AppID of the right kind of app when it is missing', () => {
      expect(() => kind.construct({ clientSecret: 'c0ffee00c0ffee00c0ffee00c0ffee00' }, returnProfile)).toThrow(
        new WeChatOptionsError(`${kind.name} needs clientID (the AppID of your ${kind.appKind}) as a non-empty string.`),
      );
    });

    it('asks for clientSecret as its AppSecret when it is missing', () => {
      expect(() => kind.construct({ clientID: 'wx8f3c2a1b9d7e6f51' }, returnProfile)).toThrow(
        new WeChatOptionsError(`${kind.name} needs clientSecret (its AppSecret) as a non-empty string.`),
      );
    });
  });

  describe('a request without a code worth sending to WeChat', () => {
    it('names the field and says nothing of the query or the body parser when the parsed body lacks the code', async () => {
      const { first } = drive(kind.build({ codeField: 'jsCode' }), posted({ other: 'x' }));
      expect(await first).toEqual({
        action: 'fail',
        challenge: { code: 'WECHAT_MISSING_CODE', message: 'The request carries no WeChat code (field "jsCode").' },
        status: 400,
      });
    });

    it('says that a query code is ignored and that no body was parsed, one sentence after another', async () => {
      const { first } = drive(kind.build(), posted(undefined, { code: kind.code() }));
      expect(await first).toEqual({
        action: 'fail',
        challenge: {
          code: 'WECHAT_MISSING_CODE',
          message:
            'The request carries no WeChat code (field "code"). ' +
            'A code in the query string is ignored: post it in the request body (JSON). ' +
            'No body was parsed: post JSON and mount a body parser such as express.json() before passport.authenticate().',
        },
        status: 400,
      });
      expect(emulator.calls).toEqual([]);
    });

    it('names the field of a malformed code', async () => {
      const { first } = drive(kind.build({ codeField: 'jsCode' }), posted({ jsCode: ['a', 'b'] }));
      expect(await first).toEqual({
        action: 'fail',
        challenge: { code: 'WECHAT_MALFORMED_CODE', message: 'The WeChat code in field "jsCode" is malformed.' },
        status: 400,
      });
    });
  });

  it('tells the client how to get a new code when WeChat refuses one', async () => {
    const { first } = drive(kind.build(), posted({ code: 'not-a-code-wechat-issued' }));
    const outcome = await first;
    expect(outcome).toMatchObject({ action: 'fail', challenge: { code: 'WECHAT_INVALID_CODE' } });
    expect((outcome as Extract<Action, { action: 'fail' }>).challenge).toHaveProperty('message', expect.stringContaining(kind.retry));
  });

  it('ends the login once when verify calls done twice', async () => {
    const verify: Verify = (...args) => {
      const done = args.at(-1) as (err: unknown, user?: unknown) => void;
      done(null, { id: 'first' });
      done(new Error('a second answer'));
    };
    const { first, actions } = drive(kind.build({}, verify), posted({ code: kind.code() }));
    await first;
    await settled();
    expect(actions).toEqual([{ action: 'success', user: { id: 'first' }, info: {} }]);
  });

  describe('a host whose Passport action throws', () => {
    it('hands error() what fail() threw on a missing code', async () => {
      const thrown = new Error('the failure handler broke');
      const { first, actions } = drive(kind.build(), posted({}), { fail: thrown });
      await first;
      await settled();
      expect(actions.map((a) => a.action)).toEqual(['fail', 'error']);
      expect(actions[1]).toEqual({ action: 'error', error: thrown });
    });

    it('hands error() what fail() threw on a code WeChat refused', async () => {
      const thrown = new Error('the failure handler broke');
      const { first, actions } = drive(kind.build(), posted({ code: 'not-a-code-wechat-issued' }), { fail: thrown });
      await first;
      await settled();
      expect(actions.map((a) => a.action)).toEqual(['fail', 'error']);
      expect(actions[1]).toEqual({ action: 'error', error: thrown });
    });

    it('stops after error() throws too, with no unhandled rejection', async () => {
      const unhandled: unknown[] = [];
      const record = (reason: unknown) => unhandled.push(reason);
      process.on('unhandledRejection', record);
      try {
        const { first, actions } = drive(kind.build(), posted({ code: 'not-a-code-wechat-issued' }), { fail: new Error('fail broke'), error: new Error('error broke') });
        await first;
        await settled();
        await settled();
        expect(actions.map((a) => a.action)).toEqual(['fail', 'error']);
        expect(unhandled).toEqual([]);
      } finally {
        process.removeListener('unhandledRejection', record);
      }
    });
  });
});
