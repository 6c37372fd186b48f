/**
 * What the package tells about itself when asked: `NODE_DEBUG=passport-wechat-oauth2` prints one
 * line per WeChat call and per login outcome (util.debuglog), and `node:diagnostics_channel` carries
 * one event per WeChat call for APM tools. Neither ever carries a secret: no AppSecret, code, token,
 * session key, state or openid; only the endpoint, the AppID (public: it is in every authorize
 * URL), timings and WeChat's verdict (errcode, rid) or the package's error code.
 */
import { channel } from 'node:diagnostics_channel';
import { util } from './builtins.js';
import { WeChatError, type WeChatEndpoint, type WeChatErrorCode } from './errors.js';

/** diagnostics_channel name published when a WeChat call starts. */
export const WECHAT_CALL_START_CHANNEL = 'passport-wechat-oauth2:wechat-call:start';
/** diagnostics_channel name published when a WeChat call ends, with the same event object, completed. */
export const WECHAT_CALL_END_CHANNEL = 'passport-wechat-oauth2:wechat-call:end';

/**
 * The message of both channels: at start `endpoint` and `appid`; at end the same object with the
 * outcome. Subscribers may keep it (e.g. to hang a span on it between start and end).
 */
export interface WeChatCallEvent {
  /** Which WeChat API: `access_token`, `refresh_token`, `userinfo`, `auth` or `jscode2session`. */
  endpoint: WeChatEndpoint;
  /** The AppID the call was made for. */
  appid: string;
  /** Milliseconds from start to end (set at end). */
  durationMs?: number;
  /** Whether WeChat answered with what was asked for (set at end). */
  ok?: boolean;
  /** The package's error code when the call failed, e.g. `WECHAT_INVALID_CODE` or `WECHAT_TIMEOUT`. */
  error?: WeChatErrorCode;
  /** WeChat's errcode, when it sent one. */
  errcode?: number;
  /** WeChat's request id (`rid`), when it sent one: quote it to WeChat support. */
  rid?: string;
  /** The HTTP status, when WeChat (or something between) answered one other than 200. */
  status?: number;
}

const callStart = channel(WECHAT_CALL_START_CHANNEL);
const callEnd = channel(WECHAT_CALL_END_CHANNEL);

/** NODE_DEBUG=passport-wechat-oauth2. Only ever given texts free of secrets. */
export const debug = util.debuglog('passport-wechat-oauth2');

/**
 * Runs one WeChat call, telling the channels and the debug log how it went. When nobody listens
 * (the usual case) it costs three checks and nothing else.
 */
export async function observeCall<T>(appid: string, endpoint: WeChatEndpoint, run: () => Promise<T>): Promise<T> {
  if (!callStart.hasSubscribers && !callEnd.hasSubscribers && !debug.enabled) return run();
  const event: WeChatCallEvent = { endpoint, appid };
  callStart.publish(event);
  const started = performance.now();
  try {
    const result = await run();
    end(event, started, undefined);
    return result;
  } catch (error) {
    end(event, started, error);
    throw error;
  }
}

function end(started: WeChatCallEvent, startedAt: number, error: unknown): void {
  const outcome: Partial<WeChatCallEvent> = { durationMs: Math.round((performance.now() - startedAt) * 10) / 10, ok: error === undefined };
  if (error instanceof WeChatError) {
    outcome.error = error.code;
    if (error.errcode !== undefined) outcome.errcode = error.errcode;
    if (error.rid !== undefined) outcome.rid = error.rid;
    if (error.status !== undefined) outcome.status = error.status;
  }
  // The start's object, completed; a subscriber that froze or sealed it gets a copy instead, and
  // can never change how the call ends.
  let event: WeChatCallEvent;
  try {
    event = Object.assign(started, outcome);
  } catch {
    event = { ...started, ...outcome };
  }
  callEnd.publish(event);
  debug(
    '%s %s %s%s%s %sms',
    event.endpoint,
    event.appid,
    event.ok ? 'ok' : `failed ${event.error ?? ''}`,
    event.errcode === undefined ? '' : ` errcode=${event.errcode}`,
    event.rid === undefined ? '' : ` rid=${event.rid}`,
    event.durationMs,
  );
}

/** One debug line for a login that ended in Passport's fail(): its stable code and status. */
export function debugFailure(appid: string, info: unknown, status: number | undefined): void {
  if (!debug.enabled) return;
  // A verify that refuses with done(null, false) gives no info at all.
  const code = typeof info === 'object' && info !== null ? (info as { code?: unknown }).code : undefined;
  debug('login %s failed %s (HTTP %s)', appid, typeof code === 'string' ? code : "(the app's verify)", status ?? 401);
}
