import { randomUUID } from 'node:crypto';
import { createMiddleware } from 'hono/factory';
import type { Logger } from '@ctxvault/core';
import type { ApiEnv } from '../env.ts';
import { ValidationError } from '@ctxvault/core';

const TENANT = /^[A-Za-z0-9._-]{1,128}$/;
const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * Gives each request an id (the caller's `X-Request-Id` if sane), the tenant from `X-Tenant-Id`
 * (default `default`) and a child logger carrying both; logs one line per request.
 */
export function requestContext({ logger }: { logger: Logger & { child?: (b: object) => Logger } }) {
  return createMiddleware<ApiEnv>(async function requestContextMiddleware(c, next) {
    const given = c.req.header('x-request-id');
    const requestId = given && REQUEST_ID.test(given) ? given : randomUUID();
    c.set('requestId', requestId);
    c.header('X-Request-Id', requestId);
    const requestLogger = logger.child ? logger.child({ request_id: requestId }) : logger;
    c.set('logger', requestLogger);
    const tenant = c.req.header('x-tenant-id') ?? 'default';
    if (!TENANT.test(tenant)) {
      throw new ValidationError('X-Tenant-Id must be 1-128 characters of letters, digits, ".", "_" or "-"', [
        { path: 'header:x-tenant-id', message: 'invalid tenant id' },
      ]);
    }
    c.set('tenantId', tenant);
    const started = performance.now();
    await next();
    requestLogger.info(
      { method: c.req.method, path: c.req.path, status: c.res.status, ms: Math.round(performance.now() - started) },
      'request',
    );
  });
}
