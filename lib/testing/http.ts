/**
 * The emulator's HTTP edge: the `Reply` every handler returns, its common shapes (HTML page,
 * plain text, nginx-style gateway error), and reading a request body or writing a reply on node:http.
 *
 * @internal Not part of the public `passport-wechat-oauth2/testing` API.
 */
import { STATUS_CODES, type IncomingMessage, type ServerResponse } from 'node:http';
import { renderErrorPage, renderGatewayPage, type ErrorPageView } from './pages.js';
import type { EmulatorCall } from './types.js';

/** What to answer, plus what the call log keeps of it. */
export interface Reply {
  readonly status: number;
  readonly contentType: string;
  readonly body: string;
  readonly location?: string;
  readonly errcode?: number;
  readonly errmsg?: string;
  readonly fault?: EmulatorCall['fault'];
}

export function htmlReply(body: string, status = 200): Reply {
  return { status, contentType: 'text/html; charset=utf-8', body };
}

/** WeChat shows these as HTML with HTTP 200, not JSON and not a redirect (docs/wechat-protocol.md#authorize-pages-errors-shown-in-the-browser). */
export function errorPageReply(view: ErrorPageView, status = 200): Reply {
  return { ...htmlReply(renderErrorPage(view), status), errcode: view.errcode, errmsg: view.en };
}

export function plainReply(status: number, body: string): Reply {
  return { status, contentType: 'text/plain; charset=utf-8', body };
}

export function gatewayReply(status: number): Reply {
  const reason = STATUS_CODES[status] ?? 'Error';
  return { ...htmlReply(renderGatewayPage(status, reason), status), contentType: 'text/html' };
}

export function writeReply(res: ServerResponse, reply: Reply): void {
  if (res.destroyed) return; // the client left, or close() cut the socket
  const headers: Record<string, string | number> = {
    'Content-Type': reply.contentType,
    'Content-Length': Buffer.byteLength(reply.body),
  };
  if (reply.location !== undefined) headers.Location = reply.location;
  res.writeHead(reply.status, headers);
  res.end(reply.body);
}

/** The body as text, or null once it passes `limitBytes`. */
export async function readBody(req: IncomingMessage, limitBytes: number): Promise<string | null> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk));
    size += buffer.length;
    if (size > limitBytes) return null;
    chunks.push(buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** A posted body as a JSON object, or null when it is empty, not JSON, or JSON that is not an object. */
export function jsonObjectOf(text: string): Readonly<Record<string, unknown>> | null {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}
