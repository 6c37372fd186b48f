/**
 * `WeChatEmulator`: a local, faithful stand-in for WeChat's login servers — `open.weixin.qq.com`
 * (the QR / authorize pages), `res.wx.qq.com` (wxLogin.js, for the embedded QR code) and
 * `api.weixin.qq.com` (the `sns/*` JSON API, Mini Program's `jscode2session` included, and the
 * app token and phone number POSTs), served path-based from one node:http server on 127.0.0.1.
 * This file is the server's life (start, close), the programmable API tests call, and the
 * routing of each request to the module that answers it: authorize.ts (pages), api.ts (sns/*),
 * app-api.ts (stable_token, getuserphonenumber), wxlogin-script.ts; store.ts and app-tokens.ts
 * keep the data.
 *
 * Every behaviour cites the fact it copies in docs/wechat-protocol.md (by anchor).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { SnsApi } from './api.js';
import { AppApi } from './app-api.js';
import { AppTokens } from './app-tokens.js';
import { AuthorizePages } from './authorize.js';
import { CallLog, redactJson, redactParams } from './call-log.js';
import { DEMO_MINIPROGRAM_APP, DEMO_MOBILE_APP, DEMO_OFFICIAL_ACCOUNT_APP, DEMO_USERS, DEMO_WEBSITE_APP } from './demo-data.js';
import { Faults } from './faults.js';
import { grantFor } from './grant.js';
import { gatewayReply, jsonObjectOf, plainReply, readBody, writeReply, type Reply } from './http.js';
import { newSessionKey, openidOf, unionidOf } from './ids.js';
import { resolveOptions, type ResolvedOptions } from './options.js';
import { appOf, userOf } from './registration.js';
import { endpointsAt, isPostEndpoint, routeOf, type Route } from './routes.js';
import { CODE_SCOPES } from './scopes.js';
import { EmulatorStore } from './store.js';
import type {
  AuthorizeOutcome,
  EmulatorApiEndpoint,
  EmulatorApp,
  EmulatorAppRegistration,
  EmulatorAppStrategyOptions,
  EmulatorCall,
  EmulatorEncryptedData,
  EmulatorEndpoints,
  EmulatorFault,
  EmulatorMiniProgramStrategyOptions,
  EmulatorStrategyOptions,
  EmulatorUser,
  EmulatorUserInfoData,
  EmulatorUserRegistration,
  FaultTarget,
  LatencyRange,
  WeChatAppKind,
  WeChatEmulatorOptions,
  WeChatScope,
} from './types.js';
import { encryptUserData, userInfoData } from './user-data.js';
import { avatarReply } from './avatar.js';
import { wxLoginScriptReply } from './wxlogin-script.js';

/**
 * A local WeChat login server for tests and demos: the QR login page (also embedded by its
 * wxLogin.js), the Official Account authorize page and the `sns/*` API — the Mini Program's
 * `jscode2session` and the native app's code exchange included — with WeChat's quirks (HTTP 200
 * errors, `text/plain` JSON, `rid` suffixes, single-use codes, HTML error pages).
 *
 * @example
 * ```ts
 * import { DEMO_WEBSITE_APP, WeChatEmulator } from 'passport-wechat-oauth2/testing';
 *
 * const emulator = await WeChatEmulator.start(); // demo apps and users included
 * const { clientID, clientSecret } = emulator.strategyOptions(DEMO_WEBSITE_APP.appid);
 * const code = emulator.issueCode({ appid: clientID, user: 'alice' });
 * const query = new URLSearchParams({ appid: clientID, secret: clientSecret, code, grant_type: 'authorization_code' });
 * const token = JSON.parse(await (await fetch(`${emulator.endpoints.tokenURL}?${query}`)).text());
 * // token.openid === emulator.openidFor(clientID, 'alice')
 * await emulator.close();
 * ```
 */
export class WeChatEmulator {
  private readonly options: ResolvedOptions;
  private readonly server: Server;
  private readonly store: EmulatorStore;
  private readonly api: SnsApi;
  private readonly appTokens: AppTokens;
  private readonly appApi: AppApi;
  private readonly pages: AuthorizePages;
  private readonly faults = new Faults();
  private readonly log = new CallLog();
  private readonly timers = new Set<NodeJS.Timeout>();
  private baseUrl = '';
  private closing: Promise<void> | null = null;

