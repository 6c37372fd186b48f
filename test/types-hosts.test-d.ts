/**
 * Type-level contract with each Passport host: NestJS's PassportStrategy mixin, Express 5,
 * Fastify. Compiled, never run: `npm test` checks it (vitest's typecheck mode runs tsc over
 * *.test-d.ts and reports each `it` as a test), and so does `npm run typecheck`. An
 * `expectTypeOf` that does not hold, or a `@ts-expect-error` line that starts to compile, fails
 * both. User projects with other type packages (Express 4's) are compiled in types-hosts.test.ts.
 */
import { Authenticator } from '@fastify/passport';
import { PassportStrategy } from '@nestjs/passport';
import express, { type Request } from 'express';
import Fastify, { type PassportUser } from 'fastify';
import { Passport } from 'passport';
import { describe, expectTypeOf, it } from 'vitest';
import {
  WeChatStrategy,
  type VerifyCallback,
  type WeChatProfile,
  type WeChatStrategyOptions,
  type WeChatStrategyOptionsWithRequest,
  type WeChatTokenResponse,
  type WeChatVerifyFunction,
  type WeChatVerifyFunctionWithParams,
  type WeChatVerifyFunctionWithRequest,
} from '../lib/index.js';

const options = { clientID: 'wx1', clientSecret: 'secret', callbackURL: 'https://a.example/cb' };

/** What Nest's `validate` receives: a verify function's parameters without the trailing `done`. */
type ValidateParameters<F> = F extends (...args: [...infer P, VerifyCallback]) => void ? P : never;

class WeChatLoginStrategy extends PassportStrategy(WeChatStrategy, 'wechat') {
  constructor(config: WeChatStrategyOptions) {
    super(config);
  }

  validate(_accessToken: string, _refreshToken: string, profile: WeChatProfile) {
    return { id: profile.id };
  }
}

class WeChatTokenStrategy extends PassportStrategy(WeChatStrategy, 'wechat-token', true) {
  constructor(config: WeChatStrategyOptions) {
    super(config);
  }

  validate(_accessToken: string, refreshToken: string, params: WeChatTokenResponse, _profile: WeChatProfile) {
    return { openid: params.openid, refreshToken };
  }
}

describe("NestJS: PassportStrategy(WeChatStrategy, 'wechat')", () => {
  it('takes the options alone: the mixin supplies the verify callback', () => {
    const Mixin = PassportStrategy(WeChatStrategy, 'wechat');
    expectTypeOf<ConstructorParameters<typeof Mixin>>().toEqualTypeOf<[WeChatStrategyOptions] | [WeChatStrategyOptionsWithRequest]>();
    // Only compiled, never run.
    expectTypeOf(() => {
      // @ts-expect-error the options are required
      new Mixin();
      // @ts-expect-error the verify callback is the mixin's, not the app's
      new Mixin(options, (_a: string, _r: string, p: WeChatProfile, done: VerifyCallback) => done(null, p));
      // @ts-expect-error options are checked as WeChatStrategy's: the userinfo lang uses an underscore
      new Mixin({ ...options, lang: 'zh-CN' });
    }).toBeFunction();
  });

  it('makes a subclass that is a WeChatStrategy, with its methods typed', () => {
    expectTypeOf<WeChatLoginStrategy>().toExtend<WeChatStrategy>();
    expectTypeOf<WeChatLoginStrategy['refreshAccessToken']>().returns.resolves.toEqualTypeOf<WeChatTokenResponse>();
    expectTypeOf<WeChatLoginStrategy['loadUserProfile']>().returns.resolves.toEqualTypeOf<WeChatProfile>();
  });

  it('matches validate(accessToken, refreshToken, profile) to the four-argument verify', () => {
    expectTypeOf<Parameters<WeChatLoginStrategy['validate']>>().toEqualTypeOf<ValidateParameters<WeChatVerifyFunction>>();
    expectTypeOf<ValidateParameters<WeChatVerifyFunction>>().toEqualTypeOf<[string, string, WeChatProfile]>();
  });

  it('matches the third-argument-true variant, validate(accessToken, refreshToken, params, profile), to the verify with params', () => {
    expectTypeOf<Parameters<WeChatTokenStrategy['validate']>>().toEqualTypeOf<ValidateParameters<WeChatVerifyFunctionWithParams>>();
    expectTypeOf<ValidateParameters<WeChatVerifyFunctionWithParams>>().toEqualTypeOf<[string, string, WeChatTokenResponse, WeChatProfile]>();
  });

  it('puts the request first with passReqToCallback', () => {
    expectTypeOf<ValidateParameters<WeChatVerifyFunctionWithRequest>>().toEqualTypeOf<[Request, string, string, WeChatProfile]>();
  });
});

describe('Express 5: strict user code compiles without casts', () => {
  it('registers the strategy, routes the callback, and reads the user', () => {
    const passport = new Passport();
    passport.use(new WeChatStrategy(options, (_accessToken, _refreshToken, profile, done) => done(null, { id: profile.id })));
    passport.use(
      'wechat-req',
      new WeChatStrategy({ ...options, passReqToCallback: true }, (req, _accessToken, _refreshToken, profile, done) => {
        expectTypeOf(req).toEqualTypeOf<Request>();
        done(null, { id: profile.id, returnTo: req.query.returnTo });
      }),
    );
    const app = express();
    app.get('/auth/wechat', passport.authenticate('wechat', { failureRedirect: '/login', failureMessage: true }));
    app.get('/auth/wechat/callback', passport.authenticate('wechat', { failureRedirect: '/login' }), (req, res) => {
      expectTypeOf(req.user).toEqualTypeOf<Express.User | undefined>();
      res.json({ user: req.user ?? null });
    });
  });
});

describe('Fastify: strict user code compiles without casts', () => {
  it('registers the strategy with @fastify/passport', () => {
    const passport = new Authenticator();
    passport.use('wechat', new WeChatStrategy(options, (_accessToken, _refreshToken, profile, done) => done(null, { id: profile.id })));
    const app = Fastify();
    app.get('/auth/wechat/callback', { preValidation: passport.authenticate('wechat', { failureRedirect: '/login' }) }, async (request) => {
      // PassportUser is the app's, declared in examples/fastify/app.ts.
      expectTypeOf(request.user).toEqualTypeOf<PassportUser | undefined>();
      return { user: request.user ?? null };
    });
  });
});
