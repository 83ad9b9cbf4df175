import { CtxvaultError } from './ctxvault-error.ts';

/** The admin credential is missing or wrong. */
export class UnauthorizedError extends CtxvaultError {
  constructor(message: string) {
    super('unauthorized', 401, message);
  }
}