  private constructor(options: WeChatEmulatorOptions) {
    this.options = resolveOptions(options);
    this.store = new EmulatorStore(this.options);
    // A browser cannot load from the wildcard address: avatars are answered on loopback then.
    this.api = new SnsApi(this.store, this.options, () => this.baseUrl.replace('//0.0.0.0:', '//127.0.0.1:').replace('//[::]:', '//[::1]:'));
    this.appTokens = new AppTokens(this.options);
    this.appApi = new AppApi(this.store, this.appTokens, this.options);
    this.pages = new AuthorizePages(this.store, this.options);
    this.server = createServer((req, res) => this.onRequest(req, res));
    if (options.seed ?? true) this.seedDemoData();
  }

  /**
   * Starts an emulator on 127.0.0.1 (a free port unless `port` is given).
   *
   * @example
   * ```ts
   * const emulator = await WeChatEmulator.start({ declineBehaviour: 'stay', clock: () => now });
   * ```
   */
  static async start(options: WeChatEmulatorOptions = {}): Promise<WeChatEmulator> {
    const emulator = new WeChatEmulator(options);
    await emulator.listen(options.port ?? 0, options.host ?? '127.0.0.1');
    return emulator;
  }

  /** The base URL, e.g. `http://127.0.0.1:54321`. */
  get url(): string {
    return this.baseUrl;
  }

  /** The emulator's URLs for each WeChat endpoint. */
  get endpoints(): EmulatorEndpoints {
    return endpointsAt(this.baseUrl);
  }

  /** Every request so far, oldest first (a copy), with secrets, codes and tokens redacted, and no answer bodies. */
  get calls(): readonly EmulatorCall[] {
    return this.log.entries();
  }

  /**
   * Registers (or replaces) an app.
   *
   * @example
   * ```ts
   * emulator.registerApp({ appid: 'wx0123456789abcdef', secret: 's3cret', kind: 'website', callbackDomains: ['example.com'] });
   * emulator.registerApp({ appid: 'wx0123456789abcdee', secret: 's3cret', kind: 'miniprogram', unionGroup: null });
   * ```
   */
  registerApp(registration: EmulatorAppRegistration): EmulatorApp {
    const app = appOf(registration);
    this.store.putApp(app);
    return app;
  }

  /**
   * Registers (or replaces) a test user, who then appears on the login pages.
   *
   * @example
   * ```ts
   * emulator.registerUser({ id: 'carol', nickname: '卡罗尔', unionid: false, snapshot: true });
   * emulator.registerUser({ id: 'mallory', highRisk: true }); // jscode2session answers 40226
   * emulator.registerUser({ id: 'dave', phoneNumber: '61234567', phoneCountryCode: '852' }); // phoneNumber '+85261234567'
   * ```
   */
  registerUser(registration: EmulatorUserRegistration): EmulatorUser {
    const user = userOf(registration);
    this.store.putUser(user);
    return user;
  }

  /**
   * WeChatStrategy options that point at this emulator for one registered website app or
   * Official Account. Throws a TypeError for a Mini Program or a Mobile Application: see
   * {@link WeChatEmulator.miniProgramStrategyOptions} and {@link WeChatEmulator.appStrategyOptions}.
   *
   * @example
   * ```ts
   * passport.use(new WeChatStrategy({ ...emulator.strategyOptions(DEMO_WEBSITE_APP.appid), callbackURL }, verify));
   * ```
   */
  strategyOptions(appid: string): EmulatorStrategyOptions {
    const app = this.requireApp(appid);
    if (app.kind === 'miniprogram') {
      throw new TypeError(`strategyOptions: ${appid} is a Mini Program; use miniProgramStrategyOptions(appid) with WeChatMiniProgramStrategy`);
    }
    if (app.kind === 'mobile-app') {
      throw new TypeError(`strategyOptions: ${appid} is a Mobile Application; use appStrategyOptions(appid) with WeChatAppStrategy`);
    }
    const endpoints = this.endpoints;
    return {
      clientID: app.appid,
      clientSecret: app.secret,
      authorizationURL: app.kind === 'website' ? endpoints.authorizationURL : endpoints.officialAccountAuthorizationURL,
      tokenURL: endpoints.tokenURL,
      refreshTokenURL: endpoints.refreshTokenURL,
      userProfileURL: endpoints.userProfileURL,
      checkTokenURL: endpoints.checkTokenURL,
    };
  }

