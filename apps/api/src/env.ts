import type { BodyCacheStats, ContextService, Logger } from '@ctxvault/core';
import type { Metrics } from '@ctxvault/observability';
import type { QueueAdmin } from '@ctxvault/queue';
import type { Dependency } from './errors.ts';

/** What every handler can reach through `c.var`. */
interface ApiVariables {
  requestId: string;
  tenantId: string;
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

export interface ApiDeps {
  service: ContextService;
  logger: Logger;
  /** largest JSON body accepted, in bytes */
  maxBodyBytes: number;
  /** largest context accepted as an NDJSON stream, in bytes (decoded) */
  maxContextBytes: number;
  /** how long a request body may take to arrive, in ms (limits.body_timeout) */
  bodyTimeoutMs: number;
  /** hit and miss counts of the body cache */
  cacheStats?: () => BodyCacheStats;
  /** what /readyz checks: each throws its dependency's error when that one is not usable */
  readiness: Record<Dependency, () => Promise<void>>;
  /** with storage.replica: how far the replica is behind, shown by /readyz (never what makes it fail) */
  replicaLag?: () => Promise<{ pending_objects: number; lag_seconds: number }>;
  metrics: Metrics;
  admin: AdminDeps;
}
