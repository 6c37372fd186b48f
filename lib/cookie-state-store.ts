/**
 * The cookie state store (`state: { cookie: { secret } }`): CSRF state for apps without server
 * sessions (JWT APIs, serverless, instances with no shared session store). Each started login sets
 * one short-lived, signed cookie in the browser that started it; the callback must bring it back
 * (docs/state.md, "No session: the cookie store").
 */
import { crypto, randomHex } from './builtins.js';

const { createHash, createHmac, timingSafeEqual } = crypto;
import type { Request } from 'express';
import type OAuth2Strategy from 'passport-oauth2';
import { WeChatOptionsError } from './errors.js';
import { MAX_PENDING_LOGINS, PENDING_LOGIN_TTL_MS } from './state-store.js';

/** passport-oauth2's wording, which failures.ts turns into WECHAT_STATE_MISSING / _MISMATCH. */
const NO_PENDING = 'Unable to verify authorization request state.';
const NOT_PENDING = 'Invalid authorization request state.';

/**
 * Where {@link fastifyStateCookies} leaves the Fastify reply on the request. `Symbol.for`, so the
 * ESM and the CommonJS builds of this package, loaded side by side, agree on it.
 */
const FASTIFY_REPLY = Symbol.for('passport-wechat-oauth2.fastify-reply');

/** Every cookie of this store starts so; `__Host-` comes first on https. */
const NAME_PREFIX = 'wechat-state-';
const HOST_PREFIX = '__Host-';
/**
 * The app state a cookie may carry, base64url-encoded. Five pending logins per flow, two flows, must
 * stay far below Node's 16 KB request-header limit: state cookies filled to the browser's 4 KB
 * would lock the browser out of the whole site (431) for ten minutes.
 */
export const MAX_COOKIE_APP_STATE_BYTES = 512;

/**
 * A Fastify `onRequest` hook for the cookie state store: `app.addHook('onRequest', fastifyStateCookies)`.
 * @fastify/passport hands a strategy the request only, and a Fastify request has no public way to
 * its reply; the hook gives the store the reply, whose `header('set-cookie', …)` adds its cookie
 * next to any other (docs/hosts/fastify.md).
 */
export function fastifyStateCookies(request: object, reply: object, done: () => void): void {
  (request as Record<symbol, unknown>)[FASTIFY_REPLY] = reply;
  done();
}

/** One signed cookie as the browser sent it back. */
interface CookieLogin {
  expiresAt: number;
  payload: string;
  mac: string;
}

/**
 * A passport-oauth2 `StateStore` that keeps each pending login in a cookie of its own. The handle
 * sent to WeChat is 24 hex digits (WeChat's `state` allows letters and digits only); the cookie's
 * name carries it, its value the expiry, the app state and an HMAC-SHA256 over all of them and the
 * store's key, so a cookie of one flow (or one strategy) never verifies another's state.
 */
export class CookieStateStore {
  readonly #key: string;
  readonly #secrets: readonly string[];
  /** A short hash of the key in every cookie name: each flow keeps its own five. */
  readonly #keyTag: string;

  constructor(options: { key: string; secrets: readonly string[] }) {
    this.#key = options.key;
    this.#secrets = options.secrets;
    this.#keyTag = createHash('sha256').update(options.key).digest('hex').slice(0, 8);
  }

