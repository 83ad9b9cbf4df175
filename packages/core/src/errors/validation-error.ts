import { CtxvaultError } from './ctxvault-error.ts';

/** The request is malformed; details name the failing fields. */
export class ValidationError extends CtxvaultError {
  constructor(message: string, details?: unknown) {
    super('invalid_request', 400, message, details);
  }
}
