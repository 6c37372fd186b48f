/**
 * The duplicate-callback guard on its own, at the edges of time: a claim that expires while the
 * login runs, a wait that ends exactly at its deadline, and the store calls each step makes.
 * Date is faked (timers are real), so "exactly when the claim expires" is a millisecond the test sets.
 */
import { createHash } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { Request } from 'express';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { DuplicateCallbackGuard, type PassportActions } from '../lib/duplicate-guard.js';
import { MemoryCallbackStore, type WeChatCallbackStore } from '../lib/index.js';

const T0 = 1_700_000_000_000;
const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['Date'], now: T0 });
});
afterEach(() => {
  vi.useRealTimers();
});

/** A request as the guard sees it: a session id, and the 'close' event of the response going out. */
function browserRequest(sessionID: string): Request & EventEmitter & { sessionID: string } {
  return Object.assign(new EventEmitter(), { sessionID }) as unknown as Request & EventEmitter & { sessionID: string };
}

/** An in-memory store that records each call; `now` is the store's own clock (the faked Date by default). */
function recordingStore(now?: () => number) {
  const memory = new MemoryCallbackStore(now ? { now } : {});
  const calls: Array<{ op: 'claim' | 'set' | 'get'; ttl?: number; value?: string }> = [];
  const store: WeChatCallbackStore = {
    claim: (key, value, ttl) => (calls.push({ op: 'claim', ttl, value }), memory.claim(key, value, ttl)),
    set: (key, value, ttl) => (calls.push({ op: 'set', ttl, value }), memory.set(key, value, ttl)),
    get: (key) => (calls.push({ op: 'get' }), memory.get(key)),
  };
  return { store, calls, ops: () => calls.map((call) => call.op) };
}

/** Passport's actions, and a promise of the first one taken. */
function passportActions() {
  let taken: (outcome: { action: string; args: unknown[] }) => void = () => {};
  const outcome = new Promise<{ action: string; args: unknown[] }>((resolve) => (taken = resolve));
  const actions: PassportActions = {
    success: (...args) => taken({ action: 'success', args }),
    fail: (...args) => taken({ action: 'fail', args }),
  };
  return { actions, outcome };
}

/** Lets every pending store call and its follow-ups run (timers are real, so this is a real turn). */
const storeSettles = () => new Promise((resolve) => setTimeout(resolve, 20));

const LOGIN = { status: 'success', user: { id: 'alice' }, info: undefined } as const;

/** A login the guard claimed for `sessionID`, on `store`. */
async function claimedLogin(guard: DuplicateCallbackGuard, sessionID: string) {
  const req = browserRequest(sessionID);
  const callback = guard.callbackOf(req, 'wx-app', 'the-code', 'the-state');
  if (!callback) throw new Error('no session');
  expect(await guard.claim(callback)).toBe(true);
  return { req, callback };
}

describe('a login that outlasts its claim', () => {
  it('writes no outcome when it ends exactly as the claim expires, so no duplicate is answered from it', async () => {
    const { store, ops } = recordingStore();
    const guard = new DuplicateCallbackGuard(store, 60, 1_000);
    const { req, callback } = await claimedLogin(guard, 'session-0');
    vi.setSystemTime(callback.expiresAt);
    await new Promise<void>((end) => guard.finish(callback, LOGIN, end, req));
    await storeSettles();
    expect(ops()).toEqual(['claim']);
    expect(await store.get(callback.key)).toBeUndefined();
  });

  it('writes no outcome when it ends after the claim expired', async () => {
    const { store, ops } = recordingStore();
    const guard = new DuplicateCallbackGuard(store, 60, 1_000);
    const { req, callback } = await claimedLogin(guard, 'session-0');
    vi.setSystemTime(callback.expiresAt + 5_000);
    await new Promise<void>((end) => guard.finish(callback, LOGIN, end, req));
    await storeSettles();
    expect(ops()).toEqual(['claim']);
  });

  it('writes its outcome for what is left of the claim, in whole seconds rounded up', async () => {
    const { store, calls } = recordingStore();
    const guard = new DuplicateCallbackGuard(store, 60, 1_000);
    const { req, callback } = await claimedLogin(guard, 'session-0');
    vi.setSystemTime(callback.expiresAt - 1_500);
    await new Promise<void>((end) => guard.finish(callback, LOGIN, end, req));
    expect(calls.map((call) => [call.op, call.ttl])).toEqual([['claim', 60], ['set', 2]]);
  });
});

