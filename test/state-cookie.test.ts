/**
 * The cookie state store (`state: { cookie: { secret } }`): CSRF state with no server session
 * (docs/state.md, "No session: the cookie store"). Real Express 5 and Express 4 apps without
 * express-session, Passport 0.7, the local WeChat emulator playing WeChat and the user.
 */
import express from 'express';
import express4 from 'express4';
import { Passport } from 'passport';
import request from 'supertest';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { WeChatOptionsError, WeChatStrategy, type WeChatStrategyOptions } from '../lib/index.js';
import { MAX_PENDING_LOGINS, PENDING_LOGIN_TTL_MS } from '../lib/state-store.js';
import { DEMO_OFFICIAL_ACCOUNT_APP, DEMO_WEBSITE_APP, WeChatEmulator } from '../lib/testing/index.js';
import { callbackFrom, type Agent } from './helpers/emulator-login.js';

const SECRET = 'a cookie-state secret of 32+ characters';
const NEW_SECRET = 'the next cookie-state secret, 32+ characters';
const CALLBACK_URL = 'http://localhost:3000/auth/wechat/callback';

let emulator: WeChatEmulator;
beforeAll(async () => {
  emulator = await WeChatEmulator.start();
});
afterEach(() => {
  emulator.reset();
  vi.useRealTimers();
});
afterAll(() => emulator.close());

type CreateApp = () => express.Express;
const HOSTS: [string, CreateApp][] = [
  ['Express 5', () => express()],
  // Express 4's app has the same shape for what this file does (get, use, listen through supertest).
  ['Express 4', () => express4() as unknown as express.Express],
];

/**
 * An app with no session middleware at all. The callback answers JSON: `{ user, state }` on
 * success (`state`: the app state the login started with), `{ failed: info }` (403) otherwise.
 */
function buildApp(extra: Partial<WeChatStrategyOptions> = {}, createApp: CreateApp = () => express()) {
  const passport = new Passport();
  const { clientID, clientSecret, authorizationURL } = emulator.strategyOptions(DEMO_OFFICIAL_ACCOUNT_APP.appid);
  passport.use(
    new WeChatStrategy(
      {
        ...emulator.strategyOptions(DEMO_WEBSITE_APP.appid),
        callbackURL: CALLBACK_URL,
        officialAccount: { clientID, clientSecret, authorizationURL, scope: 'snsapi_userinfo' },
        state: { cookie: { secret: SECRET } },
        ...extra,
      } as WeChatStrategyOptions,
      (_accessToken, _refreshToken, profile, done) => done(null, { id: profile.id, name: profile.displayName }),
    ),
  );
  const app = createApp();
  // Another middleware's cookie: the store must add its own next to it.
  app.use((req, res, next) => {
    if (req.query.theme) res.setHeader('Set-Cookie', `theme=${String(req.query.theme)}; Path=/`);
    next();
  });
  app.get('/auth/wechat', (req, res, next) =>
    passport.authenticate('wechat', { session: false, state: req.query.tab ? { tab: req.query.tab } : undefined } as object)(req, res, next),
  );
  app.get('/auth/wechat/official-account', passport.authenticate('wechat', { session: false, flow: 'official-account' }));
  app.get('/auth/wechat/callback', (req, res, next) => {
    passport.authenticate('wechat', { session: false }, (error: unknown, user: Express.User | false, info: { state?: unknown } | undefined) => {
      if (error) return next(error);
      if (!user) return res.status(403).json({ failed: info ?? null });
      res.json({ user, state: info?.state ?? null });
    })(req, res, next);
  });
  app.use((error: Error, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
    res.status(500).json({ error: error.name, message: error.message });
  });
  return app;
}

/** A Set-Cookie line, split: the name, the value, and its attributes in lower case. */
function parseSetCookie(line: string): { name: string; value: string; attributes: string[] } {
  const [pair = '', ...attributes] = line.split(';').map((part) => part.trim());
  const at = pair.indexOf('=');
  return { name: pair.slice(0, at), value: pair.slice(at + 1), attributes: attributes.map((a) => a.toLowerCase()) };
}

