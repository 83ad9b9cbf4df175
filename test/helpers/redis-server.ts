// A private redis-server for tests that do things to Redis (FLUSHALL) the shared one must not see,
// and what tests do to the Redis (or Redis Cluster) of the test run.
import { spawn } from 'node:child_process';
import { openRedis } from '@ctxvault/queue';
import { Redis } from 'ioredis';
import { inject } from 'vitest';
import { freePort } from './processes.ts';

/**
 * Deletes every key of the queues with that prefix on the test run's Redis (a cluster too: there
 * the keys are `{prefix}:…`, on every master's KEYS), as a Redis restarted without persistence would.
 */
export async function forgetQueueKeys(prefix: string): Promise<void> {
  const redis = openRedis({ url: inject('redisUrl'), cluster: inject('redisCluster') }, 'wait');
  try {
    // a cluster knows its masters once it is ready
    if (redis.status !== 'ready') await new Promise((resolve) => redis.once('ready', resolve));
    for (const node of 'nodes' in redis ? redis.nodes('master') : [redis]) {
      for (const key of await node.keys(`*${prefix}*`)) await redis.del(key);
    }
  } finally {
    redis.disconnect();
  }
}

export interface PrivateRedis {
  url: string;
  flushAll(): Promise<void>;
  stop(): Promise<void>;
}

export async function startPrivateRedis(): Promise<PrivateRedis> {
  const port = await freePort();
  const child = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    { stdio: 'ignore' },
  );
  const url = `redis://127.0.0.1:${port}`;
  let client: Redis;
  for (let i = 0; ; i++) {
    client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1, retryStrategy: () => null });
    client.on('error', () => {});
    try {
      await client.connect();
      break;
    } catch (err) {
      client.disconnect();
      if (i > 50) throw err;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  return {
    url,
    flushAll: async () => {
      await client.flushall();
    },
    stop: async () => {
      client.disconnect();
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    },
  };
}
