import { CtxvaultError } from './ctxvault-error.ts';

/** The If-Match version is not the current one. */
export class PreconditionFailedError extends CtxvaultError {
  constructor(message: string, details?: unknown) {
    super('precondition_failed', 412, message, details);
  }
}