function setCookies(res: { headers: Record<string, unknown> }): string[] {
  const header = res.headers['set-cookie'];
  return Array.isArray(header) ? (header as string[]) : [];
}

/** The state cookies a response sets (clearings included), parsed. */
function stateCookies(res: { headers: Record<string, unknown> }) {
  return setCookies(res).map(parseSetCookie).filter((cookie) => cookie.name.includes('wechat-state-'));
}

/** Starts a login in `agent`'s browser; returns the callback the user reaches after confirming, and the start's response. */
async function openTab(agent: Agent, user = 'alice', path = '/auth/wechat') {
  const start = await agent.get(path).expect(302);
  return { callback: callbackFrom(emulator, start.headers.location as string, { user }), start };
}

/** The state cookie a login start set, as `name=value` for a Cookie header. */
function cookieOf(start: { headers: Record<string, unknown> }): string {
  const [cookie] = stateCookies(start);
  if (!cookie) throw new Error('the login start set no state cookie');
  return `${cookie.name}=${cookie.value}`;
}

const accessTokenCalls = () => emulator.calls.filter((call) => call.endpoint === 'access_token');

describe.each(HOSTS)('%s without any session', (_host, createApp) => {
  const app = () => buildApp({}, createApp);

  it('logs Alice in with no session cookie: only the state cookie goes to the browser and back', async () => {
    const agent = request.agent(app());
    const { callback, start } = await openTab(agent);
    expect(setCookies(start)).toHaveLength(1);
    const res = await agent.get(callback).expect(200);
    expect(res.body.user).toEqual({ id: emulator.unionidFor('alice'), name: 'Alice 🐼' });
  });

  it('finishes the older tab when the user confirms it first', async () => {
    const agent = request.agent(app());
    const older = await openTab(agent);
    await openTab(agent, 'bob');
    expect((await agent.get(older.callback).expect(200)).body.user.name).toBe('Alice 🐼');
  });

  it('finishes both tabs, the newer first', async () => {
    const agent = request.agent(app());
    const older = await openTab(agent, 'alice');
    const newer = await openTab(agent, 'bob');
    expect((await agent.get(newer.callback).expect(200)).body.user.name).toBe('Bob');
    expect((await agent.get(older.callback).expect(200)).body.user.name).toBe('Alice 🐼');
  });

  it('uses a state once: the callback again fails with WECHAT_STATE_MISSING (duplicate handling has no session to key on), and WeChat is called once', async () => {
    const agent = request.agent(app());
    const { callback } = await openTab(agent);
    const first = await agent.get(callback).expect(200);
    expect(stateCookies(first)).toEqual([expect.objectContaining({ value: '', attributes: expect.arrayContaining(['max-age=0']) })]);
    expect((await agent.get(callback).expect(403)).body.failed.code).toBe('WECHAT_STATE_MISSING');
    expect(accessTokenCalls()).toHaveLength(1);
  });

  it('fails a callback opened in another browser with WECHAT_STATE_MISSING, without calling WeChat', async () => {
    const application = app();
    const { callback } = await openTab(request.agent(application));
    const other = request.agent(application);
    await other.get('/auth/wechat').expect(302); // the other browser has a login of its own pending
    expect((await other.get(callback).expect(403)).body.failed.code).toBe('WECHAT_STATE_MISSING');
    expect(emulator.calls).toEqual([]);
  });
});

