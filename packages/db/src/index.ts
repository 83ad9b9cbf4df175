export type { MikroORM } from '@mikro-orm/postgresql';
export {
  API_KEY_SCOPES,
  ApiKeyRepository,
  type ApiKeyRow,
  type ApiKeyScope,
  type NewApiKey,
} from './api-key-repository.ts';
export {
  type ContextPatch,
  ContextRepository,
  type ContextRow,
  type ExportFilter,
  type ListFilters,
} from './context-repository.ts';
export { DataKeyRepository, type DataKeyRow } from './data-key-repository.ts';
export { type DatabaseUnavailableCause, databaseUnavailableCause, isUniqueViolation } from './database-errors.ts';
export {
  CONTEXT_STATUSES,
  type Context,
  ContextEntity,
  type ContextStatus,
  STORAGE_PROVIDERS,
  type StorageProvider,
} from './entities/context.entity.ts';
export { StagingBusyError } from './errors/staging-busy-error.ts';
export { StagingConflictError } from './errors/staging-conflict-error.ts';
export { newContextId } from './ids.ts';
export { migrate } from './migrate.ts';
export { createOrm, entities, type OrmOptions } from './orm.ts';
export { type ReplicaEntry, type ReplicaLag, ReplicaLogRepository } from './replica-log-repository.ts';
export {
  type CommittedVersion,
  type CopyRefusal,
  type NewSegment,
  type ObjectPlacement,
  type OpenedVersion,
  type OwedManifest,
  type RoleTally,
  type SearchText,
  type Segment,
  type SegmentCounts,
  type SegmentFormat,
  type SegmentIndex,
  SegmentRepository,
  type SegmentState,
  type TailHint,
  type VersionCommit,
  type VersionEnvelope,
  type VersionKind,
  type VersionRecord,
  type VersionRow,
} from './segment-repository.ts';
export {
  ChunkBuffers,
  rechunk,
  type StagingOptions,
  StagingRepository,
  type StagingSlot,
} from './staging-repository.ts';
