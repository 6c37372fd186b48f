/**
 * A relative callbackURL is resolved from the request. Which scheme and host count is the host's
 * own trust decision (Express's `trust proxy`, Fastify's `trustProxy`): a client outside the
 * trusted set must never pick the host WeChat sends the code to. The strategy's own
 * `proxy: true` trusts the forwarded headers whoever sends them.
 */
import express from 'express';
import express4 from 'express4';
import Fastify, { type FastifyInstance } from 'fastify';
import { Passport } from 'passport';
import request from 'supertest';
import { afterEach, describe, expect, it } from 'vitest';
import { buildApp as buildFastifyApp } from '../examples/fastify/app.ts';
import { WeChatStrategy } from '../lib/index.js';
import { resolveCallbackURL } from '../lib/request.js';
import { APPID, SECRET } from './helpers/wechat.js';

// The client (supertest, on 127.0.0.1) claims to be a proxy for evil.example over https.
const SPOOFED = { Host: 'shop.example.cn', 'X-Forwarded-Host': 'evil.example', 'X-Forwarded-Proto': 'https' };
const DIRECT = 'http://shop.example.cn/auth/wechat/callback';
const FORWARDED = 'https://evil.example/auth/wechat/callback';

type TrustSetting = boolean | string | number | ((address: string, hop: number) => boolean);

function strategy(proxy = false) {
  return new WeChatStrategy({ clientID: APPID, clientSecret: SECRET, callbackURL: '/auth/wechat/callback', state: false, proxy }, (_a, _r, p, done) =>
    done(null, p),
  );
}

function expressApp(flavour: typeof express | typeof express4, trust: TrustSetting | undefined, proxy = false) {
  const passport = new Passport();
  passport.use(strategy(proxy));
  // One set of types for both majors: the calls below mean the same on Express 4 and 5.
  const app = (flavour as unknown as typeof express)();
  if (trust !== undefined) app.set('trust proxy', trust);
  app.get('/auth/wechat', passport.authenticate('wechat', { session: false }));
  return app;
}

async function redirectURI(app: Parameters<typeof request>[0]): Promise<string | null> {
  const start = await request(app).get('/auth/wechat').set(SPOOFED).expect(302);
  return new URL(start.headers.location as string).searchParams.get('redirect_uri');
}

describe.each([
  ['Express 5', express],
  ['Express 4', express4],
] as const)('%s trust proxy', (_name, flavour) => {
  it('ignores X-Forwarded-* from a client outside the trusted subnets', async () => {
    expect(await redirectURI(expressApp(flavour, '10.0.0.0/8'))).toBe(DIRECT);
  });

  it('ignores X-Forwarded-* when a trust function refuses the peer', async () => {
    expect(await redirectURI(expressApp(flavour, (address) => address.startsWith('10.')))).toBe(DIRECT);
  });

  it('ignores X-Forwarded-* when trust proxy is off', async () => {
    expect(await redirectURI(expressApp(flavour, false))).toBe(DIRECT);
  });

  it('uses X-Forwarded-* when the peer is in the trusted set', async () => {
    expect(await redirectURI(expressApp(flavour, 'loopback'))).toBe(FORWARDED);
  });

  it('agrees with req.protocol and req.hostname, whatever the setting', async () => {
    for (const trust of ['10.0.0.0/8', 'loopback', 1, false, true] as const) {
      const app = expressApp(flavour, trust);
      app.get('/seen', (req, res) => res.json({ origin: `${req.protocol}://${req.hostname}` }));
      const seen = (await request(app).get('/seen').set(SPOOFED).expect(200)).body.origin as string;
      expect(await redirectURI(app), `trust proxy ${String(trust)}`).toBe(`${seen}/auth/wechat/callback`);
    }
  });

  it('trusts the forwarded headers from anyone with the strategy option proxy: true', async () => {
    expect(await redirectURI(expressApp(flavour, '10.0.0.0/8', true))).toBe(FORWARDED);
  });
});

describe('Fastify trustProxy', () => {
  const apps: FastifyInstance[] = [];
  afterEach(async () => {
    await Promise.all(apps.splice(0).map((app) => app.close()));
  });

  async function fastifyApp(trustProxy: boolean | string | undefined) {
    const app = await buildFastifyApp({
      strategy: { clientID: APPID, clientSecret: SECRET, callbackURL: '/auth/wechat/callback' },
      sessionSecret: 'a test session secret of 32+ characters',
      ...(trustProxy === undefined ? {} : { trustProxy }),
    });
    apps.push(app);
    await app.ready();
    return app.server;
  }

  it('ignores X-Forwarded-* from a client outside the trusted subnets', async () => {
    expect(await redirectURI(await fastifyApp('10.0.0.0/8'))).toBe(DIRECT);
  });

  it('uses X-Forwarded-* when Fastify trusts the peer', async () => {
    expect(await redirectURI(await fastifyApp('127.0.0.1'))).toBe(FORWARDED);
  });

  it('ignores X-Forwarded-* with no trustProxy', async () => {
    expect(await redirectURI(await fastifyApp(undefined))).toBe(DIRECT);
  });
});

describe('a Fastify request read from source (resolveCallbackURL on a real FastifyRequest)', () => {
  const apps: FastifyInstance[] = [];
  afterEach(async () => {
    await Promise.all(apps.splice(0).map((app) => app.close()));
  });

  async function resolvedBy(trustProxy: boolean | string, proxyOption = false): Promise<string> {
    const app = Fastify({ trustProxy });
    apps.push(app);
    app.get('/auth/wechat', (req) => ({ url: resolveCallbackURL(req as unknown as express.Request, '/auth/wechat/callback', proxyOption) }));
    await app.ready();
    const answer = await request(app.server).get('/auth/wechat').set(SPOOFED).expect(200);
    return (answer.body as { url: string }).url;
  }

  it('takes the Host header and the socket when Fastify trusts no proxy', async () => {
    expect(await resolvedBy(false)).toBe(DIRECT);
  });

  it('ignores X-Forwarded-* from a client outside the trusted subnets', async () => {
    expect(await resolvedBy('10.0.0.0/8')).toBe(DIRECT);
  });

  it('follows Fastify when it trusts the peer', async () => {
    expect(await resolvedBy('127.0.0.1')).toBe(FORWARDED);
  });

  it('trusts the forwarded headers from anyone with proxy: true', async () => {
    expect(await resolvedBy(false, true)).toBe(FORWARDED);
  });
});
