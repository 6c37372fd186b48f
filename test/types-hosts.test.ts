/**
 * Type-level contract with each Passport host: NestJS's PassportStrategy mixin, Express 5 and 4,
 * Fastify. `npm run typecheck` (tsc, strict) checks the first part of this file; the
 * `@ts-expect-error` lines fail the typecheck if a wrong usage starts to compile. Strict user code
 * that needs other type packages than the repo's (Express 4's) is compiled here with the
 * TypeScript compiler API, the way a user's project would compile it.
 */
import { Authenticator } from '@fastify/passport';
import { PassportStrategy } from '@nestjs/passport';
import express, { type Request } from 'express';
import Fastify, { type PassportUser } from 'fastify';
import { Passport } from 'passport';
import path from 'node:path';
import ts from 'typescript';
import { beforeAll, describe, expect, expectTypeOf, it } from 'vitest';
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

// Defining the classes runs the mixin only; nothing here constructs them (that would register
// them on Passport's global instance).
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

// -------------------------------------------------------------------------------------------
// User projects compiled with the TypeScript compiler API
// -------------------------------------------------------------------------------------------

const ROOT = path.resolve(import.meta.dirname, '..');

/** An Express 4 app as its own project writes it: `express` and every package's types are Express 4's. */
const EXPRESS4_APP = `
import express, { type Request, type Response } from 'express';
import session from 'express-session';
import passport from 'passport';
import { WeChatStrategy } from 'passport-wechat-oauth2';

passport.use(new WeChatStrategy(
  { clientID: 'wx1', clientSecret: 'secret', callbackURL: 'https://shop.example.cn/auth/wechat/callback' },
  (_accessToken, _refreshToken, profile, done) => done(null, { id: profile.id }),
));
passport.use('wechat-req', new WeChatStrategy(
  { clientID: 'wx1', clientSecret: 'secret', passReqToCallback: true },
  (req: Request, _accessToken, _refreshToken, profile, done) => done(null, { id: profile.id, ip: req.ip }),
));
const app = express();
app.use(session({ secret: 's', resave: false, saveUninitialized: false }));
app.use(passport.session());
app.get('/auth/wechat', passport.authenticate('wechat'));
app.get('/auth/wechat/callback', passport.authenticate('wechat', { failureRedirect: '/login' }), (req: Request, res: Response) => {
  res.json({ user: req.user ?? null });
});
export { app };
`;

/** Uses what only Express 4's types have (req.param, removed in 5): proves the project sees version 4. */
const EXPRESS4_ONLY = `
import express from 'express';

express().get('/users/:id', (req, res) => {
  res.send(req.param('id'));
});
`;

/** Per-call options kept in a typed constant, then handed to passport.authenticate (@types/passport). */
const AUTHENTICATE_OPTIONS = `
import passport from 'passport';
import type { WeChatAuthenticateOptions } from 'passport-wechat-oauth2';

const loginOptions: WeChatAuthenticateOptions = { failureRedirect: '/login', failureMessage: true };
export const callback = passport.authenticate('wechat', loginOptions);
`;

/** A Fastify app whose verify reads the request: the request there is Fastify's, not Express's. */
const FASTIFY_REQUEST_VERIFY = `
import { Authenticator } from '@fastify/passport';
import type { FastifyRequest } from 'fastify';
import { WeChatStrategy, type VerifyCallback, type WeChatProfile } from 'passport-wechat-oauth2';

const passport = new Authenticator();
passport.use('wechat', new WeChatStrategy(
  { clientID: 'wx1', clientSecret: 'secret', callbackURL: 'https://shop.example.cn/auth/wechat/callback', passReqToCallback: true },
  (req: FastifyRequest, _accessToken: string, _refreshToken: string, profile: WeChatProfile, done: VerifyCallback) =>
    done(null, { id: profile.id, requestId: req.id }),
));
`;

/**
 * Type-checks `files` (name → source) as one strict project rooted in this repo, with
 * `passport-wechat-oauth2` resolved to lib/ and `express` to the given types. Returns each
 * file's errors as `file(line): message`.
 */
function compileProject(files: Record<string, string>, expressTypes: string): Map<string, string[]> {
  const config = ts.getParsedCommandLineOfConfigFile(path.join(ROOT, 'tsconfig.json'), {}, {
    ...ts.sys,
    onUnRecoverableConfigFileDiagnostic: (diagnostic) => {
      throw new Error(ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n'));
    },
  });
  if (!config) throw new Error('tsconfig.json could not be read');
  const compilerOptions: ts.CompilerOptions = {
    ...config.options,
    noEmit: true,
    paths: { ...config.options.paths, express: [expressTypes] },
  };
  const virtual = new Map(Object.entries(files).map(([name, source]) => [path.join(ROOT, 'test', name), source]));
  const host = ts.createCompilerHost(compilerOptions, true);
  const { getSourceFile, fileExists, readFile } = host;
  host.fileExists = (file) => virtual.has(file) || fileExists.call(host, file);
  host.readFile = (file) => virtual.get(file) ?? readFile.call(host, file);
  host.getSourceFile = (file, language, ...rest) => {
    const source = virtual.get(file);
    return source === undefined ? getSourceFile.call(host, file, language, ...rest) : ts.createSourceFile(file, source, language, true);
  };
  const program = ts.createProgram([...virtual.keys()], compilerOptions, host);
  const errors = new Map<string, string[]>();
  for (const [file] of virtual) {
    const sourceFile = program.getSourceFile(file);
    if (!sourceFile) throw new Error(`${file} is not in the program`);
    const diagnostics = [...program.getSyntacticDiagnostics(sourceFile), ...program.getSemanticDiagnostics(sourceFile)];
    errors.set(
      path.basename(file),
      diagnostics.map((d) => {
        const line = d.start === undefined ? 0 : sourceFile.getLineAndCharacterOfPosition(d.start).line + 1;
        return `${path.basename(file)}(${line}): ${ts.flattenDiagnosticMessageText(d.messageText, ' ')}`;
      }),
    );
  }
  return errors;
}

describe('user projects, compiled as their authors would', () => {
  let errors: Map<string, string[]>;

  beforeAll(() => {
    // One program for both files: building it (type packages included) is the slow part.
    errors = compileProject(
      {
        '__express4-app.ts': EXPRESS4_APP,
        '__express4-only.ts': EXPRESS4_ONLY,
        '__authenticate-options.ts': AUTHENTICATE_OPTIONS,
        '__fastify-request-verify.ts': FASTIFY_REQUEST_VERIFY,
      },
      './node_modules/@types/express4/index.d.ts',
    );
  }, 30_000);

  it('resolves express to @types/express@4 in the Express 4 project', () => {
    expect(errors.get('__express4-only.ts')).toEqual([]);
  });

  it('compiles a strict Express 4 app against @types/express@4 without casts', () => {
    expect(errors.get('__express4-app.ts')).toEqual([]);
  });

  it('accepts WeChatAuthenticateOptions where passport.authenticate takes its options', () => {
    expect(errors.get('__authenticate-options.ts')).toEqual([]);
  });

  it('compiles a Fastify verify that types its request as FastifyRequest (passReqToCallback)', () => {
    expect(errors.get('__fastify-request-verify.ts')).toEqual([]);
  });
});
