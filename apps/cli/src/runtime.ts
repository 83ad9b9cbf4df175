import type { RequestCounter } from '@ctxvault/api';
import type { Config } from '@ctxvault/config';
import {
  ApiKeys,
  ArchiveExporter,
  ArchiveImporter,
  BodyCache,
  BucketRebuilder,
  Compactor,
  ContextService,
  createTokenCounter,
  type Keyring,
  LifecycleService,
  Replicator,
  replicatingStore,
  type SharedBodyCache,
  type StorageSettings,
  type TokenCounter,
  Tokenizer,
  type TokenSettings,
  VersionUploader,
} from '@ctxvault/core';
import {
  ApiKeyRepository,
  ContextRepository,
  createOrm,
  type MikroORM,
  migrate,
  type ReplicaLag,
  ReplicaLogRepository,
  SegmentRepository,
  StagingRepository,
} from '@ctxvault/db';
import { createMetrics, type Metrics, meteredBlobStore } from '@ctxvault/observability';
import {
  ALL_QUEUES,
  DELETE_QUEUE,
  JobProducer,
  QueueAdmin,
  type QueueConnectionOptions,
  UPLOAD_QUEUE,
} from '@ctxvault/queue';
import { type BlobStore, createBlobStore, readFallbackStore, type S3CallObserver } from '@ctxvault/storage';
import { openKeyring } from './keyring.ts';
import type { Logger } from './logger.ts';
import { redisBodyCache } from './redis-body-cache.ts';
import { redisRequestCounter } from './redis-request-counter.ts';
import { replicaStoreOptions, s3StoreOptions } from './s3-store-options.ts';

/** Everything a process needs, built once from the settings; `close()` releases it in reverse. */
export interface Runtime {
  config: Config;
  orm: MikroORM;
  blobs: BlobStore;
  jobs: JobProducer;
  /** what operators do with jobs: the admin API and the dashboard */
  queueAdmin: QueueAdmin;
  connection: QueueConnectionOptions;
  /** this process's series; the API serves them at /metrics, a worker on metrics.worker_port */
  metrics: Metrics;
  service: ContextService;
  /** requests per tenant and second, shared by the API processes through Redis; none on the embedded database */
  requestCounter?: RequestCounter;
  /** the API keys of auth.mode "api_key" (and beside JWTs with "jwt") */
  apiKeys: ApiKeys;
  uploader: VersionUploader;
  compactor: Compactor;
  /** export and import of archives, and the rebuild of the references from the bucket */
  archive: { exporter: ArchiveExporter; importer: ArchiveImporter; rebuilder: BucketRebuilder };
  lifecycle: LifecycleService;
  cache: BodyCache;
  /** envelope encryption's data keys; absent when no master key is configured */
  keyring?: Keyring;
  /** token counting off the event loop, in worker threads on every core */
  tokenCounter: TokenCounter;
  embedded: boolean;
  /** set when storage.replica is: the replica store, its log, and what runs its jobs */
  replica?: { store: BlobStore; primary: BlobStore; log: ReplicaLogRepository; replicator: Replicator };
  /** how far the replica is behind (/readyz, /metrics); absent without a replica */
  replicaLag?: () => Promise<ReplicaLag>;
  /** what /readyz checks, one dependency each */
  readiness: { database(): Promise<void>; queue(): Promise<void>; blob_store(): Promise<void> };
  close(): Promise<void>;
}

export interface RuntimeOptions {
  /** run migrations before anything else (the embedded `start` does; deployments run `migrate`) */
  migrate?: boolean;
  /** allow the embedded PGlite databases when database.url is empty (only `start`: one process) */
  allowEmbedded?: boolean;
  /** token counting threads (started on first use); default: tokens.counting_threads */
  countingThreads?: number;
}

