/**
 * Hundreds of interleaved logins through a real Express 5 + express-session app, against the
 * WeChat emulator with random latency: every browser session must end up with its own user, and
 * the shared strategy instance must hold nothing of any login afterwards.
 */
import { once } from 'node:events';
import http from 'node:http';
import { inspect } from 'node:util';
import type express from 'express';
import { Passport } from 'passport';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WeChatStrategy, type WeChatProfile } from '../lib/index.js';
import { DEMO_WEBSITE_APP, WeChatEmulator } from '../lib/testing/index.js';
import { expressLoginApp } from './helpers/express-app.js';

const LOGINS = 500;
const CONCURRENCY = 50;
const USERS = 120;

interface SessionUser {
  id: string;
  openid: string;
  unionid: string | null;
  name: string;
}

let emulator: WeChatEmulator;
let server: http.Server;
let strategy: WeChatStrategy;

function buildApp(): express.Express {
  const passport = new Passport();
  strategy = new WeChatStrategy(
    { ...emulator.strategyOptions(DEMO_WEBSITE_APP.appid), callbackURL: 'http://localhost:3000/auth/wechat/callback' },
    (_accessToken, _refreshToken, profile: WeChatProfile, done) =>
      // A little asynchronous work, as a database lookup would do, to interleave even more.
      setTimeout(() => done(null, { id: profile.id, openid: profile.openid, unionid: profile.unionid ?? null, name: profile.displayName }), Math.random() * 5),
  );
  passport.use(strategy);
  passport.serializeUser((user, done) => done(null, user));
  passport.deserializeUser((user: SessionUser, done) => done(null, user));

  const app = expressLoginApp(passport, { sessionSecret: 'concurrency test secret', failurePath: '/failed', failureStatus: 401 });
  app.use(((error, _req, res, _next) => {
    res.status(500).json({ error: String((error as Error).message) });
  }) as express.ErrorRequestHandler);
  return app;
}

beforeAll(async () => {
  emulator = await WeChatEmulator.start();
  for (let i = 0; i < USERS; i++) {
    // Every third user has no unionid (then the id is the openid), a few have no avatar.
    emulator.registerUser({ id: `user${i}`, nickname: `User ${i} 用户`, unionid: i % 3 !== 0, ...(i % 7 === 0 ? { headimgurl: '' } : {}) });
  }
  server = http.createServer(buildApp());
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
});

afterAll(async () => {
  const closed = new Promise((resolve) => server.close(resolve));
  server.closeAllConnections();
  await Promise.all([closed, emulator.close()]);
});

/** A small deterministic generator, so a failure can be replayed. */
function lcg(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1_664_525) + 1_013_904_223) >>> 0;
    return state / 2 ** 32;
  };
}

async function pool<T>(count: number, width: number, task: (index: number) => Promise<T>): Promise<T[]> {
  const results: T[] = new Array<T>(count);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < count) {
      const index = next++;
      results[index] = await task(index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(width, count) }, worker));
  return results;
}

function expectedUser(userId: string): SessionUser {
  const openid = emulator.openidFor(DEMO_WEBSITE_APP.appid, userId);
  const unionid = emulator.unionidFor(userId) ?? null;
  return { id: unionid ?? openid, openid, unionid, name: `User ${userId.slice(4)} 用户` };
}

describe(`${LOGINS} interleaved logins, ${CONCURRENCY} at a time, WeChat answering in 0-20 ms`, () => {
  it('ends every browser session with its own user, and leaves the strategy as it was', async () => {
    emulator.setLatency({ minMs: 0, maxMs: 20 });
    const before = inspect(strategy, { depth: Infinity, showHidden: true });
    const random = lcg(20_240_601);
    const plan = Array.from({ length: LOGINS }, () => `user${Math.floor(random() * USERS)}`);
    const started = Date.now();

    const agents = await pool(LOGINS, CONCURRENCY, async (index) => {
      const userId = plan[index] as string;
      const agent = request.agent(server);
      const start = await agent.get('/auth/wechat').expect(302);
      // Let the other logins run between each step of this one.
      await new Promise((resolve) => setTimeout(resolve, random() * 10));
      const outcome = emulator.authorize(start.headers.location as string, { user: userId });
      if (outcome.type !== 'redirect') throw new Error(`login ${index}: WeChat showed ${outcome.type}`);
      const back = new URL(outcome.location);
      await agent.get(back.pathname + back.search).expect(302).expect('location', '/me');
      const me = await agent.get('/me').expect(200);
      expect(me.body.user, `login ${index} as ${userId}`).toEqual(expectedUser(userId));
      return { agent, userId };
    });

    // Ask again once every login is over: a session that had been crossed with another shows now.
    await pool(agents.length, CONCURRENCY, async (index) => {
      const { agent, userId } = agents[index] as (typeof agents)[number];
      const me = await agent.get('/me').expect(200);
      expect(me.body.user, `session ${index} of ${userId}`).toEqual(expectedUser(userId));
    });

    // WeChat saw exactly one code exchange and one userinfo call per login, all answered.
    const calls = emulator.calls;
    expect(calls.filter((call) => call.endpoint === 'access_token')).toHaveLength(LOGINS);
    expect(calls.filter((call) => call.endpoint === 'userinfo')).toHaveLength(LOGINS);
    expect(calls.filter((call) => call.status !== 200 || call.errcode !== undefined)).toEqual([]);
    expect(new Set(plan).size).toBeGreaterThan(USERS / 2);

    // Nothing a login learnt stayed on the shared strategy.
    const after = inspect(strategy, { depth: Infinity, showHidden: true });
    expect(after).toBe(before);
    for (const userId of new Set(plan)) expect(after).not.toContain(emulator.openidFor(DEMO_WEBSITE_APP.appid, userId));
    expect(Date.now() - started).toBeLessThan(18_000);
  });
});
