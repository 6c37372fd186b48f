/**
 * One strategy, two WeChat apps: the website QR login on desktops and the Official Account login
 * inside WeChat's own browser, chosen per request by the User-Agent. Driven through a small
 * Express app with supertest; the local WeChat emulator plays WeChat, its phone and its users.
 * No browser, no network, no nock.
 */
import { randomBytes } from 'node:crypto';
import express, { type ErrorRequestHandler } from 'express';
import session from 'express-session';
import { Passport } from 'passport';
import request from 'supertest';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  WeChatOptionsError,
  WeChatStrategy,
  isInsideWeChat,
  type WeChatProfile,
  type WeChatStrategyOptions,
} from '../lib/index.js';
import { DEMO_OFFICIAL_ACCOUNT_APP as OA, DEMO_WEBSITE_APP as WEB, WeChatEmulator } from '../lib/testing/index.js';

const CALLBACK = 'http://localhost:3000/auth/wechat/callback';

// Real User-Agents, as WeChat's browsers and Chrome send them.
const UA = {
  iosWeChat:
    'Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 ' +
    'MicroMessenger/8.0.49(0x18003129) NetType/WIFI Language/zh_CN',
  androidWeChat:
    'Mozilla/5.0 (Linux; Android 13; V2227A Build/TP1A.220624.014; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 ' +
    'Chrome/116.0.0.0 Mobile Safari/537.36 XWEB/1160065 MMWEBSDK/20231202 MMWEBID/2247 MicroMessenger/8.0.47.2560(0x28002F30) ' +
    'WeChat/arm64 Weixin NetType/WIFI Language/zh_CN ABI/arm64',
  windowsWeChat:
    'Mozilla/5.0 (Windows NT 10.0; WOW64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/81.0.4044.138 Safari/537.36 ' +
    'NetType/WIFI MicroMessenger/7.0.20.1781(0x6700143B) WindowsWechat(0x63090a13) XWEB/8555 Flue',
  macWeChat:
    'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) MicroMessenger/6.8.0(0x16080000) ' +
    'MacWechat/3.8.7(0x13080710) Flue',
  weCom:
    'Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 ' +
    'wxwork/4.1.22 MicroMessenger/7.0.1 Language/zh ColorScheme/Light',
  chrome:
    'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/142.0.0.0 Safari/537.36',
};

let emulator: WeChatEmulator;

beforeAll(async () => {
  emulator = await WeChatEmulator.start();
  emulator.registerUser({ id: 'snap', nickname: '微信用户', snapshot: true });
});
afterEach(() => emulator.reset());
afterAll(() => emulator.close());

/** The website app plus the emulator's Official Account: AppID, AppSecret and authorize page. */
function bothApps(officialAccount: Partial<NonNullable<WeChatStrategyOptions['officialAccount']>> = {}): WeChatStrategyOptions {
  const { clientID, clientSecret, authorizationURL } = emulator.strategyOptions(OA.appid);
  return {
    ...emulator.strategyOptions(WEB.appid),
    callbackURL: CALLBACK,
    officialAccount: { clientID, clientSecret, authorizationURL, scope: 'snsapi_userinfo', ...officialAccount },
  } as WeChatStrategyOptions;
}

/** A small app: the login routes, a callback that answers JSON, and /me. */
function buildApp(options: WeChatStrategyOptions = bothApps()) {
  const passport = new Passport();
  const strategy = new WeChatStrategy(options, (_accessToken, _refreshToken, profile, done) => done(null, profile));
  passport.use(strategy);
  passport.serializeUser((user, done) => done(null, user));
  passport.deserializeUser((user: WeChatProfile, done) => done(null, user));
  const app = express();
  app.use(session({ secret: 'test session secret', resave: false, saveUninitialized: false }));
  app.use(passport.session());
  app.get('/auth/wechat', passport.authenticate('wechat'));
  app.get('/auth/wechat/official-account', passport.authenticate('wechat', { flow: 'official-account' }));
  app.get('/auth/wechat/website', passport.authenticate('wechat', { flow: 'website' }));
  app.get('/login/embedded.json', async (req, res, next) => {
    try {
      res.json(await strategy.wxLoginOptions(req, { id: 'wechat-qr', stylelite: true }));
    } catch (error) {
      next(error);
    }
  });
  app.get('/auth/wechat/callback', (req, res, next) => {
    passport.authenticate('wechat', (error: unknown, user: WeChatProfile | false, info: unknown, status: unknown) => {
      if (error) return next(error);
      if (!user) return res.status(typeof status === 'number' ? status : 401).json({ failed: info ?? null });
      req.logIn(user, (loginError) => (loginError ? next(loginError) : res.json({ user })));
    })(req, res, next);
  });
  app.get('/me', (req, res) => res.json({ user: req.user ?? null }));
  const onError: ErrorRequestHandler = (error: { code?: string }, _req, res, _next) => {
    res.status(500).json({ error: error.code ?? String(error) });
  };
  app.use(onError);
  return app;
}

