/**
 * The README's table "What reaches failureRedirect, and what reaches next(err)" is a list of
 * claims about behaviour: each row is played here against a real Express 5 app and the local
 * emulator, and the code and status the row names must be what the app sees. A row with no
 * scenario below fails the test, so a new claim cannot go untested.
 */
import { readFileSync } from 'node:fs';
import express from 'express';
import session from 'express-session';
import { Passport } from 'passport';
import request from 'supertest';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { WeChatError, WeChatStrategy, type WeChatStrategyOptions } from '../lib/index.js';
import { DEMO_OFFICIAL_ACCOUNT_APP, DEMO_WEBSITE_APP, WeChatEmulator } from '../lib/testing/index.js';
import { loginOnEmulator, type Agent } from './helpers/emulator-login.js';

const CALLBACK = 'http://localhost:3000/auth/wechat/callback';

/** The table's rows: [situation, Passport action, code, status]. */
function readmeTableRows(): string[][] {
  const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
  const section = readme.slice(readme.indexOf('### What reaches `failureRedirect`'));
  const lines = section.split('\n');
  const first = lines.findIndex((line) => line.startsWith('| '));
  const end = lines.findIndex((line, i) => i > first && !line.startsWith('|'));
  // The header row and the |---| row, then one row per situation.
  return lines.slice(first + 2, end).map((line) => line.slice(2, -2).split(' | '));
}

let emulator: WeChatEmulator;
beforeAll(async () => {
  emulator = await WeChatEmulator.start();
  emulator.registerUser({ id: 'snap', nickname: '微信用户', snapshot: true });
});
afterEach(() => {
  emulator.reset();
  emulator.setLatency(null);
});
afterAll(() => emulator.close());

/** What the app saw: Passport's fail (its info and status) or an error that reached next(err). */
type Seen = { action: 'fail'; code: unknown; status: number; info: Record<string, unknown> } | { action: 'error'; code: unknown; status: 'next(err)'; name: string; message: string };

interface AppSetup {
  options?: Partial<WeChatStrategyOptions>;
  withSession?: boolean;
  verifyFails?: Record<string, unknown>;
}

/** The README's Express app, whose callback reports what reached it as JSON. */
function buildApp({ options = {}, withSession = true, verifyFails }: AppSetup = {}) {
  const passport = new Passport();
  const { clientID, clientSecret, authorizationURL } = emulator.strategyOptions(DEMO_OFFICIAL_ACCOUNT_APP.appid);
  passport.use(
    new WeChatStrategy(
      {
        ...emulator.strategyOptions(DEMO_WEBSITE_APP.appid),
        callbackURL: CALLBACK,
        officialAccount: { clientID, clientSecret, authorizationURL, scope: 'snsapi_userinfo' },
        ...options,
      } as WeChatStrategyOptions,
      (_accessToken, _refreshToken, profile, done) => (verifyFails ? done(null, false, verifyFails) : done(null, { id: profile.id })),
    ),
  );
  passport.serializeUser((user, done) => done(null, JSON.stringify(user)));
  passport.deserializeUser((json: string, done) => done(null, JSON.parse(json) as Express.User));
  const app = express();
  if (withSession) app.use(session({ secret: 'docs-claims', resave: false, saveUninitialized: false }));
  app.get('/auth/wechat', passport.authenticate('wechat'));
  app.get('/auth/wechat/official-account', passport.authenticate('wechat', { flow: 'official-account' }));
  app.get('/auth/wechat/callback', (req, res, next) => {
    passport.authenticate('wechat', (error: unknown, user: Express.User | false, info: unknown, status: unknown) => {
      if (error) return next(error);
      if (user) return res.json({ action: 'success' });
      const failure = (info ?? {}) as Record<string, unknown>;
      res.json({ action: 'fail', code: failure.code, status: typeof status === 'number' ? status : 401, info: failure } satisfies Seen);
    })(req, res, next);
  });
  app.use(((error, _req, res, _next) => {
    const err = error as Error;
    res.status(500).json({ action: 'error', code: err instanceof WeChatError ? err.code : undefined, status: 'next(err)', name: err.name, message: err.message } satisfies Seen);
  }) as express.ErrorRequestHandler);
  return app;
}

async function seen(agent: Agent, path: string): Promise<Seen> {
  return (await agent.get(path)).body as Seen;
}

/** Starts a login in `agent`'s browser and lets the user confirm: the callback's path and query. */
const loginAs = (agent: Agent, user = 'alice', start = '/auth/wechat') => loginOnEmulator(emulator, agent, { user }, start);
const stateOf = (path: string) => new URL(path, 'http://x').searchParams.get('state') ?? '';

