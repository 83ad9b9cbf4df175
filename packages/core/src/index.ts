export {
  ContextService,
  type ContextServiceDeps,
  type WriteResult,
  type ReadResult,
  type WindowedRead,
} from './context-service.ts';
export { LifecycleService, type LifecycleSettings, type LifecycleCounts } from './lifecycle-service.ts';
export { Tokenizer, type TokenSettings } from './tokens.ts';
export { TRUNCATION_STRATEGIES, type TruncationStrategy } from './truncation.ts';
export { VersionUploader, type VersionUploaderDeps, type UploadOutcome } from './version-uploader.ts';
export * from './errors/index.ts';
export * from './schemas.ts';
export {
  toContextView,
  contextViewSchema,
  contextSchema,
  contextListSchema,
  pendingWriteSchema,
  deletingSchema,
  statusViewSchema,
  searchResultSchema,
  readWindowSchema,
  contextSummarySchema,
  type ContextSummary,
  type ContextView,
  type StatusView,
  type SearchResult,
} from './views.ts';
export { serializeDocument, readItems, lines, CorruptDocumentError, type DocumentEnvelope } from './document.ts';
export type { ContextStore, StagingStore, JobQueue, Logger, StorageSettings } from './ports.ts';
export { BodyCache, type BodyCacheOptions, type BodyCacheStats, type SharedBodyCache } from './body-cache.ts';
