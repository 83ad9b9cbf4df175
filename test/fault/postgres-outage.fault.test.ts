// Postgres refuses connections for a while (a proxy in front of it refuses and cuts them): the API
// answers 503 naming the cause, accepts again afterwards, and nothing half-written remains.

import pg from 'pg';
import { afterAll, expect, it } from 'vitest';
import { api, itemsOfSize } from '../helpers/contexts.ts';
import { FAULT_SETTINGS, sendContexts } from '../helpers/fault-setup.ts';
import { checkIntegrity } from '../helpers/integrity.ts';
import { useSuite } from '../helpers/suite.ts';
import { startTcpProxy, type TcpProxy } from '../helpers/tcp-proxy.ts';

const MiB = 1024 * 1024;
let postgres: TcpProxy;
afterAll(() => postgres?.close());
const suite = useSuite({
  env: FAULT_SETTINGS,
  services: async (direct) => {
    const target = new URL(direct.databaseUrl);
    postgres = await startTcpProxy(target.hostname, Number(target.port || 5432));
    const proxied = new URL(direct.databaseUrl);
    proxied.port = String(postgres.port);
    return { ...direct, databaseUrl: proxied.toString() };
  },
});

it('Postgres down: 503 with the cause, then accepting again, nothing half-written', async () => {
  const before = await sendContexts(suite.app.url, 4, 1 * MiB);
  expect(before.accepted).toHaveLength(4);

  await postgres.stop();
  const refused = await api(suite.app.url, '/api/v1/contexts', {
    method: 'POST',
    json: { agent_id: 'down', content: itemsOfSize(512 * 1024) },
  });
  expect(refused.status).toBe(503);
  expect(refused.json.error.code).toBe('database_unavailable');
  expect(refused.json.error.message).toContain('MCP_DATABASE_URL');
  const read = await api(suite.app.url, `/api/v1/contexts/${before.accepted[0]!.id}`);
  expect(read.status).toBe(503);
  expect(suite.app.api.child.exitCode).toBeNull();
  await new Promise((r) => setTimeout(r, 5000));
  await postgres.start();

  await expect
    .poll(async () => (await api(suite.app.url, `/api/v1/contexts/${before.accepted[0]!.id}`)).status, {
      timeout: 30_000,
    })
    .toBe(200);
  const after = await sendContexts(suite.app.url, 4, 1 * MiB);
  expect(after.accepted).toHaveLength(4);

  const report = await checkIntegrity(suite.app, suite.db.url, suite.bucket, 9, [
    ...before.accepted,
    ...after.accepted,
  ]);
  expect(report).toMatchObject({ accepted: 8, stored: 8, lost: 0, orphans: 0, incomplete_uploads: 0 });
  // the refused write left no row and no staged chunk behind
  const client = new pg.Client({ connectionString: suite.db.url });
  await client.connect();
  const rows = await client.query(`select count(*)::int as n from contexts where agent_id = 'down'`);
  const staged = await client.query('select count(*)::int as n from staged_chunks');
  await client.end();
  expect(rows.rows[0].n).toBe(0);
  expect(staged.rows[0].n).toBe(0);
}, 300_000);
