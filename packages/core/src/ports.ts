import type { ContextRepository, SegmentRepository, StagingRepository } from '@ctxvault/db';
import type { CompactJob, DeleteJob, JobView, UploadJob } from '@ctxvault/queue';
import type { BlobStore, Codec } from '@ctxvault/storage';
import type { Keyring } from './envelope/keyring.ts';

/** What the core needs of each dependency; the real ones come from db and queue, tests may fake them. */
export type ContextStore = Pick<
  ContextRepository,
  | 'findLive'
  | 'findAny'
  | 'findByIdempotencyKey'
  | 'usage'
  | 'updateIfVersion'
  | 'remove'
  | 'list'
  | 'findStalePending'
  | 'findStaleDeleting'
  | 'findExpired'
>;
export type SegmentStore = Pick<
  SegmentRepository,
  | 'createContext'
  | 'commitVersion'
  | 'segmentsOf'
  | 'openLive'
  | 'openUpload'
  | 'searchIndexed'
  | 'keepSearchTexts'
  | 'copySearchTexts'
  | 'markSearchIndexed'
  | 'findUnindexed'
  | 'markSearchFailed'
  | 'searchItems'
  | 'listVersions'
  | 'findVersion'
  | 'restoreVersion'
  | 'findRestoreByIdempotencyKey'
  | 'forkContext'
  | 'keptOrCollected'
  | 'findWrite'
  | 'findSegment'
  | 'loadBodies'
  | 'loadIndex'
  | 'markStored'
  | 'finalizeTokens'
  | 'swapCompacted'
  | 'findUnsettled'
  | 'retireUnreferenced'
  | 'findRetired'
  | 'remove'
  | 'objectKeysOf'
  | 'manifestedVersionsOf'
  | 'findManifestsOwed'
  | 'manifestStored'
  | 'removeContext'
>;
/** What reading a segment looks up besides its row: its inline body, its item index, its fresh row. */
export type SegmentLookups = Pick<SegmentStore, 'loadBodies' | 'loadIndex' | 'findSegment'>;
export type StagingStore = Pick<StagingRepository, 'takeSlot' | 'write' | 'read' | 'remove' | 'exists' | 'findOrphans'>;

/** Job ids are the queue's business: the core asks for them, never builds them. */
export interface JobQueue {
  uploadJobId(contextId: string, version: number): string;
  enqueueUpload(job: UploadJob): Promise<string>;
  enqueueCompaction(job: CompactJob): Promise<string>;
  enqueueDelete(job: DeleteJob): Promise<string>;
  /** null also when the job belongs to another tenant */
  getJob(id: string, tenantId: string): Promise<JobView | null>;
}

export interface Logger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
  debug(obj: object, msg?: string): void;
}

export interface StorageSettings {
  /** "database": every body inline in Postgres; "s3": bodies at or above the threshold go to the blob store */
  provider: 'database' | 's3';
  /** object key prefix (storage.context_storage.s3_path_prefix) */
  pathPrefix: string;
  /** bodies smaller than this are kept inline and answered 201 */
  inlineThreshold: number;
  /**
   * a create's or replace's body of more than a part of the S3 store is written straight to its
   * object as it arrives, not staged (storage.s3.direct_writes)
   */
  directWrites: boolean;
  /** how bodies are compressed in the blob store (storage.compression) */
  codec: Codec;
  /** the codec's level; undefined for its default */
  codecLevel?: number;
  /** the API counts tokens of at most this many item bytes per write; the workers count the rest (tokens.inline_count_bytes) */
  inlineCountBytes: number;
  /** a worker compacts a context once its current version has more segments, or more bytes outside one object (storage.compaction.*) */
  compaction: { maxSegments: number; maxBytes: number };
}

/** Which superseded versions stay readable, restorable and forkable besides the current one. */
export interface VersionKeeping {
  /** the newest this many superseded versions (lifecycle.keep_versions) */
  keepVersions: number;
  /** and those superseded less than this long ago, in ms (lifecycle.keep_for) */
  keepForMs: number;
}

/** The parts the context service and the version uploader are built from. */
export interface CoreDeps {
  contexts: ContextStore;
  segments: SegmentStore;
  staging: StagingStore;
  blobs: BlobStore;
  jobs: JobQueue;
  settings: StorageSettings;
  logger: Logger;
  /** envelope encryption's data keys; without it nothing is sealed, and a sealed body fails to open */
  keyring?: Keyring;
}
