// Rebuild from the bucket: 100 contexts are written (created, appended, compacted, replaced,
// compressed or not, sealed by envelope encryption with a local master key or not, expired,
// deleted, with older versions kept) on a deployment whose bucket is complete
// (storage.inline_threshold 0), with a master key rotation between the sealed ones, the database
// is lost, `ctxvault rebuild --from-bucket` recreates the references from the self-describing
// objects, and every read — current and kept older versions — answers as it did before. A second
// run changes nothing, a run after a partial loss rebuilds only what is missing, a master key that
// is not configured is reported, and an object whose items do not match its sha256 is reported,
// not rebuilt.
import { randomBytes } from 'node:crypto';
import { GetObjectCommand, HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ReadBack, readsOf, startApi } from '../helpers/archive.ts';
import { api, itemsOfSize, proseItemsOfSize } from '../helpers/contexts.ts';
import { queryRows, type TestDatabase } from '../helpers/database.ts';
import { createFileDatabase } from '../helpers/file-database.ts';
import { lifecyclePass, runCtxvault, spawnCtxvault } from '../helpers/processes.ts';
import { useSuite } from '../helpers/suite.ts';

const KiB = 1024;
// what the issue asks for: 100 contexts, ten rounds of FATES, a quarter of them in each of the
// four ways below (in the clear, sealed under the old master, sealed under the new one, zstd)
const COUNT = 100;
const suite = useSuite({
  env: {
    MCP_STORAGE_INLINE_THRESHOLD: '0',
    MCP_STORAGE_COMPACTION_MAX_SEGMENTS: '3',
    MCP_CACHE_MAX_BYTES: '0',
    MCP_LIFECYCLE_KEEP_VERSIONS: '2',
  },
});
// the first sealed quarter is written under OLD_MASTER, the master is rotated, the second under NEW_MASTER
const OLD_MASTER = randomBytes(32).toString('base64');
const NEW_MASTER = randomBytes(32).toString('base64');
const sealing = (mode: 'envelope' | 'none', master: string, previous = '') => ({
  MCP_ENCRYPTION_MODE: mode,
  MCP_ENCRYPTION_MASTER_KEY: master,
  MCP_ENCRYPTION_PREVIOUS_MASTER_KEYS: previous,
});
/** the settings every process after the rotation runs with: new bodies in the clear, sealed ones open */
const KEYS = sealing('none', NEW_MASTER, OLD_MASTER);

type Fate =
  | 'created'
  | 'appended'
  | 'replaced'
  | 'expired'
  | 'deleted'
  | 'prose'
  | 'restored'
  | 'restored-appended'
  | 'forked'
  | 'forked-appended'
  | 'fork-of-fork'
  | 'source-deleted';
/** contexts that are gone before the loss (404 before and after) */
const GONE: Fate[] = ['expired', 'deleted', 'source-deleted'];
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
const contexts: { id: string; fate: Fate; sealed: 'old' | 'new' | null }[] = [];
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

