// Redis is flushed (FLUSHALL) while upload jobs wait: Postgres remembers what is pending, and the
// worker's reconciler enqueues it again. Uses a private redis-server so no other suite is touched.
import { afterAll, expect, it } from 'vitest';
import { FAULT_SETTINGS, flushWithJobsWaiting } from '../helpers/fault-setup.ts';
import { type PrivateRedis, startPrivateRedis } from '../helpers/redis-server.ts';
import { useSuite } from '../helpers/suite.ts';

const MiB = 1024 * 1024;
let redis: PrivateRedis;
// registered first, so it runs last: the deployment stops before its Redis does
afterAll(() => redis?.stop());
const suite = useSuite({
  env: FAULT_SETTINGS,
  services: async (direct) => {
    redis = await startPrivateRedis();
    return { ...direct, redisUrl: redis.url };
  },
});

it('FLUSHALL with jobs waiting: every accepted context ends stored, no orphans, no open uploads', async () => {
  const report = await flushWithJobsWaiting(suite, () => redis.flushAll(), 10, 2 * MiB);
  expect(report).toMatchObject({ sent: 10, accepted: 10, stored: 10, lost: 0, orphans: 0, incomplete_uploads: 0 });
}, 300_000);
