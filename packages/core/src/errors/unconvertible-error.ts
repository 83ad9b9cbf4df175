import { CtxvaultError } from './ctxvault-error.ts';

/** A read `as` another format met a part that format cannot express (422, naming the part). */
export class UnconvertibleError extends CtxvaultError {
  constructor(message: string, details?: unknown) {
    super('unconvertible', 422, message, details);
  }
}
