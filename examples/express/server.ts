/**
 * `npm run demo`: the demo app against the local WeChat emulator on http://localhost:3000, or
 * against real WeChat when WECHAT_APP_ID, WECHAT_APP_SECRET and WECHAT_CALLBACK_URL are all set.
 * With real WeChat, three optional pairs (each both or neither) add an app: WECHAT_OA_APP_ID and
 * WECHAT_OA_APP_SECRET an Official Account for logins inside WeChat, WECHAT_MP_APP_ID and
 * WECHAT_MP_APP_SECRET a Mini Program, WECHAT_MOBILE_APP_ID and WECHAT_MOBILE_APP_SECRET a Mobile
 * Application; the emulator always has its demo apps of all four kinds.
 * Also: PORT (default 3000) and SESSION_SECRET (default: random, so sessions end with the process).
 */
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createServer } from 'node:http';
import express from 'express';
import {
  DEMO_MINIPROGRAM_APP,
  DEMO_MOBILE_APP,
  DEMO_OFFICIAL_ACCOUNT_APP,
  DEMO_USERS,
  DEMO_WEBSITE_APP,
  WeChatEmulator,
  type EmulatorUserRegistration,
} from 'passport-wechat-oauth2/testing';
import { createApp, type DemoAppOptions, type DemoSimulator } from './app.ts';

const REAL_WECHAT_VARS = ['WECHAT_APP_ID', 'WECHAT_APP_SECRET', 'WECHAT_CALLBACK_URL'] as const;
const OFFICIAL_ACCOUNT_VARS = ['WECHAT_OA_APP_ID', 'WECHAT_OA_APP_SECRET'] as const;
const MINI_PROGRAM_VARS = ['WECHAT_MP_APP_ID', 'WECHAT_MP_APP_SECRET'] as const;
const MOBILE_APP_VARS = ['WECHAT_MOBILE_APP_ID', 'WECHAT_MOBILE_APP_SECRET'] as const;

/** A user WeChat rates high-risk, to show the Mini Program's 403 in the demo (emulator mode only): with a phone number too, her sign-in stops at the code. */
export const DEMO_HIGH_RISK_USER: EmulatorUserRegistration = Object.freeze({ id: 'eve', nickname: 'Eve (high-risk)', highRisk: true, phoneNumber: '13900139000' });

/** An AppID and its AppSecret, from a pair of environment variables. */
export interface AppCredentials {
  appId: string;
  appSecret: string;
}

export type DemoMode =
  | {
      mode: 'wechat';
      port: number;
      appId: string;
      appSecret: string;
      callbackURL: string;
      /** From WECHAT_OA_APP_ID and WECHAT_OA_APP_SECRET, when both are set. */
      officialAccount?: AppCredentials;
      /** From WECHAT_MP_APP_ID and WECHAT_MP_APP_SECRET, when both are set. */
      miniProgram?: AppCredentials;
      /** From WECHAT_MOBILE_APP_ID and WECHAT_MOBILE_APP_SECRET, when both are set. */
      mobileApp?: AppCredentials;
    }
  /** `missing`: the real-WeChat variables that were not set, when some of them were. */
  | { mode: 'emulator'; port: number; callbackURL: string; missing: string[] };

export interface RunningDemo {
  mode: DemoMode;
  /** The page to open. */
  url: string;
  close(): Promise<void>;
}

/** Real WeChat only when all three variables are set: half a configuration runs the emulator. Pure. */
export function chooseMode(env: Readonly<Record<string, string | undefined>>): DemoMode {
  const port = portOf(env.PORT);
  const [appId, appSecret, callbackURL] = REAL_WECHAT_VARS.map((name) => env[name]?.trim() ?? '');
  if (!appId || !appSecret || !callbackURL) {
    const missing = REAL_WECHAT_VARS.filter((name) => !env[name]?.trim());
    return {
      mode: 'emulator',
      port,
      // The emulator's demo app accepts localhost with a port; real WeChat never does.
      callbackURL: `http://localhost:${port}/auth/wechat/callback`,
      missing: missing.length === REAL_WECHAT_VARS.length ? [] : missing,
    };
  }
  if (!/^https?:\/\/[^/]/.test(callbackURL)) {
    throw new Error(`WECHAT_CALLBACK_URL must be an absolute URL such as https://www.example.com/auth/wechat/callback, got "${callbackURL}".`);
  }
  const officialAccount = credentialsOf(env, OFFICIAL_ACCOUNT_VARS);
  const miniProgram = credentialsOf(env, MINI_PROGRAM_VARS);
  const mobileApp = credentialsOf(env, MOBILE_APP_VARS);
  return {
    mode: 'wechat',
    port,
    appId,
    appSecret,
    callbackURL,
    ...(officialAccount ? { officialAccount } : {}),
    ...(miniProgram ? { miniProgram } : {}),
    ...(mobileApp ? { mobileApp } : {}),
  };
}

