import { CtxvaultError } from './ctxvault-error.ts';

/** An Idempotency-Key sent again with a different request than the one it first came with. */
export class IdempotencyKeyReusedError extends CtxvaultError {
  constructor(message: string, details?: unknown) {
    super('idempotency_key_reused', 422, message, details);
  }
}
