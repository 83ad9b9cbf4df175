import type { Metrics } from '@ctxvault/observability';
import { createMiddleware } from 'hono/factory';
import { routePath } from 'hono/route';

/** Times every request into `ctxvault_http_request_duration_seconds` by method, route pattern and status. */
export function httpMetrics({ metrics }: { metrics: Pick<Metrics, 'httpDuration'> }) {
  return createMiddleware(async function httpMetricsMiddleware(c, next) {
    const stop = metrics.httpDuration.startTimer();
    try {
      await next();
    } finally {
      // the pattern (`/api/v1/contexts/:id`), never the path, so the series stay few
      const route = c.res.status === 404 && routePath(c).endsWith('*') ? 'unmatched' : routePath(c);
      stop({ method: c.req.method, route, status: String(c.res.status) });
    }
  });
}