/** An optional app's pair of variables: both set, or neither. Half an app would fail only later, on a login: refuse it at start. */
function credentialsOf(env: Readonly<Record<string, string | undefined>>, [idVar, secretVar]: readonly [string, string]): AppCredentials | undefined {
  const [appId, appSecret] = [idVar, secretVar].map((name) => env[name]?.trim() ?? '');
  if (!appId && !appSecret) return undefined;
  if (!appId || !appSecret) throw new Error(`${appId ? secretVar : idVar} is not set: set both ${idVar} and ${secretVar}, or neither.`);
  return { appId, appSecret };
}

/**
 * Demo-only stand-ins for the phone, for the emulator only: what `wx.login()`, the phone-number
 * button, `wx.getUserInfo()` and the Open SDK's SendAuth would give the client. Registers {@link DEMO_HIGH_RISK_USER}.
 * Never mount anything like this with real WeChat: it hands out codes for any user.
 */
export function emulatorSimulator(emulator: WeChatEmulator): DemoSimulator {
  emulator.registerUser(DEMO_HIGH_RISK_USER);
  const routes = express.Router();
  const answer = (give: (user: string) => object): express.RequestHandler => (req, res) => {
    const user: unknown = (req.body as { user?: unknown } | undefined)?.user;
    try {
      if (typeof user !== 'string') throw new TypeError('Post {"user": "<test user id>"}.');
      res.json(give(user));
    } catch (error) {
      // An unknown user, or user data before any wx.login(): the emulator says which.
      res.status(400).json({ code: 'DEMO_BAD_REQUEST', message: error instanceof Error ? error.message : String(error) });
    }
  };
  // wx.login(): a code, and a new session key for the user inside WeChat.
  routes.post('/wx-login', answer((user) => ({ code: emulator.issueCode({ appid: DEMO_MINIPROGRAM_APP.appid, user }) })));
  // <button open-type="getPhoneNumber">: the phone code (e.detail.code) for the user's number, once, 5 minutes.
  routes.post('/phone-code', answer((user) => ({ phoneCode: emulator.issuePhoneCode({ appid: DEMO_MINIPROGRAM_APP.appid, user }) })));
  // wx.getUserInfo(): rawData, signature, encryptedData and iv, made with the latest wx.login()'s session key.
  routes.post('/user-info', answer((user) => emulator.userInfoData(DEMO_MINIPROGRAM_APP.appid, user)));
  // The Open SDK's SendAuth in a native app: a code for the Mobile Application.
  routes.post('/send-auth', answer((user) => ({ code: emulator.issueCode({ appid: DEMO_MOBILE_APP.appid, user }) })));
  const users = [...DEMO_USERS, DEMO_HIGH_RISK_USER].map(({ id, nickname }) => ({ id, nickname: nickname ?? id }));
  return { routes, users };
}

