export type { BlobStore, ByteRange, ObjectInfo, PutOptions, PutResult, IncompleteUpload, IncompleteUploadTracking } from './blob-store.ts';
export { tracksIncompleteUploads } from './blob-store.ts';
export { createBlobStore, type BlobStoreOptions } from './create-blob-store.ts';
export { BlobNotFoundError } from './errors/blob-not-found-error.ts';
export { BlobStoreError, type BlobStoreErrorCode } from './errors/blob-store-error.ts';
export { InvalidKeyError } from './errors/invalid-key-error.ts';
export { assertValidKey, assertValidPrefix } from './key-rules.ts';
export { contextPrefix, objectKey, parseObjectKey, type ParsedObjectKey } from './keys.ts';
export { LocalBlobStore, type LocalBlobStoreOptions } from './local/local-blob-store.ts';
export {
  ABORT_UPLOADS_RULE_ID,
  ensureAbortUploadsRule,
  mergeAbortUploadsRule,
  type AbortUploadsOutcome,
  type AbortUploadsRule,
} from './s3/bucket/abort-uploads-rule.ts';
export { directoryOf, type BucketSettings, type S3Sender } from './s3/bucket/bucket-settings.ts';
export { ensureBucket, type BucketOutcome } from './s3/bucket/ensure-bucket.ts';
export { ensureVersioning, type VersioningOutcome } from './s3/bucket/ensure-versioning.ts';
export { encryptionMismatch, probeObject, type ProbeResult } from './s3/bucket/probe-object.ts';
export { createS3Client } from './s3/create-s3-client.ts';
export { mapS3Error, type S3ErrorContext } from './s3/map-s3-error.ts';
export { S3BlobStore } from './s3/s3-blob-store.ts';
export type { S3BlobStoreOptions } from './s3/s3-options.ts';
export { CODECS, codecSuffix, compressor, decompressor, isCodec, type Codec } from './codecs.ts';
export type { S3Call, S3CallObserver } from './s3/observe-s3-calls.ts';