/** One context's life, by its fate (sealed under a master key, or not). */
async function live(n: number, sealed: 'old' | 'new' | null): Promise<void> {
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
  contexts.push({ id, fate, sealed });
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

/** The current version of a context, settled. */
async function currentVersion(id: string): Promise<number> {
  await settled(id);
  return (await api(suite.app.url, `/api/v1/contexts/${id}/status`)).json.version as number;
}

/**
 * Restores and forks among the contexts `made` (which write no object of their own
 * but a manifest): two contexts restored to their previous version (one appended to after), a fork
 * left as it is, a fork appended to, a fork of that fork, and a fork whose source is deleted.
 */
async function branches(made: typeof contexts, sealed: 'old' | 'new' | null): Promise<void> {
  const appended = made.filter((c) => c.fate === 'appended');
  for (const [i, source] of appended.slice(0, 2).entries()) {
    const version = await currentVersion(source.id);
    await ok(`/api/v1/contexts/${source.id}/restore`, { version: version - 1 });
    source.fate = 'restored';
    if (i === 1) {
      await ok(`/api/v1/contexts/${source.id}/items`, { items: itemsOfSize(3 * KiB, KiB) });
      source.fate = 'restored-appended';
    }
    await settled(source.id);
  }
  const fork = async (id: string, fate: Fate, body: Record<string, unknown> = {}) => {
    const forked = await ok(`/api/v1/contexts/${id}/fork`, body);
    contexts.push({ id: forked.id as string, fate, sealed });
    return forked.id as string;
  };
  await fork(made.find((c) => c.fate === 'created')!.id, 'forked', { agent_id: 'branch' });
  const replaced = made.find((c) => c.fate === 'replaced')!.id;
  const appendedFork = await fork(replaced, 'forked-appended', { version: 1, metadata: { branch: true } });
  await ok(`/api/v1/contexts/${appendedFork}/items`, { items: itemsOfSize(3 * KiB, KiB) });
  await settled(appendedFork);
  await fork(appendedFork, 'fork-of-fork', { name: 'twice' });
  const doomed = await ok('/api/v1/contexts', { agent_id: 'doomed', content: itemsOfSize(6 * KiB, 2 * KiB) });
  await settled(doomed.id);
  await fork(doomed.id, 'forked', { session_id: 'orphaned' });
  contexts.push({ id: doomed.id, fate: 'source-deleted', sealed });
  expect((await api(suite.app.url, `/api/v1/contexts/${doomed.id}`, { method: 'DELETE' })).status).toBe(202);
}

async function inBatches(from: number, to: number, sealed: 'old' | 'new' | null = null): Promise<void> {
  for (let n = from; n < to; n += 6) {
    await Promise.all(Array.from({ length: Math.min(6, to - n) }, (_, i) => live(n + i, sealed)));
  }
}

/** The api and worker started again on the same port with these settings added. */
async function redeploy(extra: Record<string, string>): Promise<void> {
  await suite.app.stop();
  const env = { ...suite.app.env, ...extra };
  [suite.app.api, suite.app.worker] = await Promise.all([
    spawnCtxvault('api', env, { readyLine: /API listening/ }),
    spawnCtxvault('worker', env, { readyLine: /worker running/ }),
  ]);
}

/** One lifecycle pass (no grace): expired contexts purged, versions past keep_versions collected, unreferenced segments removed. */
async function lifecyclePassOn(databaseUrl: string) {
  await lifecyclePass(suite.app.env, { ...KEYS, MCP_DATABASE_URL: databaseUrl, MCP_LIFECYCLE_OBJECT_GRACE: '0s' });
}

/**
 * A read without what a rebuild cannot know: the time of the last write, and how many segments
 * hold the items, in the document and in the summary (layout, not content: a compaction that merged
 * inline appends leaves no object of them, and a rebuild takes the objects it finds, so a rebuilt
 * version may hold the same items in another number of segments).
 */
function comparable(
  reads: { document?: Record<string, unknown>; summary?: Record<string, unknown> } & Record<string, unknown>,
) {
  if (!reads.document) return reads;
  const { updated_at, segments, ...document } = reads.document;
  const { segments: _, ...summary } = reads.summary ?? {};
  return { ...reads, document, summary };
}

/**
 * The kept versions of a context as its history lists them (without the times of the writes, which
 * a rebuild knows only as the times their objects were written), and each older one as it reads.
 */
async function keptVersionsOf(base: string, id: string) {
  const listed = await api(base, `/api/v1/contexts/${id}/versions?limit=100`);
  if (listed.status !== 200) return { status: listed.status };
  const items = listed.json.items as Record<string, unknown>[];
  const kept = items.filter((v) => v.state === 'kept').map(({ created_at, compacted_at, segments, ...v }) => v);
  // collected versions answer 410 (a rebuild does not know when they went, nor their totals)
  const collected: Record<number, unknown> = {};
  for (const v of items.filter((v) => v.state === 'collected')) {
    const read = await api(base, `/api/v1/contexts/${id}?version=${v.version}`);
    collected[v.version as number] = { status: read.status, code: read.json.error?.code };
  }
  const reads: Record<number, unknown> = {};
  for (const v of kept.filter((v) => !v.current)) {
    const read = await api(base, `/api/v1/contexts/${id}?version=${v.version}`);
    const { storage, updated_at, segments, ...document } = read.json;
    reads[v.version as number] = { status: read.status, document, sha256: storage?.sha256 };
  }
  return { kept, reads, collected };
}

async function rebuild(keys: Record<string, string> = KEYS) {
  const run = await runCtxvault(['rebuild', '--from-bucket'], {
    ...suite.app.env,
    ...keys,
    MCP_DATABASE_URL: lost.url,
    MCP_LOGGING_LEVEL: 'warn',
  });
  const at = run.stdout.indexOf('{');
  return { ...run, report: at === -1 ? null : JSON.parse(run.stdout.slice(at)) };
}

beforeAll(async () => {
  // a quarter each: in the clear; sealed under the old master key; (the master is rotated) sealed
  // under the new one and compressed with zstd; compressed in the clear
  await inBatches(0, COUNT / 4);
  await redeploy(sealing('envelope', OLD_MASTER));
  let start = contexts.length;
  await inBatches(COUNT / 4, COUNT / 2, 'old');
  await branches(contexts.slice(start), 'old');
  await suite.app.stop();
  const rotated = await runCtxvault(['keys', 'rotate-master'], {
    ...suite.app.env,
    ...sealing('envelope', NEW_MASTER, OLD_MASTER),
    MCP_LOGGING_LEVEL: 'warn',
  });
  expect(rotated.code, rotated.output).toBe(0);
  await redeploy({ ...sealing('envelope', NEW_MASTER, OLD_MASTER), MCP_STORAGE_COMPRESSION: 'zstd' });
  await inBatches(COUNT / 2, (COUNT * 3) / 4, 'new');
  await redeploy({ ...KEYS, MCP_STORAGE_COMPRESSION: 'zstd' });
  start = contexts.length;
  await inBatches((COUNT * 3) / 4, COUNT);
  await branches(contexts.slice(start), null);
  // compaction runs after the appends: wait until no context has more than 3 segments
  for (const deadline = Date.now() + 60_000; Date.now() < deadline; ) {
    const rows = await queryRows(
      suite.db.url,
      `select count(*)::int as n from contexts where segment_count > 3 and status <> 'deleting'`,
    );
    if (rows[0]!.n === 0) break;
    await new Promise((r) => setTimeout(r, 300));
  }
  await new Promise((r) => setTimeout(r, 3_000)); // the expired ones are past their time
  // the lifecycle pass purges the expired and the segments compaction merged (no grace here)
  await lifecyclePassOn(suite.db.url);
  for (const { id } of contexts) {
    before.set(id, { ...comparable(await readsOf(suite.app.url, id)), ...(await keptVersionsOf(suite.app.url, id)) });
  }
  // the database is lost: the deployment stops, and a new empty one takes its place
  await suite.app.stop();
  lost = await createFileDatabase();
}, 600_000);

afterAll(async () => {
  await readBack?.stop();
  await lost?.drop();
});

describe('rebuild --from-bucket', () => {
  const liveCount = () => contexts.filter((c) => !GONE.includes(c.fate)).length;
  const liveSealed = () => contexts.filter((c) => c.sealed && !GONE.includes(c.fate));
  // a deleted source whose segments a fork shares leaves them (and its mark) in the bucket
  const marked = () => contexts.filter((c) => c.fate === 'source-deleted');
  const forget = async (ids: string[]) => {
    for (const table of ['segments', 'versions', 'data_keys']) {
      await queryRows(lost.url, `delete from ${table} where context_id = any($1::uuid[])`, [ids]);
    }
    await queryRows(lost.url, 'delete from contexts where id = any($1::uuid[])', [ids]);
  };

  it('recreates every context and its kept versions from the bucket, sealed ones too, with a progress bar', async () => {
    const keys = await suite.bucket.keys();
    expect(new Set(keys.map((k) => k.split('.').at(-1)))).toEqual(new Set(['json', 'zst']));
    const sealedKey = keys.find((k) => k.includes(liveSealed()[0]!.id))!;
    const head = await suite.bucket.client.send(new HeadObjectCommand({ Bucket: suite.bucket.name, Key: sealedKey }));
    expect(head.Metadata).toMatchObject({ encryption: 'ctxvault-envelope-v1', 'wrapped-key': expect.any(String) });
    // a fork never written to has one object of its own, its manifest: sealed like the others
    const untouched = contexts.find((c) => c.fate === 'forked' && c.sealed === 'old')!.id;
    const manifests = keys.filter((k) => k.includes(`/${untouched}/`));
    expect(manifests).toEqual([expect.stringMatching(/\/1\.[0-9a-f-]{36}\.json$/)]);
    const sealedManifest = await suite.bucket.client.send(
      new HeadObjectCommand({ Bucket: suite.bucket.name, Key: manifests[0]! }),
    );
    expect(sealedManifest.Metadata).toMatchObject({ encryption: 'ctxvault-envelope-v1', 'item-count': '0' });
    const run = await rebuild();
    expect(run.code, run.output).toBe(0);
    expect(run.report).toMatchObject({ rebuilt: liveCount(), present: 0, deleted: marked().length, failed: [] });
    expect(run.report.versions_collected).toBeGreaterThan(0);
    const kept = [...before.values()].reduce((n: number, b) => n + ((b as { kept?: unknown[] }).kept?.length ?? 0), 0);
    expect(run.report.versions).toBeGreaterThanOrEqual(kept);
    expect(kept).toBeGreaterThan(liveCount());
    const found = liveCount() + marked().length;
    expect(run.stderr).toMatch(new RegExp(`rebuilding .*100% ${found} / ${found} contexts`));
    // the data keys are stored again, all wrapped by the current master key (a deleted source's
    // too: its fork's shared segments are sealed with it)
    const wraps = await queryRows(lost.url, 'select master_key_id, count(*)::int as n from data_keys group by 1');
    const sealedKeys = liveSealed().length + marked().filter((c) => c.sealed).length;
    expect(wraps).toEqual([{ master_key_id: expect.stringMatching(/^local:/), n: sealedKeys }]);
  }, 300_000);

  it('changes nothing when run again', async () => {
    const tables = async () => ({
      versions: await queryRows(
        lost.url,
        `select context_id, version, kind, segments::text, collected_at, source_id, source_version
           from versions order by 1, 2`,
      ),
      segments: await queryRows(lost.url, 'select id, context_id, object_key, sha256 from segments order by 1'),
      contexts: await queryRows(lost.url, 'select id, version, updated_at, data_key_id from contexts order by 1'),
    });
    const first = await tables();
    const run = await rebuild();
    expect(run.code, run.output).toBe(0);
    expect(run.report).toMatchObject({ rebuilt: 0, present: liveCount(), deleted: marked().length, failed: [] });
    expect(await tables()).toEqual(first);
  }, 300_000);

  it('rebuilds only what is missing after a partial loss (a run that stopped)', async () => {
    const gone = contexts
      .filter((c) => c.fate === 'appended')
      .slice(0, 5)
      .map((c) => c.id);
    await forget(gone);
    const run = await rebuild();
    expect(run.code, run.output).toBe(0);
    expect(run.report).toMatchObject({ rebuilt: 5, present: liveCount() - 5, failed: [] });
  }, 300_000);

  it('reports contexts sealed under a master key that is not configured, and rebuilds them once it is', async () => {
    // created, replaced or prose: never compacted after the rotation, so every object carries the old wrap
    const gone = liveSealed()
      .filter((c) => c.sealed === 'old' && ['created', 'replaced', 'prose'].includes(c.fate))
      .slice(0, 3)
      .map((c) => c.id);
    await forget(gone);
    const without = await rebuild(sealing('none', NEW_MASTER));
    expect(without.code).toBe(1);
    expect(without.report.rebuilt).toBe(0);
    const failed = without.report.failed as { context_id: string }[];
    expect(failed.sort((a, b) => (a.context_id < b.context_id ? -1 : 1))).toEqual(
      gone.sort().map((id) => ({
        context_id: id,
        reason: expect.stringMatching(
          /master key local:[0-9a-f]{16}, which is not configured: add it to encryption\.previous_master_keys/,
        ),
      })),
    );
    const run = await rebuild();
    expect(run.code, run.output).toBe(0);
    expect(run.report).toMatchObject({ rebuilt: 3, failed: [] });
  }, 300_000);

  it('answers every read, of current and kept versions, as before the loss', async () => {
    // older versions past lifecycle.keep_versions whose objects were still there came back: the
    // next lifecycle pass lets them go again, as it did before the loss
    await lifecyclePassOn(lost.url);
    readBack = await startApi({ ...suite.app.env, ...KEYS, MCP_DATABASE_URL: lost.url });
    for (const { id, fate, sealed } of contexts) {
      const after = { ...comparable(await readsOf(readBack.url, id)), ...(await keptVersionsOf(readBack.url, id)) };
      expect(after, `${fate} ${sealed} ${id}`).toEqual(before.get(id));
    }
    const listed = await api(readBack.url, `/api/v1/contexts?limit=100`);
    expect(listed.json.items).toHaveLength(liveCount());
    // what was compared holds what this suite is about: collected versions (410 before and after),
    // restores and forks as their versions' kinds say
    type Before = { status?: number; kept?: { kind: string; current: boolean }[]; collected?: object };
    const seen = (id: string) => before.get(id) as Before;
    const collected = [...before.values()].flatMap((b) => Object.values((b as Before).collected ?? {}));
    expect(collected.length).toBeGreaterThan(10);
    expect(collected).toEqual(collected.map(() => ({ status: 410, code: 'version_collected' })));
    for (const { id, fate } of contexts) {
      if (fate === 'restored') expect(seen(id).kept?.find((v) => v.current)?.kind).toBe('restore');
      if (fate.startsWith('fork')) expect(seen(id).kept?.map((v) => v.kind)).toContain('fork');
      if (fate === 'source-deleted') expect(seen(id)).toEqual({ status: 404 });
    }
    expect(contexts.filter((c) => c.fate.startsWith('fork'))).toHaveLength(8);
  }, 300_000);

  it('reports an object whose items do not match its sha256, and rebuilds nothing of its context', async () => {
    const victim = contexts.find((c) => c.fate === 'created')!.id;
    const key = (await suite.bucket.keys()).find((k) => k.includes(victim) && k.endsWith('.json'))!;
    const got = await suite.bucket.client.send(new GetObjectCommand({ Bucket: suite.bucket.name, Key: key }));
    const object = Buffer.from(await got.Body!.transformToByteArray());
    const damaged = Buffer.from(object.toString('utf8').replace('turn 0', 'turn X'));
    await suite.bucket.client.send(new PutObjectCommand({ Bucket: suite.bucket.name, Key: key, Body: damaged }));
    await forget([victim]);
    const run = await rebuild();
    expect(run.code).toBe(1);
    expect(run.report.rebuilt).toBe(0);
    expect(run.report.failed).toEqual([
      { context_id: victim, reason: expect.stringMatching(/sha256 of its items is [0-9a-f]{64}, its trailer says/) },
    ]);
    expect((await api(readBack.url, `/api/v1/contexts/${victim}`)).status).toBe(404);
  }, 300_000);
});
