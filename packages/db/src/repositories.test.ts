import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import type { MikroORM } from '@mikro-orm/postgresql';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestDatabase } from '../../../test/helpers/database.ts';
import { createFileDatabase } from '../../../test/helpers/file-database.ts';
import { ContextRepository, type ContextRow } from './context-repository.ts';
import { isUniqueViolation } from './database-errors.ts';
import { StagingBusyError } from './errors/staging-busy-error.ts';
import { StagingConflictError } from './errors/staging-conflict-error.ts';
import { newContextId } from './ids.ts';
import { createOrm } from './orm.ts';
import { type NewSegment, OPEN_LIVE, SegmentRepository } from './segment-repository.ts';
import { ChunkBuffers, rechunk, StagingRepository } from './staging-repository.ts';

let db: TestDatabase;
let orm: MikroORM;
let contexts: ContextRepository;
let staging: StagingRepository;

beforeAll(async () => {
  db = await createFileDatabase();
  orm = await createOrm({ url: db.url, poolMax: 4 });
  contexts = new ContextRepository(orm);
  staging = new StagingRepository(orm, { chunkSize: 64 * 1024, maxConcurrent: 2, bodyTimeoutMs: 1000 });
});
afterAll(async () => {
  await orm?.close();
  await db?.drop();
});

function row(overrides: Partial<ContextRow> = {}): ContextRow {
  const now = new Date();
  return {
    id: newContextId(),
    tenant_id: 'default',
    agent_id: 'agent-a',
    model_id: null,
    session_id: null,
    name: null,
    format: 'ctxvault',
    system: null,
    status: 'stored',
    version: 1,
    storage_provider: 'database',
    storage_key: null,
    etag: null,
    size_bytes: 3,
    stored_bytes: 3,
    sha256: null,
    content_encoding: 'identity',
    encryption: null,
    data_key_id: null,
    message_count: 0,
    token_count: 0,
    tokens_final: true,
    segment_count: 1,
    max_tokens: null,
    metadata: { team: 'x' },
    job_id: null,
    last_error: null,
    created_at: now,
    updated_at: now,
    expires_at: null,
    deleted_at: null,
    idempotency_key: null,
    idempotency_fingerprint: null,
    ...overrides,
  };
}

describe('ContextRepository', () => {
  it('inserts with tenant default and reads back', async () => {
    const r = row();
    await contexts.insert(r);
    const found = await contexts.findLive('default', r.id);
    expect(found).toMatchObject({ id: r.id, tenant_id: 'default', metadata: { team: 'x' }, size_bytes: 3 });
    expect(await contexts.findLive('other-tenant', r.id)).toBeNull();
  });

  it('finds a live row with one lean query, exactly as the ORM hydrates it', async () => {
    const r = row({
      size_bytes: 2 ** 40,
      stored_bytes: 123,
      model_id: 'gpt-4o',
      expires_at: new Date(Date.now() + 3_600_000),
      storage_provider: 's3',
      storage_key: 'contexts/ab/x',
    });
    await contexts.insert(r);
    const expected = r;
    const lean = await contexts.findLive('default', r.id);
    expect(lean).toEqual(await contexts.findAny(r.id));
    expect(lean).toEqual(expected);
    await contexts.updateIfVersion(r.id, 1, { status: 'deleting' });
    expect(await contexts.findLive('default', r.id)).toBeNull();
  });

  it('updates only at the expected version', async () => {
    const r = row();
    await contexts.insert(r);
    expect(await contexts.updateIfVersion(r.id, 2, { version: 3 })).toBe(false);
    expect(await contexts.updateIfVersion(r.id, 1, { version: 2 })).toBe(true);
    expect((await contexts.findLive('default', r.id))?.version).toBe(2);
  });

  it('lists with filters and keyset pagination, newest first', async () => {
    const agent = `agent-${randomBytes(3).toString('hex')}`;
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const r = row({ agent_id: agent, session_id: i % 2 ? 'odd' : 'even' });
      ids.push(r.id);
      await contexts.insert(r);
    }
    const page1 = await contexts.list({ tenant_id: 'default', agent_id: agent, limit: 2 });
    expect(page1.map((r) => r.id)).toEqual([ids[4], ids[3]]);
    const page2 = await contexts.list({ tenant_id: 'default', agent_id: agent, limit: 2, before_id: page1[1]!.id });
    expect(page2.map((r) => r.id)).toEqual([ids[2], ids[1]]);
    const odd = await contexts.list({ tenant_id: 'default', agent_id: agent, session_id: 'odd', limit: 10 });
    expect(odd).toHaveLength(2);
  });

  it('classifies a repeated idempotency key as a unique violation, by its class', async () => {
    const key = `key-${randomBytes(4).toString('hex')}`;
    await contexts.insert(row({ idempotency_key: key }));
    const err = await contexts.insert(row({ idempotency_key: key })).catch((e: unknown) => e);
    expect(isUniqueViolation(err)).toBe(true);
    expect(isUniqueViolation(new Error('duplicate key value violates unique constraint'))).toBe(false);
  });

  it('lists no context whose expiry has passed, before any lifecycle pass', async () => {
    const agent = `agent-${randomBytes(3).toString('hex')}`;
    const lasting = row({ agent_id: agent, expires_at: new Date(Date.now() + 60_000) });
    const forever = row({ agent_id: agent });
    const expired = row({ agent_id: agent, expires_at: new Date(Date.now() - 1) });
    for (const r of [lasting, forever, expired]) await contexts.insert(r);
    const listed = await contexts.list({ tenant_id: 'default', agent_id: agent, limit: 10 });
    expect(listed.map((r) => r.id).sort()).toEqual([lasting.id, forever.id].sort());
    const later = await contexts.list(
      { tenant_id: 'default', agent_id: agent, limit: 10 },
      new Date(Date.now() + 120_000),
    );
    expect(later.map((r) => r.id)).toEqual([forever.id]);
  });
});

