/**
 * Type-level contract of the public API: compiled, never run. `npm test` checks it (vitest's
 * typecheck mode runs tsc over *.test-d.ts and reports each `it` as a test), and so does
 * `npm run typecheck`. An `expectTypeOf` that does not hold, or a `@ts-expect-error` line that
 * starts to compile, fails both.
 */
import type { Request } from 'express';
import { describe, expectTypeOf, it } from 'vitest';
import {
  WeChatCodeError,
  WeChatError,
  WeChatMiniProgramStrategy,
  WeChatStrategy,
  parseProfile,
  type VerifyCallback,
  type WeChatDecryptedPhoneNumber,
  type WeChatErrorCode,
  type WeChatProfile,
  type WeChatSessionKey,
  type WeChatTokenResponse,
} from '../lib/index.js';

const credentials = { clientID: 'wx1', clientSecret: 'secret', callbackURL: 'https://a.example/cb' };

describe('public types', () => {
  it('types a four-argument verify without annotations', () => {
    new WeChatStrategy(credentials, (accessToken, refreshToken, profile, done) => {
      expectTypeOf(accessToken).toEqualTypeOf<string>();
      expectTypeOf(refreshToken).toEqualTypeOf<string>();
      expectTypeOf(profile).toEqualTypeOf<WeChatProfile>();
      done(null, { id: profile.id });
    });
  });

  it('types a request-first verify with passReqToCallback', () => {
    new WeChatStrategy({ ...credentials, passReqToCallback: true }, (req, _accessToken, _refreshToken, profile, done) => {
      expectTypeOf(req).toEqualTypeOf<Request>();
      expectTypeOf(profile).toEqualTypeOf<WeChatProfile>();
      done(null, false);
    });
  });

  it('accepts annotated verify functions that receive the token response', () => {
    new WeChatStrategy(credentials, (_a: string, _r: string, params: WeChatTokenResponse, profile: WeChatProfile, done: VerifyCallback) =>
      done(null, { openid: params.openid, id: profile.id }),
    );
    new WeChatStrategy(
      { ...credentials, passReqToCallback: true },
      (_req: Request, _a: string, _r: string, params: WeChatTokenResponse, _p: WeChatProfile, done: VerifyCallback) =>
        done(null, { scope: params.scope }),
    );
  });

  it('accepts the appID/appSecret aliases but not a mix', () => {
    new WeChatStrategy({ appID: 'wx1', appSecret: 's', callbackURL: '/cb' }, (_a, _r, p, d) => d(null, p));
    // Only compiled, never run: the strategy would (rightly) throw.
    expectTypeOf(() => {
      // @ts-expect-error clientID and appSecret do not pair
      new WeChatStrategy({ clientID: 'wx1', appSecret: 's' }, (_a, _r, p, d) => d(null, p));
    }).toBeFunction();
  });

  it('rejects wrong option values at compile time', () => {
    // Only compiled, never run: the strategy would (rightly) throw.
    expectTypeOf(() => {
      // @ts-expect-error userinfo lang uses an underscore
      new WeChatStrategy({ ...credentials, lang: 'zh-CN' }, (_a, _r, p, d) => d(null, p));
      // @ts-expect-error the QR page takes cn|en
      new WeChatStrategy({ ...credentials, qrLang: 'zh_CN' }, (_a, _r, p, d) => d(null, p));
      // @ts-expect-error a request-first verify needs passReqToCallback: true
      new WeChatStrategy(credentials, (_req: Request, _a: string, _r: string, p: WeChatProfile, d: VerifyCallback) => d(null, p));
    }).toBeFunction();
  });

  it('types profiles and errors', () => {
    const profile = parseProfile({ openid: 'o1' });
    expectTypeOf(profile.provider).toEqualTypeOf<'wechat'>();
    expectTypeOf(profile.unionid).toEqualTypeOf<string | undefined>();
    expectTypeOf(profile.gender).toEqualTypeOf<'male' | 'female' | undefined>();
    const error: WeChatError = new WeChatCodeError('x', { code: 'WECHAT_INVALID_CODE', errcode: 40029 });
    expectTypeOf(error.code).toEqualTypeOf<WeChatErrorCode>();
    expectTypeOf(error.errcode).toEqualTypeOf<number | undefined>();
    expectTypeOf<WeChatCodeError['errcode']>().toEqualTypeOf<number>();
  });
});

describe('Mini Program types', () => {
  const miniProgram = { clientID: 'wx8f3c2a1b9d7e6f51', clientSecret: '5d0c9e8f7a6b5c4d3e2f1a0b9c8d7e6f' };

  it('types both verify forms without annotations', () => {
    new WeChatMiniProgramStrategy(miniProgram, (sessionKey, profile, done) => {
      expectTypeOf(sessionKey).toEqualTypeOf<WeChatSessionKey>();
      expectTypeOf(profile).toEqualTypeOf<WeChatProfile>();
      done(null, { id: profile.id });
    });
    new WeChatMiniProgramStrategy({ ...miniProgram, passReqToCallback: true }, (req, sessionKey, profile, done) => {
      expectTypeOf(req).toEqualTypeOf<Request>();
      expectTypeOf(sessionKey.decrypt<WeChatDecryptedPhoneNumber>).returns.toHaveProperty('purePhoneNumber');
      done(null, profile);
    });
  });

  it('refuses a request-first verify without passReqToCallback', () => {
    expectTypeOf(() => {
      // @ts-expect-error a request-first verify needs passReqToCallback: true
      new WeChatMiniProgramStrategy(miniProgram, (_req: Request, _k: WeChatSessionKey, p: WeChatProfile, d: VerifyCallback) => d(null, p));
    }).toBeFunction();
  });
});