export async function openRuntime(config: Config, logger: Logger, options: RuntimeOptions = {}): Promise<Runtime> {
  const closers: (() => Promise<void>)[] = [];
  const closeAll = async () => {
    for (const closeOne of [...closers].reverse()) {
      try {
        await closeOne();
      } catch (err) {
        logger.warn({ err }, 'error while shutting down');
      }
    }
  };
  // safe to call twice (a signal during shutdown, a test's afterAll): later calls await the first
  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= closeAll();
    return closing;
  };
  try {
    let databaseUrl = config.database.url;
    let queueDatabaseUrl = config.database.url;
    const embedded = databaseUrl === '';
    if (embedded) {
      if (!options.allowEmbedded) {
        throw new Error(
          'database.url (MCP_DATABASE_URL) is empty: set it to a postgres:// URL, or use `ctxvault start` for the embedded single-process mode',
        );
      }
      // PGlite is loaded only here: api and worker processes never need it
      const { startEmbeddedDatabases } = await import('./embedded/index.ts');
      const databases = await startEmbeddedDatabases(config.database.embedded_dir);
      closers.push(() => databases.close());
      databaseUrl = databases.appUrl;
      queueDatabaseUrl = databases.queueUrl;
    }

    const orm = await createOrm({ url: databaseUrl, poolMax: embedded ? 4 : 10 });
    closers.push(() => orm.close());
    if (options.migrate) {
      const applied = await migrate(orm);
      if (applied.length) logger.info({ applied }, 'migrations applied');
    }

    const staging = new StagingRepository(orm, {
      chunkSize: config.staging.chunk_size,
      maxConcurrent: config.limits.max_concurrent_stagings,
      bodyTimeoutMs: config.limits.body_timeout,
    });
    const connection: QueueConnectionOptions = {
      backend: config.queue.backend,
      redis: config.redis,
      databaseUrl: queueDatabaseUrl,
      prefix: config.queue.prefix,
    };
    const jobs = new JobProducer(connection, { attempts: config.queue.attempts, backoffMs: config.queue.backoff });
    closers.push(() => jobs.close());
    // the embedded mode runs its lifecycle pass on a timer: PGlite cannot serve another queue's clients
    const queueAdmin = new QueueAdmin(
      (name) => jobs.queue(name),
      embedded ? [UPLOAD_QUEUE, DELETE_QUEUE] : ALL_QUEUES,
      (work) => jobs.guard(work),
    );
    const envelope = openKeyring(config, orm);
    if (envelope) closers.push(async () => envelope.close());
    const keyring = envelope?.keyring;
    let shared: { cache: SharedBodyCache; maxItemBytes: number } | undefined;
    if (config.cache.redis_max_item_bytes > 0 && keyring) {
      // the tier holds bodies in the clear: with envelope encryption they stay in this process's memory
      logger.warn({}, 'cache.redis_max_item_bytes is ignored with encryption: bodies are not shared through Redis');
    } else if (config.cache.redis_max_item_bytes > 0) {
      const tier = redisBodyCache(config.redis, config.queue.prefix, config.cache.redis_ttl);
      closers.push(() => tier.close());
      shared = { cache: tier, maxItemBytes: config.cache.redis_max_item_bytes };
    }
    const cache = new BodyCache({
      maxBytes: config.cache.max_bytes,
      maxItemBytes: config.cache.max_item_bytes,
      shared,
    });
    let requestCounter: (RequestCounter & { close(): Promise<void> }) | undefined;
    if (!embedded && config.quotas.requests_per_second > 0) {
      requestCounter = redisRequestCounter(config.redis, config.queue.prefix);
      closers.push(() => requestCounter!.close());
    }
    const replicaLog = config.storage.replica.bucket ? new ReplicaLogRepository(orm) : undefined;
    const replicaLag = replicaLog && (() => replicaLog.lag());
    const segments = new SegmentRepository(orm, { prepared: !embedded });
    const metrics = createMetrics({
      queueCounts: () => queueAdmin.counts(),
      stagingBytes: () => staging.totalBytes(),
      cacheStats: () => cache.stats(),
      replicaLag,
      manifestsOwed: () => segments.countManifestsOwed(),
    });

    const observer: S3CallObserver = {
      logger,
      onCall: (call) => {
        if (call.error) metrics.s3Errors.inc({ operation: call.operation, code: call.error });
      },
    };
    const store = createBlobStore(
      config.storage.type === 's3'
        ? { type: 's3', s3: { ...s3StoreOptions(config), observer } }
        : { type: 'local', local: { root: config.storage.local.path } },
    );
    closers.push(() => store.close());
    const primary = meteredBlobStore(store, metrics);
    // every part of the process uses this one store: reads fall back to the replica (with
    // read_fallback), and whatever is written or removed (only workers do) is replicated
    let blobs: BlobStore = primary;
    let replica: Runtime['replica'];
    if (replicaLog) {
      const replicaStore = createBlobStore({ type: 's3', s3: { ...replicaStoreOptions(config), observer } });
      closers.push(() => replicaStore.close());
      const replicaBlobs = meteredBlobStore(replicaStore, metrics);
      if (config.storage.read_fallback === 'replica') {
        blobs = readFallbackStore(primary, replicaBlobs, {
          onFallback: (operation, key, err) => {
            metrics.replicaFallbackReads.inc({ operation });
            logger.warn({ key, err }, `${operation} answered from the replica: the primary store failed`);
          },
        });
      }
      blobs = replicatingStore(blobs, { log: replicaLog, jobs, logger });
      const replicator = new Replicator({ primary, replica: replicaBlobs, log: replicaLog, jobs });
      replica = { store: replicaBlobs, primary, log: replicaLog, replicator };
    }

    const settings: StorageSettings = {
      provider: config.storage.context_storage.provider,
      pathPrefix: config.storage.context_storage.s3_path_prefix,
      inlineThreshold: config.storage.inline_threshold,
      directWrites: config.storage.s3.direct_writes,
      codec: config.storage.compression === 'none' ? 'identity' : config.storage.compression,
      codecLevel: config.storage.compression_level || undefined,
      inlineCountBytes: config.tokens.inline_count_bytes,
      compaction: {
        maxSegments: config.storage.compaction.max_segments,
        maxBytes: config.storage.compaction.max_bytes,
      },
    };
    const contexts = new ContextRepository(orm);
    const tokens: TokenSettings = { encoding: config.tokens.encoding, defaultEncoding: config.tokens.default_encoding };
    const tokenCounter = createTokenCounter(tokens, {
      threads: options.countingThreads ?? (config.tokens.counting_threads || undefined),
    });
    closers.push(() => tokenCounter.close());
    const keeping = { keepVersions: config.lifecycle.keep_versions, keepForMs: config.lifecycle.keep_for };
    const deps = {
      contexts,
      segments,
      staging,
      blobs,
      jobs,
      settings,
      tokens,
      logger,
      cache,
      tokenCounter,
      keyring,
      keeping,
    };
    const uploader = new VersionUploader(deps);
    const lifecycle = new LifecycleService({
      contexts,
      segments,
      staging,
      blobs,
      uploader,
      logger,
      storage: settings,
      keyring,
      settings: {
        pathPrefix: settings.pathPrefix,
        ...keeping,
        objectGraceMs: config.lifecycle.object_grace,
        multipartGraceMs: config.lifecycle.multipart_grace,
        stagingGraceMs: config.lifecycle.staging_grace,
        pendingGraceMs: config.lifecycle.pending_grace,
      },
    });

    return {
      config,
      orm,
      blobs,
      jobs,
      queueAdmin,
      connection,
      metrics,
      service: new ContextService({
        ...deps,
        quotas: { maxContexts: config.quotas.max_contexts, maxStoredBytes: config.quotas.max_stored_bytes },
      }),
      apiKeys: new ApiKeys(new ApiKeyRepository(orm), logger, { cacheTtlMs: config.auth.key_cache_ttl }),
      requestCounter,
      uploader,
      compactor: new Compactor(deps),
      archive: {
        exporter: new ArchiveExporter({ contexts, segments, staging, blobs, keyring }),
        importer: new ArchiveImporter({
          contexts,
          segments,
          blobs,
          settings,
          logger,
          keyring,
          tokenizer: new Tokenizer(tokens),
        }),
        rebuilder: new BucketRebuilder({
          contexts,
          segments,
          blobs,
          settings,
          logger,
          keyring,
          tokenizer: new Tokenizer(tokens),
        }),
      },
      lifecycle,
      cache,
      keyring,
      tokenCounter,
      embedded,
      replica,
      replicaLag,
      readiness: {
        database: async () => {
          await orm.em.fork().execute('select 1');
        },
        queue: () => jobs.check(),
        blob_store: () => blobs.check(),
      },
      close,
    };
  } catch (err) {
    await close();
    throw err;
  }
}
