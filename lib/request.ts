/**
 * Reading a request as the strategies need it: the callback's code and state (query only), a
 * posted field, whether a code could be WeChat's, and the absolute callback URL behind the host's
 * own proxy settings. Knows hosts (Express, Fastify, NestJS), not WeChat's API.
 */
import type { Request } from 'express';
import { WeChatOptionsError } from './errors.js';

// WeChat's codes are about 32 printable ASCII characters (docs/wechat-protocol.md#cross-cutting-codes-tokens-and-ids); anything else
// never came from WeChat and is refused before a call.
const PLAUSIBLE_CODE = /^[\x21-\x7e]{1,512}$/;

/** Whether a value could be a code WeChat issued: 1–512 visible ASCII characters. */
export function isPlausibleCode(value: unknown): value is string {
  return typeof value === 'string' && PLAUSIBLE_CODE.test(value);
}

/**
 * A request field as the host parsed it (`req.query`, `req.body`): the bag's own property only
 * (nothing inherited, `__proto__` included), `undefined` when the bag or the field is absent.
 */
export function fieldOf(bag: unknown, name: string): unknown {
  if (typeof bag !== 'object' || bag === null || !Object.hasOwn(bag, name)) return undefined;
  return (bag as Record<string, unknown>)[name];
}

/**
 * The code and state of a callback, from the request's parsed query. WeChat sends the user back
 * with a GET, so both come from the query only; an empty `code=` counts as none. Undefined when
 * absent.
 */
export function callbackParams(query: unknown): { code: string | undefined; state: string | undefined } {
  const code = queryParam(query, 'code');
  return { code: code === '' ? undefined : code, state: queryParam(query, 'state') };
}

function queryParam(query: unknown, name: string): string | undefined {
  const value = fieldOf(query, name);
  if (value === undefined) return undefined;
  // `?code=a&code=b` arrives as an array: not something WeChat sends, and not a plausible code.
  return typeof value === 'string' ? value : '\u0000';
}

/**
 * Makes a relative callbackURL absolute from the request. Reads only `headers`, `url` and the
 * socket (passport-oauth2's own resolution touches `req.connection`, which Fastify 5 removed).
 * `X-Forwarded-Proto`/`X-Forwarded-Host` are used only when the strategy says `proxy: true`, or
 * when the host itself trusts the peer that sent the request: Express's `trust proxy` (a hop
 * count, subnets or a function, as Express decides it) and Fastify's `trustProxy`.
 */
export function resolveCallbackURL(req: Request, callbackURL: string | undefined, trustProxy: boolean): string | undefined {
  if (callbackURL === undefined || /^[a-z][a-z0-9+.-]*:/i.test(callbackURL)) return callbackURL;
  const { proto, host } = requestOrigin(req, trustProxy);
  if (!host) {
    throw new WeChatOptionsError('A relative callbackURL needs a Host header to resolve; configure an absolute callbackURL.');
  }
  // Stryker disable next-line StringLiteral: '' and '/' give one base, an http(s) URL's empty path being '/'.
  return new URL(callbackURL, `${proto}://${host}${req.url ?? '/'}`).toString();
}

/** The scheme and host the browser used, as far as the request and its host's trust settings tell. */
function requestOrigin(req: Request, trustProxy: boolean): { proto: string; host: string | undefined } {
  const headers = req.headers ?? {};
  const socket = req.socket as { encrypted?: boolean; remoteAddress?: string } | undefined;
  const direct = { proto: socket?.encrypted === true ? 'https' : 'http', host: firstHeaderValue(headers.host) };
  const forwarded = () => ({
    proto: firstHeaderValue(headers['x-forwarded-proto']) ?? direct.proto,
    host: firstHeaderValue(headers['x-forwarded-host']) ?? direct.host,
  });
  if (trustProxy) return forwarded();
  // Express 4 and 5 compile `trust proxy` into this function of the peer's address and hop.
  const trusts: unknown = typeof req.app?.get === 'function' ? req.app.get('trust proxy fn') : undefined;
  if (typeof trusts === 'function') return (trusts as (address: string | undefined, hop: number) => boolean)(socket?.remoteAddress, 0) ? forwarded() : direct;
  // A Fastify request knows its own trustProxy decision.
  const fastify = req as unknown as { raw?: unknown; protocol?: unknown; host?: unknown };
  if (fastify.raw !== undefined && typeof fastify.protocol === 'string' && typeof fastify.host === 'string') {
    return { proto: fastify.protocol, host: fastify.host || direct.host };
  }
  return direct;
}

function firstHeaderValue(value: string | string[] | undefined): string | undefined {
  const first = Array.isArray(value) ? value[0] : value;
  return first?.split(',')[0]?.trim() || undefined;
}
