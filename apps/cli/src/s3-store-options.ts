import type { Config } from '@ctxvault/config';
import type { S3BlobStoreOptions } from '@ctxvault/storage';

/** The S3 store's options from `storage.s3`; credentials come from the AWS SDK's default chain. */
export function s3StoreOptions({ storage: { s3 } }: Config): S3BlobStoreOptions {
  return {
    region: s3.region,
    bucket: s3.bucket,
    endpoint: s3.endpoint || undefined,
    forcePathStyle: s3.force_path_style,
    serverSideEncryption: s3.server_side_encryption,
    kmsKeyId: s3.kms_key_id || undefined,
    uploadPartSize: s3.upload_part_size,
    downloadPartSize: s3.download_part_size,
    concurrency: s3.concurrency,
    requestTimeoutMs: s3.request_timeout,
    maxAttempts: s3.max_attempts,
  };
}