describe('the session Passport gives the browser at login', () => {
  /** A login that ended in success for 'session-0'; the store's own clock stays at T0, so its record stays readable. */
  async function succeeded() {
    const recorded = recordingStore(() => T0);
    const guard = new DuplicateCallbackGuard(recorded.store, 60, 1_000);
    const { req, callback } = await claimedLogin(guard, 'session-0');
    await new Promise<void>((end) => guard.finish(callback, LOGIN, end, req));
    return { ...recorded, req, callback };
  }

  it('joins the record when the response goes out, for the time left of the claim', async () => {
    const { req, callback, calls } = await succeeded();
    req.sessionID = 'session-1';
    vi.setSystemTime(callback.expiresAt - 2_500);
    req.emit('close');
    await storeSettles();
    expect(calls.map((call) => [call.op, call.ttl])).toEqual([['claim', 60], ['set', 60], ['get', undefined], ['set', 3]]);
    expect(JSON.parse(calls[3]?.value ?? '{}').sessions).toEqual([sha256('session-0'), sha256('session-1')]);
  });

  it('is not written once the claim has expired, not even for a second', async () => {
    const { req, callback, ops } = await succeeded();
    req.sessionID = 'session-1';
    vi.setSystemTime(callback.expiresAt);
    req.emit('close');
    await storeSettles();
    expect(ops()).toEqual(['claim', 'set', 'get']);
  });

  it('is not looked for after a failed login, even when the host gave the browser a new session', async () => {
    const { store, ops } = recordingStore();
    const guard = new DuplicateCallbackGuard(store, 60, 1_000);
    const { req, callback } = await claimedLogin(guard, 'session-0');
    const refused = { status: 'fail', challenge: { message: 'not invited' }, httpStatus: 403 } as const;
    await new Promise<void>((end) => guard.finish(callback, refused, end, req));
    req.sessionID = 'session-1';
    req.emit('close');
    await storeSettles();
    expect(ops()).toEqual(['claim', 'set']);
  });

  it('costs no store call when the host kept the session id', async () => {
    const { req, ops } = await succeeded();
    req.emit('close');
    await storeSettles();
    expect(ops()).toEqual(['claim', 'set']);
  });
});

describe('a duplicate waiting for the first request', () => {
  it('is refused with WECHAT_DUPLICATE_CALLBACK once waitMs has fully passed while the first is still pending', async () => {
    const { store } = recordingStore();
    const guard = new DuplicateCallbackGuard(store, 60, 200);
    const { callback } = await claimedLogin(guard, 'session-0');
    const duplicate = { ...callback, claimed: false };
    const { actions, outcome } = passportActions();
    guard.replay(duplicate, actions, browserRequest('session-0'), await store.get(callback.key));
    vi.setSystemTime(T0 + 200); // the first poll comes exactly at the deadline
    const ended = await outcome;
    expect(ended.action).toBe('fail');
    expect(ended.args).toEqual([expect.objectContaining({ code: 'WECHAT_DUPLICATE_CALLBACK' }), 401]);
  });

  it('is answered from the record it was handed, even when the store stops answering', async () => {
    const owner = sha256('session-1');
    const record = JSON.stringify({ status: 'success', user: { id: 'alice' }, info: { message: 'welcome' }, sessions: [sha256('session-0'), owner] });
    const unreachable: WeChatCallbackStore = {
      claim: () => Promise.reject(new Error('store unreachable')),
      set: () => Promise.reject(new Error('store unreachable')),
      get: () => Promise.reject(new Error('store unreachable')),
    };
    const guard = new DuplicateCallbackGuard(unreachable, 60, 1_000);
    const req = browserRequest('session-1');
    const callback = guard.callbackOf(req, 'wx-app', 'the-code', 'the-state');
    if (!callback) throw new Error('no session');
    const { actions, outcome } = passportActions();
    guard.replay(callback, actions, req, record);
    expect(await outcome).toEqual({ action: 'success', args: [{ id: 'alice' }, { message: 'welcome' }] });
  });
});