/** Starts the emulator (in emulator mode) and the app; `close()` stops both. */
export async function startDemo(env: Readonly<Record<string, string | undefined>>): Promise<RunningDemo> {
  const mode = chooseMode(env);
  const sessionSecret = env.SESSION_SECRET || randomBytes(32).toString('hex');
  let emulator: WeChatEmulator | undefined;
  let strategy: DemoAppOptions['strategy'];
  let wxLoginScriptURL: string | undefined; // WeChat's own script unless the emulator serves one
  let postedCode: Pick<DemoAppOptions, 'miniProgram' | 'mobileApp' | 'simulator'> = {};
  if (mode.mode === 'emulator') {
    emulator = await WeChatEmulator.start(); // 127.0.0.1, a free port
    // The emulator's Official Account: its AppID, AppSecret and authorize page (the API endpoints
    // are the strategy's, shared by both apps).
    const { clientID, clientSecret, authorizationURL } = emulator.strategyOptions(DEMO_OFFICIAL_ACCOUNT_APP.appid);
    strategy = {
      ...emulator.strategyOptions(DEMO_WEBSITE_APP.appid),
      callbackURL: mode.callbackURL,
      officialAccount: { clientID, clientSecret, authorizationURL, scope: 'snsapi_userinfo' },
    };
    wxLoginScriptURL = emulator.endpoints.wxLoginScriptURL;
    postedCode = {
      miniProgram: emulator.miniProgramStrategyOptions(DEMO_MINIPROGRAM_APP.appid),
      mobileApp: emulator.appStrategyOptions(DEMO_MOBILE_APP.appid),
      simulator: emulatorSimulator(emulator), // demo-only routes: never with real WeChat
    };
  } else {
    strategy = { clientID: mode.appId, clientSecret: mode.appSecret, callbackURL: mode.callbackURL };
    if (mode.officialAccount) {
      const { appId, appSecret } = mode.officialAccount;
      strategy.officialAccount = { clientID: appId, clientSecret: appSecret, scope: 'snsapi_userinfo' };
    }
    if (mode.miniProgram) postedCode.miniProgram = { clientID: mode.miniProgram.appId, clientSecret: mode.miniProgram.appSecret };
    if (mode.mobileApp) postedCode.mobileApp = { clientID: mode.mobileApp.appId, clientSecret: mode.mobileApp.appSecret };
  }
  // Real WeChat reaches the app through the registered domain (a proxy in front); the emulator only from here.
  const secureCookie = mode.mode === 'wechat' && mode.callbackURL.startsWith('https:');
  const server = createServer(createApp({ strategy, sessionSecret, secureCookie, wxLoginScriptURL, ...postedCode }));
  server.listen(mode.port, mode.mode === 'emulator' ? '127.0.0.1' : undefined);
  try {
    await once(server, 'listening');
  } catch (error) {
    await emulator?.close();
    throw error;
  }
  const url = mode.mode === 'emulator' ? `http://localhost:${mode.port}/` : `${new URL(mode.callbackURL).origin}/`;
  const close = async (): Promise<void> => {
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeAllConnections(); // keep-alive sockets would hold close() open
    await Promise.all([closed, emulator?.close()]);
  };
  return { mode, url, close };
}

function portOf(value: string | undefined): number {
  if (value === undefined || value.trim() === '') return 3000;
  const port = Number(value);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`PORT must be a port number (1-65535), got "${value}".`);
  return port;
}

async function main(): Promise<void> {
  let demo: RunningDemo;
  try {
    demo = await startDemo(process.env);
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    const hint = code === 'EADDRINUSE' ? ' Set PORT to a free port.' : '';
    console.error(`demo: ${error instanceof Error ? error.message : String(error)}${hint}`);
    process.exitCode = 1;
    return;
  }
  const { mode } = demo;
  if (mode.mode === 'emulator') {
    if (mode.missing.length > 0) console.warn(`demo: ${mode.missing.join(', ')} not set, so real WeChat is off.`);
    console.log(`WeChat login demo (local WeChat emulator, no credentials needed): open ${demo.url}`);
  } else {
    if (new URL(mode.callbackURL).port !== '') console.warn('demo: real WeChat rejects a callback URL with a port.');
    const oa = mode.officialAccount ? `, Official Account ${mode.officialAccount.appId} inside WeChat` : '';
    const mp = mode.miniProgram ? `, Mini Program ${mode.miniProgram.appId}` : '';
    const mobile = mode.mobileApp ? `, Mobile Application ${mode.mobileApp.appId}` : '';
    console.log(`WeChat login demo (real WeChat, AppID ${mode.appId}${oa}${mp}${mobile}, port ${mode.port}): open ${demo.url}`);
  }
  const stop = (signal: NodeJS.Signals): void => {
    console.log(`demo: ${signal}, shutting down`);
    // A safety net only: the process ends by itself once both servers are closed.
    setTimeout(() => process.exit(0), 3000).unref();
    demo.close().catch((error: unknown) => {
      console.error(error);
      process.exitCode = 1;
    });
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

// Importing this file (the tests do) starts nothing; `node examples/express/server.ts` does.
if (import.meta.main) await main();
