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
    claim: async (key, value, ttlSeconds) => {
      const reply = await command(['SET', prefix + key, value, 'EX', seconds(ttlSeconds), 'NX']);
      if (reply === null) return false;
      return isOK(reply, 'SET NX');
    },
    set: async (key, value, ttlSeconds) => {
      isOK(await command(['SET', prefix + key, value, 'EX', seconds(ttlSeconds)]), 'SET');
    },
    get: async (key) => {
      const reply = await command(['GET', prefix + key]);
      if (reply === null) return null;
      if (typeof reply === 'string') return reply;
      if (Buffer.isBuffer(reply)) return reply.toString('utf8');
      throw unexpectedReply('GET');
    },
  };
}

/**
 * Only Redis's own answer counts. A client that answers something else (node-redis v4 in
 * `legacyMode` resolves `undefined`) would make every claim win: the strategy then treats the store
 * as unreachable instead of double-exchanging a code.
 */
function isOK(reply: unknown, command: string): true {
  if (reply === 'OK' || (Buffer.isBuffer(reply) && reply.toString() === 'OK')) return true;
  throw unexpectedReply(command);
}

function unexpectedReply(command: string): Error {
  return new Error(`redisCallbackStore: the Redis client did not answer ${command} as Redis does; pass a node-redis v4/v5 client (not in legacyMode) or an ioredis client.`);
}

/** One function that sends a raw command, whichever client this is. */
function commandSender(client: RedisClientLike): (args: string[]) => Promise<unknown> {
  const candidate = client as Partial<NodeRedisClientLike & IORedisClientLike> | null | undefined;
  // ioredis has a `sendCommand` too, taking a Command object: look for its `call` first.
  if (typeof candidate?.call === 'function') {
    const call = candidate.call.bind(client);
    return ([name, ...args]) => call(name as string, ...args);
  }
  // node-redis v4 in legacyMode (as connect-redis 6 wants it) keeps its promise API under `.v4`.
  // (Its `v4` getter throws on a client that is not in legacyMode: ask the option first.)
  const legacy = candidate as { options?: { legacyMode?: unknown }; v4?: Partial<NodeRedisClientLike> } | null | undefined;
  if (legacy?.options?.legacyMode === true && typeof legacy.v4?.sendCommand === 'function') return legacy.v4.sendCommand.bind(legacy.v4);
  if (typeof candidate?.sendCommand === 'function') return candidate.sendCommand.bind(client);
  throw new WeChatOptionsError('redisCallbackStore needs a node-redis v4/v5 client (createClient) or an ioredis client.');
}

/** Redis refuses `EX 0` and fractions: a whole number of seconds, at least 1. */
function seconds(ttlSeconds: number): string {
  return String(Math.max(1, Math.ceil(ttlSeconds)));
}