type Agent = ReturnType<typeof request.agent>;

/** GET `path` as a browser with `userAgent`; the 302's Location. */
async function startLogin(agent: Agent, userAgent: string, path = '/auth/wechat'): Promise<string> {
  const start = await agent.get(path).set('User-Agent', userAgent).expect(302);
  return start.headers.location as string;
}

/** The emulator's user confirms; the callback's path and query, where WeChat sends the browser. */
function confirmAs(location: string, user = 'alice'): string {
  const outcome = emulator.authorize(location, { user });
  if (outcome.type !== 'redirect') throw new Error(`WeChat did not redirect back: ${JSON.stringify(outcome)}`);
  const callback = new URL(outcome.location);
  return callback.pathname + callback.search;
}

async function logIn(agent: Agent, userAgent: string, user = 'alice', path = '/auth/wechat'): Promise<WeChatProfile> {
  const callback = confirmAs(await startLogin(agent, userAgent, path), user);
  const answer = await agent.get(callback).set('User-Agent', userAgent).expect(200);
  return (answer.body as { user: WeChatProfile }).user;
}

function stateOf(location: string): string {
  return new URL(location).searchParams.get('state') ?? '';
}

function apiCalls(): Array<[string, string | undefined, number | undefined]> {
  return emulator.calls.map((call) => [call.endpoint, call.query.appid, call.errcode]);
}

