/**
 * This process already stages as many bodies as `limits.max_concurrent_stagings` allows; the
 * client should retry after `retryAfterSeconds` (the API answers 503 with Retry-After).
 */
export class StagingBusyError extends Error {
  constructor(
    readonly limit: number,
    readonly retryAfterSeconds: number,
  ) {
    super(`this server is already staging ${limit} request bodies (limits.max_concurrent_stagings); retry shortly`);
    this.name = 'StagingBusyError';
  }
}
