import type { Metrics } from '@ctxvault/observability';
import { Hono } from 'hono';
import { describe } from '../openapi/describe.ts';

/** `/metrics` in Prometheus' text format. */
export function metricsRoutes({ metrics }: { metrics: Pick<Metrics, 'registry'> }) {
  return new Hono().get(
    '/metrics',
    describe({
      operationId: 'metrics',
      tag: 'operations',
      summary: 'Prometheus metrics',
      responses: { 200: 'text exposition format' },
    }),
    async (c) => {
      c.header('Content-Type', metrics.registry.contentType);
      return c.body(await metrics.registry.metrics());
    },
  );
}
