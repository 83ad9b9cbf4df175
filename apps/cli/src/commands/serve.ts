import { createApp, serveApi } from '@ctxvault/api';
import type { Logger } from '../logger.ts';
import type { Runtime } from '../runtime.ts';

/** Puts the API of a runtime on server.host:server.port. */
export async function serveRuntime(runtime: Runtime, logger: Logger) {
  const app = createApp({
    service: runtime.service,
    logger,
    maxBodyBytes: runtime.config.limits.max_body_bytes,
    maxContextBytes: runtime.config.limits.max_context_bytes,
    bodyTimeoutMs: runtime.config.limits.body_timeout,
    cacheStats: () => runtime.cache.stats(),
    readiness: runtime.readiness,
    replicaLag: runtime.replicaLag,
    metrics: runtime.metrics,
    admin: { token: runtime.config.admin.token, jobs: runtime.queueAdmin },
  });
  return serveApi(app, runtime.config.server.host, runtime.config.server.port, {
    bodyTimeoutMs: runtime.config.limits.body_timeout,
  });
}
