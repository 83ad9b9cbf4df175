import { Hono } from 'hono';
import { createMiddleware } from 'hono/factory';
import { authenticate, scopeByMethod } from './auth/authenticate.ts';
import { jwtVerifier } from './auth/jwt-verifier.ts';
import { originGuard } from './auth/origin-guard.ts';
import { protectedResourceRoutes } from './auth/protected-resource.ts';
import type { ApiDeps, ApiEnv } from './env.ts';
import { toErrorResponse } from './errors.ts';
import { InFlightBytes } from './in-flight-bytes.ts';
import { mcpRoutes } from './mcp/mcp-routes.ts';
import { adminAuth } from './middleware/admin-auth.ts';
import { httpMetrics } from './middleware/http-metrics.ts';
import { inProcessCounter, rateLimit } from './middleware/rate-limit.ts';
import { requestScope } from './middleware/request-scope.ts';
import { pageSecurityHeaders } from './middleware/security-headers.ts';
import { tokenGuard } from './middleware/token-guard.ts';
import { describe } from './openapi/describe.ts';
import { settleUnreadBody } from './request-body.ts';
import { adminRoutes } from './routes/admin.ts';
import { archiveRoutes } from './routes/archive.ts';
import { contextRoutes } from './routes/contexts.ts';
import { docsRoutes } from './routes/docs.ts';
import { healthRoutes } from './routes/health.ts';
import { jobRoutes } from './routes/jobs.ts';
import { keyRoutes } from './routes/keys.ts';
import { lazyDashboardRoutes } from './routes/lazy-dashboard.ts';
import { metricsRoutes } from './routes/metrics.ts';

const DASHBOARD_PATH = '/admin/queues';

/** The HTTP API. Tests call `app.request()` on it; `serveApi` puts it on a socket. */
export function createApp(deps: ApiDeps) {
  const { security } = deps;
  const app = new Hono<ApiEnv>();
  app.use(httpMetrics(deps));
  app.route('/', healthRoutes(deps));
  const operational = tokenGuard([security.metricsToken, security.metricsToken && deps.admin.token], 'metrics.token');
  app.use('/metrics', operational);
  app.route('/', metricsRoutes(deps));
  // everything but the probes and metrics (which orchestrators call by IP) checks Host and Origin;
  // API and MCP requests get their id, log context and body clock in the same middleware
  // (a `/x/*` pattern matches `/x` itself too: one registration each, so nothing runs twice)
  const scope = requestScope({ logger: deps.logger, bodyTimeoutMs: deps.bodyTimeoutMs, origins: security });
  for (const path of ['/api/*', '/mcp/*']) app.use(path, scope);
  const guard = originGuard(security);
  for (const path of ['/docs/*', `${DASHBOARD_PATH}/*`]) app.use(path, guard);
  const auth = {
    mode: security.mode,
    keys: security.keys,
    resourceUrl: security.resourceUrl,
    verifyJwt: security.mode === 'jwt' && security.jwt ? jwtVerifier(security.jwt) : undefined,
  };
  if (security.mode === 'none')
    deps.logger.warn(
      {},
      'auth.mode is "none": NO AUTHENTICATION, every caller chooses its tenant with X-Tenant-Id; use "api_key" or "jwt" anywhere but a single-user machine',
    );

  // after authentication (the tenant is the credential's): the tenant's rate and body limits
  const limits = {
    maxDecompressionRatio: deps.maxDecompressionRatio,
    inFlight: new InFlightBytes(deps.quotas.maxStagedBytes),
  };
  const perTenant = [
    ...(deps.quotas.requestsPerSecond > 0
      ? [
          rateLimit({
            perSecond: deps.quotas.requestsPerSecond,
            counter: deps.quotas.counter ?? inProcessCounter(),
            onCounterError: (err) => deps.logger.warn({ err }, 'request counter unavailable; not rate limiting'),
          }),
        ]
      : []),
    createMiddleware<ApiEnv>(async function tenantBodyLimits(c, next) {
      c.set('bodyLimits', limits);
      await next();
    }),
  ];
  const api = new Hono<ApiEnv>();
  for (const path of ['/contexts/*', '/jobs/*']) api.use(path, authenticate(auth, scopeByMethod), ...perTenant);
  api.use(
    '/keys/*',
    authenticate(auth, () => 'admin'),
    ...perTenant,
  );
  if (deps.archive) {
    for (const path of ['/export', '/import'])
      api.use(
        path,
        authenticate(auth, () => 'admin'),
        ...perTenant,
      );
    api.route('/', archiveRoutes(deps.archive));
  }
  api.use('/cache', operational);
  api
    .route('/contexts', contextRoutes(deps))
    .route('/jobs', jobRoutes(deps))
    .route('/keys', keyRoutes(security.keys, false))
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
    const adminOnly = adminAuth(admin);
    // (a `/x/*` pattern matches `/x` itself too)
    app.use(`${DASHBOARD_PATH}/*`, pageSecurityHeaders(), adminOnly);
    app.route(
      DASHBOARD_PATH,
      lazyDashboardRoutes(() => admin.jobs.queues(), DASHBOARD_PATH),
    );
    api.use('/admin/*', adminOnly);
    api.route('/admin/keys', keyRoutes(security.keys, true));
    api.route('/admin', adminRoutes(admin));
  } else {
    deps.logger.info(
      {},
      `admin.token (MCP_ADMIN_TOKEN) is not set: the dashboard (${DASHBOARD_PATH}) and the admin API (/api/v1/admin) are off`,
    );
  }
  app.route('/api/v1', api);
  app.use(
    '/mcp',
    authenticate(auth, () => 'read'),
    ...perTenant,
  );
  app.route('/mcp', mcpRoutes(deps));
  app.route('/', protectedResourceRoutes({ issuer: security.jwt?.issuer ?? '', resourceUrl: security.resourceUrl }));
  app.use('/docs', pageSecurityHeaders());
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
