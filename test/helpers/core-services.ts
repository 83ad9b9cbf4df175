// The core services on real parts for "medium" tests: a cloned database, a fresh moto bucket and a
// queue under its own prefix on the real Redis. A test wraps `blobs` only where it needs a failure
// on cue (see `blobStoreWith`).
import { randomBytes } from 'node:crypto';
import {
  Compactor,
  ContextService,
  InlineTokenCounter,
  type Keyring,
  LifecycleService,
  type LifecycleSettings,
  type StorageSettings,
  type VersionKeeping,
  VersionUploader,
} from '@ctxvault/core';
import { ContextRepository, createOrm, type MikroORM, SegmentRepository, StagingRepository } from '@ctxvault/db';
import { JobProducer, UPLOAD_QUEUE } from '@ctxvault/queue';
import { type BlobStore, createBlobStore, tracksIncompleteUploads } from '@ctxvault/storage';
import { afterAll, beforeAll, inject } from 'vitest';
import type { TestDatabase } from './database.ts';
import { createFileDatabase } from './file-database.ts';
import { createTestBucket, TEST_CREDENTIALS, type TestBucket } from './s3.ts';

const MiB = 1024 * 1024;

export interface CoreParts {
  db: TestDatabase;
  bucket: TestBucket;
  orm: MikroORM;
  contexts: ContextRepository;
  segments: SegmentRepository;
  staging: StagingRepository;
  /** the S3 store on the file's bucket */
  blobs: BlobStore;
  jobs: JobProducer;
  /** bodies from 1 KiB up go to the blob store, so small test contexts exercise uploads */
  settings: StorageSettings;
  /** the services on these parts; `blobs` replaces the store (e.g. one that fails on cue) */
  service(blobs?: BlobStore): ContextService;
  /** `keeping`: the lifecycle's keep_versions / keep_for (default: keep no superseded version) */
  uploader(blobs?: BlobStore, keeping?: Partial<VersionKeeping>): VersionUploader;
  compactor(blobs?: BlobStore): Compactor;
  lifecycle(settings?: Partial<LifecycleSettings>, blobs?: BlobStore): LifecycleService;
}

const KEEP_NOTHING: VersionKeeping = { keepVersions: 0, keepForMs: 0 };
const silent = { info() {}, warn() {}, error() {}, debug() {} };

/**
 * Registers the hooks that build the parts before the file's tests and release them after;
 * `keyring`, when given, is called on the file's ORM and seals every body (envelope encryption).
 */
export function useCoreParts(options: { keyring?: (orm: MikroORM) => Keyring } = {}): CoreParts {
  const parts = {} as CoreParts;
  beforeAll(async () => {
    parts.db = await createFileDatabase();
    parts.bucket = await createTestBucket(inject('s3Endpoint'));
    parts.orm = await createOrm({ url: parts.db.url, poolMax: 4 });
    parts.contexts = new ContextRepository(parts.orm);
    parts.segments = new SegmentRepository(parts.orm);
    parts.staging = new StagingRepository(parts.orm, { chunkSize: 64 * 1024, maxConcurrent: 4, bodyTimeoutMs: 60_000 });
    parts.blobs = createBlobStore({
      type: 's3',
      s3: {
        region: 'us-east-1',
        bucket: parts.bucket.name,
        endpoint: inject('s3Endpoint'),
        forcePathStyle: true,
        serverSideEncryption: '',
        uploadPartSize: 5 * MiB,
        downloadPartSize: 5 * MiB,
        concurrency: 2,
        requestTimeoutMs: 30_000,
        maxAttempts: 2,
        credentials: TEST_CREDENTIALS,
      },
    });
    parts.jobs = new JobProducer(
      {
        backend: 'redis',
        redis: { url: inject('redisUrl'), cluster: false },
        databaseUrl: parts.db.url,
        prefix: `test-${randomBytes(4).toString('hex')}`,
      },
      { attempts: 3, backoffMs: 10 },
    );
    parts.settings = {
      provider: 's3',
      pathPrefix: 'contexts',
      inlineThreshold: 1024,
      // the services' tests are of the worker's path: a large create is staged
      directWrites: false,
      codec: 'identity',
      inlineCountBytes: 64 * 1024,
      compaction: { maxSegments: 4, maxBytes: 64 * MiB },
    };
    const tokens = { encoding: 'auto', defaultEncoding: 'o200k_base' } as const;
    const tokenCounter = new InlineTokenCounter(tokens);
    const keyring = options.keyring?.(parts.orm);
    const deps = (blobs = parts.blobs) => ({ ...parts, blobs, logger: silent, tokens, tokenCounter, keyring });
    parts.service = (blobs) => new ContextService(deps(blobs));
    parts.uploader = (blobs, keeping = {}) =>
      new VersionUploader({ ...deps(blobs), keeping: { ...KEEP_NOTHING, ...keeping } });
    parts.compactor = (blobs) => new Compactor(deps(blobs));
    parts.lifecycle = (settings = {}, blobs = parts.blobs) =>
      new LifecycleService({
        ...deps(blobs),
        uploader: parts.uploader(blobs, settings),
        storage: parts.settings,
        settings: {
          pathPrefix: parts.settings.pathPrefix,
          ...KEEP_NOTHING,
          objectGraceMs: 0,
          multipartGraceMs: 0,
          stagingGraceMs: 0,
          pendingGraceMs: 0,
          ...settings,
        },
      });
  });
  afterAll(async () => {
    await parts.jobs
      ?.queue(UPLOAD_QUEUE)
      .obliterate({ force: true })
      .catch(() => {});
    await parts.jobs?.close();
    await parts.blobs?.close();
    await parts.orm?.close();
    await parts.bucket?.drop();
    await parts.db?.drop();
  });
  return parts;
}

const STORE_METHODS = [
  'put',
  'get',
  'head',
  'delete',
  'list',
  'deletePrefix',
  'check',
  'close',
  'listIncompleteUploads',
  'abortIncompleteUpload',
] as const;

/** `store` with some of its methods replaced: a failure on cue, a count of calls. */
export function blobStoreWith(store: BlobStore, overrides: Partial<BlobStore>): BlobStore {
  const delegate: Record<string, unknown> = { kind: store.kind };
  if (tracksIncompleteUploads(store)) delegate.multipartFrom = store.multipartFrom;
  for (const name of STORE_METHODS) {
    const method = (store as unknown as Record<string, unknown>)[name];
    if (typeof method === 'function') delegate[name] = method.bind(store);
  }
  return Object.assign(delegate, overrides) as unknown as BlobStore;
}
