import { randomUUID } from 'node:crypto';
import type { Logger } from '@ctxvault/core';
import { withLogContext } from '@ctxvault/observability';
import { createMiddleware } from 'hono/factory';
import { type OriginGuardOptions, originCheck } from '../auth/origin-guard.ts';
import type { ApiEnv } from '../env.ts';

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * What every API and MCP request goes through before authentication, in one middleware (each
 * layer of Hono's chain costs the hot routes a closure, a promise and a frame per request):
 * - the origin guard (`originGuard`: Host and Origin, 403);
 * - an id (the caller's `X-Request-Id` if sane, answered back) that every log line written while
 *   serving it carries as `request_id` (and the jobs it causes, through their payload), and one log
 *   line per request;
 * - the body clock: the whole body must have arrived `bodyTimeoutMs` from now (408 beyond).
 * Who the request speaks for is `authenticate`'s business.
 */
export function requestScope({
  logger,
  bodyTimeoutMs,
  origins,
}: {
  logger: Logger;
  bodyTimeoutMs: number;
  origins: OriginGuardOptions;
}) {
  const checkOrigin = originCheck(origins);
  return createMiddleware<ApiEnv>(async function requestScopeMiddleware(c, next) {
    checkOrigin(c);
    const given = c.req.header('x-request-id');
    const requestId = given && REQUEST_ID.test(given) ? given : randomUUID();
    c.set('requestId', requestId);
    c.header('X-Request-Id', requestId);
    c.set('logger', logger);
    c.set('bodyDeadline', Date.now() + bodyTimeoutMs);
    await withLogContext({ request_id: requestId }, async () => {
      const started = performance.now();
      await next();
      logger.info(
        { method: c.req.method, path: c.req.path, status: c.res.status, ms: Math.round(performance.now() - started) },
        'request',
      );
    });
  });
}
