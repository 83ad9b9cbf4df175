// History and forks on the real processes: the versions list, reads of kept old versions byte for
// byte, restore, 410 once the lifecycle pass collected a version, and copy-on-write forks — no new
// object or byte for a large context, appends on both sides independent, the fork readable after
// its source was deleted and collected. The SDK and the CLI do the same.
import { HeadObjectCommand } from '@aws-sdk/client-s3';
import { CtxvaultClient, GoneError } from '@ctxvault/client';
import { beforeAll, describe, expect, it } from 'vitest';
import { api, type Item, itemsOfSize, waitUntilSettled } from '../helpers/contexts.ts';
import { createApiKey } from '../helpers/credentials.ts';
import { queryRows } from '../helpers/database.ts';
import { lifecyclePass, runCtxvault } from '../helpers/processes.ts';
import { useSuite } from '../helpers/suite.ts';

const MiB = 1024 * 1024;
const suite = useSuite({
  env: {
    MCP_LIFECYCLE_OBJECT_GRACE: '0s',
    MCP_LIFECYCLE_KEEP_VERSIONS: '3',
    MCP_STORAGE_INLINE_THRESHOLD: '16KiB',
  },
});

const sql = <T = Record<string, unknown>>(text: string, params: unknown[] = []) =>
  queryRows<T>(suite.db.url, text, params);

/** The `content` of a read as the server sent it: the bytes from `"content":` to the end. */
function contentBytes(text: string): string {
  return text.slice(text.indexOf('"content":'));
}

/** Every object of the bucket with its size. */
async function objects(): Promise<Map<string, number>> {
  const sizes = new Map<string, number>();
  for (const key of await suite.bucket.keys()) {
    const head = await suite.bucket.client.send(new HeadObjectCommand({ Bucket: suite.bucket.name, Key: key }));
    sizes.set(key, head.ContentLength ?? 0);
  }
  return sizes;
}

async function write(method: string, path: string, json: unknown, headers: Record<string, string> = {}) {
  const res = await api(suite.app.url, path, { method, json, headers });
  expect([200, 201, 202], res.text).toContain(res.status);
  const id = res.json.id as string;
  if (res.status === 202) expect((await waitUntilSettled(suite.app.url, id)).at(-1).status).toBe('stored');
  return res;
}

const turn = (text: string): Item => ({ role: 'user', content: text });

