/**
 * The demo app: WeChat login with Passport and express-session — the website QR login on
 * desktops (a redirect, or the QR code embedded with wxLogin.js), and, with an Official Account
 * configured, the login inside WeChat's own browser. With a Mini Program or a Mobile Application
 * configured, also their sign-in with a posted code (posted-code.ts). Copy it as a starting point;
 * `server.ts` runs it against real WeChat or the local emulator (`npm run demo`).
 */
import express, { type ErrorRequestHandler, type Request } from 'express';
import session from 'express-session';
import { Passport } from 'passport';
import { WeChatStrategy, isInsideWeChat, type WeChatProfile, type WeChatStrategyOptions } from 'passport-wechat-oauth2';
import { escapeHtml, jsonForScript, mono, page, row } from './html.ts';
import { mountPostedCodeLogins, postedCodeLinks, type PostedCodeOptions } from './posted-code.ts';

export { escapeHtml, jsonForScript } from './html.ts';
export type { DemoSimulator, PostedCodeUser } from './posted-code.ts';

declare module 'express-session' {
  // Where `failureMessage: true` leaves the reason a login failed.
  interface SessionData { messages?: string[] }
}

/** WeChat's script for the embedded QR code (wechat-api.md §2.1: one path, https supported). */
export const WXLOGIN_SCRIPT_URL = 'https://res.wx.qq.com/connect/zh_CN/htmledition/js/wxLogin.js';

export interface DemoAppOptions extends PostedCodeOptions {
  /**
   * clientID, clientSecret, callbackURL, plus endpoint overrides (e.g. the emulator's). Add
   * `officialAccount: { clientID, clientSecret }` to log users in inside WeChat too.
   */
  strategy: WeChatStrategyOptions;
  /** Where the browser loads wxLogin.js from for `/login/embedded`. Default: WeChat's own. */
  wxLoginScriptURL?: string;
  /** Signs the session cookie. */
  sessionSecret: string;
  /** A shared session store (Redis, a database) for several instances. Default: express-session's MemoryStore. */
  sessionStore?: session.Store;
  /** Served over https behind a TLS proxy: Secure cookies, and trust the proxy's X-Forwarded-Proto. */
  secureCookie?: boolean;
}

/** What the session keeps of a WeChat login: the fields the pages show. */
export interface DemoUser {
  id: string;
  openid: string;
  /** The WeChat app the openid belongs to: the website app or the Official Account. */
  appid: string | null;
  unionid: string | null;
  displayName: string;
  avatar: string | null;
  json: Record<string, unknown>;
}

const COOKIE = 'demo.sid';

