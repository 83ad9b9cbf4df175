import { createMiddleware } from 'hono/factory';
import type { ApiEnv } from '../env.ts';

/** Starts the request's body clock: its whole body must have arrived `bodyTimeoutMs` from now (408 beyond). */
export function bodyDeadline({ bodyTimeoutMs }: { bodyTimeoutMs: number }) {
  return createMiddleware<ApiEnv>(async function bodyDeadlineMiddleware(c, next) {
    c.set('bodyDeadline', Date.now() + bodyTimeoutMs);
    await next();
  });
}
