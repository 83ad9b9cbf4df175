// The S3 server is unreachable for 20 s during ingest (a proxy in front of it refuses and cuts
// connections; moto itself keeps its state), then comes back: nothing accepted is lost.
import { afterAll, beforeAll, expect, it, inject } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../helpers/database.ts';
import { createTestBucket, type TestBucket } from '../helpers/s3.ts';
import { startDeployment, type Deployment } from '../helpers/deployment.ts';
import { startTcpProxy, type TcpProxy } from '../helpers/tcp-proxy.ts';
import { checkIntegrity } from '../helpers/integrity.ts';
import { FAULT_SETTINGS, sendContexts } from '../helpers/fault-setup.ts';

const MiB = 1024 * 1024;
let db: TestDatabase;
let bucket: TestBucket;
let s3: TcpProxy;
let app: Deployment;

beforeAll(async () => {
  db = await createTestDatabase(inject('databaseUrl'));
  bucket = await createTestBucket(inject('s3Endpoint'));
  const target = new URL(inject('s3Endpoint'));
  s3 = await startTcpProxy(target.hostname, Number(target.port));
  app = await startDeployment(
    { databaseUrl: db.url, redisUrl: inject('redisUrl'), s3Endpoint: s3.url('http'), bucket: bucket.name },
    FAULT_SETTINGS,
  );
});

afterAll(async () => {
  await app?.stop();
  await s3?.close();
  await bucket?.drop();
  await db?.drop();
});

it('S3 down for 20 s during ingest: every accepted context ends stored, no orphans, no open uploads', async () => {
  const first = sendContexts(app.url, 12, 6 * MiB);
  await new Promise((r) => setTimeout(r, 1500));
  await s3.stop();
  const outage = new Promise((r) => setTimeout(r, 20_000));
  // writes keep being accepted while S3 is away: bodies wait in staging
  const during = await sendContexts(app.url, 4, 1 * MiB);
  expect(during.accepted).toHaveLength(4);
  await outage;
  await s3.start();
  const before = await first;
  const accepted = [...before.accepted, ...during.accepted];
  const report = await checkIntegrity(app, db.url, bucket, before.sent + during.sent, accepted);
  expect(report).toMatchObject({ sent: 16, accepted: 16, stored: 16, lost: 0, orphans: 0, incomplete_uploads: 0 });
}, 300_000);
