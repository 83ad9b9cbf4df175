import { CtxvaultError } from './ctxvault-error.ts';

/** No live context (or job) with that id for this tenant. */
export class NotFoundError extends CtxvaultError {
  constructor(message: string, details?: unknown) {
    super('not_found', 404, message, details);
  }
}
