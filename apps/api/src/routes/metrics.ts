import type { Metrics } from '@ctxvault/observability';
import { Hono } from 'hono';

/** `/metrics` in Prometheus' text format. */
export function metricsRoutes({ metrics }: { metrics: Pick<Metrics, 'registry'> }) {
  return new Hono().get('/metrics', async (c) => {
    c.header('Content-Type', metrics.registry.contentType);
    return c.body(await metrics.registry.metrics());
  });
}
