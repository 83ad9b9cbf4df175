import type { Config } from '@ctxvault/config';
import type { S3BlobStoreOptions } from '@ctxvault/storage';

type BucketLocation = Pick<
  Config['storage']['replica'],
  'bucket' | 'region' | 'endpoint' | 'force_path_style' | 'server_side_encryption' | 'kms_key_id'
>;

/** The S3 store's options from `storage.s3`; credentials come from the AWS SDK's default chain. */
export function s3StoreOptions(config: Config): S3BlobStoreOptions {
  const { s3 } = config.storage;
  return {
    ...located(s3),
    uploadPartSize: s3.upload_part_size,
    downloadPartSize: s3.download_part_size,
    concurrency: s3.concurrency,
    requestTimeoutMs: s3.request_timeout,
    maxAttempts: s3.max_attempts,
  };
}

/**
 * The replica's store: `storage.replica`'s bucket, endpoint, region and credentials (the SDK's chain
 * when none are set), with the primary's part sizes and timeouts.
 */
export function replicaStoreOptions(config: Config): S3BlobStoreOptions {
  const { replica } = config.storage;
  return {
    ...s3StoreOptions(config),
    ...located(replica),
    credentials: replica.access_key_id
      ? { accessKeyId: replica.access_key_id, secretAccessKey: replica.secret_access_key }
      : undefined,
  };
}

function located(settings: BucketLocation) {
  return {
    region: settings.region,
    bucket: settings.bucket,
    endpoint: settings.endpoint || undefined,
    forcePathStyle: settings.force_path_style,
    serverSideEncryption: settings.server_side_encryption,
    kmsKeyId: settings.kms_key_id || undefined,
  };
}
