import type { Config } from '@ctxvault/config';
import { BodyCache, ContextService, LifecycleService, VersionUploader, type SharedBodyCache, type StorageSettings, type TokenSettings } from '@ctxvault/core';
import { ContextRepository, StagingRepository, createOrm, migrate, type MikroORM } from '@ctxvault/db';
import { JobProducer, type QueueConnectionOptions } from '@ctxvault/queue';
import { createBlobStore, type BlobStore } from '@ctxvault/storage';
import type { Logger } from './logger.ts';
import { startEmbeddedDatabases } from './embedded/index.ts';
import { redisBodyCache } from './redis-body-cache.ts';

/** Everything a process needs, built once from the settings; `close()` releases it in reverse. */
export interface Runtime {
  config: Config;
  orm: MikroORM;
  blobs: BlobStore;
  jobs: JobProducer;
  connection: QueueConnectionOptions;
  service: ContextService;
  uploader: VersionUploader;
  lifecycle: LifecycleService;
  cache: BodyCache;
  embedded: boolean;
  checkReady(): Promise<void>;
  close(): Promise<void>;
}

export interface RuntimeOptions {
  /** run migrations before anything else (the embedded `start` does; deployments run `migrate`) */
  migrate?: boolean;
  /** allow the embedded PGlite databases when database.url is empty (only `start`: one process) */
  allowEmbedded?: boolean;
}

export async function openRuntime(config: Config, logger: Logger, options: RuntimeOptions = {}): Promise<Runtime> {
  const closers: (() => Promise<void>)[] = [];
  const close = async () => {
    for (const closeOne of closers.reverse()) {
      try {
        await closeOne();
      } catch (err) {
        logger.warn({ err }, 'error while shutting down');
      }
    }
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

    const blobs = createBlobStore(
      config.storage.type === 's3'
        ? {
            type: 's3',
            s3: {
              region: config.storage.s3.region,
              bucket: config.storage.s3.bucket,
              endpoint: config.storage.s3.endpoint || undefined,
              forcePathStyle: config.storage.s3.force_path_style,
              serverSideEncryption: config.storage.s3.server_side_encryption,
              kmsKeyId: config.storage.s3.kms_key_id || undefined,
              uploadPartSize: config.storage.s3.upload_part_size,
              downloadPartSize: config.storage.s3.download_part_size,
              concurrency: config.storage.s3.concurrency,
              requestTimeoutMs: config.storage.s3.request_timeout,
              maxAttempts: config.storage.s3.max_attempts,
            },
          }
        : { type: 'local', local: { root: config.storage.local.path } },
    );
    closers.push(() => blobs.close());

    const connection: QueueConnectionOptions = {
      backend: config.queue.backend,
      redisUrl: config.redis.url,
      databaseUrl: queueDatabaseUrl,
      prefix: config.queue.prefix,
    };
    const jobs = new JobProducer(connection, { attempts: config.queue.attempts, backoffMs: config.queue.backoff });
    closers.push(() => jobs.close());

    const settings: StorageSettings = {
      provider: config.storage.context_storage.provider,
      pathPrefix: config.storage.context_storage.s3_path_prefix,
      inlineThreshold: config.storage.inline_threshold,
      codec: config.storage.compression === 'none' ? 'identity' : config.storage.compression,
      codecLevel: config.storage.compression_level || undefined,
    };
    const contexts = new ContextRepository(orm);
    const staging = new StagingRepository(orm, config.staging.chunk_size);
    let shared: { cache: SharedBodyCache; maxItemBytes: number } | undefined;
    if (config.cache.redis_max_item_bytes > 0) {
      const tier = redisBodyCache(config.redis.url, config.queue.prefix, config.cache.redis_ttl);
      closers.push(() => tier.close());
      shared = { cache: tier, maxItemBytes: config.cache.redis_max_item_bytes };
    }
    const cache = new BodyCache({ maxBytes: config.cache.max_bytes, maxItemBytes: config.cache.max_item_bytes, shared });
    const tokens: TokenSettings = { encoding: config.tokens.encoding, defaultEncoding: config.tokens.default_encoding };
    const deps = { contexts, staging, blobs, jobs, settings, tokens, logger, cache };
    const uploader = new VersionUploader(deps);
    const lifecycle = new LifecycleService({
      contexts,
      staging,
      blobs,
      uploader,
      logger,
      settings: {
        pathPrefix: settings.pathPrefix,
        keepVersions: config.lifecycle.keep_versions,
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
      connection,
      service: new ContextService(deps),
      uploader,
      lifecycle,
      cache,
      embedded,
      checkReady: async () => {
        await orm.em.fork().execute('select 1');
        await blobs.check();
      },
      close,
    };
  } catch (err) {
    await close();
    throw err;
  }
}
