/**
 * The app's own access token (`cgi-bin/stable_token`), which WeChat's server APIs take — a Mini
 * Program's phone numbers, messages, QR codes — unlike the user tokens of a login. Cached until
 * shortly before it expires, one fetch in flight at a time however many calls wait for it, shared
 * between instances through an optional store, and refreshed once when WeChat refuses it.
 * docs/miniprogram.md#the-app-access-token.
 */
import { DEFAULT_ENDPOINTS, DEFAULT_MAX_RESPONSE_BYTES, DEFAULT_TIMEOUT_MS, WeChatClient, type WeChatDispatcher } from './client.js';
import { debug } from './diagnostics.js';
import { WeChatError, WeChatOptionsError } from './errors.js';

/**
 * Where instances share the token: `get` and `set` with a TTL, as the duplicate-callback stores
 * have them, so `redisCallbackStore(client)` from `passport-wechat-oauth2/redis` fits as it is.
 */
export interface WeChatAppTokenStore {
  get(key: string): Promise<string | null | undefined>;
  set(key: string, value: string, ttlSeconds: number): Promise<void>;
}

export interface WeChatAppTokenOptions {
  /** The app's AppID. */
  clientID: string;
  /** The app's AppSecret. It never leaves the provider's client: no error, log or store holds it. */
  clientSecret: string;
  /** Shares the token between instances (several processes, several machines). */
  store?: WeChatAppTokenStore | undefined;
  /** The store key is this prefix and the AppID. Default `wechat:app-token:`. */
  keyPrefix?: string | undefined;
  /**
   * How long before the token expires a new one is fetched, in seconds. Default 300: WeChat hands
   * out a new token in the last 5 minutes of the old one, and keeps both valid meanwhile.
   */
  refreshBeforeSeconds?: number | undefined;
  /** Override `https://api.weixin.qq.com/cgi-bin/stable_token` (an emulator, an egress proxy). */
  stableTokenURL?: string | undefined;
  /** Deadline of each WeChat call, ms. Default 10 000. */
  timeout?: number | undefined;
  /** Largest WeChat answer read, bytes. Default 1 MiB. */
  maxResponseBytes?: number | undefined;
  /** An undici `Dispatcher` for the calls (a `ProxyAgent`, an `Agent` with a custom CA). */
  dispatcher?: WeChatDispatcher | undefined;
}

interface CachedToken {
  token: string;
  /** When a new token is fetched instead (ms since the epoch). */
  refreshAt: number;
}

/** A store that does not answer within this is treated as absent for the call. */
const STORE_DEADLINE_MS = 1_000;

/**
 * The app access token of one WeChat app.
 *
 * @example
 * ```ts
 * const appToken = new WeChatAppTokenProvider({ clientID, clientSecret, store: redisCallbackStore(redis) });
 * const qr = await appToken.withToken((token) => callSomeWeChatAPI(token)); // refreshed and retried once on 40001/42001
 * ```
 */
export class WeChatAppTokenProvider {
  readonly appId: string;
  /** @internal The client that holds the AppSecret and makes the calls. */
  readonly _client: WeChatClient;
  readonly #store: WeChatAppTokenStore | undefined;
  readonly #key: string;
  readonly #refreshBeforeMs: number;
  #cached: CachedToken | undefined;
  #loading: Promise<string> | undefined;

  constructor(options: WeChatAppTokenOptions) {
    if (typeof options !== 'object' || options === null) throw new WeChatOptionsError('WeChatAppTokenProvider needs options: { clientID, clientSecret }.');
    if (typeof options.clientID !== 'string' || !/^wx[0-9a-zA-Z]{10,30}$/.test(options.clientID)) {
      throw new WeChatOptionsError('WeChatAppTokenProvider: clientID must be the AppID (wx followed by letters and digits).');
    }
    if (typeof options.clientSecret !== 'string' || options.clientSecret.trim() === '') {
      throw new WeChatOptionsError('WeChatAppTokenProvider: clientSecret must be the AppSecret.');
    }
    const store = options.store;
    if (store !== undefined && (typeof store?.get !== 'function' || typeof store.set !== 'function')) {
      throw new WeChatOptionsError('WeChatAppTokenProvider: store needs get(key) and set(key, value, ttlSeconds).');
    }
    const refreshBefore = options.refreshBeforeSeconds ?? 300;
    if (!Number.isInteger(refreshBefore) || refreshBefore < 0) throw new WeChatOptionsError('WeChatAppTokenProvider: refreshBeforeSeconds must be a whole number of seconds, 0 or more.');
    this.appId = options.clientID;
    this.#store = store;
    this.#key = `${options.keyPrefix ?? 'wechat:app-token:'}${options.clientID}`;
    this.#refreshBeforeMs = refreshBefore * 1000;
    this._client = new WeChatClient({
      appId: options.clientID,
      appSecret: options.clientSecret,
      endpoints: { ...DEFAULT_ENDPOINTS, stableTokenURL: options.stableTokenURL ?? DEFAULT_ENDPOINTS.stableTokenURL },
      timeout: options.timeout ?? DEFAULT_TIMEOUT_MS,
      maxResponseBytes: options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES,
      dispatcher: options.dispatcher,
    });
  }

