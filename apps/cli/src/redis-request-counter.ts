import type { RequestCounter } from '@ctxvault/api';
import { openRedis, type RedisTarget } from '@ctxvault/queue';

/** Request counts shared by every API process: one Redis key per tenant and second, expiring after two. */
export function redisRequestCounter(target: RedisTarget, prefix: string): RequestCounter & { close(): Promise<void> } {
  // a limit must never stall a request: one quick try, and a failure lets the request pass. One key
  // per command, so on a cluster each goes to its own slot.
  const redis = openRedis(target, 'fail-fast');
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