/** Each row's situation (by its first words) and how to bring it about. */
const SCENARIOS: [RegExp, () => Promise<Seen[]>][] = [
  [
    /^The user declined/,
    async () => {
      const agent = request.agent(buildApp());
      const state = stateOf(await loginAs(agent));
      return [await seen(agent, `/auth/wechat/callback?state=${state}`), await seen(agent, `/auth/wechat/callback?code=&state=${state}`)];
    },
  ],
  [
    /^The callback's `code` is not 1–512/,
    async () => {
      const agent = request.agent(buildApp());
      const path = await loginAs(agent);
      const state = stateOf(path);
      const code = new URL(path, 'http://x').searchParams.get('code') ?? '';
      return [
        await seen(agent, `/auth/wechat/callback?code=${'a'.repeat(513)}&state=${state}`),
        await seen(agent, `/auth/wechat/callback?code=a%20b&state=${state}`),
        await seen(agent, `/auth/wechat/callback?code=${code}&code=${code}&state=${state}`),
      ];
    },
  ],
  [
    /^WeChat rejected the code/,
    async () => {
      const results: Seen[] = [];
      for (const errcode of [40029, 40163, 42003, 41008]) {
        const agent = request.agent(buildApp());
        const path = await loginAs(agent);
        emulator.failNext('access_token', { errcode });
        results.push(await seen(agent, path));
      }
      return results;
    },
  ],
  [
    /^The token response has `is_snapshotuser: 1`/,
    async () => {
      const agent = request.agent(buildApp());
      return [await seen(agent, await loginAs(agent, 'snap', '/auth/wechat/official-account'))];
    },
  ],
  [
    /^This browser's session holds no login in progress/,
    async () => {
      const app = buildApp();
      const path = await loginAs(request.agent(app));
      return [await seen(request.agent(app), path)];
    },
  ],
  [
    /^The `state` is none of the logins this browser has pending/,
    async () => {
      const agent = request.agent(buildApp());
      const edited = (await loginAs(agent)).replace(/state=([^&]+)/, (_m, state: string) => `state=x${state.slice(1)}`);
      return [await seen(agent, edited)];
    },
  ],
  [
    /^Another browser \(or a client without the session cookie\)/,
    async () => {
      const app = buildApp();
      const owner = request.agent(app);
      const path = await loginAs(owner);
      const before = await seen(request.agent(app), path);
      expect((await seen(owner, path)).action).toBe('success');
      const after = await seen(request.agent(app), path);
      expect(after).toEqual(before);
      return [before, after];
    },
  ],
  [
    /^The same callback again while the first request is still unfinished/,
    async () => {
      const agent = request.agent(buildApp({ options: { duplicateCallbacks: { waitMs: 100 } } }));
      const path = await loginAs(agent);
      emulator.setLatency({ minMs: 1_000, maxMs: 1_000 });
      const first = agent.get(path).then((res) => res); // then() sends it now
      await new Promise((resolve) => setTimeout(resolve, 100)); // the first has claimed the callback
      const second = await seen(agent, path);
      await first;
      return [second];
    },
  ],
  [
    /^Your verify called `done\(null, false, info\)`/,
    async () => {
      const agent = request.agent(buildApp({ verifyFails: { code: 'APP_SUSPENDED', message: 'Suspended.' } }));
      return [await seen(agent, await loginAs(agent))];
    },
  ],
  [
    /^Anything else/,
    async () => {
      const agent = request.agent(buildApp({ options: { clientSecret: 'not-the-secret-0123456789abcdef' } }));
      return [await seen(agent, await loginAs(agent))];
    },
  ],
  [
    /^No session middleware while `state` is on/,
    async () => {
      const agent = request.agent(buildApp({ withSession: false, options: { officialAccount: undefined } }));
      return [await seen(agent, '/auth/wechat/callback?code=abc&state=def')];
    },
  ],
];

const rows = readmeTableRows();

describe("the README's failure table", () => {
  it('has a scenario below for every row, and a row for every scenario', () => {
    expect(rows.length).toBe(SCENARIOS.length);
    for (const row of rows) expect(row, 'a row of four cells').toHaveLength(4);
    for (const [situation] of rows) expect(SCENARIOS.filter(([pattern]) => pattern.test(situation ?? '')), situation).toHaveLength(1);
    for (const [pattern] of SCENARIOS) expect(rows.some(([situation]) => pattern.test(situation ?? '')), String(pattern)).toBe(true);
  });

  describe.each(rows.map((row) => [row[0]?.slice(0, 70) ?? '', row] as const))('%s…', (_title, [situation, action, code, status]) => {
    it(`ends in ${action} with the code and status the row names`, async () => {
      const scenario = SCENARIOS.find(([pattern]) => pattern.test(situation ?? ''));
      if (!scenario) throw new Error(`no scenario for the README row "${situation}"`);
      const claimedCodes = (code ?? '').match(/WECHAT_[A-Z_]+/g) ?? [];
      const claimedStatus = (status ?? '').trim().replaceAll('`', '');
      for (const outcome of await scenario[1]()) {
        expect(outcome.action).toBe((action ?? '').replaceAll('`', ''));
        expect(String(outcome.status)).toBe(claimedStatus);
        if (outcome.action === 'fail' && claimedCodes.length > 0) expect(claimedCodes).toContain(outcome.code);
        if (outcome.action === 'fail' && /your `info`/.test(code ?? '')) expect(outcome.info).toEqual({ code: 'APP_SUSPENDED', message: 'Suspended.' });
        if (outcome.action === 'error' && /passport-oauth2's plain `Error`/.test(code ?? '')) {
          expect(outcome.name).toBe('Error');
          expect(outcome.code).toBeUndefined();
          expect(outcome.message).toMatch(/^OAuth 2\.0 authentication requires session support/);
        }
        if (outcome.action === 'error' && /`err\.code`/.test(code ?? '')) expect(outcome.code).toMatch(/^WECHAT_/);
      }
    });
  });
});