export function createApp(options: DemoAppOptions): express.Express {
  // An instance of its own, so two apps in one process (tests) never share strategies.
  const passport = new Passport();
  // state is on by default: a nonce in the session guards the callback against CSRF.
  // With officialAccount, requests from WeChat's browser (User-Agent "MicroMessenger") go to the
  // Official Account login, others to the QR login; the one callback route finishes both.
  const strategy = new WeChatStrategy(options.strategy, (_accessToken, _refreshToken, profile, done) => {
    // A real app finds or creates its user here, keyed by profile.id: the unionid when WeChat
    // sends one, which is the same person through the QR login and the Official Account.
    done(null, toDemoUser(profile));
  });
  passport.use(strategy);
  const wxLoginScriptURL = options.wxLoginScriptURL ?? WXLOGIN_SCRIPT_URL;
  const hasOfficialAccount = options.strategy.officialAccount !== undefined;
  // The whole user lives in the session to keep the demo database-free; a real app stores its user id.
  passport.serializeUser((user, done) => done(null, user));
  passport.deserializeUser((user: DemoUser, done) => done(null, user));

  const app = express();
  app.disable('x-powered-by');
  if (options.secureCookie) app.set('trust proxy', 1);
  app.use(session({
    name: COOKIE,
    secret: options.sessionSecret,
    resave: false,
    saveUninitialized: false,
    // MemoryStore (the default) is fine for a demo; production needs a shared store (Redis, a database).
    ...(options.sessionStore ? { store: options.sessionStore } : {}),
    // sameSite 'lax': WeChat's redirect back is a top-level GET, which still carries the cookie.
    cookie: { httpOnly: true, sameSite: 'lax', secure: options.secureCookie === true },
  }));
  app.use(passport.session());
  const otherLogins = postedCodeLinks(options);

  app.get('/', (req, res) => {
    const user = userOf(req);
    res.send(user
      ? page('WeChat login demo', `<p>Logged in as <strong>${escapeHtml(user.displayName || user.id)}</strong>.</p>
          <p><a class="button" href="/profile">Your WeChat profile</a></p>${otherLogins}`, LOGOUT_FORM)
      : page('WeChat login demo', `<p><a class="button" href="/auth/wechat">Log in with WeChat</a>
          <a class="button secondary" href="/login/embedded">Embedded QR</a></p>${otherLogins}`));
  });
  app.get('/auth/wechat', passport.authenticate('wechat'));
  // The QR code inside this page (WeChat's wxLogin.js) instead of a redirect to WeChat's page.
  app.get('/login/embedded', async (req, res, next) => {
    // Inside WeChat there is nothing to scan: use the Official Account login instead.
    if (hasOfficialAccount && isInsideWeChat(req.headers['user-agent'])) return res.redirect('/auth/wechat');
    try {
      // Stores the state in the session, like a redirect login: the same callback route finishes it.
      const wxLogin = await strategy.wxLoginOptions(req, { id: 'wechat-qr', stylelite: true });
      res.send(page('Log in with WeChat', `<div id="wechat-qr" class="qr"></div>
        <script type="application/json" id="wxlogin-options">${jsonForScript(wxLogin)}</script>
        <script src="${escapeHtml(wxLoginScriptURL)}"></script>
        <script>new WxLogin(JSON.parse(document.getElementById('wxlogin-options').textContent));</script>
        <p class="note">The QR code is WeChat's own page in an iframe, made by wxLogin.js. When you confirm
        on the phone, WeChat sends this whole page (not just the iframe) to the callback.</p>`, '<a href="/">Home</a>'));
    } catch (error) {
      next(error);
    }
  });
  app.get('/auth/wechat/callback',
    passport.authenticate('wechat', { failureRedirect: '/login/failed', failureMessage: true }),
    // Redirect away at once: reloading a URL that holds the code would spend it twice (errcode 40163).
    (_req, res) => res.redirect('/profile'));
  app.get('/profile', (req, res) => {
    const user = userOf(req);
    if (!user) return res.redirect('/');
    const avatar = user.avatar
      ? `<img src="${escapeHtml(user.avatar)}" alt="" width="48" height="48" referrerpolicy="no-referrer">`
      : '—';
    res.send(page('Your WeChat profile', `<table>
      ${row('id', mono(user.id))}${row('openid', mono(user.openid))}${row('appid', user.appid ? mono(user.appid) : '—')}
      ${row('unionid', user.unionid ? mono(user.unionid) : '—')}${row('displayName', escapeHtml(user.displayName || '—'))}
      ${row('avatar', avatar)}</table>
      <h2>Raw <code>_json</code> from WeChat</h2><pre>${escapeHtml(JSON.stringify(user.json, null, 2))}</pre>`,
    `<a href="/">Home</a>${LOGOUT_FORM}`));
  });
  app.get('/login/failed', (req, res) => {
    const message = req.session.messages?.at(-1) ?? 'The login did not complete.';
    delete req.session.messages; // show it once
    res.send(page('Login failed', `<p class="error">${escapeHtml(message)}</p>
      <p><a class="button" href="/auth/wechat">Try again</a></p>`, '<a href="/">Home</a>'));
  });
  app.post('/logout', (req, res, next) => {
    req.logout((error) => {
      if (error) return next(error);
      req.session.destroy((destroyError) => {
        if (destroyError) return next(destroyError);
        res.clearCookie(COOKIE).redirect(303, '/');
      });
    });
  });
  // Mini Program and native app: the client posts a code; JSON answers, no session.
  mountPostedCodeLogins(app, passport, options);
  app.use(showError);
  return app;
}

function toDemoUser(profile: WeChatProfile): DemoUser {
  return {
    id: profile.id,
    openid: profile.openid,
    appid: profile.appid ?? null,
    unionid: profile.unionid ?? null,
    displayName: profile.displayName,
    avatar: profile.photos?.[0].value ?? null,
    json: profile._json,
  };
}

function userOf(req: Request): DemoUser | undefined {
  return req.user as DemoUser | undefined;
}

// WeChatError has a stable `code` (e.g. WECHAT_BAD_CREDENTIALS) and a message that says what to do.
// The page shows those two; the stack goes to the server log only.
const showError: ErrorRequestHandler = (error: { code?: unknown; message?: unknown }, _req, res, next) => {
  console.error(error);
  if (res.headersSent) return next(error);
  const code = typeof error?.code === 'string' ? error.code : 'INTERNAL_ERROR';
  const message = typeof error?.message === 'string' ? error.message : 'Something went wrong.';
  res.status(500).send(page('Something went wrong', `<p class="error"><code>${escapeHtml(code)}</code></p>
    <p>${escapeHtml(message)}</p>`, '<a href="/">Home</a>'));
};

const LOGOUT_FORM = '<form method="post" action="/logout"><button type="submit">Log out</button></form>';