describe('choosing the login by User-Agent', () => {
  it("sends WeChat's browser to the Official Account page, in WeChat's order, byte for byte", async () => {
    const location = await startLogin(request.agent(buildApp()), UA.iosWeChat);
    const state = stateOf(location);
    expect(state).toMatch(/^o[A-Za-z0-9]+$/);
    expect(location).toBe(
      `${emulator.endpoints.officialAccountAuthorizationURL}?appid=${OA.appid}&redirect_uri=${encodeURIComponent(CALLBACK)}` +
        `&response_type=code&scope=snsapi_userinfo&state=${state}#wechat_redirect`,
    );
  });

  it('sends a desktop browser to the QR page, its state starting with w', async () => {
    const location = await startLogin(request.agent(buildApp()), UA.chrome);
    const state = stateOf(location);
    expect(state).toMatch(/^w[A-Za-z0-9]+$/);
    expect(location).toBe(
      `${emulator.endpoints.authorizationURL}?appid=${WEB.appid}&redirect_uri=${encodeURIComponent(CALLBACK)}` +
        `&response_type=code&scope=snsapi_login&state=${state}#wechat_redirect`,
    );
  });

  it("follows a route's { flow } over the User-Agent", async () => {
    const app = buildApp();
    const official = await startLogin(request.agent(app), UA.chrome, '/auth/wechat/official-account');
    expect(official).toMatch(new RegExp(`^${emulator.endpoints.officialAccountAuthorizationURL}\\?appid=${OA.appid}&.*&state=o\\w+#wechat_redirect$`));
    const website = await startLogin(request.agent(app), UA.iosWeChat, '/auth/wechat/website');
    expect(website).toMatch(new RegExp(`^${emulator.endpoints.authorizationURL}\\?appid=${WEB.appid}&.*&state=w\\w+#wechat_redirect$`));
  });

  it('puts forcePopup=true after the state, before #wechat_redirect', async () => {
    const location = await startLogin(request.agent(buildApp(bothApps({ forcePopup: true }))), UA.androidWeChat);
    expect(location).toMatch(/&scope=snsapi_userinfo&state=o[A-Za-z0-9]+&forcePopup=true#wechat_redirect$/);
  });

  it.each([
    ['iOS WeChat', UA.iosWeChat, true],
    ['Android WeChat', UA.androidWeChat, true],
    ['PC WeChat (WindowsWechat)', UA.windowsWeChat, true],
    ['Mac WeChat', UA.macWeChat, true],
    ['WeCom (wxwork: no Official Account login there)', UA.weCom, false],
    ['Chrome', UA.chrome, false],
  ])('isInsideWeChat(%s) is %s', (_name, userAgent, inside) => {
    expect(isInsideWeChat(userAgent)).toBe(inside);
  });

  it('treats a missing User-Agent as a desktop', () => {
    expect(isInsideWeChat(undefined)).toBe(false);
  });
});

describe('finishing the Official Account login', () => {
  it("exchanges the code with the Official Account's AppID, then reads the profile", async () => {
    const profile = await logIn(request.agent(buildApp()), UA.iosWeChat);
    expect(profile).toMatchObject({ provider: 'wechat', openid: emulator.openidFor(OA.appid, 'alice'), appid: OA.appid, displayName: 'Alice 🐼' });
    expect(apiCalls()).toEqual([
      ['access_token', OA.appid, undefined],
      ['userinfo', undefined, undefined],
    ]);
  });

  it('gives Alice the same profile.id (her unionid) through both logins, with a different openid in each app', async () => {
    const app = buildApp();
    const inWeChat = await logIn(request.agent(app), UA.iosWeChat);
    const onDesktop = await logIn(request.agent(app), UA.chrome);
    expect(inWeChat.id).toBe(emulator.unionidFor('alice'));
    expect(onDesktop.id).toBe(inWeChat.id);
    expect(onDesktop.openid).toBe(emulator.openidFor(WEB.appid, 'alice'));
    expect(onDesktop.openid).not.toBe(inWeChat.openid);
    expect([inWeChat.appid, onDesktop.appid]).toEqual([OA.appid, WEB.appid]);
  });

  it('finishes by the state, not the User-Agent: an Official Account login started by flow ends on a desktop', async () => {
    const profile = await logIn(request.agent(buildApp()), UA.chrome, 'alice', '/auth/wechat/official-account');
    expect(profile.openid).toBe(emulator.openidFor(OA.appid, 'alice'));
  });

  it("refuses a state replayed with the other flow's letter (403) and never exchanges the code", async () => {
    const agent = request.agent(buildApp());
    expect(stateOf(await startLogin(agent, UA.chrome))).toMatch(/^w/); // both logins pending in one session
    const callback = confirmAs(await startLogin(agent, UA.iosWeChat));
    const officialState = new URL(callback, 'http://x').searchParams.get('state') ?? '';
    const swapped = callback.replace(`state=${officialState}`, `state=w${officialState.slice(1)}`);
    const refused = await agent.get(swapped).expect(403);
    expect(refused.body).toMatchObject({ failed: { code: 'WECHAT_STATE_MISMATCH' } });
    expect(emulator.calls).toEqual([]);

    const other = request.agent(buildApp());
    const otherCallback = confirmAs(await startLogin(other, UA.chrome));
    const handle = (new URL(otherCallback, 'http://x').searchParams.get('state') ?? '').slice(1);
    await other.get(otherCallback.replace(/state=w\w+/, `state=o${handle}`)).expect(403);
    expect(emulator.calls).toEqual([]);
  });

  describe('with a custom state store both flows share', () => {
    /** A state store without sessions, as apps bring their own: single-use handles in one set. */
    function sharedStateStore() {
      const handles = new Set<string>();
      return {
        store(_req: unknown, _meta: unknown, callback: (err: Error | null, handle?: string) => void) {
          const handle = randomBytes(12).toString('hex');
          handles.add(handle);
          callback(null, handle);
        },
        verify(_req: unknown, handle: string, callback: (err: Error | null, ok: boolean, info?: unknown) => void) {
          const known = handles.delete(handle);
          callback(null, known, known ? undefined : { message: 'Unknown state.' });
        },
      };
    }
    const withSharedStore = () => buildApp({ ...bothApps(), store: sharedStateStore() as unknown as WeChatStrategyOptions['store'] });

    it('logs in through both flows', async () => {
      const app = withSharedStore();
      expect((await logIn(request.agent(app), UA.chrome)).openid).toBe(emulator.openidFor(WEB.appid, 'alice'));
      expect((await logIn(request.agent(app), UA.iosWeChat)).openid).toBe(emulator.openidFor(OA.appid, 'alice'));
    });

    it("refuses a state whose flow letter was swapped (403), and never sends the code to the other app", async () => {
      for (const [ua, from, to] of [[UA.iosWeChat, 'o', 'w'], [UA.chrome, 'w', 'o']] as const) {
        const agent = request.agent(withSharedStore());
        const callback = confirmAs(await startLogin(agent, ua));
        const swapped = callback.replace(`state=${from}`, `state=${to}`);
        expect(swapped).not.toBe(callback);
        await agent.get(swapped).expect(403);
        expect(emulator.calls).toEqual([]);
      }
    });

    it('refuses a state with a forged or garbled tag without calling WeChat', async () => {
      const agent = request.agent(withSharedStore());
      const callback = confirmAs(await startLogin(agent, UA.chrome));
      const state = stateOf(`http://x${callback}`);
      for (const forged of [`${state.slice(0, -1)}${state.endsWith('0') ? '1' : '0'}`, `${state.slice(0, -2)}é`, 'w', state.slice(0, 17)]) {
        await agent.get(callback.replace(`state=${state}`, `state=${encodeURIComponent(forged)}`)).expect(403);
      }
      expect(emulator.calls).toEqual([]);
    });
  });

  it('refuses a website code sent to a callback whose state says official-account, and logs no one in', async () => {
    const agent = request.agent(buildApp());
    const state = stateOf(await startLogin(agent, UA.iosWeChat));
    const websiteCode = emulator.issueCode({ appid: WEB.appid, user: 'alice' });
    const refused = await agent.get(`/auth/wechat/callback?code=${websiteCode}&state=${state}`).expect(401);
    expect(refused.body).toMatchObject({ failed: { code: 'WECHAT_INVALID_CODE', errcode: 40029 } });
    expect(apiCalls()).toEqual([['access_token', OA.appid, 40029]]);
    expect((await agent.get('/me').expect(200)).body).toEqual({ user: null });
  });

  it('refuses a snapshot-page user (is_snapshotuser: 1) with WECHAT_SNAPSHOT_USER, before any userinfo call', async () => {
    const agent = request.agent(buildApp());
    const callback = confirmAs(await startLogin(agent, UA.iosWeChat), 'snap');
    const refused = await agent.get(callback).expect(401);
    expect(refused.body).toMatchObject({ failed: { code: 'WECHAT_SNAPSHOT_USER' } });
    expect(apiCalls()).toEqual([['access_token', OA.appid, undefined]]);
    expect((await agent.get('/me').expect(200)).body).toEqual({ user: null });
  });

  it('logs in silently with snsapi_base (the Official Account as the only app): no userinfo call, ids only', async () => {
    const baseOnly = buildApp({ ...emulator.strategyOptions(OA.appid), scope: 'snsapi_base', callbackURL: CALLBACK });
    const agent = request.agent(baseOnly);
    const location = await startLogin(agent, UA.iosWeChat);
    expect(location).toMatch(/&response_type=code&scope=snsapi_base&state=[A-Za-z0-9]+#wechat_redirect$/);
    const answer = await agent.get(confirmAs(location)).expect(200);
    const openid = emulator.openidFor(OA.appid, 'alice');
    expect((answer.body as { user: unknown }).user).toEqual({
      provider: 'wechat',
      id: openid,
      openid,
      appid: OA.appid,
      displayName: '',
      privilege: [],
      _raw: '',
      _json: { openid },
    });
    expect(apiCalls()).toEqual([['access_token', OA.appid, undefined]]);
  });
});

describe('configurations WeChat would refuse, refused at construction', () => {
  const verify = (): void => {};
  const web = (): WeChatStrategyOptions => ({ ...emulator.strategyOptions(WEB.appid), callbackURL: CALLBACK });

  it('refuses snsapi_login on the Official Account page (connect/oauth2/authorize)', () => {
    expect(() => new WeChatStrategy({ ...emulator.strategyOptions(OA.appid), callbackURL: CALLBACK }, verify)).toThrow(WeChatOptionsError);
    expect(() => new WeChatStrategy({ ...emulator.strategyOptions(OA.appid), scope: 'snsapi_login' }, verify)).toThrow(/oauth2\/authorize/);
  });

  it('refuses snsapi_base or snsapi_userinfo on the QR page (connect/qrconnect)', () => {
    expect(() => new WeChatStrategy({ ...web(), scope: 'snsapi_base' }, verify)).toThrow(/qrconnect/);
    expect(() => new WeChatStrategy({ ...web(), scope: 'snsapi_userinfo' }, verify)).toThrow(WeChatOptionsError);
  });

  it('refuses an officialAccount with a website scope', () => {
    const options = bothApps({ scope: 'snsapi_login' as 'snsapi_base' });
    expect(() => new WeChatStrategy(options, verify)).toThrow(WeChatOptionsError);
    const { authorizationURL: _page, ...withoutPage } = bothApps().officialAccount ?? {};
    const defaultPage = { ...web(), officialAccount: { ...withoutPage, scope: 'snsapi_login' } } as unknown as WeChatStrategyOptions;
    expect(() => new WeChatStrategy(defaultPage, verify)).toThrow(/officialAccount/);
  });

  it('refuses state: false with an officialAccount: the state names the app that started the login', () => {
    expect(() => new WeChatStrategy({ ...bothApps(), state: false }, verify)).toThrow(/state/);
  });
});

describe('wxLoginOptions(): the QR code embedded with wxLogin.js', () => {
  /** The iframe URL wxLogin.js writes: the options concatenated raw, no response_type (wechat-api.md §2.3). */
  function iframeURL(options: Record<string, unknown>): string {
    const selfRedirect = options.self_redirect === true ? 'true' : options.self_redirect === false ? 'false' : 'default';
    return (
      `${emulator.endpoints.authorizationURL}?appid=${String(options.appid)}&scope=${String(options.scope)}` +
      `&redirect_uri=${String(options.redirect_uri)}&state=${String(options.state)}&login_type=jssdk&self_redirect=${selfRedirect}` +
      `&styletype=&sizetype=&bgcolor=&rst=${options.stylelite === 1 ? '&stylelite=1' : ''}`
    );
  }

  it("gives new WxLogin()'s options as wxLogin.js reads them: redirect_uri pre-encoded, stylelite the number 1", async () => {
    const answer = await request.agent(buildApp()).get('/login/embedded.json').set('User-Agent', UA.chrome).expect(200);
    expect(answer.body).toEqual({
      self_redirect: false,
      id: 'wechat-qr',
      appid: WEB.appid,
      scope: 'snsapi_login',
      redirect_uri: encodeURIComponent(CALLBACK),
      state: expect.stringMatching(/^w[A-Za-z0-9]+$/) as unknown,
      stylelite: 1,
    });
  });

  it('stores its state in the session, so the usual callback route finishes the login', async () => {
    const agent = request.agent(buildApp());
    const options = (await agent.get('/login/embedded.json').expect(200)).body as Record<string, unknown>;
    const answer = await agent.get(confirmAs(iframeURL(options))).expect(200);
    expect((answer.body as { user: WeChatProfile }).user).toMatchObject({
      id: emulator.unionidFor('alice'),
      openid: emulator.openidFor(WEB.appid, 'alice'),
      appid: WEB.appid,
    });
    expect(apiCalls()).toEqual([
      ['access_token', WEB.appid, undefined],
      ['userinfo', undefined, undefined],
    ]);
  });

  it('gives an alphanumeric state with the website app alone, and it completes a login too', async () => {
    const agent = request.agent(buildApp({ ...emulator.strategyOptions(WEB.appid), callbackURL: CALLBACK }));
    const options = (await agent.get('/login/embedded.json').expect(200)).body as Record<string, unknown>;
    expect(options.state).toMatch(/^[A-Za-z0-9]{1,128}$/);
    await agent.get(confirmAs(iframeURL(options), 'bob')).expect(200);
    expect((await agent.get('/me')).body).toMatchObject({ user: { openid: emulator.openidFor(WEB.appid, 'bob') } });
  });

  it('has nothing to embed for an Official Account alone', async () => {
    const oaOnly = buildApp({ ...emulator.strategyOptions(OA.appid), scope: 'snsapi_userinfo', callbackURL: CALLBACK });
    expect((await request(oaOnly).get('/login/embedded.json').expect(500)).body).toEqual({ error: 'WECHAT_INVALID_OPTIONS' });
  });
});
