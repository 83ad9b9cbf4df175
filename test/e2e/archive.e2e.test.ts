// Export and import: `ctxvault export` / `ctxvault import` and GET /api/v1/export, POST
// /api/v1/import move a tenant's contexts (ids, versions, metadata, expiry, token counts, items byte
// for byte) between deployments with different stores — S3 to local disk, S3 to the database
// provider — idempotently, reporting conflicts without writing them, and refusing damaged archives.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportTo, type ReadBack, readsOf, startApi } from '../helpers/archive.ts';
import { api, itemsOfSize, proseItemsOfSize } from '../helpers/contexts.ts';
import { bearer, createApiKey } from '../helpers/credentials.ts';
import type { TestDatabase } from '../helpers/database.ts';
import { deploymentEnv } from '../helpers/deployment.ts';
import { createFileDatabase } from '../helpers/file-database.ts';
import { runCtxvault } from '../helpers/processes.ts';
import { useSuite } from '../helpers/suite.ts';

const KiB = 1024;
const suite = useSuite({
  env: {
    MCP_STORAGE_INLINE_THRESHOLD: '16KiB',
    MCP_STORAGE_COMPACTION_MAX_SEGMENTS: '3',
    MCP_STORAGE_COMPRESSION: 'zstd',
    MCP_CACHE_MAX_BYTES: '0',
  },
});

let dir: string;
const ids: string[] = [];
const before = new Map<string, unknown>();
const databases: TestDatabase[] = [];
const apis: ReadBack[] = [];

/** Settings of a second deployment: its own database, and local disk or the database provider. */
async function destination(kind: 'local' | 'database'): Promise<Record<string, string>> {
  const db = await createFileDatabase();
  databases.push(db);
  const env = deploymentEnv({ ...suite.services, databaseUrl: db.url }, { MCP_LOGGING_LEVEL: 'warn' });
  if (kind === 'local') return { ...env, MCP_STORAGE_TYPE: 'local', MCP_STORAGE_LOCAL_PATH: path.join(dir, 'blobs') };
  return { ...env, MCP_STORAGE_CONTEXT_STORAGE_PROVIDER: 'database', MCP_STORAGE_S3_BUCKET: 'no-such-bucket' };
}

async function write(pathname: string, json: unknown, method = 'POST') {
  const res = await api(suite.app.url, pathname, { method, json });
  expect([200, 201, 202], res.text).toContain(res.status);
  return res.json;
}

async function settled(id: string) {
  for (const deadline = Date.now() + 60_000; Date.now() < deadline; ) {
    const status = await api(suite.app.url, `/api/v1/contexts/${id}/status`);
    if (status.json.status !== 'pending' && status.json.tokens_final) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`context ${id} did not settle`);
}

/** A context's versions, newest first: number, kind and source. */
async function versionsOf(base: string, id: string) {
  const listed = await api(base, `/api/v1/contexts/${id}/versions`);
  expect(listed.status, listed.text).toBe(200);
  return listed.json.items.map((v: { version: number; kind: string; source?: unknown }) => ({
    version: v.version,
    kind: v.kind,
    source: v.source ?? null,
  }));
}

