import type {
  ApiKeys,
  ArchiveExporter,
  ArchiveImporter,
  BodyCacheStats,
  ContextService,
  Logger,
  Principal,
} from '@ctxvault/core';
import type { Metrics } from '@ctxvault/observability';
import type { QueueAdmin } from '@ctxvault/queue';
import type { JwtSettings } from './auth/jwt-verifier.ts';
import type { Dependency } from './errors.ts';
import type { InFlightBytes } from './in-flight-bytes.ts';

/** What every handler can reach through `c.var`. */
interface ApiVariables {
  requestId: string;
  /** the tenant of the request's credential (or of X-Tenant-Id with auth.mode "none") */
  tenantId: string;
  principal: Principal;
  logger: Logger;
  /** epoch ms by which the request body must have arrived (limits.body_timeout); none: no limit */
  bodyDeadline?: number;
  /** what a body of this tenant may decode to and have in flight; none: not limited (unauthenticated routes) */
  bodyLimits?: { maxDecompressionRatio: number; inFlight: InFlightBytes };
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

/** What the export and import routes run on. */
export interface ArchiveDeps {
  exporter: Pick<ArchiveExporter, 'export'>;
  importer: Pick<ArchiveImporter, 'import'>;
}

/** auth.mode: API keys, OAuth/OIDC access tokens (and API keys), or no authentication at all. */
export type AuthMode = 'api_key' | 'jwt' | 'none';

/** Counts a tenant's requests in one-second windows; `count` is this request's number in its window. */
export interface RequestCounter {
  count(tenantId: string, second: number): Promise<number>;
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
  /** the largest NDJSON line (limits.max_item_bytes) */
  maxItemBytes: number;
  /** limits.max_decompression_ratio */
  maxDecompressionRatio: number;
  /** per tenant (quotas.*): requests per second (0: none) and bytes in flight (0: no limit) */
  quotas: { requestsPerSecond: number; maxStagedBytes: number; counter?: RequestCounter };
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
  /** with storage.replica: how far the replica is behind, shown by /readyz (never what makes it fail) */
  replicaLag?: () => Promise<{ pending_objects: number; lag_seconds: number }>;
  metrics: Metrics;
  /** export and import of archives (admin scope); the routes are off without it */
  archive?: ArchiveDeps;
  admin: AdminDeps;
  security: SecurityDeps;
}
