/**
 * Sign-in with a code the client posts: a Mini Program's `wx.login()` code at
 * `POST /auth/wechat/miniprogram`, a native app's Open SDK code at `POST /auth/wechat/app`. Both
 * answer JSON — `{ user }`, or the failure's status with `{ code, message }` — and never the Mini
 * Program's session key. The Mini Program may post a phone code with its code (`{ code, phoneCode }`,
 * from `<button open-type="getPhoneNumber">`): the strategy then adds the user's phone number. The
 * pages /miniprogram and /app show them: with the emulator, a phone plays the client; with real
 * WeChat, they show the client code to copy.
 */
import express, { type ErrorRequestHandler, type Request, type RequestHandler } from 'express';
import type { Passport } from 'passport';
import {
  WeChatAppStrategy,
  WeChatMiniProgramStrategy,
  WeChatUserDataError,
  type WeChatAppStrategyOptions,
  type WeChatDecryptedUserInfo,
  type WeChatMiniProgramStrategyOptions,
  type WeChatMiniProgramStrategyOptionsWithRequest,
  type WeChatMiniProgramVerifyFunctionWithRequest,
  type WeChatProfile,
} from 'passport-wechat-oauth2';
import { escapeHtml, jsonForScript, page } from './html.ts';

type Authenticator = InstanceType<typeof Passport>;

export interface PostedCodeOptions {
  /** The Mini Program's `clientID`, `clientSecret` (and `sessionURL` for the emulator): adds /miniprogram and its route. */
  miniProgram?: WeChatMiniProgramStrategyOptions | undefined;
  /** The Mobile Application's `clientID`, `clientSecret` (and endpoints for the emulator): adds /app and its route. */
  mobileApp?: WeChatAppStrategyOptions | undefined;
  /** Demo-only stand-ins for the phone (emulator mode): the pages then simulate the client. */
  simulator?: DemoSimulator | undefined;
}

/** What stands in for the phone when a real Mini Program or app cannot run: the emulator's codes. */
export interface DemoSimulator {
  /**
   * Mounted at `/demo/emulator`: `POST wx-login` and `POST send-auth` take `{ user }` and answer
   * `{ code }`; `POST phone-code` takes `{ user }` and answers `{ phoneCode }` (the phone-number
   * button's code); `POST user-info` takes `{ user }` and answers `wx.getUserInfo()`'s data.
   */
  routes: express.Router;
  /** Who the phone can be signed in to WeChat as. */
  users: ReadonlyArray<{ id: string; nickname: string }>;
}

/** What a Mini Program or an app gets back: ids and name — never the session key. */
export interface PostedCodeUser {
  id: string;
  openid: string;
  unionid: string | null;
  appid: string | null;
  displayName: string;
  /** The phone number WeChat gave for a posted phone code (`profile.phoneNumbers[0].value`), when there was one. */
  phoneNumber?: string;
  /** `wx.getUserInfo()`'s encryptedData, decrypted with the login's session key, when the client posted it. */
  userInfo?: WeChatDecryptedUserInfo;
  /** Whether `signature` is `sha1(rawData + session_key)`, when the client posted them. */
  signatureValid?: boolean;
}

const MINIPROGRAM_ROUTE = '/auth/wechat/miniprogram';
/** The JSON field the Mini Program posts its phone code in: the strategy's `phoneCodeField` default. */
const PHONE_CODE_FIELD = 'phoneCode';
const APP_ROUTE = '/auth/wechat/app';
const HOME = '<a href="/">Home</a>';

