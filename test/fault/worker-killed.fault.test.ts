// A worker is killed with SIGKILL in the middle of multipart uploads of 20 large contexts, and a new
// worker is started: every accepted context ends stored and identical, nothing is left behind.
import { afterAll, beforeAll, expect, it, inject } from 'vitest';
import { ListMultipartUploadsCommand } from '@aws-sdk/client-s3';
import { createTestDatabase, type TestDatabase } from '../helpers/database.ts';
import { createTestBucket, type TestBucket } from '../helpers/s3.ts';
import { startDeployment, type Deployment } from '../helpers/deployment.ts';
import { spawnCtxvault } from '../helpers/processes.ts';
import { checkIntegrity } from '../helpers/integrity.ts';
import { FAULT_SETTINGS, sendContexts } from '../helpers/fault-setup.ts';

const MiB = 1024 * 1024;
let db: TestDatabase;
let bucket: TestBucket;
let app: Deployment;

beforeAll(async () => {
  db = await createTestDatabase(inject('databaseUrl'));
  bucket = await createTestBucket(inject('s3Endpoint'));
  app = await startDeployment(
    { databaseUrl: db.url, redisUrl: inject('redisUrl'), s3Endpoint: inject('s3Endpoint'), bucket: bucket.name },
    { ...FAULT_SETTINGS, MCP_STORAGE_S3_CONCURRENCY: '1', MCP_QUEUE_CONCURRENCY: '4' },
  );
});

afterAll(async () => {
  await app?.stop();
  await bucket?.drop();
  await db?.drop();
});

it('SIGKILL mid-upload, then a new worker: 20 large contexts all stored, no orphans, no open uploads', async () => {
  await app.worker.stop();
  const { sent, accepted } = await sendContexts(app.url, 20, 12 * MiB);
  expect(accepted).toHaveLength(20);

  app.worker = await spawnCtxvault('worker', app.env, { readyLine: /worker running/ });
  // wait until multipart uploads are under way, then kill the worker without warning
  await expect
    .poll(async () => (await bucket.client.send(new ListMultipartUploadsCommand({ Bucket: bucket.name }))).Uploads?.length ?? 0, {
      timeout: 60_000,
      interval: 50,
    })
    .toBeGreaterThan(0);
  await app.worker.stop('SIGKILL');
  const leftBehind = (await bucket.client.send(new ListMultipartUploadsCommand({ Bucket: bucket.name }))).Uploads?.length ?? 0;
  console.info(`worker killed with ${leftBehind} multipart upload(s) in flight`);
  expect(leftBehind).toBeGreaterThan(0);

  app.worker = await spawnCtxvault('worker', app.env, { readyLine: /worker running/ });
  const report = await checkIntegrity(app, db.url, bucket, sent, accepted);
  expect(report).toMatchObject({ sent: 20, accepted: 20, stored: 20, lost: 0, orphans: 0, incomplete_uploads: 0 });
}, 300_000);