  /**
   * WeChatMiniProgramStrategy options that point at this emulator for one registered Mini Program:
   * its jscode2session, and the app token and getuserphonenumber endpoints that the strategy's
   * `phoneNumber` option uses.
   *
   * @example
   * ```ts
   * passport.use(new WeChatMiniProgramStrategy(emulator.miniProgramStrategyOptions(DEMO_MINIPROGRAM_APP.appid), verify));
   * ```
   */
  miniProgramStrategyOptions(appid: string): EmulatorMiniProgramStrategyOptions {
    const app = this.requireApp(appid, 'miniprogram', 'miniProgramStrategyOptions');
    const { sessionURL, stableTokenURL, phoneNumberURL } = this.endpoints;
    return { clientID: app.appid, clientSecret: app.secret, sessionURL, stableTokenURL, phoneNumberURL };
  }

  /**
   * WeChatAppStrategy options that point at this emulator for one registered Mobile Application.
   *
   * @example
   * ```ts
   * passport.use(new WeChatAppStrategy(emulator.appStrategyOptions(DEMO_MOBILE_APP.appid), verify));
   * ```
   */
  appStrategyOptions(appid: string): EmulatorAppStrategyOptions {
    const app = this.requireApp(appid, 'mobile-app', 'appStrategyOptions');
    const { tokenURL, refreshTokenURL, userProfileURL, checkTokenURL } = this.endpoints;
    return { clientID: app.appid, clientSecret: app.secret, tokenURL, refreshTokenURL, userProfileURL, checkTokenURL };
  }

  /**
   * A code as if `user` had confirmed on the phone, for tests that skip the page — or, for a Mini
   * Program, as if it had called `wx.login()` (which also starts a new session key, see
   * {@link WeChatEmulator.sessionKeyFor}); for a Mobile Application, as if the Open SDK's
   * SendAuth had answered. `scope` defaults to `snsapi_login` (website) or `snsapi_userinfo`
   * (Official Account, Mobile Application, which has no other); a Mini Program code has none.
   *
   * @example
   * ```ts
   * const code = emulator.issueCode({ appid: DEMO_WEBSITE_APP.appid, user: 'alice' });
   * const jsCode = emulator.issueCode({ appid: DEMO_MINIPROGRAM_APP.appid, user: 'alice' }); // wx.login()
   * ```
   */
  issueCode(request: { readonly appid: string; readonly user: string; readonly scope?: WeChatScope }): string {
    const app = this.requireApp(request.appid);
    const user = this.requireUser(request.user);
    if (app.kind === 'miniprogram') {
      if (request.scope !== undefined) throw new TypeError('issueCode: a Mini Program code (wx.login()) has no scope');
      return this.store.createCode(grantFor(app, user, []), newSessionKey());
    }
    const allowed = CODE_SCOPES[app.kind];
    const scope = request.scope ?? allowed[0] ?? 'snsapi_login';
    if (!allowed.includes(scope)) throw new TypeError(`issueCode: ${app.kind} apps cannot use ${scope}`);
    return this.store.createCode(grantFor(app, user, [scope]));
  }

  /**
   * A phone code, as `<button open-type="getPhoneNumber">` gives a Mini Program (`e.detail.code`)
   * when `user` agrees to share their number: single-use, valid 5 minutes (`codeTtlSeconds.phone`),
   * for this Mini Program only. getuserphonenumber exchanges it, with the app's access token from
   * stable_token, for the user's number. Throws a TypeError for a user without a phone number.
   *
   * @example
   * ```ts
   * const code = emulator.issueCode({ appid: DEMO_MINIPROGRAM_APP.appid, user: 'alice' }); // wx.login()
   * const phoneCode = emulator.issuePhoneCode({ appid: DEMO_MINIPROGRAM_APP.appid, user: 'alice' });
   * await fetch('/auth/wechat/miniprogram', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ code, phoneCode }) });
   * ```
   */
  issuePhoneCode(request: { readonly appid: string; readonly user: string }): string {
    const app = this.requireApp(request.appid, 'miniprogram', 'issuePhoneCode');
    const user = this.requireUser(request.user);
    if (user.phoneNumber === null) throw new TypeError(`issuePhoneCode: ${user.id} has no phone number (registerUser({ phoneNumber }))`);
    return this.store.createPhoneCode(app.appid, user);
  }

