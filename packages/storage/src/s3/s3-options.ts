import type { S3CallObserver } from './observe-s3-calls.ts';

export interface S3BlobStoreOptions {
  region: string;
  bucket: string;
  /** An S3-compatible service (MinIO, LocalStack, Ceph); absent or '' for AWS. */
  endpoint?: string;
  /** `host/bucket/key` URLs instead of `bucket.host/key`; most S3-compatible services need it. */
  forcePathStyle: boolean;
  /** Applied to every object written; '' leaves it to the bucket's default. */
  serverSideEncryption: '' | 'AES256' | 'aws:kms';
  /** For 'aws:kms'; absent or '' means the account's default S3 key. */
  kmsKeyId?: string;
  /** Bytes per multipart upload part; at least 5 MiB (S3's minimum). Smaller bodies go in one PUT. */
  uploadPartSize: number;
  /** Bytes per ranged GET when reading; larger objects are fetched in parallel parts. */
  downloadPartSize: number;
  /** Parts in flight per upload or download; memory is bounded by this × part size. */
  concurrency: number;
  /** Per request: until the response headers arrive, and for a whole download part. */
  requestTimeoutMs: number;
  /** Attempts per request; throttling, 5xx and network errors are retried with exponential backoff. */
  maxAttempts: number;
  /** Absent: the SDK's default chain (AWS_ACCESS_KEY_ID, profiles, instance roles). */
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  /** Reports each S3 call once it ends: a debug log line, a metric. */
  observer?: S3CallObserver;
}

const MIN_UPLOAD_PART_SIZE = 5 * 1024 * 1024;

/** Refuses options the SDK would only reject mid-upload, naming the option. */
export function assertValidS3Options(options: S3BlobStoreOptions): void {
  const problems = [
    options.bucket === '' && 'bucket is empty',
    !(options.uploadPartSize >= MIN_UPLOAD_PART_SIZE) &&
      `uploadPartSize must be at least ${MIN_UPLOAD_PART_SIZE} bytes`,
    !(options.downloadPartSize >= 1) && 'downloadPartSize must be at least 1 byte',
    !(Number.isInteger(options.concurrency) && options.concurrency >= 1) &&
      'concurrency must be an integer of at least 1',
    !(options.requestTimeoutMs > 0) && 'requestTimeoutMs must be positive',
    !(Number.isInteger(options.maxAttempts) && options.maxAttempts >= 1) &&
      'maxAttempts must be an integer of at least 1',
  ].filter((problem): problem is string => typeof problem === 'string');
  if (problems.length > 0) throw new RangeError(`invalid S3 store options: ${problems.join('; ')}`);
}
