/**
 * State stores for a strategy that holds two WeChat apps. The state WeChat returns must tell the
 * callback which app started the login (its code only works with that app's AppSecret), in a way
 * an attacker editing the URL cannot change, whatever state store the app brings.
 */
import { crypto } from './builtins.js';
import type { Request } from 'express';
import type OAuth2Strategy from 'passport-oauth2';
import type { WeChatFlow } from './options.js';

type StoreCallback = (err: Error | null, state?: string) => void;
type VerifyCallback = (err: Error | null, ok: boolean | string, info?: unknown) => void;

/** A passport-oauth2 state store of any arity, seen with one fixed arity. */
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

/** How a two-app strategy marks and binds each flow's states. */
export interface FlowBinding {
  /** `w` or `o`: which app started the login. */
  prefix: string;
  /** The key of the MAC that ties the prefix to the store's handle. */
  key: Buffer;
}

// 16 hex digits (64 bits) of HMAC-SHA256: letters and digits only, as WeChat requires of a state.
const TAG_LENGTH = 16;

/**
 * The MAC key of a two-app strategy, derived from its AppSecrets: every instance of the
 * same deployment derives the same key, and the key says nothing of the secrets.
 */
export function flowBindingKey(appSecrets: readonly string[]): Buffer {
  return crypto.createHmac('sha256', 'passport-wechat-oauth2 state flow binding').update(appSecrets.join('\u0000')).digest();
}

/**
 * Wraps a store so its handles say which app started the login: `prefix + handle + tag`, where
 * the tag is a MAC of `prefix + handle`. A letter swapped in the URL no longer matches its tag, so
 * the flow is bound to the state even when both flows share one custom store (each flow also keeps
 * its own session key with the default stores). Without a binding (one app), handles pass as they are.
 */
export function prefixedStore(inner: OAuth2Strategy.StateStore, binding: FlowBinding | undefined): FlowStateStore {
  const store = inner as unknown as { store: (...args: unknown[]) => void; verify: (...args: unknown[]) => void };
  return {
    store(req, state, meta, callback) {
      const done: StoreCallback = (err, handle) => {
        if (err) return callback(err);
        callback(null, handle === undefined || !binding ? handle : binding.prefix + handle + tagOf(binding, handle));
      };
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
      // One app: the state goes to the store as it came (absent too, with state: false).
      const handle = binding ? boundHandle(binding, providedState) : providedState;
      if (binding && handle === undefined) return callback(null, false, { message: 'Invalid authorization request state.' });
      if (store.verify.length === 4) return store.verify(req, handle, meta, callback);
      return store.verify(req, handle, callback);
    },
  };
}

/** The store's handle inside a bound state; undefined when the prefix or the tag does not match. */
function boundHandle(binding: FlowBinding, state: unknown): string | undefined {
  if (typeof state !== 'string' || !state.startsWith(binding.prefix) || state.length <= binding.prefix.length + TAG_LENGTH) return undefined;
  const handle = state.slice(binding.prefix.length, -TAG_LENGTH);
  const tag = Buffer.from(state.slice(-TAG_LENGTH));
  // A state from the URL may hold any characters: compare only what has the tag's length.
  return tag.length === TAG_LENGTH && crypto.timingSafeEqual(tag, Buffer.from(tagOf(binding, handle))) ? handle : undefined;
}

function tagOf(binding: FlowBinding, handle: string): string {
  return crypto.createHmac('sha256', binding.key).update(binding.prefix + handle).digest('hex').slice(0, TAG_LENGTH);
}

/** The state prefix of a flow when a strategy holds two apps. */
export function prefixOf(flow: WeChatFlow): string {
  return PREFIX[flow];
}
