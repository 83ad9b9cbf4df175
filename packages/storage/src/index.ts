export type {
  BlobStore,
  ByteRange,
  IncompleteUpload,
  IncompleteUploadTracking,
  ObjectInfo,
  PartUpload,
  PartUploads,
  PutOptions,
  PutResult,
} from './blob-store.ts';
export { tracksIncompleteUploads, uploadsInParts } from './blob-store.ts';
export { CODECS, type Codec, codecSuffix, compressor, decompressor, isCodec } from './codecs.ts';
export { type BlobStoreOptions, createBlobStore } from './create-blob-store.ts';
export { BlobNotFoundError } from './errors/blob-not-found-error.ts';
export { BlobStoreError, type BlobStoreErrorCode } from './errors/blob-store-error.ts';
export { InvalidKeyError } from './errors/invalid-key-error.ts';
export { KeyServiceError } from './errors/key-service-error.ts';
export { UnsealError } from './errors/unseal-error.ts';
export { assertValidKey, assertValidPrefix } from './key-rules.ts';
export { contextPrefix, objectKey, type ParsedObjectKey, parseObjectKey, segmentKey } from './keys.ts';
export { LocalBlobStore, type LocalBlobStoreOptions } from './local/local-blob-store.ts';
export { type ReadFallbackOptions, readFallbackStore } from './read-fallback-store.ts';
export {
  ABORT_UPLOADS_RULE_ID,
  type AbortUploadsOutcome,
  type AbortUploadsRule,
  ensureAbortUploadsRule,
  mergeAbortUploadsRule,
} from './s3/bucket/abort-uploads-rule.ts';
export { type BucketSettings, directoryOf, type S3Sender } from './s3/bucket/bucket-settings.ts';
export { type BucketOutcome, ensureBucket } from './s3/bucket/ensure-bucket.ts';
export { ensureVersioning, type VersioningOutcome } from './s3/bucket/ensure-versioning.ts';
export { encryptionMismatch, type ProbeResult, probeObject } from './s3/bucket/probe-object.ts';
export { createS3Client } from './s3/create-s3-client.ts';
export { mapS3Error, type S3ErrorContext } from './s3/map-s3-error.ts';
export type { S3Call, S3CallObserver } from './s3/observe-s3-calls.ts';
export { S3BlobStore } from './s3/s3-blob-store.ts';
export type { S3BlobStoreOptions } from './s3/s3-options.ts';
export {
  FRAME_SIZE,
  type SealPurpose,
  seal,
  sealBuffer,
  sealedRange,
  sealedSize,
  sealKey,
  unseal,
  unsealBuffer,
} from './seal/frames.ts';
export { KmsMasterKeys, type KmsMasterKeysOptions } from './seal/kms-master-keys.ts';
export { LocalMasterKeys, localKeyId } from './seal/local-master-keys.ts';
export type { MasterKeys, WrappedKey } from './seal/master-keys.ts';
