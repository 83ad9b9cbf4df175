import type { RequestCounter } from '@ctxvault/api';
import { Redis } from 'ioredis';

/** Request counts shared by every API process: one Redis key per tenant and second, expiring after two. */
export function redisRequestCounter(url: string, prefix: string): RequestCounter & { close(): Promise<void> } {
  // a limit must never stall a request: no offline queue, one quick try (a failure lets the request pass)
  const redis = new Redis(url, { enableOfflineQueue: false, maxRetriesPerRequest: 1, connectTimeout: 2_000 });
  redis.on('error', () => {});
  return {
    count: async (tenantId, second) => {
      const key = `${prefix}:rate:${tenantId}:${second}`;
      const [[err, count] = [null, 0]] = (await redis.multi().incr(key).expire(key, 2).exec()) ?? [];
      if (err) throw err;
      return Number(count);
    },
    close: async () => {
      redis.disconnect();
    },
  };
}