describe('SegmentRepository', () => {
  function segmentOf(contextId: string, state: 'inline' | 'staged'): NewSegment {
    const body = Buffer.from('{"role":"user","content":"hi"}\n{"role":"assistant","content":"hello"}\n');
    return {
      id: newContextId(),
      context_id: contextId,
      version: 1,
      kind: 'write',
      state,
      body: state === 'inline' ? body : null,
      object_key: null,
      etag: null,
      stored_bytes: null,
      content_encoding: 'identity',
      encryption: null,
      data_key_id: null,
      first_item: 0,
      item_count: 2,
      size_bytes: body.length,
      sha256: 'ab'.repeat(32),
      token_count: 7,
      roles: { user: { items: 1, tokens: 3 }, assistant: { items: 1, tokens: 4 } },
      tokens_final: state === 'inline',
      item_tokens: null,
      item_offsets: Buffer.alloc(16),
      item_roles: Buffer.from([1, 2]),
      first_timestamp: null,
      last_timestamp: null,
      has_calls: false,
    };
  }

  it('creates a context in one statement with the totals a recount of its segments gives', async () => {
    const segments = new SegmentRepository(orm);
    for (const state of ['inline', 'staged'] as const) {
      const created = row({ status: state === 'inline' ? 'stored' : 'pending', size_bytes: 0, stored_bytes: null });
      const segment = segmentOf(created.id, state);
      const { row: committed, tailBytes } = await segments.createContext(created, segment, 's3');
      expect(committed).toMatchObject({
        message_count: 2,
        size_bytes: segment.size_bytes,
        token_count: 7,
        segment_count: 1,
        status: created.status,
        stored_bytes: state === 'inline' ? segment.size_bytes : null,
        storage_provider: 'database',
        sha256: segment.sha256,
      });
      expect(tailBytes).toBe(0);
      // a commit that recounts the row from its segments (the same counts again) changes none of its totals
      const [kept] = await segments.segmentsOf(created.id, 1);
      await segments.finalizeTokens(kept!, segment, 's3');
      const recounted = await contexts.findAny(created.id);
      // (times as the raw driver and the ORM give them)
      const { updated_at: _a, created_at: _c, ...before } = committed;
      const { updated_at: _b, created_at: _d, ...after } = recounted!;
      expect(after).toEqual(expect.objectContaining(before));
    }
  });

  it("opens an upload in one statement: the row, the write's segment and the current version's segments", async () => {
    const segments = new SegmentRepository(orm);
    const created = row({ status: 'pending', size_bytes: 0, stored_bytes: null });
    const segment = segmentOf(created.id, 'staged');
    await segments.createContext(created, segment, 's3');
    const [current] = await segments.segmentsOf(created.id, 1);
    const opened = await segments.openUpload(created.id, 1);
    const { updated_at: _a, ...expected } = (await contexts.findAny(created.id))!;
    expect(opened.row).toEqual(expect.objectContaining(expected));
    expect(opened.write).toEqual(current);
    expect(opened.current).toEqual([current]);
    // a write never committed: no segment of it, the row and its current version all the same
    expect(await segments.openUpload(created.id, 2)).toEqual({ ...opened, write: null });
    expect(await segments.openUpload(newContextId(), 1)).toEqual({ row: null, write: null, current: [] });
  });

  it('marks a segment stored in one synchronously committed statement, settling its context and every other holder', async () => {
    const segments = new SegmentRepository(orm);
    const created = row({ status: 'pending', size_bytes: 0, stored_bytes: null });
    await segments.createContext(created, segmentOf(created.id, 'staged'), 's3');
    const [staged] = await segments.segmentsOf(created.id, 1);
    // another context whose current version holds the same segment (as a fork would, once stored)
    const holder = row({ size_bytes: 0 });
    await segments.createContext(holder, segmentOf(holder.id, 'inline'), 's3');
    const pool = await orm.em.getConnection().getNativeClient();
    await pool.query('update versions set segments = array[$1::uuid] where context_id = $2', [staged!.id, holder.id]);

    // values that must arrive as they are (quotes, a backslash)
    const placement = {
      object_key: `ctx/${created.id}/o'brien\\x.ndjson`,
      etag: '"9b2cf535f27731c974343645a3985328-2"',
      stored_bytes: 61,
      content_encoding: 'zstd',
      encryption: 'aws:kms',
    };
    const statements = await statementsSent(pool, async () => {
      await segments.markStored(staged!, placement, 's3');
      // no longer staged: left alone
      await segments.markStored(staged!, { ...placement, object_key: 'other', etag: 'other' }, 's3');
    });
    // one statement each, on no transaction of its own (a transaction takes a client: none seen here)
    expect(statements).toHaveLength(2);
    for (const text of statements) expect(text).not.toContain('synchronous_commit');
    expect(await segments.findSegment(staged!.id)).toMatchObject({ state: 'stored', ...placement });
    for (const id of [created.id, holder.id]) {
      expect(await contexts.findAny(id)).toMatchObject({
        status: 'stored',
        storage_provider: 's3',
        storage_key: placement.object_key,
        etag: placement.etag,
        stored_bytes: 61,
        content_encoding: 'zstd',
        encryption: 'aws:kms',
      });
    }
  });

  it("plans a read's statement as a lookup by key whatever the size of the tables it is prepared on", async () => {
    // a connection plans the prepared read once, on the statistics of the moment: here a few hundred
    // segments of never-analysed tables, on which a plan left free to choose scans every segment
    const segments = new SegmentRepository(orm);
    let last = '';
    for (let i = 0; i < 200; i++) {
      const created = row({ size_bytes: 0 });
      const segment = { ...segmentOf(created.id, 'inline'), body: Buffer.alloc(1000, 'x') };
      await segments.createContext(created, segment, 's3');
      last = created.id;
    }
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    try {
      await client.query(`prepare open_live as ${OPEN_LIVE}`);
      await client.query('set plan_cache_mode = force_generic_plan');
      const { rows } = await client.query(
        `explain (format json) execute open_live('${last}', 'default', 20, null, 1048576, 131072, '{}')`,
      );
      const scans: string[] = [];
      const walk = (node: { 'Node Type': string; 'Relation Name'?: string; 'Index Name'?: string; Plans?: [] }) => {
        if (node['Relation Name']) scans.push(`${node['Node Type']} ${node['Index Name'] ?? node['Relation Name']}`);
        for (const child of node.Plans ?? []) walk(child);
      };
      walk(rows[0]['QUERY PLAN'][0].Plan);
      expect(scans.sort()).toEqual([
        'Index Scan contexts_pkey',
        'Index Scan segments_pkey',
        'Index Scan versions_pkey',
      ]);
    } finally {
      await client.end();
    }
  });
});

