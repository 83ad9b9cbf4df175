/**
 * A failure a client can meet, with the HTTP status it maps to. The API turns these into
 * `{error:{code, message, details}}` in one place; anything else is a bug and answers 500.
 */
export class CtxvaultError extends Error {
  constructor(
    readonly code: string,
    readonly status: 400 | 401 | 403 | 404 | 408 | 409 | 410 | 412 | 413 | 415 | 422 | 429 | 503,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = new.target.name;
  }
}
