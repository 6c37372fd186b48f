/**
 * The duplicate-callback protocol. WeChat sometimes delivers the same callback twice (a double
 * redirect, a reload in WeChat's browser); a second code exchange would fail with 40163 although
 * the first logged the user in (docs/production.md, "Duplicate callbacks"). So:
 *
 * 1. a callback is claimed only once its state verified, so a request that cannot prove it owns
 *    the login (a leaked URL, another browser) never blocks the owner;
 * 2. the request that claimed it records its outcome before sending it;
 * 3. a duplicate ends as the first did — one whose state verified but lost the claim, or one whose
 *    state was used up by the first — but only for a session that owns the login: the one that
 *    claimed it, or the one Passport gave that browser when it logged the user in. Any other
 *    session fails like a forged state and learns nothing of the record.
 */
import type { Request } from 'express';
import { MemoryCallbackStore, callbackKey, memoryCallbackKey, parseRecord, sessionIdOf, sessionTag, type CallbackRecord, type WeChatCallbackStore } from './duplicates.js';
import { STATE_MISMATCH } from './failures.js';

/** The Passport actions a duplicate is ended with. */
export interface PassportActions {
  success(user: Express.User, info?: object): void;
  fail(challenge: object, status?: number): void;
}

/** One callback as the request finishing it sees it. */
export interface GuardedCallback {
  key: string;
  /** Hash of this request's session id. */
  session: string;
  /** The session id itself, kept in memory for this request only: never stored. */
  sessionID?: string;
  /** Whether this request claimed the callback (and so records its outcome). */
  claimed: boolean;
  /** When a claim made now expires (ms since the epoch). */
  expiresAt: number;
}

/** How a claimed login ended, as recorded for its duplicates. */
export type CallbackOutcome =
  | { status: 'success'; user: unknown; info: unknown }
  | { status: 'fail'; challenge: unknown; httpStatus: number | undefined }
  | { status: 'error' };

const DUPLICATE_UNFINISHED = {
  code: 'WECHAT_DUPLICATE_CALLBACK',
  message: 'This WeChat login was already being completed by another request, which did not succeed. Please log in again.',
} as const;
const POLL_MS = 50;
/** The longest a store call may take before the store counts as unreachable. */
const STORE_DEADLINE_MS = 2_000;
/** Owners a record keeps: the claiming session and the last few the browser was given at login. */
const MAX_OWNERS = 5;

/** Duplicate-callback handling of one strategy, over its store. */
export class DuplicateCallbackGuard {
  readonly store: WeChatCallbackStore;
  readonly ttlSeconds: number;
  readonly waitMs: number;

  /** The store when it is the package's own in-memory one: answered at once, keyed compactly. */
  readonly #memory: MemoryCallbackStore | undefined;

  constructor(store: WeChatCallbackStore, ttlSeconds: number, waitMs: number) {
    this.store = store;
    this.#memory = plainMemoryStore(store);
    this.ttlSeconds = ttlSeconds;
    this.waitMs = waitMs;
  }

  /**
   * The callback a request finishes; undefined when the host exposes no session id, since a
   * duplicate could then not be told from someone else replaying the URL (the guard stays out).
   */
  callbackOf(req: Request, appId: string, code: string, state: string): GuardedCallback | undefined {
    const sessionID = sessionIdOf(req as Request & { sessionID?: unknown });
    if (sessionID === undefined) return undefined;
    const key = this.#memory ? memoryCallbackKey(appId, code, state) : callbackKey(appId, code, state);
    return { key, session: sessionTag({ sessionID }) as string, sessionID, claimed: false, expiresAt: Date.now() + this.ttlSeconds * 1000 };
  }

  /**
   * For a callback whose state did not verify: when this session owns a recorded login (a reload
   * whose state the first request used up), ends the request from the record and resolves `true`.
   * Resolves `false` otherwise — nothing recorded, or someone else's login — and the request then
   * fails exactly as a bad state does, so a stranger cannot even tell whether the URL was used.
   * Rejects when the store cannot be read in time.
   */
  async endIfRecorded(callback: GuardedCallback, actions: PassportActions, req: Request): Promise<boolean> {
    const value = await this.call(() => this.store.get(callback.key));
    const record = parseRecord(value);
    if (!record || !record.sessions.includes(callback.session)) return false;
    this.replay(callback, actions, req, value);
    return true;
  }

  /** Claims a callback whose state verified; resolves whether this request now owns the exchange. */
  async claim(callback: GuardedCallback): Promise<boolean> {
    return this.claimNow(callback) ?? this.#claimLater(callback);
  }

  /**
   * The claim, decided at once when the store is the in-memory one (no promise, no microtask:
   * a few µs of every login); undefined when the store must be asked and awaited.
   */
  claimNow(callback: GuardedCallback): boolean | undefined {
    const memory = this.#memory;
    if (!memory) return undefined;
    callback.claimed = memory.claimNow(callback.key, pendingRecord(callback), this.ttlSeconds);
    return callback.claimed;
  }