  store(req: Request, state: unknown, meta: OAuth2Strategy.Metadata, callback: (err: Error | null, handle?: string) => void): void {
    const response = responseOf(req);
    if (!response) return callback(noResponse());
    const secure = secureCallback(meta);
    if (secure === undefined) return callback(insecureCallback());
    const handle = randomHex(12);
    const name = this.#name(handle, secure);
    const expiresAt = Date.now() + PENDING_LOGIN_TTL_MS;
    const hasState = state !== undefined && state !== null && state !== false;
    const payload = hasState ? Buffer.from(JSON.stringify(state)).toString('base64url') : '';
    const value = `${expiresAt}.${payload}.${this.#mac(0, name, handle, expiresAt, payload)}`;
    if (payload.length > MAX_COOKIE_APP_STATE_BYTES) {
      return callback(
        new WeChatOptionsError(`The app state passed to authenticate() is too large for the state cookie (${MAX_COOKIE_APP_STATE_BYTES} bytes encoded); keep unbounded user input out of it.`),
      );
    }
    // The oldest beyond the limit are expired now, so a browser never holds more than five.
    const stale = this.#pendingIn(req, secure)
      .sort((a, b) => b.expiresAt - a.expiresAt)
      .slice(MAX_PENDING_LOGINS - 1)
      .map((login) => clearing(login.name, secure));
    // Expires too, for clients that know no Max-Age; browsers prefer Max-Age.
    const expires = new Date(expiresAt).toUTCString();
    response.add([...stale, `${name}=${value}; Max-Age=${PENDING_LOGIN_TTL_MS / 1000}; Expires=${expires}${attributes(secure)}`]);
    callback(null, handle);
  }

  verify(
    req: Request,
    providedState: string,
    meta: OAuth2Strategy.Metadata,
    callback: (err: Error | null, ok: boolean, info?: unknown) => void,
  ): void {
    // A handle is 24 hex digits; anything else names no cookie of ours (and never reaches a cookie name).
    if (typeof providedState !== 'string' || !/^[0-9a-f]{24}$/.test(providedState)) return callback(null, false, { message: NO_PENDING });
    const secure = secureCallback(meta);
    if (secure === undefined) return callback(insecureCallback(), false);
    const name = this.#name(providedState, secure);
    // An empty value is a cookie this store cleared, which a client kept: none.
    const sent = cookiesOf(req).filter((cookie) => cookie.name === name && cookie.value !== '');
    if (sent.length === 0) return callback(null, false, { message: NO_PENDING });
    const response = responseOf(req);
    if (!response) return callback(noResponse(), false);
    const login = sent.map((cookie) => parseValue(cookie.value)).find((candidate) => candidate && this.#verifies(name, providedState, candidate));
    if (!login) return callback(null, false, { message: NOT_PENDING });
    // Single-use: the browser forgets the cookie with this answer, whatever the login's outcome.
    response.add([clearing(name, secure)]);
    if (login.expiresAt <= Date.now()) return callback(null, false, { message: NO_PENDING });
    let appState: unknown;
    try {
      appState = login.payload === '' ? undefined : JSON.parse(Buffer.from(login.payload, 'base64url').toString('utf8'));
    } catch {
      return callback(null, false, { message: NOT_PENDING });
    }
    callback(null, true, appState);
  }

  #name(handle: string, secure: boolean): string {
    return `${secure ? HOST_PREFIX : ''}${NAME_PREFIX}${this.#keyTag}-${handle}`;
  }

  /** The MAC with secret `index`: the first signs, every one verifies (rotation). */
  #mac(index: number, name: string, handle: string, expiresAt: number, payload: string): string {
    const input = JSON.stringify([name, handle, expiresAt, payload, this.#key]);
    return createHmac('sha256', this.#secrets[index] ?? '').update(input).digest('base64url');
  }

  #verifies(name: string, handle: string, login: CookieLogin): boolean {
    const mac = Buffer.from(login.mac);
    return this.#secrets.some((_secret, index) => {
      const expected = Buffer.from(this.#mac(index, name, handle, login.expiresAt, login.payload));
      return mac.length === expected.length && timingSafeEqual(mac, expected);
    });
  }

  /** This store's cookies the browser sent, with their expiry (an unreadable one counts as oldest). */
  #pendingIn(req: Request, secure: boolean): { name: string; expiresAt: number }[] {
    const prefix = this.#name('', secure);
    return cookiesOf(req)
      .filter((cookie) => cookie.name.startsWith(prefix))
      .map((cookie) => ({ name: cookie.name, expiresAt: parseValue(cookie.value)?.expiresAt ?? 0 }));
  }
}

/** `expiry.payload.mac`; undefined when the value has another shape. */
function parseValue(value: string): CookieLogin | undefined {
  const match = /^(\d{1,16})\.([A-Za-z0-9_-]*)\.([A-Za-z0-9_-]{43})$/.exec(value);
  if (!match) return undefined;
  return { expiresAt: Number(match[1]), payload: match[2] ?? '', mac: match[3] ?? '' };
}

