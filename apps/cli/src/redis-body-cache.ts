import type { SharedBodyCache } from '@ctxvault/core';
import { Redis } from 'ioredis';

/** The shared cache tier: small bodies in Redis, expiring after `ttlMs`. */
export function redisBodyCache(
  url: string,
  prefix: string,
  ttlMs: number,
): SharedBodyCache & { close(): Promise<void> } {
  // a cache must never slow a read down: no offline queue, one quick try
  const redis = new Redis(url, { enableOfflineQueue: false, maxRetriesPerRequest: 1, connectTimeout: 2_000 });
  redis.on('error', () => {});
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
