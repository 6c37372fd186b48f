/**
 * Strict user projects compiled with the TypeScript compiler API, the way their authors' projects
 * compile them (an Express 4 project with Express 4's type packages): each test fails on the
 * compiler's errors. The type-level contract with each host is in types-hosts.test-d.ts.
 */
import path from 'node:path';
import ts from 'typescript';
import { beforeAll, describe, expect, it } from 'vitest';

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