  /**
   * Makes every app access token of `appid` expire now, as if its time had run out:
   * getuserphonenumber answers 42001 with it, and the next stable_token call hands out a new one.
   * For a token that expires in the middle of a login. Throws a TypeError when the app has none.
   *
   * @example
   * ```ts
   * emulator.expireAppToken(DEMO_MINIPROGRAM_APP.appid); // the strategy's cached token now gets 42001
   * ```
   */
  expireAppToken(appid: string): void {
    this.requireApp(appid);
    if (!this.appTokens.expire(appid, this.options.clock())) throw new TypeError(`expireAppToken: ${appid} has no app access token yet`);
  }

  /**
   * Revokes every app access token of `appid`, as another server's `force_refresh: true` would:
   * getuserphonenumber answers 40001 with it, and the next stable_token call hands out a new one.
   * Not counted against the forced-refresh quota. Throws a TypeError when the app has none.
   */
  invalidateAppToken(appid: string): void {
    this.requireApp(appid);
    if (!this.appTokens.invalidate(appid)) throw new TypeError(`invalidateAppToken: ${appid} has no app access token yet`);
  }

  /**
   * The session key of `user`'s latest `wx.login()` (code) in a Mini Program — what jscode2session
   * answers for that code — or undefined before the first one.
   */
  sessionKeyFor(appid: string, user: string): string | undefined {
    const app = this.requireApp(appid, 'miniprogram', 'sessionKeyFor');
    return this.store.sessionKey(app.appid, this.openidFor(appid, user));
  }

  /**
   * Encrypts `payload` as WeChat does for a Mini Program's `encryptedData` (e.g. the phone-number
   * button): a `watermark` `{ appid, timestamp }` added, AES-128-CBC with the session key of
   * `user`'s latest `wx.login()` and a random iv, base64. Throws a TypeError before any `issueCode`.
   *
   * @example
   * ```ts
   * const code = emulator.issueCode({ appid: DEMO_MINIPROGRAM_APP.appid, user: 'alice' });
   * const { encryptedData, iv } = emulator.encryptUserData(DEMO_MINIPROGRAM_APP.appid, 'alice', {
   *   phoneNumber: '13580006666', purePhoneNumber: '13580006666', countryCode: '86',
   * });
   * ```
   */
  encryptUserData(appid: string, user: string, payload: Readonly<Record<string, unknown>>): EmulatorEncryptedData {
    const key = this.requireSessionKey(appid, user, 'encryptUserData');
    return encryptUserData(key, appid, this.options.clock(), payload);
  }

  /**
   * What `wx.getUserInfo()` gives a Mini Program since 2022-11-08 (docs/wechat-protocol.md#user-info-placeholder-nickname-and-avatar): "微信用户", the grey
   * avatar, no gender or region; `rawData` signed with `sha1(rawData + session_key)`, and the
   * same profile with `openId` (and `unionId`) encrypted like {@link WeChatEmulator.encryptUserData}.
   * Throws a TypeError before any `issueCode` for this user.
   */
  userInfoData(appid: string, user: string): EmulatorUserInfoData {
    const key = this.requireSessionKey(appid, user, 'userInfoData');
    const grant = grantFor(this.requireApp(appid), this.requireUser(user), []);
    return userInfoData(key, appid, grant, this.options.clock());
  }

  /** The openid `user` has in `appid`: 28 characters, different per app (docs/wechat-protocol.md#cross-cutting-codes-tokens-and-ids). */
  openidFor(appid: string, user: string): string {
    return openidOf(this.requireApp(appid).appid, this.requireUser(user).id);
  }

  /**
   * The unionid `user` has across the apps of one Open Platform account (`unionGroup`),
   * or undefined when the user has none.
   */
  unionidFor(user: string, unionGroup = 'default'): string | undefined {
    return unionidOf(this.requireUser(user), unionGroup);
  }

