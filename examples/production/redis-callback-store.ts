/**
 * A Redis-backed store for duplicate WeChat callbacks, shared by every instance of an app. Copy
 * it: it only needs a connected node-redis v5 client (`createClient({ url }).connect()`). Create
 * the client with `disableOfflineQueue: true`, so a Redis outage fails calls at once instead of
 * queueing them (the strategy gives up on a store call after 2 seconds either way).
 */
import type { WeChatCallbackStore } from 'passport-wechat-oauth2';

/** The three Redis commands the store uses, so any client with these methods fits. */
export interface RedisLike {
  set(
    key: string,
    value: string,
    options: { expiration: { type: 'EX'; value: number }; condition?: 'NX' },
  ): Promise<string | null>;
  get(key: string): Promise<string | null>;
}

export function redisCallbackStore(redis: RedisLike): WeChatCallbackStore {
  return {
    // SET NX EX: the first request to claim a callback wins, atomically across instances.
    claim: async (key, value, ttlSeconds) =>
      (await redis.set(key, value, { expiration: { type: 'EX', value: ttlSeconds }, condition: 'NX' })) === 'OK',
    set: async (key, value, ttlSeconds) => {
      await redis.set(key, value, { expiration: { type: 'EX', value: ttlSeconds } });
    },
    get: (key) => redis.get(key),
  };
}
