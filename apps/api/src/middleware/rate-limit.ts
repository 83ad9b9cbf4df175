import { TooManyRequestsError } from '@ctxvault/core';
import { createMiddleware } from 'hono/factory';
import type { ApiEnv, RequestCounter } from '../env.ts';

/**
 * quotas.requests_per_second per tenant: the request beyond the limit in a second is answered 429
 * with `Retry-After`. Runs after authentication (the tenant is the credential's). When the counter
 * cannot answer (Redis down), requests pass: the limit protects the service, it is not a reason to
 * refuse it.
 */
export function rateLimit({
  perSecond,
  counter,
  onCounterError,
}: {
  perSecond: number;
  counter: RequestCounter;
  onCounterError: (err: unknown) => void;
}) {
  return createMiddleware<ApiEnv>(async function rateLimitMiddleware(c, next) {
    const now = Date.now();
    const second = Math.floor(now / 1000);
    const count = await counter.count(c.var.tenantId, second).catch((err: unknown) => {
      onCounterError(err);
      return 0;
    });
    if (count > perSecond) {
      throw new TooManyRequestsError(
        `tenant ${c.var.tenantId} sent more than ${perSecond} requests in a second (quotas.requests_per_second); retry after the Retry-After seconds`,
        1,
      );
    }
    await next();
  });
}

/** Counts in this process only: for a single API process (the embedded mode), where no Redis is needed. */
export function inProcessCounter(): RequestCounter {
  const windows = new Map<string, { second: number; count: number }>();
  return {
    count: async (tenantId, second) => {
      const window = windows.get(tenantId);
      if (!window || window.second !== second) {
        // a new second: forget the last one's counts, so the map holds only tenants active now
        if (window === undefined && windows.size > 10_000) windows.clear();
        windows.set(tenantId, { second, count: 1 });
        return 1;
      }
      return ++window.count;
    },
  };
}