describe('the state cookie', () => {
  it('is HttpOnly, SameSite=Lax, Path=/, lives 10 minutes, and is named after the state sent to WeChat', async () => {
    const start = await request(buildApp({ officialAccount: undefined })).get('/auth/wechat').expect(302);
    const state = new URL(start.headers.location as string).searchParams.get('state') ?? '';
    expect(state).toMatch(/^[0-9a-f]{24}$/);
    const [cookie] = stateCookies(start);
    expect(cookie?.name).toMatch(new RegExp(`^wechat-state-[0-9a-f]{8}-${state}$`));
    expect(cookie?.attributes.filter((attribute) => !attribute.startsWith('expires=')).sort()).toEqual([
      'httponly',
      `max-age=${PENDING_LOGIN_TTL_MS / 1000}`,
      'path=/',
      'samesite=lax',
    ]);
  });

  it('is Secure and named __Host-… when the callback URL is https, and the login finishes with it', async () => {
    const app = buildApp({ callbackURL: 'https://localhost:3000/auth/wechat/callback' });
    const start = await request(app).get('/auth/wechat').expect(302);
    const [cookie] = stateCookies(start);
    expect(cookie?.name).toMatch(/^__Host-wechat-state-/);
    expect(cookie?.attributes).toEqual(expect.arrayContaining(['secure', 'path=/', 'httponly', 'samesite=lax']));
    expect(cookie?.attributes.some((attribute) => attribute.startsWith('domain='))).toBe(false);
    // A browser sends a Secure cookie over https only: the test sends it as one would.
    const callback = callbackFrom(emulator, start.headers.location as string, { user: 'alice' });
    const done = await request(app).get(callback).set('Cookie', cookieOf(start)).expect(200);
    expect(done.body.user.name).toBe('Alice 🐼');
    expect(stateCookies(done)[0]?.attributes).toEqual(expect.arrayContaining(['max-age=0', 'secure']));
  });

  it('on https, refuses the same cookie without the __Host- prefix (as a sibling subdomain could plant it)', async () => {
    const app = buildApp({ callbackURL: 'https://localhost:3000/auth/wechat/callback' });
    const start = await request(app).get('/auth/wechat').expect(302);
    const callback = callbackFrom(emulator, start.headers.location as string, { user: 'alice' });
    const planted = cookieOf(start).replace(/^__Host-/, '');
    expect((await request(app).get(callback).set('Cookie', planted).expect(403)).body.failed.code).toBe('WECHAT_STATE_MISSING');
    expect(emulator.calls).toEqual([]);
  });

  it("is added next to another middleware's Set-Cookie, never in its place", async () => {
    const start = await request(buildApp()).get('/auth/wechat?theme=dark').expect(302);
    expect(setCookies(start)).toEqual(['theme=dark; Path=/', expect.stringMatching(/^wechat-state-/)]);
  });

  it('carries the app state: each tab gets back the state it was started with', async () => {
    const agent = request.agent(buildApp());
    const one = await openTab(agent, 'alice', '/auth/wechat?tab=one');
    const two = await openTab(agent, 'alice', '/auth/wechat?tab=two');
    expect((await agent.get(two.callback).expect(200)).body.state).toEqual({ tab: 'two' });
    expect((await agent.get(one.callback).expect(200)).body.state).toEqual({ tab: 'one' });
  });

  it('refuses app state too large for a cookie with a WeChatOptionsError, rather than a cookie the browser would drop', async () => {
    const start = await request(buildApp()).get(`/auth/wechat?tab=${'x'.repeat(400)}`).expect(500);
    expect(start.body.error).toBe('WeChatOptionsError');
    expect(setCookies(start)).toEqual([]);
  });
});