/** Adds the strategies, routes and pages for the apps configured; none when neither is. */
export function mountPostedCodeLogins(app: express.Express, passport: Authenticator, options: PostedCodeOptions): void {
  // Only JSON: a form or text/plain body is a simple cross-site request (docs/miniprogram.md, login CSRF).
  const json = express.json({ limit: '16kb' }); // a code and encryptedData are well under 1 KB
  const jsonPaths: string[] = [];
  if (options.miniProgram) {
    // phoneNumber 'optional': a posted phoneCode adds the user's number (stable_token, then
    // getuserphonenumber); without one, the sign-in is as before. 'required' would refuse it.
    const strategyOptions: WeChatMiniProgramStrategyOptionsWithRequest = { ...options.miniProgram, passReqToCallback: true, phoneNumber: 'optional' };
    passport.use(new WeChatMiniProgramStrategy(strategyOptions, verifyMiniProgram));
    app.get('/miniprogram', (req, res) => res.send(miniProgramPage(req, options.simulator)));
    app.post(MINIPROGRAM_ROUTE, json, signIn(passport, 'wechat-miniprogram'));
    jsonPaths.push(MINIPROGRAM_ROUTE);
  }
  if (options.mobileApp) {
    // A real app finds or creates its user by profile.id here: the unionid, as for the other logins.
    passport.use(new WeChatAppStrategy(options.mobileApp, (_accessToken, _refreshToken, profile, done) => done(null, postedCodeUser(profile))));
    app.get('/app', (req, res) => res.send(appPage(req, options.simulator)));
    app.post(APP_ROUTE, json, signIn(passport, 'wechat-app'));
    jsonPaths.push(APP_ROUTE);
  }
  if (options.simulator && jsonPaths.length > 0) {
    app.use('/demo/emulator', json, options.simulator.routes);
    jsonPaths.push('/demo/emulator');
  }
  if (jsonPaths.length > 0) app.use(jsonPaths, answerErrorAsJson);
}

/** The links for the home page, to the pages that exist. */
export function postedCodeLinks(options: PostedCodeOptions): string {
  const links = [
    options.miniProgram ? '<a href="/miniprogram">Mini Program sign-in</a>' : '',
    options.mobileApp ? '<a href="/app">Native-app sign-in</a>' : '',
  ].filter((link) => link !== '');
  return links.length === 0 ? '' : `<p class="note">Without a browser redirect: ${links.join(' · ')}</p>`;
}

/**
 * The Mini Program's verify. A real app finds or creates its user by profile.id here (the unionid,
 * the same as through the website login), and keeps the session key server-side only if later
 * requests must decrypt. Data posted with the code is decrypted with this login's key; its
 * openId/unionId are shown, never trusted (the client can alter them through the iv).
 */
const verifyMiniProgram: WeChatMiniProgramVerifyFunctionWithRequest = (req, sessionKey, profile, done) => {
  const user = postedCodeUser(profile);
  const body = (req.body ?? {}) as Record<string, unknown>;
  if (typeof body.encryptedData !== 'string') return done(null, user);
  try {
    user.userInfo = sessionKey.decrypt<WeChatDecryptedUserInfo>(body.encryptedData, String(body.iv));
    user.signatureValid = sessionKey.verifySignature(String(body.rawData), String(body.signature));
    done(null, user);
  } catch (error) {
    // One answer for every decryption failure: telling them apart would be a padding oracle.
    if (error instanceof WeChatUserDataError) return done(null, false, { message: 'The posted user data could not be read.', code: 'USERDATA_REFUSED' });
    done(error);
  }
};

function postedCodeUser(profile: WeChatProfile): PostedCodeUser {
  const user: PostedCodeUser = { id: profile.id, openid: profile.openid, unionid: profile.unionid ?? null, appid: profile.appid ?? null, displayName: profile.displayName };
  // Passport's profile field for phone numbers, set by WeChatMiniProgramStrategy's phoneNumber option.
  const phoneNumber = profile.phoneNumbers?.[0]?.value;
  if (phoneNumber) user.phoneNumber = phoneNumber;
  return user;
}

/** Passport with a custom callback, so the client gets JSON with the reason instead of a bare 401. */
function signIn(passport: Authenticator, strategy: string): RequestHandler {
  return (req, res, next) => {
    const done = (error: unknown, user: PostedCodeUser | false, info?: { code?: string; message?: string }, status?: number) => {
      if (error) return next(error);
      // 400 no code, 401 invalid or used code (get a new one), 403 a user WeChat blocks.
      if (!user) return res.status(status ?? 401).json({ code: info?.code ?? 'UNAUTHORIZED', message: info?.message ?? 'Sign-in failed.' });
      // A real app answers with its own token here; the demo shows what the strategy gave verify.
      res.json({ user });
    };
    passport.authenticate(strategy, { session: false }, done)(req, res, next);
  };
}

