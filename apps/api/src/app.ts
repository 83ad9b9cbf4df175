import { Hono } from 'hono';
import type { ApiDeps, ApiEnv } from './env.ts';
import { toErrorResponse } from './errors.ts';
import { mcpRoutes } from './mcp/mcp-routes.ts';
import { adminAuth } from './middleware/admin-auth.ts';
import { bodyDeadline } from './middleware/body-deadline.ts';
import { httpMetrics } from './middleware/http-metrics.ts';
import { requestContext } from './middleware/request-context.ts';
import { describe } from './openapi/describe.ts';
import { settleUnreadBody } from './request-body.ts';
import { adminRoutes } from './routes/admin.ts';
import { contextRoutes } from './routes/contexts.ts';
import { docsRoutes } from './routes/docs.ts';
import { healthRoutes } from './routes/health.ts';
import { jobRoutes } from './routes/jobs.ts';
import { lazyDashboardRoutes } from './routes/lazy-dashboard.ts';
import { metricsRoutes } from './routes/metrics.ts';

const DASHBOARD_PATH = '/admin/queues';

/** The HTTP API. Tests call `app.request()` on it; `serveApi` puts it on a socket. */
export function createApp(deps: ApiDeps) {
  const app = new Hono<ApiEnv>();
  app.use(httpMetrics(deps));
  app.route('/', healthRoutes(deps));
  app.route('/', metricsRoutes(deps));
  app.use('/api/*', requestContext(deps));
  app.use('/api/*', bodyDeadline(deps));

  const api = new Hono<ApiEnv>()
    .route('/contexts', contextRoutes(deps))
    .route('/jobs', jobRoutes(deps))
    .get(
      '/cache',
      describe({
        operationId: 'cacheStats',
        tag: 'operations',
        summary: "This API process's body cache: hits (memory, shared), misses, entries, bytes",
        responses: { 200: '{memory_hits, shared_hits, misses, entries, bytes}' },
      }),
      (c) => c.json(deps.cacheStats?.() ?? null),
    );
  const { admin } = deps;
  if (admin.token) {
    const auth = adminAuth(admin);
    app.use(DASHBOARD_PATH, auth);
    app.use(`${DASHBOARD_PATH}/*`, auth);
    app.route(
      DASHBOARD_PATH,
      lazyDashboardRoutes(() => admin.jobs.queues(), DASHBOARD_PATH),
    );
    api.use('/admin/*', auth);
    api.route('/admin', adminRoutes(admin));
  } else {
    deps.logger.info(
      {},
      `admin.token (MCP_ADMIN_TOKEN) is not set: the dashboard (${DASHBOARD_PATH}) and the admin API (/api/v1/admin) are off`,
    );
  }
  app.route('/api/v1', api);
  app.use('/mcp', requestContext({ logger: deps.logger }));
  app.route('/mcp', mcpRoutes(deps));
  app.route('/', docsRoutes(app));
  app.notFound((c) => c.json({ error: { code: 'not_found', message: `no route ${c.req.method} ${c.req.path}` } }, 404));
  app.onError(async (err, c) => {
    // answer once the unread rest of a refused body is gone (a client still sending then gets the
    // answer, not a reset), and close the connection: clients differ in what they send after an
    // early answer, so reusing it is not safe
    await settleUnreadBody(c.req.raw);
    if (c.req.method !== 'GET' && c.req.method !== 'HEAD') c.header('Connection', 'close');
    return toErrorResponse(err, c, c.var.logger ?? deps.logger);
  });
  return app;
}

export type ApiApp = ReturnType<typeof createApp>;
