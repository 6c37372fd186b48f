/**
 * `npm run demo`: the demo app against the local WeChat emulator on http://localhost:3000, or
 * against real WeChat when WECHAT_APP_ID, WECHAT_APP_SECRET and WECHAT_CALLBACK_URL are all set.
 * With real WeChat, WECHAT_OA_APP_ID and WECHAT_OA_APP_SECRET (both or neither) add an Official
 * Account for logins inside WeChat; the emulator always has its demo Official Account.
 * Also: PORT (default 3000) and SESSION_SECRET (default: random, so sessions end with the process).
 */
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createServer } from 'node:http';
import { DEMO_OFFICIAL_ACCOUNT_APP, DEMO_WEBSITE_APP, WeChatEmulator } from 'passport-wechat-oauth2/testing';
import { createApp, type DemoAppOptions } from './app.ts';

const REAL_WECHAT_VARS = ['WECHAT_APP_ID', 'WECHAT_APP_SECRET', 'WECHAT_CALLBACK_URL'] as const;
const OFFICIAL_ACCOUNT_VARS = ['WECHAT_OA_APP_ID', 'WECHAT_OA_APP_SECRET'] as const;

export type DemoMode =
  | {
      mode: 'wechat';
      port: number;
      appId: string;
      appSecret: string;
      callbackURL: string;
      /** From WECHAT_OA_APP_ID and WECHAT_OA_APP_SECRET, when both are set. */
      officialAccount?: { appId: string; appSecret: string };
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
  const [oaAppId, oaAppSecret] = OFFICIAL_ACCOUNT_VARS.map((name) => env[name]?.trim() ?? '');
  if (!oaAppId && !oaAppSecret) return { mode: 'wechat', port, appId, appSecret, callbackURL };
  if (!oaAppId || !oaAppSecret) {
    // Half an Official Account would fail only later, inside WeChat: refuse it at start.
    throw new Error(`${oaAppId ? 'WECHAT_OA_APP_SECRET' : 'WECHAT_OA_APP_ID'} is not set: set both WECHAT_OA_APP_ID and WECHAT_OA_APP_SECRET, or neither.`);
  }
  return { mode: 'wechat', port, appId, appSecret, callbackURL, officialAccount: { appId: oaAppId, appSecret: oaAppSecret } };
}

/** Starts the emulator (in emulator mode) and the app; `close()` stops both. */
export async function startDemo(env: Readonly<Record<string, string | undefined>>): Promise<RunningDemo> {
  const mode = chooseMode(env);
  const sessionSecret = env.SESSION_SECRET || randomBytes(32).toString('hex');
  let emulator: WeChatEmulator | undefined;
  let strategy: DemoAppOptions['strategy'];
  let wxLoginScriptURL: string | undefined; // WeChat's own script unless the emulator serves one
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
  } else {
    strategy = { clientID: mode.appId, clientSecret: mode.appSecret, callbackURL: mode.callbackURL };
    if (mode.officialAccount) {
      const { appId, appSecret } = mode.officialAccount;
      strategy.officialAccount = { clientID: appId, clientSecret: appSecret, scope: 'snsapi_userinfo' };
    }
  }
  // Real WeChat reaches the app through the registered domain (a proxy in front); the emulator only from here.
  const secureCookie = mode.mode === 'wechat' && mode.callbackURL.startsWith('https:');
  const server = createServer(createApp({ strategy, sessionSecret, secureCookie, wxLoginScriptURL }));
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
    console.log(`WeChat login demo (real WeChat, AppID ${mode.appId}${oa}, port ${mode.port}): open ${demo.url}`);
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
