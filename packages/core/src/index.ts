export { FORMATS, type Format, TARGET_FORMATS, type TargetFormat, validItemSchema } from '@ctxvault/formats';
export { encodedArchive } from './archive/archive-bytes.ts';
export {
  ARCHIVE_FORMAT,
  ARCHIVE_VERSION,
  type ArchiveRecord,
  archiveRecordSchema,
} from './archive/archive-format.ts';
export { ArchiveFormatError } from './archive/archive-format-error.ts';
export { BucketRebuilder, type BucketRebuilderDeps, type RebuildReport } from './archive/bucket-rebuilder.ts';
export { ArchiveExporter, type ArchiveExporterDeps, type ExportOptions } from './archive/exporter.ts';
export {
  ArchiveImporter,
  type ArchiveImporterDeps,
  type ImportOptions,
  type ImportReport,
} from './archive/importer.ts';
export { type ApiKeyStore, ApiKeys, type ApiKeyView, type NewKeyRequest } from './auth/api-keys.ts';
export { hasScope, type Principal } from './auth/principal.ts';
export { BodyCache, type BodyCacheOptions, type BodyCacheStats, type SharedBodyCache } from './body-cache.ts';
export { type CompactOutcome, Compactor } from './compactor.ts';
export {
  ContextService,
  type ContextServiceDeps,
  type ReadResult,
  type WindowedRead,
  type WriteResult,
} from './context-service.ts';
export { imageTokens, type MediaPricing, mediaPricingFor } from './counting/media-tokens.ts';
export {
  createTokenCounter,
  WorkerTokenCounter,
  type WorkerTokenCounterOptions,
} from './counting/worker-token-counter.ts';
export { type DocumentEnvelope, lines, openingLine } from './document.ts';
export {
  type DataKey,
  type DataKeyStore,
  Keyring,
  type KeyringOptions,
  type RotationReport,
} from './envelope/keyring.ts';
export * from './errors/index.ts';
export { type LifecycleCounts, LifecycleService, type LifecycleSettings } from './lifecycle-service.ts';
export type {
  ContextStore,
  JobQueue,
  Logger,
  SegmentStore,
  StagingStore,
  StorageSettings,
  VersionKeeping,
} from './ports.ts';
export { parseRawItem, type RawItem, type RawItems, rawItems } from './raw-items.ts';
export type { ReplicaJobs, ReplicaLog } from './replication/ports.ts';
export { type VerifyOptions, type VerifyReport, verifyReplica } from './replication/replica-verifier.ts';
export { type ReplicatingStoreDeps, replicatingStore } from './replication/replicating-store.ts';
export { type ReplicationOutcome, Replicator, type ReplicatorDeps } from './replication/replicator.ts';
export * from './schemas.ts';
export { documentBody, splitLines, TruncatedSegmentError } from './segment-format.ts';
export { InlineTokenCounter, type ItemCount, type TokenCounter } from './token-counter.ts';
export { Tokenizer, type TokenSettings } from './tokens.ts';
export { type UploadOutcome, VersionUploader, type VersionUploaderDeps } from './version-uploader.ts';
export { toVersionView, type VersionView, versionListSchema, versionViewSchema } from './version-views.ts';
export {
  type ContextSummary,
  type ContextView,
  contextListSchema,
  contextSchema,
  contextSummarySchema,
  contextViewSchema,
  deletingSchema,
  pendingWriteSchema,
  readWindowSchema,
  type SearchResult,
  type StatusView,
  searchResultSchema,
  statusViewSchema,
  toContextView,
} from './views.ts';
