/**
 * The pieces duplicate handling keeps in its store: the in-memory store's life and size bounds,
 * the session hash that says who owns a login, and the reading of a stored record.
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { parseRecord, sessionTag } from '../lib/duplicates.js';
import { MemoryCallbackStore } from '../lib/index.js';

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/** A store on a clock the test moves. */
function storeOnClock(options: { maxEntries?: number } = {}) {
  const clock = { now: 1_700_000_000_000 };
  return { clock, store: new MemoryCallbackStore({ ...options, now: () => clock.now }) };
}

describe('MemoryCallbackStore: time to live', () => {
  it('forgets an entry at the very millisecond its time to live ends', async () => {
    const { clock, store } = storeOnClock();
    await store.set('k', 'v', 60);
    clock.now += 59_999;
    expect(await store.get('k')).toBe('v');
    clock.now += 1;
    expect(await store.get('k')).toBeUndefined();
  });

  it('counts no expired entry in size, without any read of them', async () => {
    const { clock, store } = storeOnClock();
    await store.set('a', 'v', 60);
    await store.set('b', 'v', 60);
    expect(store.size).toBe(2);
    clock.now += 60_000;
    expect(store.size).toBe(0);
  });

  it('counts only the live entries in size once some have expired', async () => {
    const { clock, store } = storeOnClock();
    await store.set('old', 'v', 10);
    clock.now += 5_000;
    await store.set('new', 'v', 10);
    clock.now += 5_000;
    expect(store.size).toBe(1);
    expect(await store.get('new')).toBe('v');
  });

  it('drops an expired entry once it is read, even behind a live one', async () => {
    const { clock, store } = storeOnClock();
    await store.set('long', 'v', 100);
    await store.set('short', 'v', 1);
    clock.now += 2_000;
    expect(await store.get('short')).toBeUndefined();
    expect(store.size).toBe(1);
  });
});

describe('MemoryCallbackStore: size bound', () => {
  it('counts a rewritten entry as the newest, so the bound drops an older one instead', async () => {
    const { store } = storeOnClock({ maxEntries: 2 });
    await store.set('a', 'first', 60);
    await store.set('b', 'v', 60);
    await store.set('a', 'rewritten', 60);
    await store.set('c', 'v', 60);
    expect(await store.get('a')).toBe('rewritten');
    expect(await store.get('b')).toBeUndefined();
    expect(await store.get('c')).toBe('v');
  });
});

describe('sessionTag: the owner of a login', () => {
  it("hashes express-session's req.sessionID", () => {
    expect(sessionTag({ sessionID: 'express-id' })).toBe(sha256('express-id'));
  });

  it("hashes @fastify/session's req.session.sessionId when there is no req.sessionID", () => {
    expect(sessionTag({ session: { sessionId: 'fastify-id' } })).toBe(sha256('fastify-id'));
  });

  it('prefers req.sessionID over a sessionId inside req.session', () => {
    expect(sessionTag({ sessionID: 'express-id', session: { sessionId: 'other' } })).toBe(sha256('express-id'));
  });

  it('gives no owner for a request without a session, or with a null one', () => {
    expect(sessionTag({})).toBeUndefined();
    expect(sessionTag({ session: null })).toBeUndefined();
    expect(sessionTag({ session: 'a string' })).toBeUndefined();
  });

  it('gives no owner for an empty session id, which would make every such request the same owner', () => {
    expect(sessionTag({ sessionID: '' })).toBeUndefined();
    expect(sessionTag({ session: { sessionId: '' } })).toBeUndefined();
  });
});

describe('parseRecord: what a store answers', () => {
  const owner = sha256('session');

  it('reads a record with a status and string session hashes', () => {
    const record = { status: 'success', sessions: [owner], user: { id: 'u' }, info: null, expiresAt: 1 };
    expect(parseRecord(JSON.stringify(record))).toEqual(record);
  });

  it('refuses JSON that is not a record object', () => {
    for (const value of ['null', '"success"', '42', 'true', '[]', 'not json', '']) expect(parseRecord(value), value).toBeUndefined();
    expect(parseRecord(null)).toBeUndefined();
    expect(parseRecord(undefined)).toBeUndefined();
  });

  it('refuses a record without a string status', () => {
    expect(parseRecord(JSON.stringify({ sessions: [owner] }))).toBeUndefined();
    expect(parseRecord(JSON.stringify({ status: 1, sessions: [owner] }))).toBeUndefined();
  });

  it('refuses a record whose sessions are not a list', () => {
    expect(parseRecord(JSON.stringify({ status: 'success' }))).toBeUndefined();
    expect(parseRecord(JSON.stringify({ status: 'success', sessions: owner }))).toBeUndefined();
  });

  it('refuses a record with any session that is not a string', () => {
    expect(parseRecord(JSON.stringify({ status: 'success', sessions: [1] }))).toBeUndefined();
    expect(parseRecord(JSON.stringify({ status: 'success', sessions: [owner, null] }))).toBeUndefined();
  });
});
