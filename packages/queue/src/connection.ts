import { type BackendFactory, createPostgresBackend, type IQueueBackend } from 'bullmq';
import { Redis, type RedisOptions } from 'ioredis';

/** The schema BullMQ's PostgreSQL backend uses; the ORM's schema diff ignores it. */
export const POSTGRES_QUEUE_SCHEMA = 'bullmq';

export interface QueueConnectionOptions {
  /** `redis` (redisUrl) or `postgres` (BullMQ's PostgreSQL backend on databaseUrl) */
  backend: 'redis' | 'postgres';
  redisUrl: string;
  databaseUrl: string;
  /** Redis key prefix (the PostgreSQL backend keeps its tables in schema `bullmq` instead) */
  prefix: string;
}

/** Arguments that make a BullMQ class talk to the configured backend. */
export interface BackendBinding {
  options: { connection: unknown; prefix?: string };
  factory: BackendFactory<IQueueBackend, unknown> | undefined;
  /** closes connections this binding created itself (BullMQ leaves caller-owned clients open) */
  close(): Promise<void>;
}

/**
 * Producers fail fast when Redis is gone (no offline queue), so a request never hangs on an
 * enqueue; workers wait for Redis to come back (maxRetriesPerRequest: null), as BullMQ advises.
 */
export function bindBackend(opts: QueueConnectionOptions, role: 'producer' | 'worker'): BackendBinding {
  if (opts.backend === 'postgres') {
    return {
      // migrate: BullMQ creates or upgrades its schema on connect, serialized by an advisory lock
      options: {
        connection: { connectionString: opts.databaseUrl, schema: POSTGRES_QUEUE_SCHEMA, max: 5, migrate: true },
      },
      factory: createPostgresBackend as BackendFactory<IQueueBackend, unknown>,
      close: async () => {},
    };
  }
  const redisOptions: RedisOptions =
    role === 'producer'
      ? { enableOfflineQueue: false, maxRetriesPerRequest: 1, connectTimeout: 5_000 }
      : { maxRetriesPerRequest: null };
  const redis = new Redis(opts.redisUrl, redisOptions);
  // every client needs a listener, or a connection error becomes an uncaught exception
  redis.on('error', () => {});
  return {
    options: { connection: redis, prefix: opts.prefix },
    factory: undefined,
    close: async () => {
      redis.disconnect();
    },
  };
}
