// Rebuild from the bucket: 100 contexts are written (created, appended, compacted, replaced,
// compressed or not, expired, deleted) on a deployment whose bucket is complete
// (storage.inline_threshold 0), the database is lost, `ctxvault rebuild --from-bucket` recreates
// the references from the self-describing objects, and every read answers as it did before. A
// second run changes nothing, a run after a partial loss rebuilds only what is missing, and an
// object whose items do not match its sha256 is reported, not rebuilt.
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ReadBack, readsOf, startApi } from '../helpers/archive.ts';
import { api, itemsOfSize, proseItemsOfSize } from '../helpers/contexts.ts';
import type { TestDatabase } from '../helpers/database.ts';
import { createFileDatabase } from '../helpers/file-database.ts';
import { runCtxvault, spawnCtxvault } from '../helpers/processes.ts';
import { useSuite } from '../helpers/suite.ts';

const KiB = 1024;
// six rounds of FATES: three written uncompressed, three by a worker that compresses with zstd
const COUNT = 60;
const suite = useSuite({
  env: {
    MCP_STORAGE_INLINE_THRESHOLD: '0',
    MCP_STORAGE_COMPACTION_MAX_SEGMENTS: '3',
    MCP_CACHE_MAX_BYTES: '0',
  },
});

type Fate = 'created' | 'appended' | 'replaced' | 'expired' | 'deleted' | 'prose';
const FATES: Fate[] = [
  'created',
  'appended',
  'appended',
  'appended',
  'replaced',
  'expired',
  'deleted',
  'prose',
  'created',
  'appended',
];
const contexts: { id: string; fate: Fate }[] = [];
const before = new Map<string, unknown>();
let lost: TestDatabase;
let readBack: ReadBack;

async function ok(pathname: string, json: unknown, method = 'POST') {
  let res = await api(suite.app.url, pathname, { method, json });
  // more writes at once than the API stages: it asks to retry shortly
  while (res.status === 503 && res.json.error.code === 'staging_busy') {
    await new Promise((r) => setTimeout(r, 200));
    res = await api(suite.app.url, pathname, { method, json });
  }
  expect([200, 201, 202], res.text).toContain(res.status);
  return res.json;
}

async function settled(id: string) {
  for (const deadline = Date.now() + 120_000; Date.now() < deadline; ) {
    const status = await api(suite.app.url, `/api/v1/contexts/${id}/status`);
    if (status.status === 404 || (status.json.status !== 'pending' && status.json.tokens_final)) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`context ${id} did not settle`);
}

/** One context's life, by its fate. */
async function live(n: number): Promise<void> {
  const fate = FATES[n % FATES.length]!;
  const expiresAt = fate === 'expired' ? new Date(Date.now() + 3_000).toISOString() : undefined;
  const content = fate === 'prose' ? proseItemsOfSize(8 * KiB, 2 * KiB) : itemsOfSize((1 + (n % 5)) * 4 * KiB, 2 * KiB);
  const created = await ok('/api/v1/contexts', {
    agent_id: `agent-${n % 3}`,
    session_id: `session-${n}`,
    metadata: { n, fate },
    ...(expiresAt && { expires_at: expiresAt }),
    content,
  });
  const id = created.id as string;
  contexts.push({ id, fate });
  await settled(id);
  if (fate === 'appended') {
    for (let a = 0; a <= n % 4; a++) {
      await ok(`/api/v1/contexts/${id}/items`, { items: itemsOfSize(3 * KiB, KiB) });
      await settled(id);
    }
  }
  if (fate === 'replaced') {
    await ok(`/api/v1/contexts/${id}`, { content: itemsOfSize(5 * KiB, KiB), metadata: { replaced: n } }, 'PUT');
    await settled(id);
  }
  if (fate === 'deleted')
    expect((await api(suite.app.url, `/api/v1/contexts/${id}`, { method: 'DELETE' })).status).toBe(202);
}

async function inBatches(from: number, to: number): Promise<void> {
  for (let n = from; n < to; n += 6) {
    await Promise.all(Array.from({ length: Math.min(6, to - n) }, (_, i) => live(n + i)));
  }
}

async function query<T = Record<string, unknown>>(url: string, sql: string, params: unknown[] = []): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(sql, params)).rows as T[];
  } finally {
    await client.end();
  }
}

/** The same read without the time of the last change (a rebuild knows only when its newest object was written). */
function comparable(reads: { document?: Record<string, unknown> } & Record<string, unknown>) {
  if (!reads.document) return reads;
  const { updated_at, ...document } = reads.document;
  return { ...reads, document };
}

async function rebuild() {
  const run = await runCtxvault(['rebuild', '--from-bucket'], {
    ...suite.app.env,
    MCP_DATABASE_URL: lost.url,
    MCP_LOGGING_LEVEL: 'warn',
  });
  const at = run.stdout.indexOf('{');
  return { ...run, report: at === -1 ? null : JSON.parse(run.stdout.slice(at)) };
}

