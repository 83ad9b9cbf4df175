// /readyz of a real `ctxvault api` while its dependencies really go away: Postgres and Redis behind
// TCP proxies the test stops, and a moto S3 server of its own that it empties, kills, and brings
// back with authentication on. Each failure names its cause and what to check, in the README's words.
import { readFileSync } from 'node:fs';
import { CreateBucketCommand, DeleteBucketCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { api } from '../helpers/contexts.ts';
import type { TestDatabase } from '../helpers/database.ts';
import { deploymentEnv } from '../helpers/deployment.ts';
import { createFileDatabase } from '../helpers/file-database.ts';
import { type MotoServer, startMoto } from '../helpers/moto.ts';
import { type CtxvaultProcess, freePort, spawnCtxvault } from '../helpers/processes.ts';
import { testS3Client } from '../helpers/s3.ts';
import { startTcpProxy, type TcpProxy } from '../helpers/tcp-proxy.ts';

const BUCKET = 'ctxvault-readiness';
// the troubleshooting section, as plain text on one line
const troubleshooting = readFileSync(new URL('../../README.md', import.meta.url), 'utf8')
  .split('## Troubleshooting')[1]!
  .replaceAll('`', '')
  .replace(/\s+/g, ' ');

let db: TestDatabase;
let postgres: TcpProxy;
let redis: TcpProxy;
let moto: MotoServer;
let proc: CtxvaultProcess;
let url: string;

beforeAll(async () => {
  db = await createFileDatabase();
  const database = new URL(db.url);
  const redisTarget = new URL(inject('redisUrl'));
  [postgres, redis, moto] = await Promise.all([
    startTcpProxy(database.hostname, Number(database.port || 5432)),
    startTcpProxy(redisTarget.hostname, Number(redisTarget.port || 6379)),
    startMoto(),
  ]);
  await testS3Client(moto.endpoint).send(new CreateBucketCommand({ Bucket: BUCKET }));
  database.port = String(postgres.port);
  redisTarget.port = String(redis.port);
  const port = await freePort();
  url = `http://127.0.0.1:${port}`;
  const env = deploymentEnv(
    { databaseUrl: database.toString(), redisUrl: redisTarget.toString(), s3Endpoint: moto.endpoint, bucket: BUCKET },
    { MCP_SERVER_PORT: String(port), MCP_STORAGE_S3_MAX_ATTEMPTS: '1', MCP_STORAGE_S3_REQUEST_TIMEOUT: '2s' },
  );
  proc = await spawnCtxvault('api', env, { readyLine: /API listening/ });
}, 120_000);

afterAll(async () => {
  await proc?.stop();
  await Promise.all([postgres?.close(), redis?.close(), moto?.stop()]);
  await db?.drop();
});

async function readiness() {
  const res = await api(url, '/readyz');
  return { status: res.status, body: res.json };
}

/** Polls /readyz until `dependency` fails; checks the others stay ok and the words match the README. */
async function expectFailure(dependency: 'database' | 'queue' | 'blob_store', cause: string, hint: string) {
  await expect.poll(async () => (await readiness()).body.checks[dependency].status, { timeout: 20_000 }).toBe('failed');
  const { status, body } = await readiness();
  expect(status).toBe(503);
  expect(body.status).toBe('unavailable');
  expect(body.checks[dependency]).toMatchObject({ code: `${dependency}_unavailable`, cause });
  expect(body.checks[dependency].message).toContain(hint);
  for (const [name, check] of Object.entries(body.checks))
    if (name !== dependency) expect(check).toEqual({ status: 'ok' });
  expect(troubleshooting).toContain(cause);
  expect(troubleshooting).toContain(hint);
}

async function expectReady() {
  await expect.poll(async () => (await readiness()).status, { timeout: 20_000 }).toBe(200);
  expect((await readiness()).body).toEqual({
    status: 'ready',
    checks: { database: { status: 'ok' }, queue: { status: 'ok' }, blob_store: { status: 'ok' } },
  });
}

describe('/readyz', () => {
  it('is ready with every dependency up, and /healthz answers', async () => {
    await expectReady();
    expect((await api(url, '/healthz')).json).toEqual({ status: 'ok' });
  });

  it('names the database when Postgres is gone, and recovers when it is back', async () => {
    await postgres.stop();
    await expectFailure(
      'database',
      'connection_refused',
      'check database.url (MCP_DATABASE_URL) and that PostgreSQL is running',
    );
    expect((await api(url, '/healthz')).status).toBe(200);
    await postgres.start();
    await expectReady();
  });

  it('names the queue when Redis is gone, and recovers when it is back', async () => {
    await redis.stop();
    await expectFailure('queue', 'connection_refused', 'check redis.url (MCP_REDIS_URL) and that Redis is running');
    await redis.start();
    await expectReady();
  });

  it('names a missing bucket', async () => {
    const s3 = testS3Client(moto.endpoint);
    await s3.send(new DeleteBucketCommand({ Bucket: BUCKET }));
    await expectFailure('blob_store', 'no_such_bucket', 'or fix storage.s3.bucket (MCP_STORAGE_S3_BUCKET)');
    await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
    s3.destroy();
    await expectReady();
  });

  it('names an S3 endpoint that refuses connections, then one that refuses the credentials', async () => {
    const { port } = moto;
    await moto.stop();
    await expectFailure(
      'blob_store',
      'connection_refused',
      'check storage.s3.endpoint (MCP_STORAGE_S3_ENDPOINT) and that the S3 server is running',
    );
    // the same endpoint back, now checking credentials: the test's keys are unknown to it
    moto = await startMoto({ port, env: { INITIAL_NO_AUTH_ACTION_COUNT: '0' } });
    await expectFailure(
      'blob_store',
      'access_denied',
      "check AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY or the instance role's policy",
    );
  });
});
