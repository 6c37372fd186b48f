/**
 * The whole login through a real Express 5 app with express-session and passport 0.7, as a user
 * wires it from the README. WeChat's API is mocked with nock at the network edge.
 */
import type { NextFunction, Request, Response } from 'express';
import nock from 'nock';
import { Passport } from 'passport';
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { WeChatStrategy, type WeChatProfile } from '../lib/index.js';
import { expressLoginApp } from './helpers/express-app.js';
import { useNockAtTheEdge } from './helpers/nock.js';
import { APPID, OPENID, SECRET, TEXT, WECHAT_API } from './helpers/wechat.js';

function buildApp() {
  const passport = new Passport();
  passport.use(
    new WeChatStrategy(
      { clientID: APPID, clientSecret: SECRET, callbackURL: 'https://shop.example.cn/auth/wechat/callback' },
      (_accessToken, _refreshToken, profile, done) => done(null, { id: profile.id, name: profile.displayName }),
    ),
  );
  passport.serializeUser((user, done) => done(null, JSON.stringify(user)));
  passport.deserializeUser((json: string, done) => done(null, JSON.parse(json) as Express.User));

  const app = expressLoginApp(passport, { sessionSecret: 'test session secret', failurePath: '/login' });
  app.use((err: Error & { code?: string }, _req: Request, res: Response, _next: NextFunction) => {
    res.status(500).json({ error: err.name, code: err.code });
  });
  return app;
}

async function startLogin(agent: ReturnType<typeof request.agent>): Promise<string> {
  const response = await agent.get('/auth/wechat').expect(302);
  const location = new URL(response.headers.location as string);
  expect(location.origin + location.pathname).toBe('https://open.weixin.qq.com/connect/qrconnect');
  expect(location.hash).toBe('#wechat_redirect');
  return location.searchParams.get('state') ?? '';
}

function mockWeChat(code: string, nickname: string) {
  const token = `86_${code}_access`;
  nock(WECHAT_API)
    .get('/sns/oauth2/access_token')
    .query({ appid: APPID, secret: SECRET, code, grant_type: 'authorization_code' })
    .reply(200, JSON.stringify({ access_token: token, expires_in: 7200, refresh_token: 'r', openid: OPENID, scope: 'snsapi_login' }), TEXT)
    .get('/sns/userinfo')
    .query({ access_token: token, openid: OPENID })
    .reply(200, JSON.stringify({ openid: OPENID, nickname, sex: 0, city: '', province: '', country: '', headimgurl: '', privilege: [] }), TEXT);
}

useNockAtTheEdge({ allowLocalhost: true });

describe('an Express 5 app with express-session', () => {
  it('logs the user in: redirect to WeChat, callback with code and state, session holds the user', async () => {
    const agent = request.agent(buildApp());
    const state = await startLogin(agent);
    mockWeChat('001HKCFa1UWlqz0ZsPHa1zrEwD2HKCF3', 'Ann');
    await agent.get(`/auth/wechat/callback?code=001HKCFa1UWlqz0ZsPHa1zrEwD2HKCF3&state=${state}`).expect(302).expect('location', '/me');
    const me = await agent.get('/me').expect(200);
    expect(me.body).toEqual({ user: { id: OPENID, name: 'Ann' } });
  });

  it('sends a user who declined to failureRedirect with a message, not back to WeChat', async () => {
    const agent = request.agent(buildApp());
    const state = await startLogin(agent);
    await agent.get(`/auth/wechat/callback?state=${state}`).expect(302).expect('location', '/login');
    const login = await agent.get('/login').expect(200);
    expect(login.body.messages).toEqual(['The WeChat login was declined or cancelled.']);
  });

  it('sends a reused code to failureRedirect', async () => {
    const agent = request.agent(buildApp());
    const state = await startLogin(agent);
    nock(WECHAT_API)
      .get('/sns/oauth2/access_token')
      .query(true)
      .reply(200, '{"errcode":40163,"errmsg":"code been used, rid: 6a1b2c3d-4e5f6a7b-8c9d0e1f"}', TEXT);
    await agent.get(`/auth/wechat/callback?code=usedcode&state=${state}`).expect(302).expect('location', '/login');
    expect((await agent.get('/me')).body).toEqual({ user: null });
  });

  it('rejects a callback whose state is not the one this session started', async () => {
    const agent = request.agent(buildApp());
    await startLogin(agent);
    await agent.get('/auth/wechat/callback?code=somecode&state=forgedstate').expect(302).expect('location', '/login');
  });

  it('hands bad app credentials to the error handler as a typed error', async () => {
    const agent = request.agent(buildApp());
    const state = await startLogin(agent);
    nock(WECHAT_API)
      .get('/sns/oauth2/access_token')
      .query(true)
      .reply(200, '{"errcode":40125,"errmsg":"invalid appsecret, rid: 1-2-3"}', TEXT);
    const response = await agent.get(`/auth/wechat/callback?code=somecode&state=${state}`).expect(500);
    expect(response.body).toEqual({ error: 'WeChatCredentialsError', code: 'WECHAT_BAD_CREDENTIALS' });
  });

  it('keeps two browsers logging in at once apart', async () => {
    const app = buildApp();
    const ann = request.agent(app);
    const bob = request.agent(app);
    const [annState, bobState] = [await startLogin(ann), await startLogin(bob)];
    const annCode = 'annannannannannannannannannann01';
    const bobCode = 'bobbobbobbobbobbobbobbobbobbob02';
    mockWeChat(annCode, 'Ann');
    mockWeChat(bobCode, 'Bob');
    await Promise.all([
      ann.get(`/auth/wechat/callback?code=${annCode}&state=${annState}`).expect(302),
      bob.get(`/auth/wechat/callback?code=${bobCode}&state=${bobState}`).expect(302),
    ]);
    expect((await ann.get('/me')).body.user.name).toBe('Ann');
    expect((await bob.get('/me')).body.user.name).toBe('Bob');
  });
});

// Keep the profile type in use so the example stays typed like a user's app.
export type { WeChatProfile };
