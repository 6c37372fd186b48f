/**
 * Where duplicate callbacks are remembered: the store interface, the bounded in-memory store, and
 * the hashed keys and records kept in it. The protocol that uses them (claim, record, replay) is
 * in duplicate-guard.ts.
 */
import { crypto } from './builtins.js';

/**
 * Where claimed callbacks are kept for a short while. One instance: the default in-memory store.
 * Several instances: a shared store, e.g. Redis (`SET key value NX EX ttl` for `claim`).
 */
export interface WeChatCallbackStore {
  /** Stores `value` under `key` for `ttlSeconds` only if `key` is absent; resolves whether it did. */
  claim(key: string, value: string, ttlSeconds: number): Promise<boolean>;
  /** Stores `value` under `key` for `ttlSeconds`, replacing what is there. */
  set(key: string, value: string, ttlSeconds: number): Promise<void>;
  /** Reads `key`; `null` or `undefined` when absent or expired. */
  get(key: string): Promise<string | null | undefined>;
}

/** Options of duplicate-callback handling. */
export interface WeChatDuplicateCallbackOptions {
  /** Where claims live; default a {@link MemoryCallbackStore} of this strategy. Share one across instances. */
  store?: WeChatCallbackStore | undefined;
  /** How long a callback is remembered, in seconds. Default 60. */
  ttlSeconds?: number | undefined;
  /** How long a duplicate waits for the first request to finish, in ms. Default: twice the WeChat timeout, plus 1 s. */
  waitMs?: number | undefined;
}

/**
 * What a store holds for one callback. `sessions` are hashes of the session ids that own
 * the login: the one that claimed it, then each session Passport gave the browser when it logged
 * the user in. No other session learns anything from the record.
 */
export type CallbackRecord = { sessions: string[]; /** When the claim expires (ms since the epoch): updates keep it. */ expiresAt?: number } & (
  | { status: 'pending' }
  | { status: 'success'; user: unknown; info: unknown }
  | { status: 'fail'; challenge: unknown; httpStatus: number | undefined }
  | { status: 'error' }
);

const SWEEP_INTERVAL_MS = 1_000;

/**
 * The in-memory store of one process: bounded in time (entries expire) and in size (the oldest
 * entries go first beyond `maxEntries`).
 */
export class MemoryCallbackStore implements WeChatCallbackStore {
  readonly #entries = new Map<string, { value: string; expires: number; seq: number }>();
  // Keys in the order they were written, oldest first, each with the write's number: the walk that
  // drops expired and surplus entries. A Map walked from its front after many deletions first steps
  // over their holes; this queue is consumed from a moving head instead.
  #queueKeys: string[] = [];
  #queueSeqs: number[] = [];
  #head = 0;
  #seq = 0;
  readonly #maxEntries: number;
  readonly #now: () => number;
  #sweptAt = Number.NEGATIVE_INFINITY;

  constructor(options: { maxEntries?: number; now?: () => number } = {}) {
    this.#maxEntries = options.maxEntries ?? 10_000;
    this.#now = options.now ?? Date.now;
  }

  /** How many callbacks are remembered now (expired ones are dropped first). */
  get size(): number {
    this.#sweep();
    return this.#entries.size;
  }

  // NOTE: check and set with no await between them, so no other claim can run in the middle:
  // of any number of simultaneous claims of one key exactly one wins.
  async claim(key: string, value: string, ttlSeconds: number): Promise<boolean> {
    return this.claimNow(key, value, ttlSeconds);
  }

  async set(key: string, value: string, ttlSeconds: number): Promise<void> {
    this.setNow(key, value, ttlSeconds);
  }

  async get(key: string): Promise<string | undefined> {
    return this.#live(key);
  }

