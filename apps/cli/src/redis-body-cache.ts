import type { SharedBodyCache } from '@ctxvault/core';
import { openRedis, type RedisTarget } from '@ctxvault/queue';

/** The shared cache tier: small bodies in Redis, expiring after `ttlMs`. */
export function redisBodyCache(
  target: RedisTarget,
  prefix: string,
  ttlMs: number,
): SharedBodyCache & { close(): Promise<void> } {
  // a cache must never slow a read down: no offline queue, one quick try. Keys carry no hash tag,
  // so on a cluster they spread over every master.
  const redis = openRedis(target, 'fail-fast');
  const key = (k: string) => `${prefix}:body-cache:${k}`;
  return {
    get: (k) => redis.getBuffer(key(k)),
    set: async (k, body) => {
      await redis.set(key(k), body, 'PX', ttlMs);
    },
    close: async () => {
      redis.disconnect();
    },
  };
}
