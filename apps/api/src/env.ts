import type { BodyCacheStats, ContextService, Logger } from '@ctxvault/core';

/** What every handler can reach through `c.var`. */
export interface ApiVariables {
  requestId: string;
  tenantId: string;
  logger: Logger;
}

export interface ApiEnv {
  Variables: ApiVariables;
}

export interface ApiDeps {
  service: ContextService;
  logger: Logger;
  /** largest JSON body accepted, in bytes */
  maxBodyBytes: number;
  /** largest context accepted as an NDJSON stream, in bytes (decoded) */
  maxContextBytes: number;
  /** hit and miss counts of the body cache */
  cacheStats?: () => BodyCacheStats;
  /** answers /readyz: throws with the cause when a dependency is down */
  checkReady?: () => Promise<void>;
}