async function importFile(file: string, env: Record<string, string>, ...args: string[]) {
  const run = await runCtxvault(['import', file, ...args], env);
  const at = run.stdout.indexOf('{');
  return { ...run, report: at === -1 ? null : JSON.parse(run.stdout.slice(at)) };
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'ctxvault-archive-'));
  // small (inline), large (an object), appended (segments, compacted), replaced, with metadata and expiry, prose (counted by the server)
  const small = await write('/api/v1/contexts', {
    agent_id: 'mover',
    session_id: 's1',
    name: 'small',
    metadata: { project: 'x', n: 1234567890 },
    content: [{ role: 'user', content: 'hello  \u00e9\u{1F600}' }],
    ttl_seconds: 86_400,
  });
  const large = await write('/api/v1/contexts', { agent_id: 'mover', content: itemsOfSize(300 * KiB) });
  const appended = await write('/api/v1/contexts', { agent_id: 'other', content: itemsOfSize(40 * KiB) });
  const prose = await write('/api/v1/contexts', {
    agent_id: 'mover',
    model_id: 'gpt-4o',
    content: proseItemsOfSize(60 * KiB),
  });
  ids.push(small.context?.id ?? small.id, large.id, appended.id ?? appended.context.id, prose.id ?? prose.context.id);
  for (const id of ids) await settled(id);
  for (let n = 0; n < 4; n++) {
    await write(`/api/v1/contexts/${ids[2]}/items`, { items: itemsOfSize(20 * KiB) });
    await settled(ids[2]!);
  }
  await write(`/api/v1/contexts/${ids[1]}`, { content: itemsOfSize(100 * KiB), metadata: { replaced: true } }, 'PUT');
  await settled(ids[1]!);
  // a restore (the appended context back to the version before its last append) and a fork of the
  // replaced one, appended to: their versions say what made them, and the fork shares its source's segments
  await write(`/api/v1/contexts/${ids[2]}/restore`, { version: 4 });
  const fork = await write(`/api/v1/contexts/${ids[1]}/fork`, { name: 'forked' });
  const forkId = fork.id ?? fork.context.id;
  await write(`/api/v1/contexts/${forkId}/items`, { items: itemsOfSize(20 * KiB) });
  await settled(forkId);
  ids.push(forkId);
  // another tenant's context, which an export of tenant "default" leaves out
  const otherKey = await createApiKey(suite.db.url, 'someone-else');
  const foreign = await api(suite.app.url, '/api/v1/contexts', {
    method: 'POST',
    headers: bearer(otherKey),
    json: { agent_id: 'mover', content: [{ role: 'user', content: 'not yours' }] },
  });
  expect(foreign.status).toBe(201);
  // compaction runs after the appends: wait until the appended context is down to few segments
  for (const deadline = Date.now() + 30_000; Date.now() < deadline; ) {
    if ((await api(suite.app.url, `/api/v1/contexts/${ids[2]}/summary`)).json.segments <= 3) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  for (const id of ids) before.set(id, await readsOf(suite.app.url, id));
}, 180_000);

afterAll(async () => {
  for (const a of apis) await a.stop();
  for (const db of databases) await db.drop();
  await rm(dir, { recursive: true, force: true });
});

