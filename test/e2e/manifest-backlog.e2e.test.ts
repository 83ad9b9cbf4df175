// A restore and a fork answered while the bucket refuses their manifest (S3 behind a proxy that
// is cut) answer as usual and leave their manifest owed in the database (/metrics shows the
// backlog); once S3 is back, a lifecycle pass writes the manifests, and after the database is lost,
// `ctxvault rebuild --from-bucket` brings the restored version and the forked context back.
import { afterAll, expect, it } from 'vitest';
import { readsOf, startApi } from '../helpers/archive.ts';
import { api, itemsOfSize, waitUntilSettled } from '../helpers/contexts.ts';
import { queryRows } from '../helpers/database.ts';
import { createFileDatabase } from '../helpers/file-database.ts';
import { lifecyclePass, runCtxvault } from '../helpers/processes.ts';
import { sample } from '../helpers/prometheus.ts';
import { useSuite } from '../helpers/suite.ts';
import { startTcpProxy, type TcpProxy } from '../helpers/tcp-proxy.ts';

const KiB = 1024;
let s3: TcpProxy;
const cleanups: (() => Promise<unknown>)[] = [];
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
  await s3?.close();
});
const suite = useSuite({
  // every version kept: a rebuild recreates what the history listed
  env: { MCP_STORAGE_INLINE_THRESHOLD: '0', MCP_CACHE_MAX_BYTES: '0', MCP_LIFECYCLE_KEEP_VERSIONS: '10' },
  services: async (direct) => {
    const target = new URL(direct.s3Endpoint);
    s3 = await startTcpProxy(target.hostname, Number(target.port));
    return { ...direct, s3Endpoint: s3.url('http') };
  },
});

async function created(content: unknown, metadata: Record<string, unknown>): Promise<string> {
  const res = await api(suite.app.url, '/api/v1/contexts', {
    method: 'POST',
    json: { agent_id: 'a', metadata, content },
  });
  expect([201, 202], res.text).toContain(res.status);
  await waitUntilSettled(suite.app.url, res.json.id);
  return res.json.id;
}

const owed = async () =>
  queryRows(
    suite.db.url,
    'select context_id, version, kind from versions where manifest_pending order by context_id, version',
  );
const owedGauge = async () =>
  sample(await (await fetch(`${suite.app.url}/metrics`)).text(), 'ctxvault_version_manifests_owed');

it('manifests a failed put left owed are written by the lifecycle pass, and a rebuild brings those versions back', async () => {
  const restored = await created(itemsOfSize(6 * KiB, 2 * KiB), { n: 1 });
  const appended = await api(suite.app.url, `/api/v1/contexts/${restored}/items`, {
    method: 'POST',
    json: { items: itemsOfSize(3 * KiB, KiB) },
  });
  expect([200, 202], appended.text).toContain(appended.status);
  await waitUntilSettled(suite.app.url, restored);
  const source = await created(itemsOfSize(5 * KiB, KiB), { n: 2 });
  expect(await owed()).toEqual([]);
  expect(await owedGauge()).toBe(0);

  await s3.stop();
  try {
    const restore = await api(suite.app.url, `/api/v1/contexts/${restored}/restore`, {
      method: 'POST',
      json: { version: 1 },
    });
    expect(restore.status, restore.text).toBe(200);
    expect(restore.json).toMatchObject({ id: restored, version: 3, metadata: { n: 1 } });
    const fork = await api(suite.app.url, `/api/v1/contexts/${source}/fork`, {
      method: 'POST',
      json: { name: 'branch', metadata: { branch: true } },
    });
    expect(fork.status, fork.text).toBe(201);
    const forked = fork.json.id as string;
    expect(fork.json).toMatchObject({ version: 1, name: 'branch', metadata: { branch: true } });
    const expected = [
      { context_id: restored, version: 3, kind: 'restore' },
      { context_id: forked, version: 1, kind: 'fork' },
    ].sort((a, b) => a.context_id.localeCompare(b.context_id));
    expect(await owed()).toEqual(expected);
    expect(await owedGauge()).toBe(2);
    expect((await suite.bucket.keys()).filter((k) => k.includes(`/${forked}/`))).toEqual([]);

    await s3.start();
    const counts = await lifecyclePass(suite.app.env);
    expect(counts.manifests_written).toBe(2);
    expect(await owed()).toEqual([]);
    expect(await owedGauge()).toBe(0);
    expect((await suite.bucket.keys()).filter((k) => k.includes(`/${forked}/`))).toEqual([
      expect.stringMatching(/\/1\.[0-9a-f-]{36}\.json$/),
    ]);
    // a second pass has nothing left to write
    expect((await lifecyclePass(suite.app.env)).manifests_written).toBe(0);

    const ids = [restored, source, forked];
    const before = new Map<string, unknown>();
    for (const id of ids) before.set(id, await readsAndHistory(suite.app.url, id));

    // the database is lost: a rebuild from the bucket recreates the three contexts
    await suite.app.stop();
    const lost = await createFileDatabase();
    cleanups.push(() => lost.drop());
    const run = await runCtxvault(['rebuild', '--from-bucket'], {
      ...suite.app.env,
      MCP_DATABASE_URL: lost.url,
      MCP_LOGGING_LEVEL: 'warn',
    });
    expect(run.code, run.output).toBe(0);
    const readBack = await startApi({ ...suite.app.env, MCP_DATABASE_URL: lost.url });
    cleanups.push(() => readBack.stop());
    for (const id of ids) expect(await readsAndHistory(readBack.url, id)).toEqual(before.get(id));
  } finally {
    await s3.start().catch(() => {});
  }
}, 300_000);

/** A context's reads, without the time of its last change, and its kept versions as its history lists them. */
async function readsAndHistory(base: string, id: string) {
  const reads = await readsOf(base, id);
  const { updated_at, ...document } = reads.document;
  const listed = await api(base, `/api/v1/contexts/${id}/versions?limit=100`);
  const versions = (listed.json.items as Record<string, unknown>[])
    .filter((v) => v.state === 'kept')
    .map(({ created_at, compacted_at, ...v }) => v);
  return { ...reads, document, versions };
}
