import { CtxvaultError } from './ctxvault-error.ts';

/** A valid credential that may not do this (a missing scope, a foreign Origin or Host, a quota reached). */
export class ForbiddenError extends CtxvaultError {
  constructor(message: string, code = 'forbidden', details?: unknown) {
    super(code, 403, message, details);
  }
}