describe('export and import', () => {
  let archive: string;
  let local: Record<string, string>;

  it('exports the tenant with a progress bar: header, contexts, versions, segments with their items, end', async () => {
    archive = path.join(dir, 'default.ndjson');
    const run = await exportTo(archive, ['--tenant', 'default', '--versions', 'all'], suite.app.env);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toMatch(/exporting .*100% 5 \/ 5 contexts/);
    const lines = (await readFile(archive, 'utf8'))
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines[0]).toMatchObject({ type: 'header', format: 'ctxvault.archive', archive_version: 1, versions: 'all' });
    expect(lines.at(-1)).toMatchObject({ type: 'end', contexts: 5 });
    expect(
      lines
        .filter((l) => l.type === 'context')
        .map((l) => l.id)
        .sort(),
    ).toEqual([...ids].sort());
    const small = lines.find((l) => l.type === 'context' && l.name === 'small');
    expect(small).toMatchObject({ session_id: 's1', expires_at: expect.any(String), metadata: { project: 'x' } });
    // the items are the stored lines, byte for byte
    expect(await readFile(archive, 'utf8')).toContain('{"role":"user","content":"hello  \u00e9\u{1F600}"}\n');
  });

  it('imports into a deployment on local disk: every read answers as it did', async () => {
    local = await destination('local');
    const run = await importFile(archive, local);
    expect(run.code, run.output).toBe(0);
    expect(run.stderr).toMatch(/importing .*100%/);
    expect(run.report).toMatchObject({ imported: 5, unchanged: 0, conflicts: [], failed: [], complete: true });
    const readBack = await startApi(local);
    apis.push(readBack);
    for (const id of ids) expect(await readsOf(readBack.url, id), id).toEqual(before.get(id));
    // the restore and the fork come back as what made them, with their source
    for (const id of [ids[2]!, ids[4]!])
      expect(await versionsOf(readBack.url, id), id).toEqual(await versionsOf(suite.app.url, id));
    expect((await versionsOf(readBack.url, ids[2]!))[0]).toMatchObject({
      kind: 'restore',
      source: { context_id: ids[2], version: 4 },
    });
    expect((await versionsOf(readBack.url, ids[4]!)).at(-1)).toMatchObject({
      kind: 'fork',
      source: { context_id: ids[1] },
    });
    const listed = await api(readBack.url, '/api/v1/contexts?limit=10');
    expect(listed.json.items).toHaveLength(5);
    expect(listed.json.items.every((c: { storage: { provider: string } }) => c.storage.provider !== 's3')).toBe(true);
  }, 120_000);

  it('imports twice without changing anything', async () => {
    const run = await importFile(archive, local);
    expect(run.code, run.output).toBe(0);
    expect(run.report).toMatchObject({ imported: 0, unchanged: 5, conflicts: [], failed: [] });
  }, 60_000);

  it('reports a context changed here as a conflict and leaves it as it is', async () => {
    const readBack = apis[0]!;
    const id = ids[3]!;
    const appended = await api(readBack.url, `/api/v1/contexts/${id}/items`, {
      method: 'POST',
      json: { items: [{ role: 'user', content: 'only here' }] },
    });
    expect(appended.status, appended.text).toBe(200);
    const run = await importFile(archive, local);
    expect(run.code).toBe(1);
    expect(run.report).toMatchObject({ imported: 0, unchanged: 4, failed: [] });
    expect(run.report.conflicts).toEqual([{ id, reason: expect.stringMatching(/version/) }]);
    const read = await api(readBack.url, `/api/v1/contexts/${id}`);
    expect(read.json.content.at(-1)).toEqual({ role: 'user', content: 'only here' });
  }, 60_000);

  it('moves the tenant through the API, zstd-compressed, into a deployment on the database provider', async () => {
    const exported = await fetch(`${suite.app.url}/api/v1/export?compress=zstd`, { headers: suite.app.headers });
    expect(exported.status).toBe(200);
    expect(exported.headers.get('content-type')).toBe('application/zstd');
    const body = Buffer.from(await exported.arrayBuffer());
    expect(body.subarray(0, 4)).toEqual(Buffer.from([0x28, 0xb5, 0x2f, 0xfd]));
    const readBack = await startApi(await destination('database'));
    apis.push(readBack);
    const imported = await api(readBack.url, '/api/v1/import', {
      method: 'POST',
      body,
      headers: { 'content-type': 'application/zstd' },
    });
    expect(imported.status, imported.text).toBe(200);
    expect(imported.json).toMatchObject({ imported: 5, conflicts: [], failed: [], complete: true });
    for (const id of ids) {
      const reads = await readsOf(readBack.url, id);
      expect(reads, id).toEqual(before.get(id));
    }
    const again = await api(readBack.url, '/api/v1/import', { method: 'POST', body });
    expect(again.json).toMatchObject({ imported: 0, unchanged: 5 });
    const listed = await api(readBack.url, '/api/v1/contexts?limit=10');
    expect(listed.json.items.map((c: { storage: { provider: string } }) => c.storage.provider)).toEqual(
      Array(5).fill('database'),
    );
  }, 120_000);

  it('refuses a damaged or cut archive, keeping nothing of the context it stopped in', async () => {
    const text = await readFile(archive, 'utf8');
    const cut = path.join(dir, 'cut.ndjson');
    // cut inside the items of the last segment
    await writeFile(cut, text.slice(0, text.lastIndexOf('\n', text.length - 200)));
    const target = await destination('local');
    const run = await importFile(cut, target);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/invalid_archive: archive line \d+: the archive ends inside a segment/);
    // the contexts before the cut are written whole, the one it cut is not written at all
    const client = new pg.Client({ connectionString: target.MCP_DATABASE_URL });
    await client.connect();
    try {
      const rows = (await client.query('select id from contexts')).rows.map((r) => r.id as string);
      expect(rows.sort()).toEqual([...ids].sort().slice(0, 4));
      const orphans = await client.query(
        'select count(*)::int as n from segments where not (context_id = any($1::uuid[]))',
        [rows],
      );
      expect(orphans.rows[0].n).toBe(0);
    } finally {
      await client.end();
    }
    const junk = await api(apis[1]!.url, '/api/v1/import', { method: 'POST', body: '{"type":"context"}\n' });
    expect(junk.status).toBe(400);
    expect(junk.json.error.code).toBe('invalid_archive');
    const tampered = text.replace('hello  \u00e9', 'hellO  \u00e9');
    const damaged = path.join(dir, 'tampered.ndjson');
    await writeFile(damaged, tampered);
    const fresh = await destination('local');
    const result = await importFile(damaged, fresh);
    expect(result.code).toBe(1);
    expect(result.report.imported).toBe(4);
    expect(result.report.failed).toEqual([{ id: ids[0], reason: expect.stringMatching(/do not match its record/) }]);
  }, 120_000);

  it('answers 403 to a key without the admin scope, and 400 to a bad query', async () => {
    const writer = await createApiKey(suite.db.url, 'default', ['write']);
    const refused = await api(suite.app.url, '/api/v1/export', { headers: bearer(writer) });
    expect(refused.status).toBe(403);
    const bad = await api(suite.app.url, '/api/v1/export?versions=some');
    expect(bad.status).toBe(400);
    expect(bad.json.error.code).toBe('invalid_request');
  });
});
