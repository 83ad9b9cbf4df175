// Postgres refuses connections for a while (a proxy in front of it refuses and cuts them): the API
// answers 503 naming the cause, accepts again afterwards, and nothing half-written remains.
import { afterAll, beforeAll, expect, it, inject } from 'vitest';
import pg from 'pg';
import { createTestDatabase, type TestDatabase } from '../helpers/database.ts';
import { createTestBucket, type TestBucket } from '../helpers/s3.ts';
import { startDeployment, type Deployment } from '../helpers/deployment.ts';
import { startTcpProxy, type TcpProxy } from '../helpers/tcp-proxy.ts';
import { api, itemsOfSize } from '../helpers/contexts.ts';
import { checkIntegrity } from '../helpers/integrity.ts';
import { FAULT_SETTINGS, sendContexts } from '../helpers/fault-setup.ts';

const MiB = 1024 * 1024;
let db: TestDatabase;
let bucket: TestBucket;
let postgres: TcpProxy;
let app: Deployment;

beforeAll(async () => {
  db = await createTestDatabase(inject('databaseUrl'));
  bucket = await createTestBucket(inject('s3Endpoint'));
  const target = new URL(db.url);
  postgres = await startTcpProxy(target.hostname, Number(target.port || 5432));
  const proxied = new URL(db.url);
  proxied.port = String(postgres.port);
  app = await startDeployment(
    { databaseUrl: proxied.toString(), redisUrl: inject('redisUrl'), s3Endpoint: inject('s3Endpoint'), bucket: bucket.name },
    FAULT_SETTINGS,
  );
});

afterAll(async () => {
  await app?.stop();
  await postgres?.close();
  await bucket?.drop();
  await db?.drop();
});

it('Postgres down: 503 with the cause, then accepting again, nothing half-written', async () => {
  const before = await sendContexts(app.url, 4, 1 * MiB);
  expect(before.accepted).toHaveLength(4);

  await postgres.stop();
  const refused = await api(app.url, '/api/v1/contexts', { method: 'POST', json: { agent_id: 'down', content: itemsOfSize(512 * 1024) } });
  expect(refused.status).toBe(503);
  expect(refused.json.error.code).toBe('database_unavailable');
  expect(refused.json.error.message).toContain('MCP_DATABASE_URL');
  const read = await api(app.url, `/api/v1/contexts/${before.accepted[0]!.id}`);
  expect(read.status).toBe(503);
  expect(app.api.child.exitCode).toBeNull();
  await new Promise((r) => setTimeout(r, 5000));
  await postgres.start();

  await expect.poll(async () => (await api(app.url, `/api/v1/contexts/${before.accepted[0]!.id}`)).status, { timeout: 30_000 }).toBe(200);
  const after = await sendContexts(app.url, 4, 1 * MiB);
  expect(after.accepted).toHaveLength(4);

  const report = await checkIntegrity(app, db.url, bucket, 9, [...before.accepted, ...after.accepted]);
  expect(report).toMatchObject({ accepted: 8, stored: 8, lost: 0, orphans: 0, incomplete_uploads: 0 });
  // the refused write left no row and no staged chunk behind
  const client = new pg.Client({ connectionString: db.url });
  await client.connect();
  const rows = await client.query(`select count(*)::int as n from contexts where agent_id = 'down'`);
  const staged = await client.query('select count(*)::int as n from staged_chunks');
  await client.end();
  expect(rows.rows[0].n).toBe(0);
  expect(staged.rows[0].n).toBe(0);
}, 300_000);
