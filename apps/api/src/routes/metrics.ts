import { Hono } from 'hono';
import type { Metrics } from '@ctxvault/observability';

/** `/metrics` in Prometheus' text format. */
export function metricsRoutes({ metrics }: { metrics: Pick<Metrics, 'registry'> }) {
  return new Hono().get('/metrics', async (c) => {
    c.header('Content-Type', metrics.registry.contentType);
    return c.body(await metrics.registry.metrics());
  });
}