describe('a state cookie that does not verify', () => {
  it('fails with WECHAT_STATE_MISMATCH when its signature was edited, without calling WeChat', async () => {
    const app = buildApp();
    const { callback, start } = await openTab(request.agent(app));
    const forged = cookieOf(start).replace(/.$/, (last) => (last === 'A' ? 'B' : 'A'));
    expect((await request(app).get(callback).set('Cookie', forged).expect(403)).body.failed.code).toBe('WECHAT_STATE_MISMATCH');
    expect(emulator.calls).toEqual([]);
  });

  it('fails with WECHAT_STATE_MISMATCH when its app state was swapped under the same signature', async () => {
    const app = buildApp();
    const { callback, start } = await openTab(request.agent(app), 'alice', '/auth/wechat?tab=one');
    const swapped = Buffer.from(JSON.stringify({ tab: 'admin' })).toString('base64url');
    const forged = cookieOf(start).replace(/\.[^.]*\./, `.${swapped}.`);
    expect((await request(app).get(callback).set('Cookie', forged).expect(403)).body.failed.code).toBe('WECHAT_STATE_MISMATCH');
  });

  it("fails with WECHAT_STATE_MISMATCH when another login's signed value is put under this state's name", async () => {
    const app = buildApp();
    const agent = request.agent(app);
    const mine = await openTab(agent);
    const other = await openTab(request.agent(app));
    const [myName] = cookieOf(mine.start).split('=');
    const otherValue = cookieOf(other.start).split('=')[1];
    expect((await request(app).get(mine.callback).set('Cookie', `${myName}=${otherValue}`).expect(403)).body.failed.code).toBe(
      'WECHAT_STATE_MISMATCH',
    );
  });

  it('fails a login the browser kept past 10 minutes with WECHAT_STATE_MISSING', async () => {
    vi.useFakeTimers({ toFake: ['Date'], now: Date.now() });
    const agent = request.agent(buildApp());
    const { callback } = await openTab(agent);
    vi.setSystemTime(Date.now() + PENDING_LOGIN_TTL_MS + 1_000);
    expect((await agent.get(callback).expect(403)).body.failed.code).toBe('WECHAT_STATE_MISSING');
  });

  it('fails a cookie sent back after its 10 minutes (a client that ignores Max-Age) with WECHAT_STATE_MISSING, without calling WeChat', async () => {
    vi.useFakeTimers({ toFake: ['Date'], now: Date.now() });
    const app = buildApp();
    const { callback, start } = await openTab(request.agent(app));
    vi.setSystemTime(Date.now() + PENDING_LOGIN_TTL_MS + 1_000);
    expect((await request(app).get(callback).set('Cookie', cookieOf(start)).expect(403)).body.failed.code).toBe('WECHAT_STATE_MISSING');
    expect(emulator.calls).toEqual([]);
  });

  it('finishes a login started 9 minutes ago', async () => {
    vi.useFakeTimers({ toFake: ['Date'], now: Date.now() });
    const agent = request.agent(buildApp());
    const { callback } = await openTab(agent);
    vi.setSystemTime(Date.now() + 9 * 60 * 1000);
    expect((await agent.get(callback).expect(200)).body.user.name).toBe('Alice 🐼');
  });
});

describe(`at most ${MAX_PENDING_LOGINS} state cookies per browser`, () => {
  it(`expires the oldest when a browser starts login number ${MAX_PENDING_LOGINS + 1}`, async () => {
    vi.useFakeTimers({ toFake: ['Date'], now: Date.now() });
    const agent = request.agent(buildApp());
    const tabs = [];
    for (let i = 0; i < MAX_PENDING_LOGINS; i++) {
      tabs.push(await openTab(agent));
      vi.setSystemTime(Date.now() + 1_000);
    }
    const sixth = await openTab(agent);
    const [cleared, set] = stateCookies(sixth.start);
    expect(cleared?.name).toBe(cookieOf(tabs[0]!.start).split('=')[0]);
    expect(cleared?.attributes).toContain('max-age=0');
    expect(set?.value).not.toBe('');
    expect((await agent.get(tabs[0]!.callback).expect(403)).body.failed.code).toBe('WECHAT_STATE_MISSING');
    expect((await agent.get(tabs[1]!.callback).expect(200)).body.user.name).toBe('Alice 🐼');
    expect((await agent.get(sixth.callback).expect(200)).body.user.name).toBe('Alice 🐼');
  });
});

describe('several instances, no shared store', () => {
  it('finishes on a second instance with the same secret a login started on the first', async () => {
    const started = request.agent(buildApp());
    const { callback, start } = await openTab(started);
    const res = await request(buildApp()).get(callback).set('Cookie', cookieOf(start)).expect(200);
    expect(res.body.user.name).toBe('Alice 🐼');
  });

  it('fails on an instance with another secret with WECHAT_STATE_MISMATCH', async () => {
    const { callback, start } = await openTab(request.agent(buildApp()));
    const other = buildApp({ state: { cookie: { secret: NEW_SECRET } } });
    expect((await request(other).get(callback).set('Cookie', cookieOf(start)).expect(403)).body.failed.code).toBe('WECHAT_STATE_MISMATCH');
  });
});

