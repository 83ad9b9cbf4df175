import { randomUUID } from 'node:crypto';
import type { Logger } from '@ctxvault/core';
import { withLogContext } from '@ctxvault/observability';
import { createMiddleware } from 'hono/factory';
import type { ApiEnv } from '../env.ts';

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * Gives each request an id (the caller's `X-Request-Id` if sane) that every log line written while
 * serving it carries as `request_id` (and the jobs it causes, through their payload); logs one line
 * per request. Who the request speaks for is `authenticate`'s business.
 */
export function requestContext({ logger }: { logger: Logger }) {
  return createMiddleware<ApiEnv>(async function requestContextMiddleware(c, next) {
    const given = c.req.header('x-request-id');
    const requestId = given && REQUEST_ID.test(given) ? given : randomUUID();
    c.set('requestId', requestId);
    c.header('X-Request-Id', requestId);
    c.set('logger', logger);
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
