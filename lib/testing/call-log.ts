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

const REDACTED_KEYS = Object.freeze(['secret', 'code', 'js_code', 'access_token', 'refresh_token']);

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

export function redactParams(params: URLSearchParams): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of params) out[key] = REDACTED_KEYS.includes(key) ? '[redacted]' : value;
  return out;
}

function replyDetails(reply: Reply): Partial<EmulatorCall> {
  const details: { -readonly [K in keyof EmulatorCall]?: EmulatorCall[K] } = { status: reply.status };
  if (reply.errcode !== undefined) details.errcode = reply.errcode;
  if (reply.errmsg !== undefined) details.errmsg = reply.errmsg;
  if (reply.location !== undefined) details.location = redactLocation(reply.location);
  if (reply.fault !== undefined) details.fault = reply.fault;
  return details;
}

function redactLocation(location: string): string {
  return location.replace(/([?&])code=[^&#]*/, '$1code=[redacted]');
}