  async #claimLater(callback: GuardedCallback): Promise<boolean> {
    callback.claimed = (await this.call(() => this.store.claim(callback.key, pendingRecord(callback), this.ttlSeconds))) === true;
    return callback.claimed;
  }

  /**
   * Records how a claimed login ended, then ends it with `end`. A request that did not claim the
   * callback (its state failed, or the store was down) records nothing: it must not speak for the
   * login's owner.
   */
  finish(callback: GuardedCallback, outcome: CallbackOutcome, end: () => void, req: Request): void {
    if (!callback.claimed) return end();
    const value = serialize({ ...outcome, sessions: [callback.session], expiresAt: callback.expiresAt });
    const ended = (): void => {
      try {
        end();
      } catch {
        // The host already answered this request (e.g. headers sent); nothing left to tell it.
      }
      if (outcome.status === 'success') this.rememberSessionAfterLogin(callback, req);
    };
    const ttlSeconds = secondsUntil(callback.expiresAt);
    if (ttlSeconds <= 0) return ended(); // the claim already expired: nothing left to answer duplicates
    const memory = this.#memory;
    if (memory) {
      // The claim's entry takes the outcome in place: it already expires when the claim does.
      if (!memory.replaceNow(callback.key, value)) memory.setNow(callback.key, value, ttlSeconds);
      return ended();
    }
    this.call(() => this.store.set(callback.key, value, ttlSeconds)).then(ended, ended);
  }

  /**
   * Ends a duplicate as the first request ended: waits (up to `waitMs`) while it is pending, then
   * replays its success or failure. `first` is a value already read from the store.
   */
  replay(callback: GuardedCallback, actions: PassportActions, req: Request, first?: string | null): void {
    const deadline = Date.now() + this.waitMs;
    const decide = (value: string | null | undefined): void => {
      const record = parseRecord(value);
      if (record && !record.sessions.includes(callback.session)) return actions.fail({ ...STATE_MISMATCH.info }, STATE_MISMATCH.status);
      if (record?.status === 'pending' && Date.now() < deadline) {
        setTimeout(poll, POLL_MS);
        return;
      }
      if (record?.status === 'success') {
        actions.success(record.user as Express.User, record.info as object);
        this.rememberSessionAfterLogin(callback, req);
        return;
      }
      if (record?.status === 'fail') return actions.fail(record.challenge as object, record.httpStatus);
      actions.fail({ ...DUPLICATE_UNFINISHED }, 401);
    };
    const poll = (): void => {
      this.call(() => this.store.get(callback.key))
        .then(decide, () => actions.fail({ ...DUPLICATE_UNFINISHED }, 401))
        .catch(() => {
          // The host already answered this request; nothing left to tell it.
        });
    };
    if (first === undefined) return poll();
    try {
      decide(first);
    } catch {
      // The host already answered this request; nothing left to tell it.
    }
  }

  /**
   * Passport gives the session a new id when it logs the user in (session fixation defence); the
   * browser's next duplicate (a reload) comes with that id. Once the response is out — the session
   * regenerated and saved — the new id joins the record's owners.
   */
  private rememberSessionAfterLogin(callback: GuardedCallback, req: Request): void {
    const raw = ((req as { raw?: unknown }).raw ?? req) as Partial<Pick<Request, 'once'>>;
    if (typeof raw.once !== 'function') return;
    raw.once('close', () => {
      // Most logins keep their session id (no req.login, or keepSessionInfo): nothing to hash then.
      if (sessionIdOf(req as Request & { sessionID?: unknown }) === callback.sessionID) return;
      const now = sessionTag(req as Request & { sessionID?: unknown });
      if (now === undefined || now === callback.session) return;
      this.call(() => this.store.get(callback.key))
        .then((value) => {
          const record = parseRecord(value);
          if (!record || record.status !== 'success' || record.sessions.includes(now)) return;
          // The record keeps the expiry of its claim: reloads never extend its life.
          const ttlSeconds = record.expiresAt === undefined ? this.ttlSeconds : secondsUntil(record.expiresAt);
          if (ttlSeconds <= 0) return;
          const [claimer = now, ...later] = record.sessions;
          const sessions = [claimer, ...later.slice(-(MAX_OWNERS - 2)), now];
          return this.call(() => this.store.set(callback.key, serialize({ ...record, sessions }), ttlSeconds));
        })
        .catch(() => {
          // Without the new id a reload fails like a forged state; the user is logged in anyway.
        });
    });
  }

  /**
   * One store call, made safe: a store may throw or answer synchronously, or never answer (a Redis
   * client queueing commands while offline). A call that does not settle within the deadline
   * rejects, and the store counts as unreachable for this request.
   */
  private call<T>(operation: () => Promise<T> | T): Promise<T> {
    // The in-memory store answers at once: no deadline (and no timer per call) to keep.
    if (this.#memory) return Promise.resolve().then(operation);
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => reject(new Error('The duplicate-callback store did not answer in time.')), Math.min(STORE_DEADLINE_MS, this.waitMs));
      timer.unref();
    });
    return Promise.race([Promise.resolve().then(operation), deadline]).finally(() => clearTimeout(timer));
  }
}

/** The store when it is the package's own in-memory one, not a subclass that may do anything. */
function plainMemoryStore(store: WeChatCallbackStore): MemoryCallbackStore | undefined {
  return Object.getPrototypeOf(store) === MemoryCallbackStore.prototype ? (store as MemoryCallbackStore) : undefined;
}

function pendingRecord(callback: GuardedCallback): string {
  return JSON.stringify({ status: 'pending', sessions: [callback.session], expiresAt: callback.expiresAt } satisfies CallbackRecord);
}

// Whole seconds, as stores take them (Redis EX); at least 1 while the claim lives.
function secondsUntil(expiresAt: number): number {
  const ms = expiresAt - Date.now();
  return ms <= 0 ? 0 : Math.max(1, Math.ceil(ms / 1000));
}

function serialize(record: CallbackRecord): string {
  try {
    return JSON.stringify(record);
  } catch {
    // A user object JSON cannot hold (a cycle, a BigInt): its duplicates fail, the login stands.
    return JSON.stringify({ status: 'error', sessions: record.sessions, expiresAt: record.expiresAt } satisfies CallbackRecord);
  }
}