describe('secret rotation', () => {
  it('still finishes a login signed with the old secret once the new one is put first', async () => {
    const { callback, start } = await openTab(request.agent(buildApp({ state: { cookie: { secret: SECRET } } })));
    const rotated = buildApp({ state: { cookie: { secret: [NEW_SECRET, SECRET] } } });
    expect((await request(rotated).get(callback).set('Cookie', cookieOf(start)).expect(200)).body.user.name).toBe('Alice 🐼');
  });

  it('signs new logins with the first secret: an instance that knows only the new secret finishes them', async () => {
    const { callback, start } = await openTab(request.agent(buildApp({ state: { cookie: { secret: [NEW_SECRET, SECRET] } } })));
    const next = buildApp({ state: { cookie: { secret: NEW_SECRET } } });
    expect((await request(next).get(callback).set('Cookie', cookieOf(start)).expect(200)).body.user.name).toBe('Alice 🐼');
  });

  it('fails a login signed with a secret since removed with WECHAT_STATE_MISMATCH', async () => {
    const { callback, start } = await openTab(request.agent(buildApp({ state: { cookie: { secret: SECRET } } })));
    const removed = buildApp({ state: { cookie: { secret: [NEW_SECRET] } } });
    expect((await request(removed).get(callback).set('Cookie', cookieOf(start)).expect(403)).body.failed.code).toBe('WECHAT_STATE_MISMATCH');
  });
});

describe('a strategy with an Official Account', () => {
  it('keeps a website login and an Official Account login of one browser apart, and finishes both', async () => {
    const agent = request.agent(buildApp());
    const website = await openTab(agent, 'alice');
    const official = await openTab(agent, 'bob', '/auth/wechat/official-account');
    expect(cookieOf(website.start).split('-')[2]).not.toBe(cookieOf(official.start).split('-')[2]);
    expect((await agent.get(official.callback).expect(200)).body.user.name).toBe('Bob');
    expect((await agent.get(website.callback).expect(200)).body.user.name).toBe('Alice 🐼');
  });

  it("fails an Official Account callback that brings a website login's cookie under its name with WECHAT_STATE_MISMATCH", async () => {
    const app = buildApp();
    const website = await openTab(request.agent(app), 'alice');
    const official = await openTab(request.agent(app), 'bob', '/auth/wechat/official-account');
    const [officialName] = cookieOf(official.start).split('=');
    const websiteValue = cookieOf(website.start).split('=')[1];
    const res = await request(app).get(official.callback).set('Cookie', `${officialName}=${websiteValue}`).expect(403);
    expect(res.body.failed.code).toBe('WECHAT_STATE_MISMATCH');
  });
});

describe('the cookie store next to the other state options', () => {
  it('lets a custom store win over state: { cookie }', async () => {
    const store = {
      store: (_req: unknown, _state: unknown, _meta: unknown, done: (err: null, handle: string) => void) => done(null, 'customhandle1'),
      verify: (_req: unknown, _state: string, _meta: unknown, done: (err: null, ok: boolean) => void) => done(null, true),
    };
    const start = await request(buildApp({ officialAccount: undefined, store } as Partial<WeChatStrategyOptions>)).get('/auth/wechat').expect(302);
    expect(new URL(start.headers.location as string).searchParams.get('state')).toBe('customhandle1');
    expect(setCookies(start)).toEqual([]);
  });

  it.each([
    ['a string shorter than 32 characters', { secret: 'short secret, shown nowhere' }],
    ['an array with a short secret', { secret: [SECRET, 'short secret, shown nowhere'] }],
    ['an empty array', { secret: [] }],
    ['no secret', {}],
  ])('refuses %s with a WeChatOptionsError naming state.cookie.secret and not showing it', (_name, cookie) => {
    const build = () => buildApp({ state: { cookie } as WeChatStrategyOptions['state'] });
    expect(build).toThrow(WeChatOptionsError);
    expect(build).toThrow(/state\.cookie\.secret/);
    expect(build).not.toThrow(/shown nowhere/);
  });

  it('refuses a state object without cookie with a WeChatOptionsError naming state', () => {
    expect(() => buildApp({ state: {} as WeChatStrategyOptions['state'] })).toThrow(/^state must be/);
  });
});
