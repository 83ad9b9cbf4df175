import { createApp, serveApi } from '@ctxvault/api';
import type { Runtime } from '../runtime.ts';
import type { Logger } from '../logger.ts';

/** Puts the API of a runtime on server.host:server.port. */
export async function serveRuntime(runtime: Runtime, logger: Logger) {
  const app = createApp({
    service: runtime.service,
    logger,
    maxBodyBytes: runtime.config.limits.max_body_bytes,
    maxContextBytes: runtime.config.limits.max_context_bytes,
    checkReady: runtime.checkReady,
    cacheStats: () => runtime.cache.stats(),
  });
  return serveApi(app, runtime.config.server.host, runtime.config.server.port);
}
