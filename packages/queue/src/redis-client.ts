import { Cluster, Redis, type RedisOptions } from 'ioredis';

/** Where Redis is: one node, or the seed nodes of a Redis Cluster (settings redis.url, redis.cluster). */
export interface RedisTarget {
  /** one redis:// or rediss:// URL; with `cluster`, one or more comma-separated seed nodes */
  url: string;
  cluster: boolean;
}

/**
 * How a client behaves while Redis is away: `fail-fast` clients (producers, caches, limits) have
 * no offline queue and try once, so a request never hangs on Redis; `wait` clients (workers)
 * retry forever, as BullMQ requires (maxRetriesPerRequest: null).
 */
export type RedisPatience = 'fail-fast' | 'wait';

/** A client for the target; every client gets an 'error' listener, or an outage crashes the process. */
export function openRedis(target: RedisTarget, patience: RedisPatience): Redis | Cluster {
  const failFast = patience === 'fail-fast';
  const perRequest = failFast ? { maxRetriesPerRequest: 1, connectTimeout: 5_000 } : { maxRetriesPerRequest: null };
  const client = target.cluster
    ? openCluster(target.url, perRequest, failFast)
    : new Redis(target.url, { ...perRequest, ...(failFast && { enableOfflineQueue: false }) });
  client.on('error', () => {});
  return client;
}

function openCluster(urls: string, perRequest: RedisOptions, failFast: boolean): Cluster {
  const seeds = urls.split(',').map((one) => one.trim());
  // credentials and TLS of the first seed apply to every node the cluster reports (nodes discovered
  // through CLUSTER SLOTS carry only host and port)
  const first = new URL(seeds[0] ?? '');
  const cluster = new Cluster(seeds, {
    // a fail-fast client still queues until the cluster is first reached (slots loaded, which takes a
    // few round trips), or a process just started would have its first commands refused
    enableOfflineQueue: true,
    // a failover (replica promoted after cluster-node-timeout) answers CLUSTERDOWN or drops the
    // connection meanwhile; retried every 200 ms up to maxRedirections times
    retryDelayOnClusterDown: 200,
    retryDelayOnFailover: 200,
    // no CLUSTER INFO check before 'ready': when it finds cluster_state:fail (a failover under way)
    // ioredis reconnects by itself and leaves the promise of an explicit connect() pending forever,
    // and BullMQ awaits exactly that promise to restore a worker's blocking connection, so the
    // worker stopped taking jobs for good (and could not close). Commands sent while the cluster is
    // down are retried (retryDelayOnClusterDown) instead.
    enableReadyCheck: false,
    redisOptions: {
      ...perRequest,
      ...(first.username && { username: decodeURIComponent(first.username) }),
      ...(first.password && { password: decodeURIComponent(first.password) }),
      ...(first.protocol === 'rediss:' && { tls: {} }),
    },
  });
  if (failFast) {
    cluster.once('ready', () => {
      cluster.options.enableOfflineQueue = false;
    });
  }
  return cluster;
}

/**
 * The key prefix of BullMQ's keys. On a cluster it is a hash tag ({ctxvault}): BullMQ's Lua scripts
 * touch several keys of a queue at once, and a cluster runs a script only when all its keys are in
 * one hash slot.
 */
export function queueKeyPrefix(prefix: string, cluster: boolean): string {
  return cluster ? `{${prefix}}` : prefix;
}
