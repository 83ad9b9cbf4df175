import { Hono } from 'hono';
import type { ApiDeps, ApiEnv } from './env.ts';
import { requestContext } from './middleware/request-context.ts';
import { toErrorResponse } from './errors.ts';
import { contextRoutes } from './routes/contexts.ts';
import { jobRoutes } from './routes/jobs.ts';
import { mcpRoutes } from './mcp/mcp-routes.ts';

/** The HTTP API. Tests call `app.request()` on it; `serveApi` puts it on a socket. */
export function createApp(deps: ApiDeps) {
  const app = new Hono<ApiEnv>();
  app.get('/healthz', (c) => c.json({ status: 'ok' }));
  app.get('/readyz', async (c) => {
    try {
      await deps.checkReady?.();
      return c.json({ status: 'ready' });
    } catch (err) {
      return c.json({ status: 'unavailable', error: (err as Error).message }, 503);
    }
  });
  app.use('/api/*', requestContext({ logger: deps.logger }));
  const api = new Hono<ApiEnv>()
    .route('/contexts', contextRoutes(deps))
    .route('/jobs', jobRoutes(deps))
    .get('/cache', (c) => c.json(deps.cacheStats?.() ?? null));
  app.route('/api/v1', api);
  app.use('/mcp', requestContext({ logger: deps.logger }));
  app.route('/mcp', mcpRoutes(deps));
  app.notFound((c) => c.json({ error: { code: 'not_found', message: `no route ${c.req.method} ${c.req.path}` } }, 404));
  app.onError((err, c) => toErrorResponse(err, c, c.var.logger ?? deps.logger));
  return app;
}

export type ApiApp = ReturnType<typeof createApp>;
