import { CtxvaultError } from './ctxvault-error.ts';

/** No credential, or one that is wrong, expired or revoked. `challenge` is the answer's WWW-Authenticate. */
export class UnauthorizedError extends CtxvaultError {
  constructor(
    message: string,
    readonly challenge?: string,
  ) {
    super('unauthorized', 401, message);
  }
}