  /**
   * Acts out the browser and phone for an authorize URL without HTTP: validates it like the
   * page does, then confirms as `user` (default: the first registered user) or declines.
   * Not recorded in {@link WeChatEmulator.calls}.
   *
   * @example
   * ```ts
   * const outcome = emulator.authorize(redirectFromStrategy, { user: 'bob' });
   * if (outcome.type === 'redirect') await agent.get(new URL(outcome.location).pathname + new URL(outcome.location).search);
   * ```
   */
  authorize(authorizeUrl: string, choice: { readonly user?: string; readonly decline?: boolean } = {}): AuthorizeOutcome {
    const url = new URL(authorizeUrl);
    const route = routeOf(url.pathname);
    if (route.kind !== 'page') throw new TypeError(`authorize: not an authorize URL: ${url.pathname}`);
    const opened = this.pages.open(route.endpoint, url.searchParams);
    if (opened.type !== 'login-page') return opened;
    if (choice.decline === true) return this.pages.decline(opened.request);
    const user = choice.user === undefined ? this.store.firstUser() : this.requireUser(choice.user);
    if (user === undefined) throw new TypeError('authorize: no test user is registered');
    return this.pages.confirm(opened.request, user);
  }

  /**
   * Queues a one-shot fault for the next call to `target` (faults are taken in the order queued).
   *
   * @example
   * ```ts
   * emulator.failNext('access_token', { errcode: -1 });
   * emulator.failNext('userinfo', { status: 502, html: true });
   * emulator.failNext('any', { hang: true });
   * emulator.failNext('refresh_token', { body: '{"access_token":' });
   * emulator.failNext('jscode2session', { errcode: 45011 });
   * emulator.failNext('stable_token', { errcode: -1 });
   * emulator.failNext('getuserphonenumber', { errcode: 45011 });
   * ```
   */
  failNext(target: FaultTarget, fault: EmulatorFault): void {
    this.faults.add(target, fault);
  }

  /** Adds a random delay to every API call; `null` removes it. */
  setLatency(range: LatencyRange | null): void {
    this.faults.setLatency(range);
  }

  /** Forgets codes, phone codes, tokens (app tokens and their quotas too), session keys, queued faults, latency and the call log; keeps apps and users. */
  reset(): void {
    this.store.clearIssued();
    this.appTokens.clear();
    this.faults.clear();
    this.log.clear();
  }

  /** Stops the server, cutting hung requests and idle keep-alive sockets. Safe to call twice. */
  close(): Promise<void> {
    this.closing ??= new Promise<void>((resolve, reject) => {
      for (const timer of this.timers) clearTimeout(timer);
      this.timers.clear();
      this.server.close((error) => (error === undefined ? resolve() : reject(error)));
      this.server.closeAllConnections();
    });
    return this.closing;
  }

  // -- lifecycle -------------------------------------------------------------

