import type { Cluster } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RedisClusterUnderTest, startRedisCluster } from '../../../test/helpers/redis-cluster.ts';
import { openRedis, queueKeyPrefix } from './redis-client.ts';

let cluster: RedisClusterUnderTest;
beforeAll(async () => {
  cluster = await startRedisCluster({ masters: 3, replicas: 0 });
});
afterAll(() => cluster?.stop());

describe('openRedis on a Redis Cluster', () => {
  it("serves a fail-fast client's first commands, sent before the cluster is reached", async () => {
    const client = openRedis({ url: cluster.url, cluster: true }, 'fail-fast') as Cluster;
    try {
      // keys on every master, sent at once: nothing is refused while the slots are still loading
      const keys = Array.from({ length: 12 }, (_, i) => `ctxvault:body-cache:key-${i}`);
      await Promise.all(keys.map((key) => client.set(key, key)));
      expect(await Promise.all(keys.map((key) => client.get(key)))).toEqual(keys);
      expect(client.options.enableOfflineQueue).toBe(false);
    } finally {
      client.disconnect();
    }
  });

  it('hash-tags the queue prefix, so each queue keeps its keys in one slot', async () => {
    expect(queueKeyPrefix('ctxvault', true)).toBe('{ctxvault}');
    expect(queueKeyPrefix('ctxvault', false)).toBe('ctxvault');
    const client = openRedis({ url: cluster.url, cluster: true }, 'wait') as Cluster;
    try {
      const prefix = queueKeyPrefix('ctxvault', true);
      // a multi-key command fails with CROSSSLOT unless every key is in one slot
      await client.mset(`${prefix}:context-upload:a`, '1', `${prefix}:context-delete:b`, '2');
      expect(await client.mget(`${prefix}:context-upload:a`, `${prefix}:context-delete:b`)).toEqual(['1', '2']);
    } finally {
      client.disconnect();
    }
  });
});
