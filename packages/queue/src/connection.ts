import { type BackendFactory, createPostgresBackend, type IQueueBackend } from 'bullmq';
import { ReplyError } from 'ioredis';
import pg from 'pg';
import type { QueueUnavailableCause } from './queue-unavailable-error.ts';
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
  /** why a call that failed with `err` did, when the backend cannot be used; null for other failures */
  unavailable(err: unknown): QueueUnavailableCause | null;
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
      unavailable: postgresUnavailable,
    };
  }
  const redis = openRedis(opts.redis, role === 'producer' ? 'fail-fast' : 'wait');
  // the last connection error says why the client is not ready (a command refused meanwhile says
  // only that it is not)
  let connectionError: unknown;
  redis.on('error', (err) => (connectionError = err));
  redis.on('ready', () => (connectionError = undefined));
  return {
    options: { connection: redis, prefix: queueKeyPrefix(opts.prefix, opts.redis.cluster) },
    factory: undefined,
    close: async () => {
      redis.disconnect();
    },
    unavailable: (err) => {
      if (isAuthReply(err) || isAuthReply(connectionError)) return 'access_denied';
      // a client still "ready" whose node cannot serve for now: a cluster master failing over, a connection cut
      if (redis.status === 'ready') return isTransientRedisFailure(err) ? 'connection_failure' : null;
      return systemErrorCode(connectionError) === 'ETIMEDOUT' ? 'timeout' : 'connection_refused';
    },
  };
}

/** Redis refused the credentials: an error reply whose code (its first word) is NOAUTH or WRONGPASS. */
function isAuthReply(err: unknown): boolean {
  return err instanceof ReplyError && ['NOAUTH', 'WRONGPASS'].includes(String((err as Error).message).split(' ')[0]!);
}

/** Error replies of a Redis (Cluster) node that is failing over, loading or otherwise not serving yet. */
const TRANSIENT_REPLIES = new Set(['CLUSTERDOWN', 'TRYAGAIN', 'MASTERDOWN', 'LOADING', 'READONLY']);

/**
 * ioredis's words for a command that could not reach a serving node: a cluster still finding its
 * slots' new master (too many redirections, no slots cache), a connection closed or not writable
 * under a fail-fast client, its retries used up.
 */
const TRANSIENT_MESSAGES = [
  'Too many Cluster redirections',
  'Failed to refresh slots cache',
  'Connection is closed',
  "Stream isn't writeable",
  'Reached the max retries per request limit',
];

/** A failure that says the queue's Redis cannot serve right now (it may in a moment), along `err`'s causes. */
function isTransientRedisFailure(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    if (e instanceof ReplyError && TRANSIENT_REPLIES.has(String(e.message).split(' ')[0]!)) return true;
    if (e.name === 'ClusterAllFailedError' || e.name === 'MaxRetriesPerRequestError') return true;
    if (TRANSIENT_MESSAGES.some((words) => e.message.includes(words))) return true;
    if (systemErrorCode(e)) return true;
  }
  return false;
}

/** The errno code of a Node system error (a socket's), along `err`'s causes. */
function systemErrorCode(err: unknown): string | null {
  for (let e: unknown = err, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    const { syscall, code } = e as { syscall?: unknown; code?: unknown };
    if (typeof syscall === 'string' && typeof code === 'string') return code;
  }
  return null;
}

/** BullMQ's PostgreSQL backend: no server to talk to (a socket error), or the server refusing us (SQLSTATE). */
function postgresUnavailable(err: unknown): QueueUnavailableCause | null {
  const code = systemErrorCode(err);
  if (code) return code === 'ETIMEDOUT' ? 'timeout' : 'connection_refused';
  for (let e: unknown = err, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    if (!(e instanceof pg.DatabaseError)) continue;
    if (e.code?.startsWith('28')) return 'access_denied';
    // connection exceptions (08…), the server shutting down or starting (57P…), no such database
    if (e.code?.startsWith('08') || e.code?.startsWith('57P') || e.code === '3D000') return 'connection_failure';
  }
  return null;
}
