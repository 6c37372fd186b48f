/**
 * The record of every request the emulator received (`WeChatEmulator.calls`): what was
 * asked and how it was answered, with secrets, codes and tokens redacted and no answer bodies.
 *
 * @internal Not part of the public `passport-wechat-oauth2/testing` API.
 */
import { isDocumentedOrder, isJssdk } from './authorize-request.js';
import type { Reply } from './http.js';
import { endpointOf, type Route } from './routes.js';
import type { EmulatorCall } from './types.js';

/** Lowercase: keys are compared case-insensitively. */
const REDACTED_KEYS: readonly string[] = Object.freeze(['secret', 'code', 'js_code', 'access_token', 'refresh_token']);
const REDACTED = '[redacted]';

export class CallLog {
  private readonly log: EmulatorCall[] = [];

  /** Oldest first, a copy. */
  entries(): readonly EmulatorCall[] {
    return [...this.log];
  }

  /** What is known of a call on arrival; `status` stays 0 until {@link CallLog.record}. */
  arrival(route: Route, method: string, url: URL, at: number): EmulatorCall {
    const paramOrder = [...url.searchParams.keys()];
    return {
      endpoint: endpointOf(route),
      method,
      path: url.pathname,
      query: redactParams(url.searchParams),
      paramOrder,
      ...(route.kind === 'page' ? { documentedOrder: isDocumentedOrder(paramOrder, isJssdk(route.endpoint, url.searchParams)) } : {}),
      status: 0,
      at,
    };
  }

  /** Logs a call with how it was answered; `reply` null when a fault kept it from answering. */
  record(base: EmulatorCall, reply: Reply | null, fault?: EmulatorCall['fault']): void {
    const details = reply === null ? { fault } : replyDetails(reply);
    this.log.push(Object.freeze({ ...base, ...details }));
  }

  clear(): void {
    this.log.length = 0;
  }
}

/** Every parameter, with the value of each redacted key (in any letter case) replaced. */
export function redactParams(params: URLSearchParams): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of params) out[key] = isRedactedKey(key) ? REDACTED : value;
  return out;
}

/** A posted JSON object with the value of each redacted key (in any letter case, at any depth) replaced. */
export function redactJson(body: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(body)) out[key] = isRedactedKey(key) ? REDACTED : redactValue(value);
  return out;
}

function redactValue(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(redactValue);
  if (typeof value === 'object' && value !== null) return redactJson(value as Record<string, unknown>);
  return value;
}

/**
 * NOTE: case-insensitive, because a caller may send `SECRET=` or `Code=`: the emulator ignores
 * such a key, but its value is still a secret that must not reach test output.
 */
function isRedactedKey(key: string): boolean {
  return REDACTED_KEYS.includes(key.toLowerCase());
}

function replyDetails(reply: Reply): Partial<EmulatorCall> {
  const details: { -readonly [K in keyof EmulatorCall]?: EmulatorCall[K] } = { status: reply.status };
  if (reply.errcode !== undefined) details.errcode = reply.errcode;
  if (reply.errmsg !== undefined) details.errmsg = reply.errmsg;
  if (reply.location !== undefined) details.location = redactLocation(reply.location);
  if (reply.fault !== undefined) details.fault = reply.fault;
  return details;
}

/** A `name=value` pair after `?`, `&` or `#`; the value runs to the next `&` or `#`, as a URL parser reads it. */
const LOCATION_PAIR = /([?&#])([^=&#?]*)=([^&#]*)/g;

/**
 * Redacts every pair with a redacted key in a redirect's location — the query and the fragment,
 * each occurrence (a redirect_uri may carry its own `code=` before the one WeChat adds) — and
 * leaves the rest of the location as sent, so tests can still compare it. A redacted value goes
 * whole, even with a `?` in it; any other value is searched in turn, for a URL nested in it
 * (`?next=/a?code=…`) or a SPA's fragment route (`#/callback?code=…`).
 */
function redactLocation(location: string): string {
  return location.replace(LOCATION_PAIR, (_pair, separator: string, name: string, value: string) =>
    `${separator}${name}=${isRedactedKey(decodeName(name)) ? REDACTED : redactLocation(value)}`,
  );
}

/** A pair's name as URLSearchParams reads it (`+` is a space, %XX decoded), so `c%6Fde` is `code`. */
function decodeName(name: string): string {
  try {
    return decodeURIComponent(name.replaceAll('+', ' '));
  } catch {
    return name; // a stray `%`: URLSearchParams would keep it as is, and so would a server
  }
}