/** A WeChatError's stable code and advice; `retryable`: a new login may work later, never with the same code. */
const answerErrorAsJson: ErrorRequestHandler = (error: { code?: unknown; message?: unknown; retryable?: unknown; status?: unknown }, _req, res, next) => {
  if (res.headersSent) return next(error);
  // express.json()'s errors (bad JSON, too large) carry a 4xx status: the client's to fix.
  const clientStatus = typeof error?.status === 'number' && error.status >= 400 && error.status < 500 ? error.status : undefined;
  if (clientStatus === undefined) console.error(error);
  const retryable = error?.retryable === true;
  res.status(clientStatus ?? (retryable ? 503 : 500)).json({
    code: typeof error?.code === 'string' ? error.code : clientStatus ? 'BAD_REQUEST' : 'INTERNAL_ERROR',
    message: typeof error?.message === 'string' ? error.message : 'Something went wrong.',
    retryable,
  });
};

function miniProgramPage(req: Request, simulator: DemoSimulator | undefined): string {
  const intro = `<p>A Mini Program signs in without a redirect: it calls <code>wx.login()</code> and posts the one-time code
    to <code>POST ${MINIPROGRAM_ROUTE}</code>, where <code>WeChatMiniProgramStrategy</code> exchanges it with
    <code>sns/jscode2session</code>. The answer is JSON; the login's session key stays on the server.</p>`;
  if (!simulator) return page('Mini Program sign-in', intro + miniProgramSnippet(originOf(req)), HOME);
  const phone = phonePanel('Demo Mini Program', simulator, [
    '<button type="button" class="primary" id="login" data-testid="wx-login">wx.login()</button>',
    '<button type="button" id="phone" data-testid="phone-login">Sign in with phone number</button>',
    '<button type="button" id="reuse" data-testid="reuse" disabled>Reuse code</button>',
    '<button type="button" id="decrypt" data-testid="decrypt">Decrypt user data</button>',
  ]);
  const note = `<p class="note">A real Mini Program runs only inside WeChat, so this phone plays one. <b>wx.login()</b> gets a code
    from the emulator and posts it; <b>Sign in with phone number</b> also gets the code of WeChat's phone-number button and posts
    <code>{ code, ${PHONE_CODE_FIELD} }</code>, for the strategy to read the number with the app's access token; <b>Reuse code</b>
    posts the last code again (WeChat: 40163); <b>Decrypt user data</b> logs in again, gets <code>wx.getUserInfo()</code>'s
    encrypted data and posts it with the code, for verify to decrypt.</p>`;
  const options = {
    route: MINIPROGRAM_ROUTE,
    login: '/demo/emulator/wx-login',
    userInfo: '/demo/emulator/user-info',
    phoneCode: '/demo/emulator/phone-code',
    phoneCodeField: PHONE_CODE_FIELD,
    label: 'wx.login()',
  };
  return page('Mini Program sign-in', intro + note + phone + simulatorScript(options), HOME);
}

function appPage(req: Request, simulator: DemoSimulator | undefined): string {
  const intro = `<p>A native iOS or Android app asks WeChat's Open SDK for a code (<code>SendAuth</code>, scope
    <code>snsapi_userinfo</code>) and posts it to <code>POST ${APP_ROUTE}</code>, where <code>WeChatAppStrategy</code>
    exchanges it with the Mobile Application's AppID and AppSecret, then reads the profile.</p>`;
  if (!simulator) return page('Native-app sign-in', intro + appSnippet(originOf(req)), HOME);
  const phone = phonePanel('Demo App', simulator, [
    '<button type="button" class="primary" id="login" data-testid="send-auth">Log in with WeChat (SendAuth)</button>',
    '<button type="button" id="reuse" data-testid="reuse" disabled>Reuse code</button>',
  ]);
  const options = { route: APP_ROUTE, login: '/demo/emulator/send-auth', label: 'SendAuth' };
  return page('Native-app sign-in', intro + phone + simulatorScript(options), HOME);
}

function originOf(req: Request): string {
  return `${req.protocol}://${req.get('host') ?? 'localhost'}`;
}

function phonePanel(title: string, simulator: DemoSimulator, buttons: string[]): string {
  const users = simulator.users.map((user, index) => `<label><input type="radio" name="user" value="${escapeHtml(user.id)}"` +
    ` data-testid="user-${escapeHtml(user.id)}"${index === 0 ? ' checked' : ''}> ${escapeHtml(user.nickname)}</label>`);
  return `<div class="sim"><div class="phone" data-testid="phone"><div class="bar">${escapeHtml(title)}</div><div class="screen">
    <fieldset><legend>In WeChat as</legend>${users.join('')}</fieldset>${buttons.join('')}<ol id="log" data-testid="log"></ol></div></div>
    <div class="result"><h2>Answer</h2><p id="status" data-testid="status">Press a button on the phone.</p>
    <pre id="response" data-testid="response"></pre></div></div>`;
}

