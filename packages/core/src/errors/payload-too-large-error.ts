import { CtxvaultError } from './ctxvault-error.ts';

/** The body is over the configured limit. */
export class PayloadTooLargeError extends CtxvaultError {
  constructor(message: string, details?: unknown) {
    super('payload_too_large', 413, message, details);
  }
}
