// Two real S3 servers: the primary behind a proxy the test cuts, the replica on a moto of its own.
// With the primary gone, every stored context still reads (from the replica, byte-identical), new
// writes are accepted and wait in the queue, and once the primary returns they complete, reach the
// replica too, and nothing acknowledged is lost.
import { afterAll, expect, it } from 'vitest';
import { api, sha256, waitUntilSettled } from '../helpers/contexts.ts';
import { FAULT_SETTINGS, sendContexts } from '../helpers/fault-setup.ts';
import { checkIntegrity } from '../helpers/integrity.ts';
import { useReplicaServer, waitUntilMirrored } from '../helpers/replica.ts';
import { useSuite } from '../helpers/suite.ts';
import { startTcpProxy, type TcpProxy } from '../helpers/tcp-proxy.ts';

const KiB = 1024;
let primary: TcpProxy;
afterAll(() => primary?.close());
const replica = useReplicaServer();
const suite = useSuite({
  // no body cache, so reads during the outage really go to a store
  env: async () => ({ ...FAULT_SETTINGS, ...replica.env(), MCP_CACHE_MAX_BYTES: '0' }),
  services: async (direct) => {
    const target = new URL(direct.s3Endpoint);
    primary = await startTcpProxy(target.hostname, Number(target.port));
    return { ...direct, s3Endpoint: primary.url('http') };
  },
});

it('primary S3 down: reads go on from the replica, writes wait and complete when it returns, nothing is lost', async () => {
  const before = await sendContexts(suite.app.url, 6, 400 * KiB);
  expect(before.accepted).toHaveLength(6);
  for (const { id } of before.accepted) {
    expect((await waitUntilSettled(suite.app.url, id)).at(-1).status).toBe('stored');
  }
  await waitUntilMirrored(suite.bucket, replica.bucket);
  const readAll = async () => {
    const started = performance.now();
    for (const { id, sha256: expected } of before.accepted) {
      const read = await api(suite.app.url, `/api/v1/contexts/${id}`);
      expect(read.status, read.text).toBe(200);
      expect(sha256(JSON.stringify(read.json.content))).toBe(expected);
    }
    return (performance.now() - started) / before.accepted.length;
  };
  const fromPrimary = await readAll();

  await primary.stop();
  try {
    const fromReplica = await readAll();
    // a figure for the report, not an assertion: what a read costs when it falls back
    console.info(
      `read ms per 400 KiB context: primary ${fromPrimary.toFixed(1)}, replica fallback ${fromReplica.toFixed(1)}`,
    );
    const ready = await api(suite.app.url, '/readyz');
    expect(ready.status, ready.text).toBe(200);

    const during = await sendContexts(suite.app.url, 4, 400 * KiB);
    expect(during.accepted).toHaveLength(4);
    await new Promise((r) => setTimeout(r, 5000));
    for (const { id } of during.accepted) {
      expect((await api(suite.app.url, `/api/v1/contexts/${id}/status`)).json.status).toBe('pending');
    }
    before.accepted.push(...during.accepted);
  } finally {
    await primary.start();
  }

  const report = await checkIntegrity(suite.app, suite.db.url, suite.bucket, 10, before.accepted);
  expect(report).toMatchObject({ sent: 10, accepted: 10, stored: 10, lost: 0, orphans: 0, incomplete_uploads: 0 });
  const keys = await waitUntilMirrored(suite.bucket, replica.bucket, 120_000);
  expect(keys).toHaveLength(10);
  const ready = await api(suite.app.url, '/readyz');
  expect(ready.json.replication).toEqual({ pending_objects: 0, lag_seconds: 0 });
}, 300_000);
