// AWS KMS (moto's, behind a proxy that refuses and cuts connections) is unreachable for a while
// under envelope encryption with encryption.provider "kms": a read that needs a data key the API
// does not hold answers 503 key_service_unavailable saying what to check, a create (it needs a new
// data key) is refused the same way with nothing written, an append the API can seal is accepted
// and waits for the worker; once KMS is back, everything reads and the accepted append is stored.
// Then the database is lost: a rebuild from the bucket while KMS is down reports every context (its
// data key does not open) and rebuilds nothing; once KMS is back it rebuilds them all.
import { CreateKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { afterAll, expect, inject, it } from 'vitest';
import { type ReadBack, startApi } from '../helpers/archive.ts';
import { api, type Item, itemsOfSize, waitUntilSettled } from '../helpers/contexts.ts';
import type { TestDatabase } from '../helpers/database.ts';
import { FAULT_SETTINGS } from '../helpers/fault-setup.ts';
import { createFileDatabase } from '../helpers/file-database.ts';
import { runCtxvault, spawnCtxvault } from '../helpers/processes.ts';
import { TEST_CREDENTIALS } from '../helpers/s3.ts';
import { useSuite } from '../helpers/suite.ts';
import { startTcpProxy, type TcpProxy } from '../helpers/tcp-proxy.ts';

const KiB = 1024;
let kms: TcpProxy;
let lost: TestDatabase | undefined;
let readBack: ReadBack | undefined;
afterAll(async () => {
  await readBack?.stop();
  await lost?.drop();
  await kms?.close();
});

const suite = useSuite({
  env: async () => {
    const target = new URL(inject('s3Endpoint'));
    kms = await startTcpProxy(target.hostname, Number(target.port));
    const client = new KMSClient({
      region: 'us-east-1',
      endpoint: inject('s3Endpoint'),
      credentials: TEST_CREDENTIALS,
    });
    const made = await client.send(new CreateKeyCommand({ Description: 'ctxvault kms outage' }));
    client.destroy();
    return {
      ...FAULT_SETTINGS,
      MCP_ENCRYPTION_MODE: 'envelope',
      MCP_ENCRYPTION_PROVIDER: 'kms',
      MCP_ENCRYPTION_KMS_KEY_ID: made.KeyMetadata!.KeyId!,
      MCP_ENCRYPTION_KMS_ENDPOINT: kms.url('http'),
      MCP_STORAGE_S3_REQUEST_TIMEOUT: '2s',
      MCP_STORAGE_INLINE_THRESHOLD: '0',
      MCP_CACHE_MAX_BYTES: '0',
    };
  },
});

/** The api and worker started again (same port): no data key is held in memory any more. */
async function restart(): Promise<void> {
  await suite.app.stop();
  [suite.app.api, suite.app.worker] = await Promise.all([
    spawnCtxvault('api', suite.app.env, { readyLine: /API listening/ }),
    spawnCtxvault('worker', suite.app.env, { readyLine: /worker running/ }),
  ]);
}

async function rebuild(env: Record<string, string>) {
  const run = await runCtxvault(['rebuild', '--from-bucket'], env);
  const at = run.stdout.indexOf('{');
  return { ...run, report: at === -1 ? null : JSON.parse(run.stdout.slice(at)) };
}

async function create(content: unknown[]) {
  return api(suite.app.url, '/api/v1/contexts', { method: 'POST', json: { agent_id: 'kms-outage', content } });
}

it('KMS down: uncached reads and creates answer 503 key_service_unavailable, accepted appends wait, a rebuild reports; all well once it returns', async () => {
  const firstItems = itemsOfSize(64 * KiB, 2 * KiB);
  const secondItems = itemsOfSize(16 * KiB, 2 * KiB);
  const first = await create(firstItems);
  const second = await create(secondItems);
  expect([first.status, second.status]).toEqual([202, 202]);
  await waitUntilSettled(suite.app.url, first.json.id);
  await waitUntilSettled(suite.app.url, second.json.id);

  // fresh processes: the API opens only the second context's key before KMS goes
  await restart();
  expect((await api(suite.app.url, `/api/v1/contexts/${second.json.id}`)).json.content).toEqual(secondItems);
  await kms.stop();

  const refused = await api(suite.app.url, `/api/v1/contexts/${first.json.id}`);
  expect(refused.status).toBe(503);
  expect(refused.json.error.code).toBe('key_service_unavailable');
  expect(refused.json.error.message).toMatch(/KMS Decrypt failed .*check encryption\.kms\.\* and the KMS key's state/);

  const listedBefore = (await api(suite.app.url, '/api/v1/contexts?limit=100')).json.items.length;
  const notCreated = await create(itemsOfSize(4 * KiB, KiB));
  expect(notCreated.status).toBe(503);
  expect(notCreated.json.error.code).toBe('key_service_unavailable');
  expect((await api(suite.app.url, '/api/v1/contexts?limit=100')).json.items).toHaveLength(listedBefore);

  // the API holds this context's key: the append is sealed into staging and accepted; the worker
  // (which holds no key) cannot open it to upload it until KMS returns
  const added = itemsOfSize(8 * KiB, 2 * KiB);
  const appended = await api(suite.app.url, `/api/v1/contexts/${second.json.id}/items`, {
    method: 'POST',
    json: { items: added },
  });
  expect(appended.status).toBe(202);
  await new Promise((r) => setTimeout(r, 3_000));
  const waiting = await api(suite.app.url, `/api/v1/contexts/${second.json.id}/status`);
  expect(waiting.json.status).toBe('pending');

  await kms.start();
  await waitUntilSettled(suite.app.url, second.json.id);
  expect((await api(suite.app.url, `/api/v1/contexts/${second.json.id}`)).json.content).toEqual([
    ...secondItems,
    ...added,
  ]);
  expect((await api(suite.app.url, `/api/v1/contexts/${first.json.id}`)).json.content).toEqual(firstItems);
  const thirdItems = itemsOfSize(4 * KiB, KiB);
  const third = await create(thirdItems);
  expect(third.status).toBe(202);
  await waitUntilSettled(suite.app.url, third.json.id);

  await suite.app.stop();
  lost = await createFileDatabase();
  const rebuildEnv = { ...suite.app.env, MCP_DATABASE_URL: lost.url, MCP_LOGGING_LEVEL: 'warn' };
  await kms.stop();
  const down = await rebuild(rebuildEnv);
  expect(down.code).toBe(1);
  expect(down.report).toMatchObject({ contexts: 3, rebuilt: 0 });
  expect(down.report.failed).toHaveLength(3);
  for (const failed of down.report.failed) expect(failed.reason).toMatch(/KMS \w+ failed \(key /);
  await kms.start();
  const up = await rebuild(rebuildEnv);
  expect(up.code, up.output).toBe(0);
  expect(up.report).toMatchObject({ rebuilt: 3, failed: [] });
  readBack = await startApi(rebuildEnv);
  const expected: [string, Item[]][] = [
    [first.json.id, firstItems],
    [second.json.id, [...secondItems, ...added]],
    [third.json.id, thirdItems],
  ];
  for (const [id, content] of expected) {
    expect((await api(readBack.url, `/api/v1/contexts/${id}`)).json.content).toEqual(content);
  }
}, 240_000);