/** The phone's buttons: get a code from the emulator, post it to the real route, show the answer. */
function simulatorScript(options: Record<string, string>): string {
  return `<script type="application/json" id="simulator-options">${jsonForScript(options)}</script><script>${SIMULATOR_JS}</script>`;
}

const SIMULATOR_JS = `(() => {
  const options = JSON.parse(document.getElementById('simulator-options').textContent);
  const $ = (id) => document.getElementById(id);
  const user = () => document.querySelector('input[name="user"]:checked').value;
  const log = (text) => { const item = document.createElement('li'); item.textContent = text; $('log').append(item); };
  let lastCode = null;
  async function post(url, body) {
    const response = await fetch(url, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
    const text = await response.text();
    try { return { status: response.status, json: JSON.parse(text) }; } catch { return { status: response.status, json: text }; }
  }
  function show(what, answer) {
    $('status').textContent = what + ' → HTTP ' + answer.status;
    $('response').textContent = JSON.stringify(answer.json, null, 2);
  }
  async function getCode() {
    const answer = await post(options.login, { user: user() });
    if (answer.status !== 200) { show(options.label, answer); return null; }
    lastCode = answer.json.code;
    log(options.label + ' → code ' + lastCode);
    $('reuse').disabled = false;
    return lastCode;
  }
  async function signIn(body) {
    const answer = await post(options.route, body);
    log('POST ' + options.route + ' → ' + answer.status);
    show('POST ' + options.route, answer);
  }
  $('login').addEventListener('click', async () => { const code = await getCode(); if (code) await signIn({ code }); });
  $('reuse').addEventListener('click', () => signIn({ code: lastCode }));
  $('phone')?.addEventListener('click', async () => {
    const code = await getCode();
    if (!code) return;
    // <button open-type="getPhoneNumber">: the user agrees, the Mini Program gets e.detail.code.
    const phone = await post(options.phoneCode, { user: user() });
    if (phone.status !== 200) return show('getPhoneNumber', phone);
    log('getPhoneNumber → phone code ' + phone.json.phoneCode);
    await signIn({ code, [options.phoneCodeField]: phone.json.phoneCode });
  });
  $('decrypt')?.addEventListener('click', async () => {
    const code = await getCode(); // first: the data is encrypted with this login's session key
    if (!code) return;
    const data = await post(options.userInfo, { user: user() });
    if (data.status !== 200) return show('wx.getUserInfo()', data);
    log('wx.getUserInfo() → rawData, signature, encryptedData, iv');
    await signIn({ code, ...data.json });
  });
})();`;

function miniProgramSnippet(origin: string): string {
  return `<h2>In your Mini Program</h2><pre>${escapeHtml(`wx.login({
  success({ code }) {
    // Valid 5 minutes, once: post it at once. ${origin} must be a request合法域名 (https).
    wx.request({
      method: 'POST',
      url: '${origin}${MINIPROGRAM_ROUTE}',
      data: { code },
      success(res) {
        // 200 { user }; 401 WECHAT_INVALID_CODE: wx.login() again; 403 WECHAT_USER_BLOCKED
        console.log(res.statusCode, res.data);
      },
    });
  },
});

// Sign in with the phone number: <button open-type="getPhoneNumber" bindgetphonenumber="onPhone">
Page({
  onPhone(e) {
    if (!e.detail.code) return; // the user declined
    const ${PHONE_CODE_FIELD} = e.detail.code; // valid 5 minutes, once
    wx.login({
      success({ code }) {
        wx.request({ method: 'POST', url: '${origin}${MINIPROGRAM_ROUTE}', data: { code, ${PHONE_CODE_FIELD} } });
      },
    });
  },
});`)}</pre>`;
}

function appSnippet(origin: string): string {
  return `<h2>In your app</h2><pre>${escapeHtml(`// Android: after api.registerApp(APP_ID)
SendAuth.Req req = new SendAuth.Req();
req.scope = "snsapi_userinfo";
req.state = UUID.randomUUID().toString();
api.sendReq(req);
// WXEntryActivity.onResp: POST {"code": ((SendAuth.Resp) resp).code} to ${origin}${APP_ROUTE}

// iOS: SendAuthReq with scope "snsapi_userinfo"; in onResp, POST {"code": resp.code} to ${origin}${APP_ROUTE}`)}</pre>`;
}
