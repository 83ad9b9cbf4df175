import { BlobNotFoundError } from '../errors/blob-not-found-error.ts';
import { BlobStoreError } from '../errors/blob-store-error.ts';

export interface S3ErrorContext {
  bucket: string;
  region: string;
  endpoint?: string;
  /** The object the call was about, if one: a 404 then means that object is absent. */
  key?: string;
}

interface SdkErrorShape {
  name?: string;
  code?: string;
  message?: string;
  cause?: { code?: string };
  errors?: Array<{ code?: string }>;
  $metadata?: { httpStatusCode?: number };
  $response?: { headers?: Record<string, string | undefined> };
}

const UNREACHABLE = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH']);
const DENIED = new Set([
  'AccessDenied',
  'Forbidden',
  'InvalidAccessKeyId',
  'SignatureDoesNotMatch',
  'ExpiredToken',
  'InvalidToken',
  'CredentialsProviderError',
]);
const WRONG_REGION = new Set([
  'PermanentRedirect',
  'AuthorizationHeaderMalformed',
  'IllegalLocationConstraintException',
]);
const TIMED_OUT = new Set(['TimeoutError', 'RequestTimeout', 'ETIMEDOUT']);
// the connection was cut under a request or its answer (Node's `aborted` body error carries ECONNRESET)
const CUT = new Set(['ECONNRESET', 'EPIPE', 'ECONNABORTED', 'ERR_STREAM_PREMATURE_CLOSE', 'UND_ERR_SOCKET']);
const THROTTLED = new Set([
  'SlowDown',
  'ServiceUnavailable',
  'Throttling',
  'ThrottlingException',
  'TooManyRequests',
  'TooManyRequestsException',
  'RequestLimitExceeded',
]);

/** Turns an AWS SDK (or network) error into a BlobStoreError whose hint names the setting to fix. */
export function mapS3Error(err: unknown, context: S3ErrorContext): BlobStoreError {
  if (err instanceof BlobStoreError) return err;
  const shape = (typeof err === 'object' && err !== null ? err : {}) as SdkErrorShape;
  const name = shape.name ?? '';
  const status = shape.$metadata?.httpStatusCode;
  const networkCode = shape.code ?? shape.cause?.code ?? shape.errors?.[0]?.code ?? '';
  const detail = shape.message || name || String(err);
  // S3 names the bucket's region in a header, also on a bodiless HeadBucket 301 or 400
  const bucketRegion = shape.$response?.headers?.['x-amz-bucket-region'];
  const elsewhere = bucketRegion !== undefined && bucketRegion !== context.region;
  const cause = { cause: err };
  const { bucket, key } = context;

  if (key !== undefined && (name === 'NoSuchKey' || (status === 404 && name === 'NotFound'))) {
    return new BlobNotFoundError(key, cause);
  }
  if (name === 'NoSuchBucket' || (key === undefined && status === 404)) {
    return new BlobStoreError(
      'no_such_bucket',
      `bucket "${bucket}" does not exist`,
      `create bucket ${bucket} or fix storage.s3.bucket (MCP_STORAGE_S3_BUCKET)`,
      cause,
    );
  }
  if (UNREACHABLE.has(networkCode)) {
    return new BlobStoreError(
      'connection_refused',
      `cannot reach S3 at ${where(context)}: ${detail}`,
      'check storage.s3.endpoint (MCP_STORAGE_S3_ENDPOINT) and that the S3 server is running',
      cause,
    );
  }
  if (DENIED.has(name) || status === 403) {
    return new BlobStoreError(
      'access_denied',
      `S3 refused access to bucket "${bucket}": ${detail}`,
      "check AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY or the instance role's policy",
      cause,
    );
  }
  if (WRONG_REGION.has(name) || status === 301 || (status === 400 && elsewhere)) {
    return new BlobStoreError(
      'wrong_region',
      `bucket "${bucket}" is not in region ${context.region}${elsewhere ? ` but in ${bucketRegion}` : ''}: ${detail}`,
      "fix storage.s3.region (MCP_STORAGE_S3_REGION) to the bucket's region",
      cause,
    );
  }
  if (TIMED_OUT.has(name) || TIMED_OUT.has(networkCode)) {
    return new BlobStoreError(
      'timeout',
      `S3 did not answer in time: ${detail}`,
      'check the network to the S3 server at storage.s3.endpoint (MCP_STORAGE_S3_ENDPOINT), or raise storage.s3.request_timeout (MCP_STORAGE_S3_REQUEST_TIMEOUT)',
      cause,
    );
  }
  if (CUT.has(networkCode) || /socket hang up/i.test(detail)) {
    return new BlobStoreError(
      'connection_reset',
      `the connection to S3 at ${where(context)} was cut: ${detail}`,
      `check the network to the S3 server at storage.s3.endpoint (MCP_STORAGE_S3_ENDPOINT); each request is tried storage.s3.max_attempts (MCP_STORAGE_S3_MAX_ATTEMPTS) times`,
      cause,
    );
  }
  if (THROTTLED.has(name) || status === 503 || status === 429) {
    return new BlobStoreError(
      'throttled',
      `S3 at ${where(context)} asked to slow down${status === undefined ? '' : ` (HTTP ${status} ${name})`}: ${detail}`,
      `the S3 server at storage.s3.endpoint (MCP_STORAGE_S3_ENDPOINT) is overloaded or throttling: retry later, or raise storage.s3.max_attempts (MCP_STORAGE_S3_MAX_ATTEMPTS)`,
      cause,
    );
  }
  if (status !== undefined && status >= 500) {
    return new BlobStoreError(
      'server_error',
      `S3 at ${where(context)} failed with HTTP ${status}: ${detail}`,
      `the S3 server at storage.s3.endpoint (MCP_STORAGE_S3_ENDPOINT) failed: retry later, and check it if this lasts`,
      cause,
    );
  }
  if (name === 'AbortError') {
    return new BlobStoreError(
      'aborted',
      `the S3 request was aborted: ${detail}`,
      'the caller cancelled the operation',
      cause,
    );
  }
  if (name === 'InvalidRange' || status === 416) {
    return new BlobStoreError(
      'invalid_range',
      `the range is outside "${key}"`,
      'ask for a range inside the object',
      cause,
    );
  }
  if (name === 'PreconditionFailed' || status === 412) {
    return new BlobStoreError(
      'object_changed',
      `"${key}" was replaced while it was being read`,
      'read the object again',
      cause,
    );
  }
  return new BlobStoreError(
    'unknown',
    `S3 failed${status === undefined ? '' : ` with HTTP ${status}`}: ${detail}`,
    `see the cause; check the S3 server${context.endpoint ? ` at ${context.endpoint}` : ''} and bucket ${bucket}`,
    cause,
  );
}

/** The S3 server a message is about: the configured endpoint, or AWS's for the region. */
function where(context: S3ErrorContext): string {
  return context.endpoint || `the AWS endpoint for ${context.region}`;
}
