/**
 * What the pending-logins state store leaves in the session (docs/state.md): an app's session store
 * persists it, so it must hold only live logins, never an empty slot, and never app state that was
 * not given. The store is driven as passport-oauth2 drives it, on a plain session object.
 */
import type { Request } from 'express';
import { describe, expect, it } from 'vitest';
import { MAX_PENDING_LOGINS, PENDING_LOGIN_TTL_MS, PendingLoginStateStore } from '../lib/state-store.js';

const KEY = 'oauth2:open.weixin.qq.com';
const META = { authorizationURL: 'https://open.weixin.qq.com/connect/qrconnect', tokenURL: 'https://api.weixin.qq.com/x', clientID: 'wx1', callbackURL: 'https://a.example/cb' };

function storeAt(now: { t: number }) {
  return new PendingLoginStateStore({ key: KEY, now: () => now.t });
}

const requestWith = (session: unknown) => ({ session }) as unknown as Request;

function start(store: PendingLoginStateStore, session: Record<string, unknown>, state?: unknown): string {
  let handle = '';
  store.store(requestWith(session), state, META, (err, h) => {
    if (err) throw err;
    handle = h ?? '';
  });
  return handle;
}

function verify(store: PendingLoginStateStore, session: unknown, state: unknown): { err: Error | null; ok: boolean; info: unknown } {
  let result = { err: null as Error | null, ok: false, info: undefined as unknown };
  store.verify(requestWith(session), state as string, META, (err, ok, info) => {
    result = { err, ok, info };
  });
  return result;
}

describe('the pending-logins state store, in the session', () => {
  it.each([
    ['undefined', undefined],
    ['null', null],
    ['false', false],
  ])('keeps no app state for a login started with %s', (_name, state) => {
    const session: Record<string, unknown> = {};
    start(storeAt({ t: 0 }), session, state);
    const [login] = (session[KEY] as { pending: object[] }).pending;
    expect(login).not.toHaveProperty('state');
  });

  it('gives back app state that is 0 or an empty string as it was given', () => {
    const store = storeAt({ t: 0 });
    const session: Record<string, unknown> = {};
    const handle = start(store, session, 0);
    expect(verify(store, session, handle)).toMatchObject({ ok: true, info: 0 });
  });

  it('removes the slot from the session once its last login is used', () => {
    const store = storeAt({ t: 0 });
    const session: Record<string, unknown> = {};
    expect(verify(store, session, start(store, session)).ok).toBe(true);
    expect(session).toEqual({});
  });

  it('keeps other data the app put under the same key when the last login is used', () => {
    const store = storeAt({ t: 0 });
    const session: Record<string, unknown> = { [KEY]: { note: 'the app wrote this' } };
    verify(store, session, start(store, session));
    expect(session).toEqual({ [KEY]: { note: 'the app wrote this' } });
  });

  it(`keeps at most ${MAX_PENDING_LOGINS} logins, a legacy one counted and forgotten first, and the app's own data beside them`, () => {
    const store = storeAt({ t: 0 });
    const session: Record<string, unknown> = { [KEY]: { note: 'the app wrote this', state: 'legacy-handle' } };
    const handles = Array.from({ length: MAX_PENDING_LOGINS + 2 }, () => start(store, session));
    const slot = session[KEY] as { note: string; state?: unknown; pending: { handle: string }[] };
    expect(slot.note).toBe('the app wrote this');
    expect(slot).not.toHaveProperty('state');
    expect(slot.pending.map((login) => login.handle)).toEqual(handles.slice(-MAX_PENDING_LOGINS));
    expect(verify(store, session, 'legacy-handle').ok).toBe(false);
    expect(verify(store, session, handles.at(-1)).ok).toBe(true);
  });

  it('drops expired logins from the session when a state does not match', () => {
    const now = { t: 0 };
    const store = storeAt(now);
    const session: Record<string, unknown> = {};
    start(store, session);
    now.t = PENDING_LOGIN_TTL_MS - 1;
    const live = start(store, session);
    now.t = PENDING_LOGIN_TTL_MS + 1; // the first expired, the second lives
    expect(verify(store, session, 'not-a-pending-state')).toMatchObject({ ok: false, info: { message: 'Invalid authorization request state.' } });
    expect((session[KEY] as { pending: { handle: string }[] }).pending.map((login) => login.handle)).toEqual([live]);
  });

  it('treats a login as expired at the very millisecond its time is up', () => {
    const now = { t: 0 };
    const store = storeAt(now);
    const session: Record<string, unknown> = {};
    const handle = start(store, session);
    now.t = PENDING_LOGIN_TTL_MS;
    expect(verify(store, session, handle)).toMatchObject({ ok: false, info: { message: 'Unable to verify authorization request state.' } });
  });

  it('refuses a state that is not a string, leaving the pending logins as they were', () => {
    const store = storeAt({ t: 0 });
    const session: Record<string, unknown> = {};
    const handle = start(store, session);
    expect(verify(store, session, ['x']).ok).toBe(false);
    expect(verify(store, session, handle).ok).toBe(true);
  });

  it.each([
    ['no session', undefined],
    ['a session that is not an object', 'cookie-session-string'],
  ])('errors, as passport-oauth2 does, for a request with %s', (_name, session) => {
    const result = verify(storeAt({ t: 0 }), session, 'abc');
    expect(result.ok).toBe(false);
    expect(result.err?.message).toMatch(/^OAuth 2\.0 authentication requires session support/);
  });

  it('ignores a hostile pending list: not an array, or entries without a handle or expiry', () => {
    const store = storeAt({ t: 0 });
    for (const pending of ['x', [null, 1, { handle: 'h' }, { expiresAt: 10 }]]) {
      const session: Record<string, unknown> = { [KEY]: { pending } };
      expect(verify(store, session, 'h')).toMatchObject({ ok: false, info: { message: 'Unable to verify authorization request state.' } });
    }
  });

  it("gives back the app state of a legacy { handle, state } login, and none for a legacy handle's", () => {
    const store = storeAt({ t: 0 });
    expect(verify(store, { [KEY]: { state: { handle: 'h1', state: { tab: 'old' } } } }, 'h1')).toMatchObject({ ok: true, info: { tab: 'old' } });
    const bare = verify(store, { [KEY]: { state: { handle: 'h2' } } }, 'h2');
    expect(bare.ok).toBe(true);
    expect(bare.info).toBeUndefined();
  });
});
