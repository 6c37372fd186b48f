/**
 * The built package as users load it: `require()` from CommonJS (most NestJS apps) and `import`
 * from ESM, resolved by Node itself through package.json "exports" (self-reference by name).
 * Runs on the output of `npm run build` (npm test builds first; the vitest project "dist" checks
 * that dist/ is built from lib/ as it is now before it runs this file).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { BUILT_PACKAGE_TESTS, staleBuildReason } from './helpers/built-package.js';

const root = new URL('..', import.meta.url);

function runNode(args: string[]): unknown {
  const out = execFileSync(process.execPath, args, { cwd: root, encoding: 'utf8' });
  return JSON.parse(out.trim().split('\n').at(-1) ?? 'null');
}

const PROBE = `
  const strategy = new m.WeChatStrategy({ clientID: 'wx1', clientSecret: 's'.repeat(32), callbackURL: 'https://a.example/cb' }, (a, r, p, d) => d(null, p));
  const OAuth2Strategy = OAuth2;
  console.log(JSON.stringify({
    exports: Object.keys(m).sort(),
    name: strategy.name,
    isOAuth2: strategy instanceof OAuth2Strategy,
    aliasSame: m.Strategy === m.WeChatStrategy,
    profileId: m.parseProfile({ openid: 'o1', unionid: 'u1', sex: 0 }).id,
    errorChain: new m.WeChatCodeError('x', { code: 'WECHAT_INVALID_CODE', errcode: 40029 }) instanceof m.WeChatError,
  }));
`;

describe('the built package', () => {
  it('has been built (npm test runs the build first)', () => {
    expect(existsSync(new URL('dist/cjs/index.js', root))).toBe(true);
    expect(existsSync(new URL('dist/esm/index.js', root))).toBe(true);
  });

  it('has been built from the sources lib/ holds now', () => {
    expect(staleBuildReason(fileURLToPath(root))).toBeUndefined();
  });

  it('loads with require() and with import, with the same public API', () => {
    const cjs = runNode(['-e', `const m = require('passport-wechat-oauth2'); const OAuth2 = require('passport-oauth2'); ${PROBE}`]);
    const esm = runNode([
      '--input-type=module',
      '-e',
      `import * as m from 'passport-wechat-oauth2'; import OAuth2 from 'passport-oauth2'; ${PROBE}`,
    ]);
    expect(cjs).toEqual(esm);
    expect(cjs).toMatchObject({ name: 'wechat', isOAuth2: true, aliasSame: true, profileId: 'u1', errorChain: true });
    expect((cjs as { exports: string[] }).exports).toEqual(
      expect.arrayContaining(['WeChatStrategy', 'Strategy', 'parseProfile', 'WeChatError', 'WeChatCodeError', 'WeChatCredentialsError']),
    );
    expect((cjs as { exports: string[] }).exports).not.toContain('default');
  });

  it('serves the Redis store at passport-wechat-oauth2/redis to require() and to import', () => {
    const probe = `console.log(JSON.stringify({ exports: Object.keys(r).sort(), store: Object.keys(r.redisCallbackStore({ call: async () => null })).sort() }));`;
    const cjs = runNode(['-e', `const r = require('passport-wechat-oauth2/redis'); ${probe}`]);
    const esm = runNode(['--input-type=module', '-e', `import * as r from 'passport-wechat-oauth2/redis'; ${probe}`]);
    expect(cjs).toEqual({ exports: ['redisCallbackStore'], store: ['claim', 'get', 'set'] });
    expect(esm).toEqual(cjs);
  });
});

describe('the tests that load the built package', () => {
  const PACKAGE = /^passport-wechat-oauth2(?:\/testing|\/redis)?$/;

  /** The specifiers `file` imports at run time: no `import type`, no import of types only. */
  function runtimeImports(file: string): string[] {
    const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest);
    const specifiers: string[] = [];
    for (const statement of source.statements) {
      if (!ts.isImportDeclaration(statement) || !ts.isStringLiteral(statement.moduleSpecifier)) continue;
      const clause = statement.importClause;
      const bindings = clause?.namedBindings;
      const typesOnly =
        clause !== undefined &&
        (clause.isTypeOnly || (clause.name === undefined && bindings !== undefined && ts.isNamedImports(bindings) && bindings.elements.every((e) => e.isTypeOnly)));
      if (!typesOnly) specifiers.push(statement.moduleSpecifier.text);
    }
    // require('passport-wechat-oauth2'), as a CommonJS app loads it.
    for (const match of source.text.matchAll(/\brequire\('([^']+)'\)/g)) specifiers.push(match[1] as string);
    return specifiers;
  }

  /** Whether `file` loads dist/ at run time: it imports the package by name, or a file (an example) that does. */
  function loadsDist(file: string, seen = new Set<string>()): boolean {
    if (seen.has(file)) return false;
    seen.add(file);
    return runtimeImports(file).some((specifier) => {
      if (PACKAGE.test(specifier)) return true;
      if (!specifier.startsWith('.')) return false;
      const target = path.resolve(path.dirname(file), specifier);
      // lib/ is the source itself; .js specifiers there and in the helpers name .ts files.
      if (target.startsWith(path.join(rootDir, 'lib'))) return false;
      const resolved = [target, target.replace(/\.js$/, '.ts')].find((candidate) => existsSync(candidate) && candidate.endsWith('.ts'));
      return resolved !== undefined && loadsDist(resolved, seen);
    });
  }

  const rootDir = fileURLToPath(root);
  const testFiles = readdirSync(path.join(rootDir, 'test'))
    .filter((name) => name.endsWith('.test.ts'))
    .map((name) => `test/${name}`);

  it('are all in the vitest project that checks dist/ is fresh first', () => {
    const loading = testFiles.filter((file) => loadsDist(path.join(rootDir, file)));
    expect(loading.length).toBeGreaterThan(0);
    expect(loading.filter((file) => !BUILT_PACKAGE_TESTS.includes(file)), 'add them to BUILT_PACKAGE_TESTS (test/helpers/built-package.ts)').toEqual([]);
  });
});