/** Waits until the worker's delete job removed the context's row. */
async function purged(id: string): Promise<void> {
  const deadline = Date.now() + 120_000;
  while ((await sql('select 1 from contexts where id = $1', [id])).length > 0) {
    if (Date.now() > deadline) throw new Error(`context ${id} still has its row`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe('history', () => {
  let id: string;
  /** what GET answered for each version while it was current */
  const reads = new Map<number, string>();

  beforeAll(async () => {
    id = (await write('POST', '/api/v1/contexts', { agent_id: 'history', content: itemsOfSize(64 * 1024) })).json.id;
    reads.set(1, (await api(suite.app.url, `/api/v1/contexts/${id}`)).text);
    for (let v = 2; v <= 4; v++) {
      await write('POST', `/api/v1/contexts/${id}/items`, { items: [turn(`turn ${v}`), turn(`tail ${v} 1e400`)] });
      reads.set(v, (await api(suite.app.url, `/api/v1/contexts/${id}`)).text);
    }
    await write('PUT', `/api/v1/contexts/${id}`, { content: [turn('replaced')], metadata: { replaced: true } });
    reads.set(5, (await api(suite.app.url, `/api/v1/contexts/${id}`)).text);
  });

  it('lists every version newest first, keyset-paged, with the write that made it', async () => {
    const seen: { version: number; kind: string; message_count: number; current: boolean }[] = [];
    let cursor = '';
    do {
      const page = await api(suite.app.url, `/api/v1/contexts/${id}/versions?limit=2${cursor}`);
      expect(page.status).toBe(200);
      expect(page.json.items.length).toBeLessThanOrEqual(2);
      seen.push(...page.json.items);
      cursor = page.json.next_cursor ? `&cursor=${page.json.next_cursor}` : '';
    } while (cursor);
    expect(seen.map((v) => [v.version, v.kind, v.current])).toEqual([
      [5, 'replace', true],
      [4, 'append', false],
      [3, 'append', false],
      [2, 'append', false],
      [1, 'create', false],
    ]);
    const first = JSON.parse(reads.get(1)!);
    expect(seen.at(-1)).toMatchObject({ message_count: first.message_count, size_bytes: first.storage.size_bytes });
    expect(seen[1]).toMatchObject({ message_count: first.message_count + 6, state: 'kept' });
    expect((await api(suite.app.url, `/api/v1/contexts/${id}/versions?cursor=bogus!`)).status).toBe(400);
  });

  it('reads a kept old version byte for byte, with its fields then, and windows of it', async () => {
    for (const [version, text] of reads) {
      const old = await api(suite.app.url, `/api/v1/contexts/${id}?version=${version}`);
      expect(old.status).toBe(200);
      expect(old.headers.get('etag')).toBe(`"${version}"`);
      expect(contentBytes(old.text)).toBe(contentBytes(text));
      expect(old.json).toMatchObject({ version, metadata: JSON.parse(text).metadata });
    }
    const tail = await api(suite.app.url, `/api/v1/contexts/${id}?version=3&last=2`);
    expect(tail.json.content).toEqual([turn('turn 3'), turn('tail 3 1e400')]);
    expect(tail.text).toContain('"content":"tail 3 1e400"');
    expect((await api(suite.app.url, `/api/v1/contexts/${id}?version=6`)).status).toBe(404);
    expect((await api(suite.app.url, `/api/v1/contexts/${id}?version=0`)).status).toBe(400);
  });

  it('restores an old version as a new one (If-Match as for other writes), then 410 once it is collected', async () => {
    const stale = await api(suite.app.url, `/api/v1/contexts/${id}/restore`, {
      method: 'POST',
      json: { version: 2 },
      headers: { 'if-match': '"4"' },
    });
    expect(stale.status).toBe(412);
    expect((await api(suite.app.url, `/api/v1/contexts/${id}/restore`, { method: 'POST', json: {} })).status).toBe(400);
    const restored = await write('POST', `/api/v1/contexts/${id}/restore`, { version: 2 }, { 'if-match': '"5"' });
    expect(restored.json).toMatchObject({ version: 6, metadata: {} });
    const now = await api(suite.app.url, `/api/v1/contexts/${id}`);
    expect(contentBytes(now.text)).toBe(contentBytes(reads.get(2)!));
    const top = (await api(suite.app.url, `/api/v1/contexts/${id}/versions?limit=1`)).json.items[0];
    expect(top).toMatchObject({ version: 6, kind: 'restore', source: { context_id: id, version: 2 } });

    // keep_versions is 3: 3, 4 and 5 are kept besides 6; 1 and 2 are collected (2's segments stay: 6 is made of them)
    const counts = await lifecyclePass(suite.app.env);
    expect(counts.versions_collected).toBe(2);
    await lifecyclePass(suite.app.env);
    const gone = await api(suite.app.url, `/api/v1/contexts/${id}?version=2`);
    expect(gone.status).toBe(410);
    expect(gone.json.error).toMatchObject({ code: 'version_collected', details: { version: 2 } });
    expect(Date.parse(gone.json.error.details.collected_at)).toBeGreaterThan(Date.now() - 60_000);
    expect(
      (await api(suite.app.url, `/api/v1/contexts/${id}/restore`, { method: 'POST', json: { version: 1 } })).status,
    ).toBe(410);
    expect(
      (await api(suite.app.url, `/api/v1/contexts/${id}/fork`, { method: 'POST', json: { version: 1 } })).status,
    ).toBe(410);
    expect(contentBytes((await api(suite.app.url, `/api/v1/contexts/${id}`)).text)).toBe(contentBytes(reads.get(2)!));
    expect(contentBytes((await api(suite.app.url, `/api/v1/contexts/${id}?version=3`)).text)).toBe(
      contentBytes(reads.get(3)!),
    );
    const listed = (await api(suite.app.url, `/api/v1/contexts/${id}/versions`)).json.items;
    expect(listed.map((v: { state: string }) => v.state)).toEqual([
      'kept',
      'kept',
      'kept',
      'kept',
      'collected',
      'collected',
    ]);
  });

  it('restores once with an Idempotency-Key: a retry answers the same, another request with the key is 422', async () => {
    const ctx = (await write('POST', '/api/v1/contexts', { agent_id: 'idem-restore', content: [turn('one')] })).json
      .id as string;
    await write('POST', `/api/v1/contexts/${ctx}/items`, { items: [turn('two')] });
    const restore = (version: number, key: string, headers: Record<string, string> = {}) =>
      api(suite.app.url, `/api/v1/contexts/${ctx}/restore`, {
        method: 'POST',
        json: { version },
        headers: { 'idempotency-key': key, ...headers },
      });
    const versionRows = () => sql('select version, kind from versions where context_id = $1 order by version', [ctx]);

    const first = await restore(1, 'restore-once', { 'if-match': '"2"' });
    expect(first.status, first.text).toBe(200);
    expect(first.json).toMatchObject({ id: ctx, version: 3 });
    expect(first.headers.get('idempotent-replayed')).toBeNull();
    const after = await versionRows();
    expect(after).toEqual([
      { version: 1, kind: 'create' },
      { version: 2, kind: 'append' },
      { version: 3, kind: 'restore' },
    ]);

    // the retry of a lost answer, If-Match included (no 412: it is answered as the first one was)
    const again = await restore(1, 'restore-once', { 'if-match': '"2"' });
    expect(again.status, again.text).toBe(200);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(again.json).toEqual(first.json);
    expect(await versionRows()).toEqual(after);

    // the same key with another version, or on another context, is another request
    const other = await restore(2, 'restore-once');
    expect(other.status).toBe(422);
    expect(other.json.error.code).toBe('idempotency_key_reused');
    const elsewhere = (await write('POST', '/api/v1/contexts', { agent_id: 'idem-restore', content: [turn('x')] })).json
      .id as string;
    await write('POST', `/api/v1/contexts/${elsewhere}/items`, { items: [turn('y')] });
    const onOther = await api(suite.app.url, `/api/v1/contexts/${elsewhere}/restore`, {
      method: 'POST',
      json: { version: 1 },
      headers: { 'idempotency-key': 'restore-once' },
    });
    expect(onOther.status).toBe(422);
    expect(await versionRows()).toEqual(after);
    expect(await sql('select count(*)::int as n from versions where context_id = $1', [elsewhere])).toEqual([{ n: 2 }]);

    // a new key is a new restore
    const second = await restore(2, 'restore-twice');
    expect(second.status, second.text).toBe(200);
    expect(second.json.version).toBe(4);
    expect(
      (
        await api(suite.app.url, `/api/v1/contexts/${ctx}/restore`, {
          method: 'POST',
          json: { version: 1 },
          headers: { 'idempotency-key': '' },
        })
      ).status,
    ).toBe(400);
  });
});

describe('forks', () => {
  it('of a 24 MiB context copy no object (one manifest under a KiB); appends to either never touch the other', async () => {
    const source = (await write('POST', '/api/v1/contexts', { agent_id: 'big', content: itemsOfSize(24 * MiB) })).json
      .id as string;
    const before = await objects();
    const segmentsBefore = await sql('select id from segments where context_id = $1 order by id', [source]);

    const forked = await api(suite.app.url, `/api/v1/contexts/${source}/fork`, {
      method: 'POST',
      json: { agent_id: 'sub-agent', session_id: 'what-if', metadata: { branch: 1 } },
    });
    expect(forked.status, forked.text).toBe(201);
    const fork = forked.json.id as string;
    expect(forked.headers.get('location')).toBe(`/api/v1/contexts/${fork}`);
    expect(forked.json).toMatchObject({ version: 1, status: 'stored', agent_id: 'sub-agent', session_id: 'what-if' });
    // nothing copied: one new object, the fork's manifest (its segment list, for a rebuild from the
    // bucket), under a KiB whatever the source's size
    const after = await objects();
    const added = [...after].filter(([key]) => !before.has(key));
    expect(added).toEqual([
      [expect.stringMatching(new RegExp(`/${fork}/1\\.[0-9a-f-]{36}\\.json$`)), expect.any(Number)],
    ]);
    expect(added[0]![1]).toBeLessThan(1024);
    expect(new Map([...after].filter(([key]) => before.has(key)))).toEqual(before);
    expect(
      await sql('select id from segments where context_id = any($1::uuid[]) order by id', [[source, fork]]),
    ).toEqual(segmentsBefore);

    const sourceRead = await api(suite.app.url, `/api/v1/contexts/${source}`);
    const forkRead = await api(suite.app.url, `/api/v1/contexts/${fork}`);
    expect(contentBytes(forkRead.text)).toBe(contentBytes(sourceRead.text));

    await write('POST', `/api/v1/contexts/${fork}/items`, { items: [turn('fork only')] });
    await write('POST', `/api/v1/contexts/${source}/items`, { items: [turn('source only')] });
    const forkTail = await api(suite.app.url, `/api/v1/contexts/${fork}?last=1`);
    const sourceTail = await api(suite.app.url, `/api/v1/contexts/${source}?last=1`);
    expect(forkTail.json.content).toEqual([turn('fork only')]);
    expect(sourceTail.json.content).toEqual([turn('source only')]);
    expect(forkTail.json.message_count).toBe(sourceTail.json.message_count);

    // the source deleted and collected: the fork reads as before, its shared object kept
    const expected = contentBytes((await api(suite.app.url, `/api/v1/contexts/${fork}`)).text);
    expect((await api(suite.app.url, `/api/v1/contexts/${source}`, { method: 'DELETE' })).status).toBe(202);
    await purged(source);
    await lifecyclePass(suite.app.env);
    await lifecyclePass(suite.app.env);
    expect(contentBytes((await api(suite.app.url, `/api/v1/contexts/${fork}`)).text)).toBe(expected);
    // the shared object, and the mark that keeps a rebuild from the bucket from bringing the source back
    const left = (await suite.bucket.keys()).filter((k) => k.includes(source));
    expect(left).toHaveLength(2);
    expect(left).toContainEqual(expect.stringMatching(new RegExp(`/${source}/0\\.[0-9a-f-]{36}\\.json$`)));

    // and once the fork is gone too, nothing of either is left
    expect((await api(suite.app.url, `/api/v1/contexts/${fork}`, { method: 'DELETE' })).status).toBe(202);
    await purged(fork);
    await lifecyclePass(suite.app.env);
    await lifecyclePass(suite.app.env);
    expect((await suite.bucket.keys()).filter((k) => k.includes(source) || k.includes(fork))).toEqual([]);
    expect(await sql('select 1 from segments where context_id = any($1::uuid[])', [[source, fork]])).toEqual([]);
  }, 400_000);

  it('with an Idempotency-Key are made once; bad input is a 400 that changes nothing', async () => {
    const source = (await write('POST', '/api/v1/contexts', { agent_id: 'idem', content: [turn('hello')] })).json.id;
    const fork = (key: string, json: unknown) =>
      api(suite.app.url, `/api/v1/contexts/${source}/fork`, {
        method: 'POST',
        json,
        headers: { 'idempotency-key': key },
      });
    const first = await fork('fork-once', {});
    const again = await fork('fork-once', {});
    expect(first.status).toBe(201);
    expect(again.json.id).toBe(first.json.id);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect((await fork('fork-once', { name: 'other' })).status).toBe(422);
    const countBefore = await sql('select count(*)::int as n from contexts');
    for (const bad of [
      { version: 0 },
      { version: 'x' },
      { agent_id: '' },
      { extra: 1 },
      { ttl_seconds: 5, expires_at: new Date().toISOString() },
    ])
      expect((await api(suite.app.url, `/api/v1/contexts/${source}/fork`, { method: 'POST', json: bad })).status).toBe(
        400,
      );
    expect(
      (await api(suite.app.url, `/api/v1/contexts/${source}/fork`, { method: 'POST', json: { version: 9 } })).status,
    ).toBe(404);
    expect(await sql('select count(*)::int as n from contexts')).toEqual(countBefore);
  });
});

describe('the SDK and the CLI', () => {
  it('list versions, read one, restore and fork', async () => {
    const key = await createApiKey(suite.db.url, 'history-sdk', ['write']);
    const client = new CtxvaultClient({ url: suite.app.url, apiKey: key });
    const created = await client.create({ agent_id: 'sdk', content: [turn('one')] });
    if (created.state !== 'stored') throw new Error('expected an inline create');
    const id = created.context.id;
    await client.append(id, { items: [turn('two')] });
    await client.replace(id, { content: [turn('three')] });
    expect((await client.get(id, { version: 2 })).content).toEqual([turn('one'), turn('two')]);
    expect((await client.versions(id, { limit: 2 })).items.map((v) => v.version)).toEqual([3, 2]);
    const restored = await client.restore(id, 2, { ifVersion: 3 });
    expect(restored.state === 'stored' && restored.context.version).toBe(4);
    const fork = await client.fork(id, { version: 1, agent_id: 'sdk-fork' });
    expect((await client.get(fork.id)).content).toEqual([turn('one')]);

    const env = { MCP_CLIENT_URL: suite.app.url, MCP_CLIENT_API_KEY: key };
    const versions = await runCtxvault(['versions', id, '--json'], env);
    expect(versions.code, versions.output).toBe(0);
    expect(JSON.parse(versions.stdout).items.map((v: { kind: string }) => v.kind)).toEqual([
      'restore',
      'replace',
      'append',
      'create',
    ]);
    const table = await runCtxvault(['versions', id], env);
    expect(table.stdout).toMatch(/^VERSION\s+KIND\s+STATE/);
    expect(table.stdout).toMatch(new RegExp(`4\\s+restore\\s+current.*${id}@2`));
    const cliFork = await runCtxvault(['fork', id, '--version', '3', '--agent-id', 'cli-fork'], env);
    expect(cliFork.code, cliFork.output).toBe(0);
    const forkedId = JSON.parse(cliFork.stdout).id;
    expect((await client.get(forkedId)).content).toEqual([turn('three')]);
    const cliRestore = await runCtxvault(['restore', id, '--version', '3'], env);
    expect(cliRestore.code, cliRestore.output).toBe(0);
    expect(JSON.parse(cliRestore.stdout)).toMatchObject({ version: 5 });
    const get = await runCtxvault(['get', id, '--version', '1'], env);
    expect(JSON.parse(get.stdout).content).toEqual([turn('one')]);
    const missing = await runCtxvault(['restore', id], env);
    expect(missing.code).toBe(2);
    await expect(client.get(id, { version: 99 })).rejects.toMatchObject({ status: 404 });
    // keep_versions is 3: version 1 of 5 is collected by a pass
    await lifecyclePass(suite.app.env);
    await expect(client.get(id, { version: 1 })).rejects.toBeInstanceOf(GoneError);
    await expect(client.restore(id, 1)).rejects.toMatchObject({ status: 410, code: 'version_collected' });
  });
});
