import { CtxvaultError } from './ctxvault-error.ts';

/** Another write changed the context between our read and our write. */
export class VersionConflictError extends CtxvaultError {
  constructor(message: string, details?: unknown) {
    super('version_conflict', 409, message, details);
  }
}
