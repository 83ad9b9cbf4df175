import { createApp, type SecurityDeps, serveApi } from '@ctxvault/api';
import type { Logger } from '../logger.ts';
import type { Runtime } from '../runtime.ts';

/** auth.*, server.allowed_* and metrics.token as the API takes them. */
function securityOf({ config, apiKeys }: Runtime): SecurityDeps {
  const { auth, server } = config;
  const list = (value: string) =>
    value
      .split(',')
      .map((entry) => entry.trim())
      .filter(Boolean);
  return {
    mode: auth.mode,
    keys: apiKeys,
    jwt: {
      issuer: auth.jwt.issuer,
      audience: auth.jwt.audience,
      jwksUrl: auth.jwt.jwks_url,
      tenantClaim: auth.jwt.tenant_claim,
      scopesClaim: auth.jwt.scopes_claim,
      cacheTtlMs: auth.key_cache_ttl,
    },
    resourceUrl: auth.resource_url,
    allowedHosts: [...list(server.allowed_hosts), ...(isWildcard(server.host) ? [] : [server.host])],
    allowedOrigins: list(server.allowed_origins),
    metricsToken: config.metrics.token,
  };
}

/** A listening address that is not a name clients use. */
function isWildcard(host: string): boolean {
  return host === '0.0.0.0' || host === '::' || host === '[::]';
}

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
    archive: runtime.archive,
    admin: { token: runtime.config.admin.token, jobs: runtime.queueAdmin },
    maxBatchMessages: runtime.config.limits.max_batch_messages,
    maxItemBytes: runtime.config.limits.max_item_bytes,
    maxDecompressionRatio: runtime.config.limits.max_decompression_ratio,
    quotas: {
      requestsPerSecond: runtime.config.quotas.requests_per_second,
      maxStagedBytes: runtime.config.quotas.max_staged_bytes,
      counter: runtime.requestCounter,
    },
    security: securityOf(runtime),
  });
  return serveApi(app, runtime.config.server.host, runtime.config.server.port, {
    bodyTimeoutMs: runtime.config.limits.body_timeout,
  });
}
