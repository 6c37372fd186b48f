/**
 * Redis support (`passport-wechat-oauth2/redis`): a duplicate-callback store on the Redis client
 * the app already has, so several instances agree on which request owns a callback. The package
 * takes no Redis dependency: the client is duck-typed. node-redis v4 and v5 are driven through
 * `sendCommand([...])`, ioredis (a `Redis` or a `Cluster`) through `call(...)`; both send raw
 * commands, which is what keeps one code path across the three clients' different option shapes
 * for SET.
 */
import type { WeChatCallbackStore } from './duplicates.js';
import { WeChatOptionsError } from './errors.js';

/** A node-redis v4 or v5 client (`createClient(...)`, connected): only `sendCommand` is used. */
export interface NodeRedisClientLike {
  sendCommand(args: string[]): Promise<unknown>;
}

/** An ioredis client (`new Redis(...)` or `new Cluster(...)`): only `call` is used. */
export interface IORedisClientLike {
  call(command: string, ...args: string[]): Promise<unknown>;
}

/** A connected node-redis v4/v5 or ioredis client. */
export type RedisClientLike = NodeRedisClientLike | IORedisClientLike;

/** Options of {@link redisCallbackStore}. */
export interface RedisCallbackStoreOptions {
  /**
   * Put before every key (the strategy's keys start with `wechat:callback:`), for apps that share
   * one Redis database. Default: none.
   */
  prefix?: string | undefined;
}

/**
 * A {@link WeChatCallbackStore} on Redis: `claim` is `SET key value NX EX ttl`, atomic across every
 * instance that shares the Redis; `set` is `SET key value EX ttl`; `get` is `GET key`. Pass it as
 * `duplicateCallbacks: { store: redisCallbackStore(client) }`.
 *
 * Create the client so that it fails fast while Redis is down rather than queueing commands
 * (node-redis: `disableOfflineQueue: true`; ioredis: `enableOfflineQueue: false`): the strategy
 * gives up on a store call after 2 seconds either way, and then handles the callback as if no
 * store were configured.
 *
 * @throws `WeChatOptionsError` (from the main entry point) when `client` has neither `sendCommand` nor `call`.
 */
export function redisCallbackStore(client: RedisClientLike, options: RedisCallbackStoreOptions = {}): WeChatCallbackStore {
  const prefix = options.prefix ?? '';
  if (typeof prefix !== 'string') throw new WeChatOptionsError('redisCallbackStore: options.prefix must be a string.');
  const command = commandSender(client);
  return {
    claim: async (key, value, ttlSeconds) => (await command(['SET', prefix + key, value, 'EX', seconds(ttlSeconds), 'NX'])) !== null,
    set: async (key, value, ttlSeconds) => {
      await command(['SET', prefix + key, value, 'EX', seconds(ttlSeconds)]);
    },
    get: async (key) => {
      const value = await command(['GET', prefix + key]);
      return value === null || value === undefined ? null : String(value);
    },
  };
}

/** One function that sends a raw command, whichever client this is. */
function commandSender(client: RedisClientLike): (args: string[]) => Promise<unknown> {
  const candidate = client as Partial<NodeRedisClientLike & IORedisClientLike> | null | undefined;
  // ioredis has a `sendCommand` too, taking a Command object: look for its `call` first.
  if (typeof candidate?.call === 'function') {
    const call = candidate.call.bind(client);
    return ([name, ...args]) => call(name as string, ...args);
  }
  if (typeof candidate?.sendCommand === 'function') return candidate.sendCommand.bind(client);
  throw new WeChatOptionsError('redisCallbackStore needs a node-redis v4/v5 client (createClient) or an ioredis client.');
}

/** Redis refuses `EX 0` and fractions: a whole number of seconds, at least 1. */
function seconds(ttlSeconds: number): string {
  return String(Math.max(1, Math.ceil(ttlSeconds)));
}