describe('StagingRepository', () => {
  it('stages a body in chunks and streams it back identical', async () => {
    const id = newContextId();
    const body = randomBytes(300 * 1024 + 17);
    const written = await staging.write(id, 1, Readable.from([body.subarray(0, 1000), body.subarray(1000)]));
    expect(written).toBe(body.length);
    expect(await staging.exists(id, 1)).toBe(true);
    expect((await buffer(staging.read(id, 1))).equals(body)).toBe(true);
    await staging.remove(id, 1);
    expect(await staging.exists(id, 1)).toBe(false);
  });

  it('leaves nothing behind when the source fails midway', async () => {
    const id = newContextId();
    async function* failing() {
      yield randomBytes(200 * 1024);
      throw new Error('client went away');
    }
    await expect(staging.write(id, 1, failing())).rejects.toThrow('client went away');
    expect(await staging.exists(id, 1)).toBe(false);
    expect(await stagedRows(id)).toEqual({ marks: 0, chunks: 0 });
  });

  it('holds no connection and no transaction while the body trickles in; chunks count only once marked', async () => {
    const id = newContextId();
    const gate = deferred();
    async function* slow() {
      yield randomBytes(64 * 1024 + 10); // one whole chunk, written at once
      await gate.promise;
      yield randomBytes(10);
    }
    const writing = staging.write(id, 1, slow());
    await waitFor(async () => (await stagedRows(id)).chunks === 1);
    // the chunk is committed, yet the body is not complete: nobody reads it as such
    expect(await staging.exists(id, 1)).toBe(false);
    await expect(buffer(staging.read(id, 1))).rejects.toThrow(/no completely staged body/);
    const pool = await orm.em.getConnection().getNativeClient();
    expect(pool.totalCount - pool.idleCount).toBe(0);
    const open = await pool.query(
      `select count(*)::int as n from pg_stat_activity where datname = current_database() and state like 'idle in transaction%'`,
    );
    expect(open.rows[0].n).toBe(0);
    gate.resolve();
    expect(await writing).toBe(64 * 1024 + 20);
    expect(await staging.exists(id, 1)).toBe(true);
    await staging.remove(id);
    expect(await stagedRows(id)).toEqual({ marks: 0, chunks: 0 });
  });

  it('refuses a staging beyond maxConcurrent, and a second writer of the same version', async () => {
    const gate = deferred();
    async function* held() {
      yield Buffer.from('x');
      await gate.promise;
    }
    const a = newContextId();
    const first = staging.write(a, 1, held());
    const second = staging.write(newContextId(), 1, held());
    await expect(staging.write(newContextId(), 1, held())).rejects.toBeInstanceOf(StagingBusyError);
    gate.resolve();
    await Promise.all([first, second]);
    await expect(staging.write(a, 1, Readable.from([Buffer.from('y')]))).rejects.toBeInstanceOf(StagingConflictError);
    expect((await buffer(staging.read(a, 1))).toString()).toBe('x');
  });

  it('finds abandoned and unclaimed stages as orphans, never one being written or waited for', async () => {
    const abandoned = newContextId();
    const pool = await orm.em.getConnection().getNativeClient();
    // a writer that died mid-body: its mark never completed, started longer ago than grace + body timeout
    await pool.query(
      `insert into staged_bodies (context_id, version, started_at) values ($1, 1, now() - interval '1 hour')`,
      [abandoned],
    );
    await pool.query(`insert into staged_chunks values ($1, 1, 0, '\\x00', now() - interval '1 hour')`, [abandoned]);
    const live = newContextId();
    await pool.query(`insert into staged_bodies (context_id, version, started_at) values ($1, 1, now())`, [live]);
    const waitedFor = newContextId();
    await contexts.insert(row({ id: waitedFor, status: 'pending' }));
    await staging.write(waitedFor, 1, Readable.from([Buffer.from('body')]));
    // its segment still waits for the upload
    await pool.query(
      `insert into segments (id, context_id, version, kind, state, item_count, size_bytes, sha256, tokens_final)
        values (gen_random_uuid(), $1, 1, 'write', 'staged', 1, 4, '', false)`,
      [waitedFor],
    );
    await new Promise((r) => setTimeout(r, 20));
    const orphans = (await staging.findOrphans(10, 100)).map((o) => o.context_id);
    expect(orphans).toContain(abandoned);
    expect(orphans).not.toContain(live);
    expect(orphans).not.toContain(waitedFor);
  });

  it('commits every statement of a staging without waiting for the WAL flush (the row that names it flushes it)', async () => {
    const pool = await orm.em.getConnection().getNativeClient();
    const statements = await statementsSent(pool, async () => {
      const id = newContextId();
      await staging.write(id, 1, Readable.from([randomBytes(100 * 1024)]));
      await staging.remove(id, 1);
    });
    // the claim, two chunks, the completion mark, the removal
    expect(statements).toHaveLength(5);
    for (const text of statements) expect(text).toContain("set_config('synchronous_commit', 'off', true)");
  });

  it('reads a large body back through COPY in order', async () => {
    const id = newContextId();
    const body = randomBytes(5 * 64 * 1024 + 3);
    await staging.write(id, 2, Readable.from([body]));
    expect((await buffer(staging.read(id, 2))).equals(body)).toBe(true);
  });
});

