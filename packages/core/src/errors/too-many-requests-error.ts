import { CtxvaultError } from './ctxvault-error.ts';

/** The tenant sent more requests than quotas.requests_per_second allows; answered with Retry-After. */
export class TooManyRequestsError extends CtxvaultError {
  constructor(
    message: string,
    readonly retryAfterSeconds: number,
  ) {
    super('rate_limited', 429, message, { retry_after_seconds: retryAfterSeconds });
  }
}
