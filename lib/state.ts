/**
 * State stores for a strategy that holds two WeChat apps. The state WeChat returns must tell the
 * callback which app started the login (its code only works with that app's AppSecret), and the
 * answer must come from the session, not from the URL an attacker can edit.
 */
import type { Request } from 'express';
import type OAuth2Strategy from 'passport-oauth2';
import type { WeChatFlow } from './options.js';

type StoreCallback = (err: Error | null, state?: string) => void;
type VerifyCallback = (err: Error | null, ok: boolean | string, info?: unknown) => void;

/** @internal A passport-oauth2 state store of any arity, seen with one fixed arity. */
export interface FlowStateStore {
  store(req: Request, state: unknown, meta: OAuth2Strategy.Metadata, callback: StoreCallback): void;
  verify(req: Request, providedState: string, meta: OAuth2Strategy.Metadata, callback: VerifyCallback): void;
}

const PREFIX: Readonly<Record<WeChatFlow, string>> = { website: 'w', 'official-account': 'o' };

/** Which app a returned state says started the login; undefined when it names none. */
export function flowOfState(state: unknown): WeChatFlow | undefined {
  if (typeof state !== 'string') return undefined;
  if (state.startsWith(PREFIX.website)) return 'website';
  if (state.startsWith(PREFIX['official-account'])) return 'official-account';
  return undefined;
}

/**
 * Wraps a store so its handles start with `prefix` (`w…` or `o…` for two apps, still alphanumeric
 * as WeChat requires; `''` for one app). Each flow gets a store with its own session key, so a
 * letter swapped in the URL points at a session slot that holds no such handle: the check fails.
 */
export function prefixedStore(inner: OAuth2Strategy.StateStore, prefix: string): FlowStateStore {
  const store = inner as unknown as { store: (...args: unknown[]) => void; verify: (...args: unknown[]) => void };
  return {
    store(req, state, meta, callback) {
      const done: StoreCallback = (err, handle) => (err ? callback(err) : callback(null, handle === undefined ? undefined : prefix + handle));
      switch (store.store.length) {
        case 5:
          return store.store(req, undefined, state, meta, done);
        case 4:
          return store.store(req, state, meta, done);
        case 3:
          return store.store(req, meta, done);
        default:
          return store.store(req, done);
      }
    },
    verify(req, providedState, meta, callback) {
      if (prefix !== '' && !(typeof providedState === 'string' && providedState.startsWith(prefix))) {
        return callback(null, false, { message: 'Invalid authorization request state.' });
      }
      const handle = prefix === '' ? providedState : providedState.slice(prefix.length);
      if (store.verify.length === 4) return store.verify(req, handle, meta, callback);
      return store.verify(req, handle, callback);
    },
  };
}

/** The state prefix of a flow when a strategy holds two apps. */
export function prefixOf(flow: WeChatFlow): string {
  return PREFIX[flow];
}