  /** {@link MemoryCallbackStore.claim} without a promise: the guard's path for its own store. @internal */
  claimNow(key: string, value: string, ttlSeconds: number): boolean {
    if (this.#live(key) !== undefined) return false;
    this.#put(key, value, ttlSeconds);
    return true;
  }

  /** {@link MemoryCallbackStore.set} without a promise. @internal */
  setNow(key: string, value: string, ttlSeconds: number): void {
    this.#put(key, value, ttlSeconds);
  }

  /**
   * Replaces the value of a live entry, keeping its expiry and its place: how the guard records
   * the outcome of a callback it claimed a moment ago, without a second entry. Returns false, and
   * writes nothing, when the entry expired or was dropped. @internal
   */
  replaceNow(key: string, value: string): boolean {
    const entry = this.#entries.get(key);
    if (entry === undefined || entry.expires <= this.#now()) return false;
    entry.value = value;
    return true;
  }

  #put(key: string, value: string, ttlSeconds: number): void {
    const now = this.#now();
    const seq = ++this.#seq;
    // A key written again counts from now: its older place in the queue is skipped as stale.
    this.#entries.set(key, { value, expires: now + ttlSeconds * 1000, seq });
    this.#queueKeys.push(key);
    this.#queueSeqs.push(seq);
    // Frees expired entries now, not only when the size bound drops them; at most once a second.
    if (now - this.#sweptAt >= SWEEP_INTERVAL_MS || now < this.#sweptAt) this.#sweep();
    while (this.#entries.size > this.#maxEntries && this.#head < this.#queueKeys.length) {
      const oldest = this.#queueKeys[this.#head] as string;
      if (this.#entries.get(oldest)?.seq === this.#queueSeqs[this.#head]) this.#entries.delete(oldest);
      this.#head += 1;
    }
    this.#compact();
  }

  #live(key: string): string | undefined {
    const entry = this.#entries.get(key);
    if (!entry) return undefined;
    if (entry.expires <= this.#now()) {
      this.#entries.delete(key);
      return undefined;
    }
    return entry.value;
  }

  // Entries are written with equal TTLs in practice, so expired ones lead the queue.
  #sweep(): void {
    const now = this.#now();
    this.#sweptAt = now;
    while (this.#head < this.#queueKeys.length) {
      const key = this.#queueKeys[this.#head] as string;
      const entry = this.#entries.get(key);
      const current = entry !== undefined && entry.seq === this.#queueSeqs[this.#head];
      if (current && entry.expires > now) break;
      if (current) this.#entries.delete(key);
      this.#head += 1;
    }
    this.#compact();
  }

  // Drops the consumed front of the queue once it is most of it.
  #compact(): void {
    if (this.#head < 1024 || this.#head * 2 < this.#queueKeys.length) return;
    this.#queueKeys = this.#queueKeys.slice(this.#head);
    this.#queueSeqs = this.#queueSeqs.slice(this.#head);
    this.#head = 0;
  }
}

/** The store key of a callback: a hash, so no code or state is ever stored in clear. Pure. */
export function callbackKey(appid: string, code: string, state: string): string {
  return `wechat:callback:${sha256(`${appid}\u0000${code}\u0000${state}`)}`;
}

/**
 * The key of a callback in the package's own in-memory store: the same hash as
 * {@link callbackKey}, as its 32 bytes in a 32-character one-byte string. A process remembers up
 * to 10 000 callbacks for a minute; this key is a flat 48-byte string where the shared-store key
 * is 80 characters built from two. Pure.
 */
export function memoryCallbackKey(appid: string, code: string, state: string): string {
  return crypto.hash('sha256', `${appid}\u0000${code}\u0000${state}`, 'binary');
}

/**
 * A hash of the request's session id (express-session's `req.sessionID`, @fastify/session's
 * `req.session.sessionId`). Undefined when the host exposes none: duplicate handling is then
 * skipped, since a duplicate could not be told from a replay by someone else.
 */
export function sessionTag(req: { sessionID?: unknown; session?: unknown }): string | undefined {
  const id = sessionIdOf(req);
  return id === undefined ? undefined : sha256(id);
}

/** The request's session id as the host exposes it; undefined when none. Never stored. */
export function sessionIdOf(req: { sessionID?: unknown; session?: unknown }): string | undefined {
  const fromSession = typeof req.session === 'object' && req.session !== null ? (req.session as { sessionId?: unknown }).sessionId : undefined;
  const id = typeof req.sessionID === 'string' ? req.sessionID : fromSession;
  return typeof id === 'string' && id !== '' ? id : undefined;
}

/** Parses a stored record; undefined for anything unreadable. Pure. */
export function parseRecord(value: string | null | undefined): CallbackRecord | undefined {
  if (typeof value !== 'string') return undefined;
  try {
    const record = JSON.parse(value) as Partial<CallbackRecord> | null;
    // Only an object can hold a string status: null, numbers, strings and arrays fail the first test.
    const readable =
      typeof record?.status === 'string' && Array.isArray(record.sessions) && record.sessions.every((session) => typeof session === 'string');
    return readable ? (record as CallbackRecord) : undefined;
  } catch {
    return undefined;
  }
}

function sha256(text: string): string {
  return crypto.hash('sha256', text, 'hex');
}