  private listen(port: number, host: string): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
        this.server.off('error', reject);
        const address = this.server.address();
        if (address === null || typeof address === 'string') return reject(new Error('WeChatEmulator: no TCP address'));
        const hostPart = address.address.includes(':') ? `[${address.address}]` : address.address;
        this.baseUrl = `http://${hostPart}:${address.port}`;
        resolve();
      });
    });
  }

  private seedDemoData(): void {
    this.registerApp(DEMO_WEBSITE_APP);
    this.registerApp(DEMO_OFFICIAL_ACCOUNT_APP);
    this.registerApp(DEMO_MINIPROGRAM_APP);
    this.registerApp(DEMO_MOBILE_APP);
    for (const user of DEMO_USERS) this.registerUser(user);
  }

  private sleep(ms: number): Promise<void> {
    if (ms <= 0) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        resolve();
      }, ms);
      this.timers.add(timer);
    });
  }

  // -- lookups ---------------------------------------------------------------

  private requireApp(appid: string, kind?: WeChatAppKind, method = 'WeChatEmulator'): EmulatorApp {
    const app = this.store.app(appid);
    if (app === undefined) throw new TypeError(`WeChatEmulator: no app ${appid} is registered`);
    if (kind !== undefined && app.kind !== kind) throw new TypeError(`${method}: ${appid} is a ${app.kind} app, not a ${kind} app`);
    return app;
  }

  private requireSessionKey(appid: string, user: string, method: string): string {
    const key = this.sessionKeyFor(appid, user);
    if (key === undefined) throw new TypeError(`${method}: ${user} has no session in ${appid} yet: issueCode() first (wx.login())`);
    return key;
  }

  private requireUser(id: string): EmulatorUser {
    const user = this.store.user(id);
    if (user === undefined) throw new TypeError(`WeChatEmulator: no user ${id} is registered`);
    return user;
  }

  // -- request plumbing --------------------------------------------------------

  private onRequest(req: IncomingMessage, res: ServerResponse): void {
    this.dispatch(req, res).catch((error: unknown) => {
      if (!res.headersSent && !res.destroyed) writeReply(res, plainReply(500, `WeChatEmulator: ${String(error)}`));
    });
  }

  private async dispatch(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://wechat-emulator.invalid');
    const method = req.method ?? 'GET';
    const route = routeOf(url.pathname);
    const base = this.log.arrival(route, method, url, this.options.clock());
    if (route.kind === 'api') return this.handleApi(route.endpoint, method, url.searchParams, req, res, base);
    if (route.kind === 'page' && method === 'GET') return this.respond(res, base, this.pages.pageReply(route.endpoint, url.searchParams));
    if (route.kind === 'form' && method === 'POST') return this.handleForm(route, req, res, base);
    if (route.kind === 'script' && method === 'GET') return this.respond(res, base, wxLoginScriptReply(this.endpoints.authorizationURL));
    if (route.kind === 'avatar' && method === 'GET') return this.respond(res, base, avatarReply(url.pathname));
    const reply = route.kind === 'not-found' ? gatewayReply(404) : plainReply(405, 'Method Not Allowed');
    return this.respond(res, base, reply);
  }

  /**
   * The JSON API: a fault taken on arrival, the latency slept, then the answer — or none, for a
   * hang. The sns/* GETs read the query; stable_token and getuserphonenumber also a JSON body.
   */
  private async handleApi(
    endpoint: EmulatorApiEndpoint,
    method: string,
    params: URLSearchParams,
    req: IncomingMessage,
    res: ServerResponse,
    base: EmulatorCall,
  ): Promise<void> {
    if (!isPostEndpoint(endpoint)) {
      // NOTE: every sns call is a GET with query parameters; the docs give no POST form (docs/wechat-protocol.md#cross-cutting-get-calls-from-the-server).
      if (method !== 'GET') return this.respond(res, base, plainReply(405, 'Method Not Allowed'));
      const fault = this.faults.take(endpoint); // taken on arrival, so faults follow the order calls arrive in
      await this.sleep(this.faults.delayMs(fault));
      if (fault !== undefined && 'hang' in fault) return this.log.record(base, null, 'hang');
      return this.respond(res, base, this.api.reply(endpoint, params, fault));
    }
    const fault = this.faults.take(endpoint); // before the body is read, for the same order
    const text = await readBody(req, 64 * 1024);
    if (text === null) return this.respond(res, base, plainReply(413, 'Payload Too Large'));
    const body = jsonObjectOf(text);
    const logged: EmulatorCall = body === null ? base : { ...base, body: redactJson(body) };
    await this.sleep(this.faults.delayMs(fault));
    if (fault !== undefined && 'hang' in fault) return this.log.record(logged, null, 'hang');
    this.respond(res, logged, this.appApi.reply(endpoint, { method, params, body }, fault));
  }

  /** The Confirm / Decline post of an authorize page, logged with its (redacted) form. */
  private async handleForm(
    route: Extract<Route, { kind: 'form' }>,
    req: IncomingMessage,
    res: ServerResponse,
    base: EmulatorCall,
  ): Promise<void> {
    const body = await readBody(req, 64 * 1024);
    if (body === null) return this.respond(res, base, plainReply(413, 'Payload Too Large'));
    const form = new URLSearchParams(body);
    const withForm: EmulatorCall = { ...base, form: redactParams(form) };
    this.respond(res, withForm, this.pages.formReply(route.endpoint, route.decision, form));
  }

  private respond(res: ServerResponse, base: EmulatorCall, reply: Reply): void {
    this.log.record(base, reply);
    writeReply(res, reply);
  }
}
