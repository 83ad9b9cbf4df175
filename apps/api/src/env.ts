import type { ApiKeys, BodyCacheStats, ContextService, Logger, Principal } from '@ctxvault/core';
import type { Metrics } from '@ctxvault/observability';
import type { QueueAdmin } from '@ctxvault/queue';
import type { AuthMode } from './auth/authenticate.ts';
import type { JwtSettings } from './auth/jwt-verifier.ts';
import type { Dependency } from './errors.ts';

/** What every handler can reach through `c.var`. */
interface ApiVariables {
  requestId: string;
  /** the tenant of the request's credential (or of X-Tenant-Id with auth.mode "none") */
  tenantId: string;
  principal: Principal;
  logger: Logger;
  /** epoch ms by which the request body must have arrived (limits.body_timeout); none: no limit */
  bodyDeadline?: number;
}

export interface ApiEnv {
  Variables: ApiVariables;
}

/** The dashboard and admin API; both are off when `token` is empty. */
export interface AdminDeps {
  /** admin.token (MCP_ADMIN_TOKEN) */
  token: string;
  /** the jobs of every queue the deployment uses; the dashboard shows the same queues */
  jobs: QueueAdmin;
}

/** Who may call what (auth.*, server.allowed_*, metrics.token). */
export interface SecurityDeps {
  mode: AuthMode;
  keys: ApiKeys;
  /** with mode "jwt" */
  jwt?: JwtSettings;
  /** auth.resource_url */
  resourceUrl: string;
  allowedHosts: readonly string[];
  allowedOrigins: readonly string[];
  /** metrics.token: when set, /metrics and /api/v1/cache need it */
  metricsToken: string;
}

export interface ApiDeps {
  service: ContextService;
  logger: Logger;
  /** largest JSON body accepted, in bytes */
  maxBodyBytes: number;
  /** JSON-RPC messages in one batch on /mcp (limits.max_batch_messages) */
  maxBatchMessages: number;
  /** largest context accepted as an NDJSON stream, in bytes (decoded) */
  maxContextBytes: number;
  /** how long a request body may take to arrive, in ms (limits.body_timeout) */
  bodyTimeoutMs: number;
  /** hit and miss counts of the body cache */
  cacheStats?: () => BodyCacheStats;
  /** what /readyz checks: each throws its dependency's error when that one is not usable */
  readiness: Record<Dependency, () => Promise<void>>;
  metrics: Metrics;
  admin: AdminDeps;
  security: SecurityDeps;
}
