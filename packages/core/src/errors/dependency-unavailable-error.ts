import { CtxvaultError } from './ctxvault-error.ts';

/** A dependency (database, queue, blob store) cannot be reached; the message says what to check. */
export class DependencyUnavailableError extends CtxvaultError {
  constructor(message: string, details?: unknown) {
    super('dependency_unavailable', 503, message, details);
  }
}
