/** What went wrong, in terms a caller can branch on. */
export type BlobStoreErrorCode =
  | 'not_found'
  | 'invalid_key'
  | 'invalid_range'
  | 'length_mismatch'
  | 'object_changed'
  | 'aborted'
  | 'connection_refused'
  | 'access_denied'
  | 'no_such_bucket'
  | 'wrong_region'
  | 'timeout'
  /** the connection was cut mid-request or mid-answer */
  | 'connection_reset'
  /** 503 SlowDown, 429 and the like: the store asks to slow down */
  | 'throttled'
  /** the store failed (HTTP 5xx) */
  | 'server_error'
  | 'no_space'
  | 'unknown';

/** Every failure of a blob store: `code` to branch on, `hint` telling the user what to fix. */
export class BlobStoreError extends Error {
  override name = 'BlobStoreError';
  readonly code: BlobStoreErrorCode;
  readonly hint: string;

  constructor(code: BlobStoreErrorCode, message: string, hint: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.hint = hint;
  }
}