/** The texts of the statements `run` sends through the pool itself (not through a client it checks out). */
async function statementsSent(pool: pg.Pool, run: () => Promise<void>): Promise<string[]> {
  const statements: string[] = [];
  const query = pool.query;
  pool.query = ((text: string, ...rest: unknown[]) => {
    statements.push(text);
    return (query as (...args: unknown[]) => unknown).call(pool, text, ...rest);
  }) as typeof pool.query;
  try {
    await run();
  } finally {
    pool.query = query;
  }
  return statements;
}

async function stagedRows(id: string): Promise<{ marks: number; chunks: number }> {
  const pool = await orm.em.getConnection().getNativeClient();
  const { rows } = await pool.query(
    `select (select count(*)::int from staged_bodies where context_id = $1) as marks,
            (select count(*)::int from staged_chunks where context_id = $1) as chunks`,
    [id],
  );
  return rows[0];
}

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

async function waitFor(check: () => Promise<boolean>): Promise<void> {
  for (const deadline = Date.now() + 5000; !(await check()); ) {
    if (Date.now() > deadline) throw new Error('condition not met within 5 s');
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('rechunk', () => {
  it('regroups into fixed-size chunks', async () => {
    const out: number[] = [];
    for await (const c of rechunk(Readable.from([Buffer.alloc(5), Buffer.alloc(7), Buffer.alloc(1)]), 4))
      out.push(c.length);
    expect(out).toEqual([4, 4, 4, 1]);
  });

  it('copies into kept buffers, given back chunk by chunk, byte for byte', async () => {
    const bytes = Buffer.from(Array.from({ length: 29 }, (_, i) => i));
    const pieces = [bytes.subarray(0, 3), bytes.subarray(3, 14), bytes.subarray(14, 15), bytes.subarray(15)];
    const buffers = new ChunkBuffers(4, 2);
    const out: Buffer[] = [];
    const memory = new Set<ArrayBufferLike>();
    for await (const c of rechunk(Readable.from(pieces), 4, buffers)) {
      out.push(Buffer.from(c));
      memory.add(c.buffer);
      buffers.give(c);
    }
    expect(out.map((c) => c.length)).toEqual([4, 4, 4, 4, 4, 4, 4, 1]);
    expect(Buffer.concat(out).equals(bytes)).toBe(true);
    // each chunk was given back before the next was taken: one buffer served them all
    expect(memory.size).toBe(1);
    expect(buffers.take().length).toBe(4);
  });

  it('starts with a smaller chunk and doubles it up to the chunk size', async () => {
    const bytes = Buffer.from(Array.from({ length: 40 }, (_, i) => i));
    const buffers = new ChunkBuffers(16, 4);
    const out: Buffer[] = [];
    for await (const c of rechunk(Readable.from([bytes.subarray(0, 5), bytes.subarray(5)]), 16, buffers, 2)) {
      out.push(Buffer.from(c));
      buffers.give(c);
    }
    expect(out.map((c) => c.length)).toEqual([2, 4, 8, 16, 10]);
    expect(Buffer.concat(out).equals(bytes)).toBe(true);
  });
});
