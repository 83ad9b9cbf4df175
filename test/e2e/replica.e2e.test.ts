// storage.replica against two real S3 servers: the workers copy every object after the primary,
// track it (replicated_at, lag in /metrics and /readyz), remove it there too, reads fall back to the
// replica when the primary lost an object, and `ctxvault replica verify [--repair]` finds and fixes
// every kind of difference.
import { DeleteObjectCommand, GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import pg from 'pg';
import { beforeAll, describe, expect, it } from 'vitest';
import { api, itemsOfSize, sha256, waitUntilSettled } from '../helpers/contexts.ts';
import { runCtxvault } from '../helpers/processes.ts';
import { sample } from '../helpers/prometheus.ts';
import { useReplicaServer, waitUntilMirrored } from '../helpers/replica.ts';
import { createTestBucket } from '../helpers/s3.ts';
import { useSuite } from '../helpers/suite.ts';

const KiB = 1024;
const replica = useReplicaServer();
const suite = useSuite({
  // no body cache: every read below goes to the stores
  env: async () => ({
    ...replica.env(),
    MCP_CACHE_MAX_BYTES: '0',
    MCP_LIFECYCLE_PENDING_GRACE: '1s',
    // appends of a few tens of KiB become segment objects, and three segments get compacted
    MCP_STORAGE_INLINE_THRESHOLD: '16KiB',
    MCP_STORAGE_COMPACTION_MAX_SEGMENTS: '3',
  }),
});

const written: { id: string; sha256: string }[] = [];

async function replicaRows(): Promise<{ key: string; deleted: boolean; replicated_at: Date | null }[]> {
  const client = new pg.Client({ connectionString: suite.db.url });
  await client.connect();
  try {
    return (await client.query('select key, deleted, replicated_at from replica_objects order by key')).rows;
  } finally {
    await client.end();
  }
}

async function verify(...flags: string[]) {
  const run = await runCtxvault(['replica', 'verify', ...flags], { ...suite.app.env, MCP_LOGGING_LEVEL: 'warn' });
  const report = JSON.parse(run.stdout.slice(run.stdout.indexOf('{')));
  return { code: run.code, report, stderr: run.stderr };
}

beforeAll(async () => {
  for (let n = 0; n < 4; n++) {
    const content = itemsOfSize(300 * KiB + n * 50 * KiB);
    const res = await api(suite.app.url, '/api/v1/contexts', { method: 'POST', json: { agent_id: 'dr', content } });
    expect(res.status).toBe(202);
    written.push({ id: res.json.id, sha256: sha256(JSON.stringify(content)) });
  }
  for (const { id } of written) expect((await waitUntilSettled(suite.app.url, id)).at(-1).status).toBe('stored');
}, 120_000);

describe('replication', () => {
  it('copies every object the workers wrote to the replica, byte for byte, and tracks it', async () => {
    const keys = await waitUntilMirrored(suite.bucket, replica.bucket);
    expect(keys).toHaveLength(written.length);
    for (const key of keys) {
      const [a, b] = await Promise.all([
        suite.bucket.client.send(new GetObjectCommand({ Bucket: suite.bucket.name, Key: key })),
        replica.bucket.client.send(new GetObjectCommand({ Bucket: replica.bucket.name, Key: key })),
      ]);
      expect(sha256(Buffer.from(await b.Body!.transformToByteArray()))).toBe(
        sha256(Buffer.from(await a.Body!.transformToByteArray())),
      );
      expect(b.Metadata).toEqual(a.Metadata);
    }
    const deadline = Date.now() + 30_000;
    let rows = await replicaRows();
    while (rows.some((r) => !r.replicated_at) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 200));
      rows = await replicaRows();
    }
    expect(rows.map((r) => r.key).sort()).toEqual(keys.sort());
    expect(rows.every((r) => r.replicated_at instanceof Date && !r.deleted)).toBe(true);
  });

  it("reaches the replica only with the replica's own credentials", async () => {
    const denied = await createTestBucket(replica.moto.endpoint, { create: false });
    await expect(denied.keys()).rejects.toThrow(/Access Key Id you provided does not exist/);
    denied.client.destroy();
  });

  it('reports the lag in /metrics and /readyz', async () => {
    const ready = await api(suite.app.url, '/readyz');
    expect(ready.status).toBe(200);
    expect(ready.json.replication).toEqual({ pending_objects: 0, lag_seconds: 0 });
    const metrics = await (await fetch(`${suite.app.url}/metrics`)).text();
    expect(sample(metrics, 'ctxvault_replica_lag_seconds')).toBe(0);
    expect(sample(metrics, 'ctxvault_replica_pending_objects')).toBe(0);
  });

  it('reads an object the primary lost from the replica, identical', async () => {
    const { id, sha256: expected } = written[0]!;
    const key = (await api(suite.app.url, `/api/v1/contexts/${id}`)).json.storage.key as string;
    await suite.bucket.client.send(new DeleteObjectCommand({ Bucket: suite.bucket.name, Key: key }));
    const read = await api(suite.app.url, `/api/v1/contexts/${id}`);
    expect(read.status).toBe(200);
    expect(sha256(JSON.stringify(read.json.content))).toBe(expected);
    const metrics = await (await fetch(`${suite.app.url}/metrics`)).text();
    expect(sample(metrics, 'ctxvault_replica_fallback_reads_total', { operation: 'get' })).toBeGreaterThan(0);
  });

  it('replica verify finds each kind of difference, --repair fixes them, and a second run finds none', async () => {
    const { id } = written[1]!;
    const key = (await api(suite.app.url, `/api/v1/contexts/${id}`)).json.storage.key as string;
    await replica.bucket.client.send(new DeleteObjectCommand({ Bucket: replica.bucket.name, Key: key }));
    const stray = 'contexts/00/stray/left-over.json';
    await replica.bucket.client.send(new PutObjectCommand({ Bucket: replica.bucket.name, Key: stray, Body: 'x' }));

    const found = await verify();
    expect(found.code).toBe(1);
    expect(found.report).toMatchObject({ checked: 5, in_step: 2, missing: 1, lost_on_primary: 1, extra: 1 });
    expect(found.stderr).toMatch(/verifying .*100% 5 \/ 5 objects/);

    const repaired = await verify('--repair');
    expect(repaired.code).toBe(0);
    expect(repaired.report).toMatchObject({ missing: 1, lost_on_primary: 1, extra: 1, repaired: 3 });
    expect((await replica.bucket.keys()).sort()).toEqual((await suite.bucket.keys()).sort());
    expect(await suite.bucket.keys()).toHaveLength(written.length);

    const again = await verify();
    expect(again.code).toBe(0);
    expect(again.report).toMatchObject({ checked: 4, in_step: 4, repaired: 0 });
  }, 60_000);

  it('removes a deleted context from the replica too', async () => {
    const { id } = written[2]!;
    const key = (await api(suite.app.url, `/api/v1/contexts/${id}`)).json.storage.key as string;
    expect((await api(suite.app.url, `/api/v1/contexts/${id}`, { method: 'DELETE' })).status).toBe(202);
    const deadline = Date.now() + 30_000;
    while ((await replica.bucket.keys()).includes(key) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(await replica.bucket.keys()).not.toContain(key);
    expect(await suite.bucket.keys()).not.toContain(key);
    expect((await replicaRows()).map((r) => r.key)).not.toContain(key);
  });

  it('replicates appended segments and compaction: the replica ends with exactly the primary objects', async () => {
    const { id } = written[3]!;
    const before = (await api(suite.app.url, `/api/v1/contexts/${id}`)).json.content as unknown[];
    const appended: unknown[] = [];
    for (let n = 0; n < 4; n++) {
      const items = itemsOfSize(40 * KiB);
      appended.push(...items);
      const res = await api(suite.app.url, `/api/v1/contexts/${id}/items`, { method: 'POST', json: { items } });
      expect([200, 202], res.text).toContain(res.status);
      await waitUntilSettled(suite.app.url, id);
    }
    const prefix = (await suite.bucket.keys()).find((k) => k.includes(id))!.split(id)[0]! + id;
    // compaction runs after the uploads; wait until the primary's objects of the context stop changing
    let objects = await suite.bucket.keys(prefix);
    for (let settled = 0; settled < 5; ) {
      await new Promise((r) => setTimeout(r, 300));
      const now = await suite.bucket.keys(prefix);
      settled = JSON.stringify(now) === JSON.stringify(objects) ? settled + 1 : 0;
      objects = now;
    }
    // the lifecycle pass removes the segments compaction merged (no grace here): removals replicate too
    const pass = await runCtxvault(['lifecycle', '--once'], {
      ...suite.app.env,
      MCP_LOGGING_LEVEL: 'warn',
      MCP_LIFECYCLE_OBJECT_GRACE: '0s',
    });
    expect(pass.code, pass.output).toBe(0);
    const remaining = await suite.bucket.keys(prefix);
    expect(remaining.length).toBeLessThan(objects.length);
    const keys = await waitUntilMirrored(suite.bucket, replica.bucket);
    expect(keys).toEqual(expect.arrayContaining(remaining));
    const read = await api(suite.app.url, `/api/v1/contexts/${id}`);
    expect(sha256(JSON.stringify(read.json.content))).toBe(sha256(JSON.stringify([...before, ...appended])));
    const rows = await replicaRows();
    expect(rows.filter((r) => r.key.startsWith(prefix)).every((r) => r.replicated_at && !r.deleted)).toBe(true);
    console.info(
      `context ${id}: ${objects.length} objects after 4 appends, ${remaining.length} after the lifecycle pass`,
    );
    expect((await verify()).code).toBe(0);
  }, 120_000);
});
