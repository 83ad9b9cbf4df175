import { CtxvaultError } from './ctxvault-error.ts';

/** What was asked for existed once and was collected (an old version past the lifecycle's keep rules). */
export class GoneError extends CtxvaultError {
  constructor(message: string, details?: unknown) {
    super('version_collected', 410, message, details);
  }
}