  /** The token in force: from memory, else from the shared store, else from WeChat, one fetch at a time. */
  token(): Promise<string> {
    const cached = this.#cached;
    if (cached && Date.now() < cached.refreshAt) return Promise.resolve(cached.token);
    return this.#load(undefined);
  }

  /**
   * A token other than `rejected`, which WeChat just refused (40001, 42001): another instance or
   * WeChat replaced it. However many calls ask at once, WeChat is asked once.
   */
  refresh(rejected: string): Promise<string> {
    const cached = this.#cached;
    if (cached && cached.token !== rejected && Date.now() < cached.refreshAt) return Promise.resolve(cached.token);
    if (cached?.token === rejected) this.#cached = undefined;
    return this.#load(rejected);
  }

  /**
   * Runs `call` with the token. When WeChat refuses the token (`WECHAT_INVALID_TOKEN`: 40001 or
   * 42001), gets a new one and runs `call` once more; any other failure is `call`'s own.
   */
  async withToken<T>(call: (token: string) => Promise<T>): Promise<T> {
    const token = await this.token();
    try {
      return await call(token);
    } catch (error) {
      if (!(error instanceof WeChatError) || error.code !== 'WECHAT_INVALID_TOKEN') throw error;
      debug('app token %s refused by WeChat (%s); refreshing once', this.appId, error.errcode);
      return call(await this.refresh(token));
    }
  }

  // One load at a time: callers that arrive while it runs share its outcome, success or failure.
  #load(rejected: string | undefined): Promise<string> {
    this.#loading ??= this.#fetch(rejected).finally(() => {
      this.#loading = undefined;
    });
    return this.#loading;
  }

  async #fetch(rejected: string | undefined): Promise<string> {
    const shared = await this.#readStore();
    if (shared && shared.token !== rejected && Date.now() < shared.refreshAt) {
      this.#cached = shared;
      return shared.token;
    }
    let answer = await this._client.fetchStableToken(false);
    // WeChat still hands out the token it refused: only a forced refresh replaces it (20 a day).
    if (answer.access_token === rejected) answer = await this._client.fetchStableToken(true);
    const now = Date.now();
    const lifetimeMs = answer.expires_in * 1000;
    // A token with less left than the margin is still used, for half of what it has left.
    const refreshAt = now + (lifetimeMs > this.#refreshBeforeMs ? lifetimeMs - this.#refreshBeforeMs : lifetimeMs / 2);
    const fresh = { token: answer.access_token, refreshAt };
    this.#cached = fresh;
    await this.#writeStore(fresh, now);
    debug('app token %s fetched, valid %ss', this.appId, answer.expires_in);
    return fresh.token;
  }

  async #readStore(): Promise<CachedToken | undefined> {
    if (!this.#store) return undefined;
    try {
      const value = await withDeadline(this.#store.get(this.#key));
      const parsed: unknown = typeof value === 'string' ? JSON.parse(value) : undefined;
      const entry = parsed as Partial<CachedToken> | undefined;
      return typeof entry?.token === 'string' && entry.token !== '' && typeof entry.refreshAt === 'number' ? { token: entry.token, refreshAt: entry.refreshAt } : undefined;
    } catch {
      return undefined; // an unreachable or garbled store: WeChat is asked instead
    }
  }

  async #writeStore(entry: CachedToken, now: number): Promise<void> {
    if (!this.#store) return;
    const ttlSeconds = Math.max(1, Math.floor((entry.refreshAt - now) / 1000));
    try {
      await withDeadline(this.#store.set(this.#key, JSON.stringify(entry), ttlSeconds));
    } catch {
      // The token works without the store; other instances fetch their own.
    }
  }
}

function withDeadline<T>(operation: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error('The app token store did not answer in time.')), STORE_DEADLINE_MS);
    timer.unref();
  });
  return Promise.race([Promise.resolve(operation), deadline]).finally(() => clearTimeout(timer));
}