/** The request's cookies, in the order the browser sent them. Values are not decoded: ours need no decoding. */
function cookiesOf(req: Request): { name: string; value: string }[] {
  const header = req.headers?.cookie;
  if (typeof header !== 'string') return [];
  return header.split(';').flatMap((pair) => {
    const at = pair.indexOf('=');
    return at === -1 ? [] : [{ name: pair.slice(0, at).trim(), value: pair.slice(at + 1).trim() }];
  });
}

// On https, `Secure` and the `__Host-` name keep the cookie to this exact host: a sibling
// subdomain cannot plant one of its own logins' cookies in the victim's browser (login CSRF).
function attributes(secure: boolean): string {
  return `; Path=/; HttpOnly; SameSite=Lax${secure ? '; Secure' : ''}`;
}

function clearing(name: string, secure: boolean): string {
  return `${name}=; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT${attributes(secure)}`;
}

const LOOPBACK_HOSTS: ReadonlySet<string> = new Set(['localhost', '127.0.0.1', '[::1]']);

/**
 * Whether the cookie is Secure with the `__Host-` name: yes for an https callback, no for an http
 * callback on a loopback host (local development), and undefined — refused — for any other http
 * callback. A site served over https whose callback resolves to http (a relative callbackURL behind
 * a proxy the host does not trust) would otherwise get cookies a sibling subdomain can plant.
 */
function secureCallback(meta: OAuth2Strategy.Metadata): boolean | undefined {
  const callbackURL = (meta as { callbackURL?: unknown }).callbackURL;
  if (typeof callbackURL !== 'string') return undefined;
  let url: URL;
  try {
    url = new URL(callbackURL);
  } catch {
    return undefined;
  }
  if (url.protocol === 'https:') return true;
  return url.protocol === 'http:' && LOOPBACK_HOSTS.has(url.hostname) ? false : undefined;
}

function insecureCallback(): WeChatOptionsError {
  return new WeChatOptionsError(
    'The cookie state store needs an https callbackURL (http only on localhost). Behind a proxy that ends TLS, ' +
      "set an absolute https callbackURL, or let the host trust the proxy (Express: app.set('trust proxy', …)).",
  );
}

/** Adds Set-Cookie headers to a response without replacing those others set (express-session's). */
interface CookieWriter {
  add(cookies: string[]): void;
}

type NodeResponse = { getHeader(name: string): unknown; setHeader(name: string, value: string[]): unknown; headersSent?: boolean };
type FastifyReply = { header(name: string, value: string[]): unknown; sent?: boolean };

/**
 * The response of the request: Express's (and NestJS on Express's) `req.res`, or the Fastify
 * reply {@link fastifyStateCookies} left. Undefined when the host gives none, or it already answered.
 */
function responseOf(req: Request): CookieWriter | undefined {
  const reply = (req as unknown as Record<symbol, unknown>)[FASTIFY_REPLY] as Partial<FastifyReply> | undefined;
  if (typeof reply?.header === 'function' && reply.sent !== true) {
    const fastify = reply as FastifyReply;
    return { add: (cookies) => void fastify.header('set-cookie', cookies) };
  }
  const res = (req as { res?: Partial<NodeResponse> }).res;
  if (typeof res?.getHeader !== 'function' || typeof res.setHeader !== 'function' || res.headersSent === true) return undefined;
  const node = res as NodeResponse;
  return {
    add(cookies) {
      const before = node.getHeader('set-cookie');
      const kept = before === undefined ? [] : Array.isArray(before) ? before.map(String) : [String(before)];
      node.setHeader('set-cookie', [...kept, ...cookies]);
    },
  };
}

function noResponse(): WeChatOptionsError {
  return new WeChatOptionsError(
    'The cookie state store cannot set its cookie: this host gives the strategy no response. ' +
      "On Fastify add app.addHook('onRequest', fastifyStateCookies) (docs/hosts/fastify.md).",
  );
}
