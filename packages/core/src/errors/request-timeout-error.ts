import { CtxvaultError } from './ctxvault-error.ts';

/** The request body did not arrive within `limits.body_timeout`; what it started to write was removed. */
export class RequestTimeoutError extends CtxvaultError {
  constructor(message: string, details?: unknown) {
    super('request_timeout', 408, message, details);
  }
}