beforeAll(async () => {
  // half the contexts uncompressed, half written by a worker that compresses with zstd
  await inBatches(0, COUNT / 2);
  await suite.app.worker.stop();
  suite.app.worker = await spawnCtxvault(
    'worker',
    { ...suite.app.env, MCP_STORAGE_COMPRESSION: 'zstd' },
    { readyLine: /worker running/ },
  );
  await inBatches(COUNT / 2, COUNT);
  // compaction runs after the appends: wait until no context has more than 3 segments
  for (const deadline = Date.now() + 60_000; Date.now() < deadline; ) {
    const rows = await query(
      suite.db.url,
      `select count(*)::int as n from contexts where segment_count > 3 and status <> 'deleting'`,
    );
    if (rows[0]!.n === 0) break;
    await new Promise((r) => setTimeout(r, 300));
  }
  await new Promise((r) => setTimeout(r, 3_000)); // the expired ones are past their time
  // the lifecycle pass purges the expired and the segments compaction merged (no grace here)
  const pass = await runCtxvault(['lifecycle', '--once'], {
    ...suite.app.env,
    MCP_LOGGING_LEVEL: 'warn',
    MCP_LIFECYCLE_OBJECT_GRACE: '0s',
  });
  expect(pass.code, pass.output).toBe(0);
  for (const { id } of contexts) before.set(id, comparable(await readsOf(suite.app.url, id)));
  // the database is lost: the deployment stops, and a new empty one takes its place
  await suite.app.stop();
  lost = await createFileDatabase();
}, 600_000);

afterAll(async () => {
  await readBack?.stop();
  await lost?.drop();
});

describe('rebuild --from-bucket', () => {
  const liveCount = () => contexts.filter((c) => c.fate !== 'deleted' && c.fate !== 'expired').length;

  it('recreates every context from the bucket, with a progress bar', async () => {
    const codecs = new Set((await suite.bucket.keys()).map((k) => k.split('.').at(-1)));
    expect(codecs).toEqual(new Set(['json', 'zst']));
    const run = await rebuild();
    expect(run.code, run.output).toBe(0);
    expect(run.report).toMatchObject({ rebuilt: liveCount(), present: 0, failed: [] });
    expect(run.stderr).toMatch(new RegExp(`rebuilding .*100% ${liveCount()} / ${liveCount()} contexts`));
  }, 300_000);

  it('changes nothing when run again', async () => {
    const run = await rebuild();
    expect(run.code, run.output).toBe(0);
    expect(run.report).toMatchObject({ rebuilt: 0, present: liveCount(), failed: [] });
  }, 300_000);

  it('rebuilds only what is missing after a partial loss (a run that stopped)', async () => {
    const gone = contexts
      .filter((c) => c.fate === 'appended')
      .slice(0, 5)
      .map((c) => c.id);
    await query(lost.url, 'delete from segments where context_id = any($1::uuid[])', [gone]);
    await query(lost.url, 'delete from versions where context_id = any($1::uuid[])', [gone]);
    await query(lost.url, 'delete from contexts where id = any($1::uuid[])', [gone]);
    const run = await rebuild();
    expect(run.code, run.output).toBe(0);
    expect(run.report).toMatchObject({ rebuilt: 5, present: liveCount() - 5, failed: [] });
  }, 300_000);

  it('answers every read as before the loss', async () => {
    readBack = await startApi({ ...suite.app.env, MCP_DATABASE_URL: lost.url });
    for (const { id, fate } of contexts) {
      expect(comparable(await readsOf(readBack.url, id)), `${fate} ${id}`).toEqual(before.get(id));
    }
    const listed = await api(readBack.url, `/api/v1/contexts?limit=100`);
    expect(listed.json.items).toHaveLength(liveCount());
  }, 300_000);

  it('reports an object whose items do not match its sha256, and rebuilds nothing of its context', async () => {
    const victim = contexts.find((c) => c.fate === 'created')!.id;
    const key = (await suite.bucket.keys()).find((k) => k.includes(victim) && k.endsWith('.json'))!;
    const got = await suite.bucket.client.send(new GetObjectCommand({ Bucket: suite.bucket.name, Key: key }));
    const object = Buffer.from(await got.Body!.transformToByteArray());
    const damaged = Buffer.from(object.toString('utf8').replace('turn 0', 'turn X'));
    await suite.bucket.client.send(new PutObjectCommand({ Bucket: suite.bucket.name, Key: key, Body: damaged }));
    await query(lost.url, 'delete from segments where context_id = $1', [victim]);
    await query(lost.url, 'delete from versions where context_id = $1', [victim]);
    await query(lost.url, 'delete from contexts where id = $1', [victim]);
    const run = await rebuild();
    expect(run.code).toBe(1);
    expect(run.report.rebuilt).toBe(0);
    expect(run.report.failed).toEqual([
      { context_id: victim, reason: expect.stringMatching(/sha256 of its items is [0-9a-f]{64}, its trailer says/) },
    ]);
    expect((await api(readBack.url, `/api/v1/contexts/${victim}`)).status).toBe(404);
  }, 300_000);
});
