/**
 * Reading a request as the strategies need it: the callback's code and state (query only), the
 * view of the request passport-oauth2 gets, a posted field, whether a code could be WeChat's, and
 * the absolute callback URL behind the host's own proxy settings. Knows hosts (Express, Fastify,
 * NestJS), not WeChat's API.
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
 * The code and state of a callback. WeChat sends the user back with a GET, so both come from the
 * query only; an empty `code=` counts as none. Undefined when absent.
 */
export function callbackParams(req: Request): { code: string | undefined; state: string | undefined } {
  const code = queryParam(req, 'code');
  return { code: code === '' ? undefined : code, state: queryParam(req, 'state') };
}

function queryParam(req: Request, name: string): string | undefined {
  const value = fieldOf(req.query, name);
  if (value === undefined) return undefined;
  // `?code=a&code=b` arrives as an array: not something WeChat sends, and not a plausible code.
  return typeof value === 'string' ? value : '\u0000';
}

/**
 * The request as passport-oauth2 may see it. passport-oauth2 also reads `code` and `state` from
 * the body, which would let a body turn a login start into a callback our checks never saw, and it
 * acts on `?error=…&error_description=…` before any state check — WeChat never sends those, so a
 * crafted link would put its own text in the app's failure message or logs. When a request holds
 * either, passport-oauth2 sees it through a view without them (reads and session writes still reach
 * the real request).
 */
export function passportView(req: Request): Request {
  const body: unknown = req.body;
  const query: unknown = req.query;
  const bodyHasCallback = typeof body === 'object' && body !== null && ('code' in body || 'state' in body);
  const queryHasError = typeof query === 'object' && query !== null && OAUTH_ERROR_PARAMS.some((name) => Object.hasOwn(query, name));
  if (!bodyHasCallback && !queryHasError) return req;
  const hidden = new Map<PropertyKey, unknown>();
  if (bodyHasCallback) hidden.set('body', undefined);
  if (queryHasError) {
    const kept = Object.entries(query as Record<string, unknown>).filter(([name]) => !OAUTH_ERROR_PARAMS.includes(name));
    hidden.set('query', Object.fromEntries(kept));
  }
  // Reads go through a view that inherits from the request (its own properties are only the hidden
  // ones, so a read-only `query` the app pinned on the request breaks no proxy invariant); writes
  // go to the real request, where the next handler reads what a passReqToCallback verify set.
  const descriptors: PropertyDescriptorMap = {};
  for (const [key, value] of hidden) descriptors[key as string] = { value, writable: true, enumerable: true, configurable: true };
  const view = Object.create(req, descriptors) as Request;
  const targetOf = (key: PropertyKey): object => (hidden.has(key) ? view : req);
  return new Proxy(view, { set: (_view, key, value) => Reflect.set(targetOf(key), key, value) });
}

const OAUTH_ERROR_PARAMS: readonly string[] = ['error', 'error_description', 'error_uri'];

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
