import type { Metrics } from '@ctxvault/observability';
import { createMiddleware } from 'hono/factory';
import { routePath } from 'hono/route';

type Labels = { method: string; route: string; status: string };

/** Times every request into `ctxvault_http_request_duration_seconds` by method, route pattern and status. */
export function httpMetrics({ metrics }: { metrics: Pick<Metrics, 'httpDuration'> }) {
  // one label set per series, made on its first request: no timer closure or label object per request
  const series = new Map<string, Labels>();
  const labelsOf = (method: string, route: string, status: number): Labels => {
    const key = `${method} ${status} ${route}`;
    let labels = series.get(key);
    if (!labels) {
      labels = { method, route, status: String(status) };
      series.set(key, labels);
    }
    return labels;
  };
  return createMiddleware(async function httpMetricsMiddleware(c, next) {
    const started = performance.now();
    try {
      await next();
    } finally {
      // the pattern (`/api/v1/contexts/:id`), never the path, so the series stay few
      const pattern = routePath(c);
      const route = c.res.status === 404 && pattern.endsWith('*') ? 'unmatched' : pattern;
      metrics.httpDuration.observe(labelsOf(c.req.method, route, c.res.status), (performance.now() - started) / 1000);
    }
  });
}
