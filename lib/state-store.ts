/**
 * The default state store: the CSRF nonces of the logins a browser has started, in its session.
 * passport-oauth2's own stores keep one nonce per session key, so a second tab (or a double click,
 * or the back button) replaced the first tab's login, and the first tab's callback failed. Here a
 * session holds the last few logins it started, each single-use and expiring, and whichever the
 * user finishes works (docs/state.md).
 */
import { randomHex } from './builtins.js';
import type { Request } from 'express';
import type OAuth2Strategy from 'passport-oauth2';

/** How many logins one browser may have pending per flow; starting another forgets the oldest. */
export const MAX_PENDING_LOGINS = 5;
/** How long a started login stays valid: twice WeChat's 5-minute code, for a user who hesitates. */
export const PENDING_LOGIN_TTL_MS = 10 * 60 * 1000;

/** passport-oauth2's wording, which failures.ts turns into WECHAT_STATE_MISSING / _MISMATCH. */
const NO_PENDING = 'Unable to verify authorization request state.';
const NOT_PENDING = 'Invalid authorization request state.';
const NO_SESSION = 'OAuth 2.0 authentication requires session support when using state. Did you forget to use express-session middleware?';

/** One started login, as the session keeps it. `state`: the app state passed to authenticate(). */
interface PendingLogin {
  handle: string;
  expiresAt: number;
  state?: unknown;
}

type SessionSlot = { pending?: unknown } & Record<string, unknown>;
type Session = Record<string, SessionSlot | undefined>;

/**
 * A passport-oauth2 `StateStore` over the session (express-session, @fastify/session): the pending
 * logins of one session key. The handle sent to WeChat is 24 hex digits, as WeChat's `state`
 * allows only letters and digits.
 */
export class PendingLoginStateStore {
  readonly #key: string;
  readonly #now: () => number;

  constructor(options: { key: string; now?: () => number }) {
    this.#key = options.key;
    this.#now = options.now ?? Date.now;
  }

  store(req: Request, state: unknown, _meta: OAuth2Strategy.Metadata, callback: (err: Error | null, handle?: string) => void): void {
    const session = sessionOf(req);
    if (!session) return callback(new Error(NO_SESSION));
    const now = this.#now();
    const login: PendingLogin = { handle: randomHex(12), expiresAt: now + PENDING_LOGIN_TTL_MS };
    if (state !== undefined && state !== null && state !== false) login.state = state;
    const kept = this.#live(session, now);
    if (kept.length >= MAX_PENDING_LOGINS) kept.splice(0, kept.length - (MAX_PENDING_LOGINS - 1));
    kept.push(login);
    this.#keep(session, kept);
    callback(null, login.handle);
  }

  verify(
    req: Request,
    providedState: string,
    _meta: OAuth2Strategy.Metadata,
    callback: (err: Error | null, ok: boolean, info?: unknown) => void,
  ): void {
    const session = sessionOf(req);
    if (!session) return callback(new Error(NO_SESSION), false);
    const live = this.#live(session, this.#now());
    if (live.length === 0) {
      this.#keep(session, []);
      return callback(null, false, { message: NO_PENDING });
    }
    const index = typeof providedState === 'string' ? live.findIndex((login) => login.handle === providedState) : -1;
    if (index === -1) {
      // A state this browser never got: the logins it did start stay pending.
      this.#keep(session, live);
      return callback(null, false, { message: NOT_PENDING });
    }
    const [login] = live.splice(index, 1); // single-use
    this.#keep(session, live);
    callback(null, true, login?.state);
  }

  /**
   * The session's pending logins that have not expired, oldest first. A login that passport-oauth2's
   * own stores started (`state`: a handle, or `{ handle, state }`), e.g. before an upgrade, counts
   * as the oldest; it moves into `pending` (with its own 10 minutes) the first time the session is
   * written, so it is used once like any other.
   */
  #live(session: Session, now: number): PendingLogin[] {
    const slot = session[this.#key];
    const live: PendingLogin[] = [];
    if (slot === undefined || slot === null) return live;
    const legacy = legacyLogin(slot.state, now + PENDING_LOGIN_TTL_MS);
    if (legacy) live.push(legacy);
    // A loop, not spreads and a filter: this runs twice per login (its start and its callback).
    if (Array.isArray(slot.pending)) for (const login of slot.pending as unknown[]) if (isLive(login, now)) live.push(login);
    return live;
  }

  /** Writes the pending logins back, and leaves no empty slot in the session. */
  #keep(session: Session, pending: PendingLogin[]): void {
    const slot = session[this.#key];
    if (slot === undefined || holdsOnlyPending(slot)) {
      // The usual slot: nothing but this store's own list.
      if (pending.length > 0) session[this.#key] = { pending };
      else if (slot !== undefined) delete session[this.#key];
      return;
    }
    const { pending: _old, state: _legacy, ...rest } = slot ?? {};
    if (pending.length > 0) session[this.#key] = { ...rest, pending };
    else if (Object.keys(rest).length > 0) session[this.#key] = rest;
    else delete session[this.#key];
  }
}

function isLive(login: unknown, now: number): login is PendingLogin {
  const candidate = login as Partial<PendingLogin> | null;
  return typeof candidate?.handle === 'string' && typeof candidate.expiresAt === 'number' && candidate.expiresAt > now;
}

/** Whether a session slot is a plain object whose only own key (if any) is `pending`. */
function holdsOnlyPending(slot: unknown): boolean {
  if (typeof slot !== 'object' || slot === null || Array.isArray(slot)) return false;
  for (const key of Object.keys(slot)) if (key !== 'pending') return false;
  return true;
}

/** A login passport-oauth2's NonceStore (a handle) or StateStore (`{ handle, state }`) kept. */
function legacyLogin(value: unknown, expiresAt: number): PendingLogin | undefined {
  if (typeof value === 'string') return { handle: value, expiresAt };
  const stored = value as { handle?: unknown; state?: unknown } | null | undefined;
  if (typeof stored?.handle !== 'string') return undefined;
  return { handle: stored.handle, expiresAt, ...(stored.state === undefined ? {} : { state: stored.state }) };
}

function sessionOf(req: Request): Session | undefined {
  const session = (req as { session?: unknown }).session;
  return typeof session === 'object' && session !== null ? (session as Session) : undefined;
}
