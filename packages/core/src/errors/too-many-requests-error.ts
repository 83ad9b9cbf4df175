import { CtxvaultError } from './ctxvault-error.ts';

/** A tenant over a rate or a concurrent quota; answered with Retry-After. */
export class TooManyRequestsError extends CtxvaultError {
  constructor(
    message: string,
    readonly retryAfterSeconds: number,
    code = 'rate_limited',
  ) {
    super(code, 429, message, { retry_after_seconds: retryAfterSeconds });
  }
}
