/**
 * Two tabs in one browser on the Fastify and NestJS examples (docs/state.md): the login finished
 * first works, in either order. The examples load the built package: run `npm run build` first.
 */
import type { AddressInfo } from 'node:net';
import type { NestExpressApplication } from '@nestjs/platform-express';
import type { FastifyInstance } from 'fastify';
import request from 'supertest';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { buildApp as buildFastifyApp } from '../examples/fastify/app.ts';
import { AppModule } from '../examples/nestjs/app.module.ts';
import { createApp as createNestApp } from '../examples/nestjs/main.ts';
import { DEMO_WEBSITE_APP, WeChatEmulator } from '../lib/testing/index.js';
import { callbackFrom, type Agent } from './helpers/emulator-login.js';

let emulator: WeChatEmulator;
beforeAll(async () => {
  emulator = await WeChatEmulator.start();
});
afterEach(() => emulator.reset());
afterAll(() => emulator.close());

/** Opens a login in one tab; the user confirms it on WeChat; the callback to visit later. */
async function openTab(agent: Agent, path = '/auth/wechat'): Promise<string> {
  const start = await agent.get(path).expect(302);
  return callbackFrom(emulator, start.headers.location as string, { user: 'alice' });
}

describe('two tabs on the Fastify example (@fastify/session)', () => {
  let app: FastifyInstance;
  beforeAll(async () => {
    app = await buildFastifyApp({
      strategy: { ...emulator.strategyOptions(DEMO_WEBSITE_APP.appid), callbackURL: 'http://localhost:3000/auth/wechat/callback' },
      sessionSecret: 'a test session secret of 32+ characters',
    });
    await app.ready();
  });
  afterAll(() => app.close());

  it.each([
    ['older', 0],
    ['newer', 1],
  ])('logs Alice in when the %s tab is confirmed first', async (_which, index) => {
    const agent = request.agent(app.server);
    const tabs = [await openTab(agent), await openTab(agent)];
    await agent.get(tabs[index] as string).expect(302).expect('location', '/me');
    expect((await agent.get('/me').expect(200)).body.user.name).toBe('Alice 🐼');
  });
});

describe('two tabs on the NestJS example (express-session)', () => {
  let nest: NestExpressApplication;
  let baseUrl: string;
  beforeAll(async () => {
    nest = await createNestApp(
      AppModule.forRoot({
        login: { ...emulator.strategyOptions(DEMO_WEBSITE_APP.appid), callbackURL: 'http://localhost:3000/auth/wechat/callback' },
        token: { ...emulator.strategyOptions(DEMO_WEBSITE_APP.appid), callbackURL: 'http://localhost:3000/auth/wechat-token/callback' },
      }),
      { sessionSecret: 'test session secret', logger: false },
    );
    await nest.listen(0, '127.0.0.1');
    baseUrl = `http://127.0.0.1:${(nest.getHttpServer().address() as AddressInfo).port}`;
  });
  afterAll(() => nest?.close());

  it.each([
    ['older', 0],
    ['newer', 1],
  ])('logs Alice in when the %s tab is confirmed first', async (_which, index) => {
    const agent = request.agent(baseUrl);
    const tabs = [await openTab(agent), await openTab(agent)];
    const callback = await agent.get(tabs[index] as string).expect(200);
    expect(callback.body.user.name).toBe('Alice 🐼');
  });
});
