import { createHash, timingSafeEqual } from 'node:crypto';
import { UnauthorizedError } from '@ctxvault/core';
import { createMiddleware } from 'hono/factory';

/**
 * Lets a request through when it presents one of `tokens` as `Authorization: Bearer` (none set:
 * everyone). Guards the operational views (/metrics, /api/v1/cache) with metrics.token.
 */
export function tokenGuard(tokens: readonly string[], name: string) {
  const expected = tokens.filter(Boolean).map(digest);
  return createMiddleware(async function tokenGuardMiddleware(c, next) {
    if (expected.length > 0) {
      const presented = /^\s*Bearer\s+(\S+)\s*$/i.exec(c.req.header('authorization') ?? '')?.[1];
      const given = presented === undefined ? null : digest(presented);
      if (!given || !expected.some((token) => timingSafeEqual(token, given)))
        throw new UnauthorizedError(`this needs Authorization: Bearer with ${name}`, 'Bearer realm="ctxvault metrics"');
    }
    await next();
  });
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}
