import type { BlobStoreError, BlobStoreErrorCode } from '../errors/blob-store-error.ts';

/** Failures that another request may not meet: the connection, the server's load, a slow answer. */
const TRANSIENT = new Set<BlobStoreErrorCode>(['connection_reset', 'throttled', 'server_error', 'timeout']);

export function isRetryable(err: BlobStoreError): boolean {
  return TRANSIENT.has(err.code);
}

const BASE_DELAY_MS = 100;
const MAX_DELAY_MS = 2000;

/** The pause before request number `attempt + 1`: exponential with full jitter, as the SDK does. */
export function retryDelay(attempt: number): number {
  return Math.random() * Math.min(MAX_DELAY_MS, BASE_DELAY_MS * 2 ** attempt);
}
