// Redis is flushed (FLUSHALL) while upload jobs wait: Postgres remembers what is pending, and the
// worker's reconciler enqueues it again. Uses a private redis-server so no other suite is touched.
import { afterAll, beforeAll, expect, it, inject } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../helpers/database.ts';
import { createTestBucket, type TestBucket } from '../helpers/s3.ts';
import { startDeployment, type Deployment } from '../helpers/deployment.ts';
import { startPrivateRedis, type PrivateRedis } from '../helpers/redis-server.ts';
import { spawnCtxvault } from '../helpers/processes.ts';
import { api } from '../helpers/contexts.ts';
import { checkIntegrity } from '../helpers/integrity.ts';
import { FAULT_SETTINGS, sendContexts } from '../helpers/fault-setup.ts';

const MiB = 1024 * 1024;
let db: TestDatabase;
let bucket: TestBucket;
let redis: PrivateRedis;
let app: Deployment;

beforeAll(async () => {
  db = await createTestDatabase(inject('databaseUrl'));
  bucket = await createTestBucket(inject('s3Endpoint'));
  redis = await startPrivateRedis();
  app = await startDeployment({ databaseUrl: db.url, redisUrl: redis.url, s3Endpoint: inject('s3Endpoint'), bucket: bucket.name }, FAULT_SETTINGS);
});

afterAll(async () => {
  await app?.stop();
  await redis?.stop();
  await bucket?.drop();
  await db?.drop();
});

it('FLUSHALL with jobs waiting: every accepted context ends stored, no orphans, no open uploads', async () => {
  await app.worker.stop();
  const { sent, accepted } = await sendContexts(app.url, 10, 2 * MiB);
  expect(accepted).toHaveLength(10);
  await redis.flushAll();
  const lost = await api(app.url, `/api/v1/contexts/${accepted[0]!.id}/status`);
  expect(lost.json).toMatchObject({ status: 'pending', job: null });

  app.worker = await spawnCtxvault('worker', app.env, { readyLine: /worker running/ });
  const report = await checkIntegrity(app, db.url, bucket, sent, accepted);
  expect(report).toMatchObject({ sent: 10, accepted: 10, stored: 10, lost: 0, orphans: 0, incomplete_uploads: 0 });
}, 300_000);
