import { type BackendFactory, createPostgresBackend, type IQueueBackend } from 'bullmq';
import { openRedis, queueKeyPrefix, type RedisTarget } from './redis-client.ts';

/** The schema BullMQ's PostgreSQL backend uses; the ORM's schema diff ignores it. */
export const POSTGRES_QUEUE_SCHEMA = 'bullmq';

export interface QueueConnectionOptions {
  /** `redis` (one node or a cluster) or `postgres` (BullMQ's PostgreSQL backend on databaseUrl) */
  backend: 'redis' | 'postgres';
  redis: RedisTarget;
  databaseUrl: string;
  /** Redis key prefix, a hash tag on a cluster (the PostgreSQL backend uses schema `bullmq` instead) */
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
  const redis = openRedis(opts.redis, role === 'producer' ? 'fail-fast' : 'wait');
  return {
    options: { connection: redis, prefix: queueKeyPrefix(opts.prefix, opts.redis.cluster) },
    factory: undefined,
    close: async () => {
      redis.disconnect();
    },
  };
}
