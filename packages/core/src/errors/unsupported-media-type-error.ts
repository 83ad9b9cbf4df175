import { CtxvaultError } from './ctxvault-error.ts';

/** The Content-Type is not one the route accepts. */
export class UnsupportedMediaTypeError extends CtxvaultError {
  constructor(message: string, details?: unknown) {
    super('unsupported_media_type', 415, message, details);
  }
}
