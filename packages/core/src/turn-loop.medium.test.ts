// The agent's turn loop on real parts: an append is one statement that keeps the row's totals what
// a recount gives, a token-budget read plans over the tail only (and answers what a plan over every
// item answers), and a read opens its row, segments and tail in one round trip.
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import type { BlobStore } from '@ctxvault/storage';
import { describe, expect, it } from 'vitest';
import { blobStoreWith, useCoreParts } from '../../../test/helpers/core-services.ts';
import { BodyCache } from './body-cache.ts';
import { ContextService } from './context-service.ts';
import { NotFoundError, PreconditionFailedError } from './errors/index.ts';
import { rawItems } from './raw-items.ts';
import { type ContextItem, createContextSchema, type ReadOptions } from './schemas.ts';
import { InlineTokenCounter } from './token-counter.ts';

const parts = useCoreParts();
const MiB = 1024 * 1024;

/** Turns of uneven length, so token budgets fall inside segments. */
const turn = (i: number): ContextItem => ({
  role: i % 2 ? 'assistant' : 'user',
  content: `turn ${i} ${'word '.repeat(5 + ((i * 37) % 60))}`,
});
const base = (n: number): ContextItem[] =>
  Array.from({ length: n }, (_, i) => ({ role: 'user', content: `base ${i} ${'lorem ipsum '.repeat(20)}` }));

/** A context stored in S3 (its base) with `appends` inline appends of two turns after it. */
async function turnContext(service: ContextService, baseItems: ContextItem[], appends: number): Promise<string> {
  const input = createContextSchema.parse({ agent_id: 'turns', content: baseItems });
  const created = await service.create('default', { ...input, content: rawItems(input.content) });
  if (created.state !== 'pending') throw new Error('expected a staged create');
  const uploader = parts.uploader();
  expect(await uploader.store(created.id, 1, () => {})).toBe('stored');
  // the search index is filled after the job: a search test waits for it
  await uploader.indexed();
  for (let i = 0; i < appends; i++) {
    const appended = await service.append('default', created.id, { items: rawItems([turn(2 * i), turn(2 * i + 1)]) });
    expect(appended.state).toBe('stored');
  }
  return created.id;
}

async function windowOf(service: ContextService, id: string, options: ReadOptions) {
  const { lines, window } = await service.read('default', id, options);
  const text = (await buffer(Readable.from(lines))).toString();
  return { window, items: text.split('\n').filter(Boolean) };
}

/** A blob store that counts GETs. */
function countingGets(): { blobs: BlobStore; gets: () => number } {
  let gets = 0;
  const blobs = blobStoreWith(parts.blobs, {
    get: (key, range) => {
      gets++;
      return parts.blobs.get(key, range);
    },
  });
  return { blobs, gets: () => gets };
}

/** Two stored segments, oldest first, left for the lifecycle's search backlog (after it indexed everything else). */
async function unindexedPair(uploader: ReturnType<typeof parts.uploader>) {
  await uploader.indexBacklog(0, 1000, Number.MAX_SAFE_INTEGER);
  const ids = [await turnContext(parts.service(), base(12), 0), await turnContext(parts.service(), base(12), 0)];
  const segs = [(await parts.segments.segmentsOf(ids[0]!, 1))[0]!, (await parts.segments.segmentsOf(ids[1]!, 1))[0]!];
  for (const seg of segs) {
    await parts.orm.em.fork().execute('update segments set search_indexed = false where id = ?', [seg.id]);
  }
  return segs;
}

describe('the turn loop', () => {
  it('a token budget read plans over the tail only and answers what a plan over every item does', async () => {
    const id = await turnContext(parts.service(), base(40), 30);
    const { blobs, gets } = countingGets();
    const service = parts.service(blobs);
    const { message_count: total, version, current_tokens } = await service.head('default', id);
    const [stored] = await parts.segments.segmentsOf(id, version);
    const appendedTokens = current_tokens - stored!.token_count;
    expect(appendedTokens).toBeGreaterThan(900);
    for (const max of [1, 7, 150, 900, appendedTokens - 1, appendedTokens + 200, 1_000_000]) {
      const before = gets();
      const tail = await windowOf(service, id, { max_tokens: max });
      const tailGets = gets() - before;
      // `last` covering every item takes the plan over every item
      const every = await windowOf(service, id, { max_tokens: max, last: total });
      expect(tail, `max_tokens ${max}`).toEqual(every);
      expect(tail.window.tokens).toBeLessThanOrEqual(max);
      // a budget the appended (inline) turns exceed reads nothing of the base's object
      if (max < appendedTokens) expect(tailGets, `max_tokens ${max}`).toBe(0);
      else expect(tailGets, `max_tokens ${max}`).toBeGreaterThan(0);
    }
  });

  it('a tool result in the tail answering a call before it: the budget read plans over every item', async () => {
    const service = parts.service();
    const id = await turnContext(service, base(10), 0);
    const call: ContextItem = {
      role: 'assistant',
      content: [{ type: 'tool_use', id: 'call-1', name: 'lookup', input: { q: 'x'.repeat(400) } }],
    };
    const result: ContextItem = {
      role: 'user',
      content: [{ type: 'tool_result', tool_use_id: 'call-1', content: 'ok' }],
    };
    await service.append('default', id, { items: rawItems([call, turn(1), turn(2)]) });
    await service.append('default', id, { items: rawItems([result, turn(3)]) });
    const total = (await service.head('default', id)).message_count;
    for (const max of [40, 120, 200, 400]) {
      const tail = await windowOf(service, id, { max_tokens: max });
      expect(tail, `max_tokens ${max}`).toEqual(await windowOf(service, id, { max_tokens: max, last: total }));
      // the result never stays without its call
      const kept = tail.items.map((line) => JSON.parse(line));
      const hasResult = kept.some((item) => JSON.stringify(item).includes('tool_result'));
      const hasCall = kept.some((item) => JSON.stringify(item).includes('tool_use'));
      expect(hasResult && !hasCall, `max_tokens ${max}`).toBe(false);
    }
  });

  it('an append keeps the row totals a recount gives, through uploads and compaction', async () => {
    const service = parts.service();
    const id = await turnContext(service, base(12), 3);
    // a staged append (above the 1 KiB inline threshold) makes the context pending until it is stored
    const staged = await service.append('default', id, { items: rawItems(base(8)) });
    expect(staged.state).toBe('pending');
    await service.append('default', id, { items: rawItems([turn(7)]) });
    expect((await service.head('default', id)).status).toBe('pending');
    expect(await parts.uploader().store(id, 5, () => {})).toBe('stored');
    await service.append('default', id, { items: rawItems([turn(8), turn(9)]) });

    const recount = async () => {
      const row = (await parts.contexts.findAny(id))!;
      const segs = await parts.segments.segmentsOf(id, row.version);
      return {
        row: {
          message_count: row.message_count,
          size_bytes: row.size_bytes,
          token_count: row.token_count,
          segment_count: row.segment_count,
          tokens_final: row.tokens_final,
          status: row.status,
        },
        recount: {
          message_count: segs.reduce((n, s) => n + s.item_count, 0),
          size_bytes: segs.reduce((n, s) => n + s.size_bytes, 0),
          token_count: segs.reduce((n, s) => n + s.token_count, 0),
          segment_count: segs.length,
          tokens_final: segs.every((s) => s.tokens_final),
          status: segs.some((s) => s.state === 'staged') ? 'pending' : 'stored',
        },
      };
    };
    const afterAppends = await recount();
    expect(afterAppends.row).toEqual(afterAppends.recount);
    expect(afterAppends.row).toMatchObject({ status: 'stored', segment_count: 7 });

    expect(await parts.compactor().compact(id)).toBe('compacted');
    await service.append('default', id, { items: rawItems([turn(10)]) });
    const afterCompaction = await recount();
    expect(afterCompaction.row).toEqual(afterCompaction.recount);
  });

  it('an append written against segments a compaction has since replaced commits nothing', async () => {
    const service = parts.service();
    const id = await turnContext(service, base(12), 5);
    const before = (await parts.contexts.findAny(id))!;
    expect(await parts.compactor().compact(id)).toBe('compacted');
    const compacted = (await parts.contexts.findAny(id))!;
    expect(compacted.version).toBe(before.version);
    expect(compacted.segment_count).toBeLessThan(before.segment_count);

    // what a writer that read the row before the compaction would commit
    const segment = {
      ...(await parts.segments.findWrite(id, before.version))!,
      id: '01990000-0000-7000-8000-000000000001',
      version: before.version + 1,
      first_item: before.message_count,
      body: Buffer.from('{"role":"user","content":"late"}\n'),
      item_offsets: Buffer.alloc(8),
      item_roles: Buffer.from([1]),
      item_tokens: null,
      item_count: 1,
      size_bytes: 33,
    };
    const commit = {
      contextId: id,
      expectedVersion: before.version,
      patch: { version: before.version + 1 },
      segment,
      base: false,
      provider: 's3' as const,
    };
    expect(await parts.segments.commitVersion({ ...commit, expectedSegments: before.segment_count })).toBeNull();
    expect((await parts.contexts.findAny(id))!).toMatchObject({
      version: before.version,
      segment_count: compacted.segment_count,
    });
    expect(await parts.segments.findSegment(segment.id)).toBeNull();

    // the same append against what the row holds now goes through, the compacted list followed by it
    const committed = await parts.segments.commitVersion({ ...commit, expectedSegments: compacted.segment_count });
    expect(committed?.row).toMatchObject({ version: before.version + 1, segment_count: compacted.segment_count + 1 });
    const segs = await parts.segments.segmentsOf(id, before.version + 1);
    expect(segs.at(-1)?.id).toBe(segment.id);
    expect(segs.slice(0, -1).map((s) => s.id)).toEqual(
      (await parts.segments.segmentsOf(id, before.version)).map((s) => s.id),
    );
  });

  it('an append after a read commits without looking the row up; a row moved on elsewhere is read afresh', async () => {
    const other = parts.service();
    const id = await turnContext(other, base(12), 0);
    let lookups = 0;
    const contexts = {
      ...parts.contexts,
      findLive: (tenantId: string, ctx: string) => {
        lookups++;
        return parts.contexts.findLive(tenantId, ctx);
      },
    } as typeof parts.contexts;
    const logger = { info() {}, warn() {}, error() {}, debug() {} };
    const tokens = { encoding: 'auto', defaultEncoding: 'o200k_base' } as const;
    const service = new ContextService({ ...parts, contexts, logger, tokenCounter: new InlineTokenCounter(tokens) });
    const say = (content: string) => ({ items: rawItems([{ role: 'user' as const, content }]) });
    const contents = async () =>
      (await windowOf(other, id, { last: 100 })).items.map((line) => JSON.parse(line).content as string);

    // the turn: a read, then an append on the row the read opened (one statement, no lookup)
    await windowOf(service, id, { last: 2 });
    expect(await service.append('default', id, say('a1'))).toMatchObject({ context: { version: 2 } });
    expect(await service.append('default', id, say('a2'))).toMatchObject({ context: { version: 3 } });
    expect(lookups).toBe(0);

    // another process appends: the row this one saw is stale, its commit writes nothing, and the
    // append starts over from the row read afresh
    await other.append('default', id, say('b1'));
    expect(await service.append('default', id, say('a3'))).toMatchObject({ context: { version: 5 } });
    expect(lookups).toBe(1);
    expect((await contents()).slice(12)).toEqual(['a1', 'a2', 'b1', 'a3']);

    // If-Match is decided on the row as it is, not as this process saw it
    await other.append('default', id, say('b2'));
    await expect(service.append('default', id, say('stale'), 5)).rejects.toBeInstanceOf(PreconditionFailedError);
    expect(await service.append('default', id, say('a4'), 6)).toMatchObject({ context: { version: 7 } });
    await other.append('default', id, say('b3'));
    // the row seen is at 7 and If-Match names 8: the commit on it fails, and the fresh row agrees
    expect(await service.append('default', id, say('a5'), 8)).toMatchObject({ context: { version: 9 } });
    expect((await contents()).slice(12)).toEqual(['a1', 'a2', 'b1', 'a3', 'b2', 'a4', 'b3', 'a5']);

    // deleted elsewhere: 404, nothing written
    await other.delete('default', id);
    await expect(service.append('default', id, say('late'))).rejects.toBeInstanceOf(NotFoundError);
    // another tenant never gets a row this one saw
    await expect(service.append('other-tenant', id, say('x'))).rejects.toBeInstanceOf(NotFoundError);
  });

  it('a read opens its row, its segments and its tail in one round trip', async () => {
    const id = await turnContext(parts.service(), base(12), 12);
    const opened = await parts.segments.openLive('default', id, { items: 5, tokens: null });
    expect(opened?.segs).toHaveLength(13);
    // the last 5 items are in the last 3 appends: their bodies and index came along, not the base's
    const tailIds = opened!.segs.slice(-3).map((s) => s.id);
    expect([...opened!.bodies.keys()].sort()).toEqual([...tailIds].sort());
    expect([...opened!.index.keys()].sort()).toEqual([...tailIds].sort());
    expect(await parts.segments.openLive('other-tenant', id, { items: 5, tokens: null })).toBeNull();

    const { items } = await windowOf(parts.service(), id, { last: 5 });
    expect(items.map((line) => JSON.parse(line).content)).toEqual([19, 20, 21, 22, 23].map((i) => turn(i).content));
  });

  it("a turn's read gets the inline segments its last read met from the body cache: Postgres sends only the new one", async () => {
    const id = await turnContext(parts.service(), base(12), 3);
    const sent: string[][] = [];
    let bodyLoads = 0;
    const segments = new Proxy(parts.segments, {
      get(target, prop) {
        if (prop === 'openLive') {
          return async (...args: Parameters<typeof target.openLive>) => {
            const opened = await target.openLive(...args);
            sent.push([...(opened?.bodies.keys() ?? [])]);
            return opened;
          };
        }
        if (prop === 'loadBodies') {
          return (ids: readonly string[]) => {
            bodyLoads++;
            return target.loadBodies(ids);
          };
        }
        const value = Reflect.get(target, prop, target);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    const logger = { info() {}, warn() {}, error() {}, debug() {} };
    const tokenCounter = new InlineTokenCounter({ encoding: 'auto', defaultEncoding: 'o200k_base' });
    const serviceWith = (cache: BodyCache) => new ContextService({ ...parts, segments, cache, logger, tokenCounter });
    const contentsOf = async (service: ContextService) =>
      (await windowOf(service, id, { last: 5 })).items.map((line) => JSON.parse(line).content as string);
    const service = serviceWith(new BodyCache({ maxBytes: MiB, maxItemBytes: MiB }));

    // the first read: the last 5 items are in the last 3 appends, whose bodies Postgres sends
    expect(await contentsOf(service)).toEqual([1, 2, 3, 4, 5].map((i) => turn(i).content));
    expect(sent[0]).toHaveLength(3);
    // the turn's append, then the next turn's read: only the new segment's body is sent
    await service.append('default', id, { items: rawItems([turn(6)]) });
    expect(await contentsOf(service)).toEqual([2, 3, 4, 5, 6].map((i) => turn(i).content));
    const fresh = (await parts.segments.openLive('default', id, { items: 1, tokens: null }))!.segs.at(-1)!.id;
    expect(sent[1]).toEqual([fresh]);
    expect(bodyLoads).toBe(0);

    // a hint that no longer holds (evicted between the hint and the read): the body is loaded instead
    class Forgetful extends BodyCache {
      override holds(): boolean {
        return true;
      }
    }
    const forgetful = serviceWith(new Forgetful({ maxBytes: 0, maxItemBytes: 0 }));
    expect(await contentsOf(forgetful)).toEqual([2, 3, 4, 5, 6].map((i) => turn(i).content));
    expect(await contentsOf(forgetful)).toEqual([2, 3, 4, 5, 6].map((i) => turn(i).content));
    expect(sent.at(-1)).toEqual([]);
    expect(bodyLoads).toBeGreaterThan(0);
  });

  it('tool results with no call anywhere before them: the budget read still plans over the tail only', async () => {
    const id = await turnContext(parts.service(), base(40), 0);
    const tool = (i: number): ContextItem => ({
      role: 'tool',
      content: `{"result": ${i}, "rows": "${'r'.repeat(300)}"}`,
    });
    for (let i = 0; i < 6; i++) await parts.service().append('default', id, { items: rawItems([turn(i), tool(i)]) });
    const { blobs, gets } = countingGets();
    const service = parts.service(blobs);
    const total = (await service.head('default', id)).message_count;
    const tail = await windowOf(service, id, { max_tokens: 300 });
    expect(gets()).toBe(0);
    expect(tail).toEqual(await windowOf(service, id, { max_tokens: 300, last: total }));
    expect(tail.items.length).toBeGreaterThan(0);
  });

  it('search answers the first matches in order, found among the items read first or by the text index', async () => {
    const { blobs, gets } = countingGets();
    const service = parts.service(blobs);
    const items = base(2600);
    const id = await turnContext(service, items, 0);
    // a search reads the next 256 items in order first: these queries are answered there, past
    // there, or both (fewer matches than asked in the first 256, then the index)
    for (const [query, limit] of [
      ['base 2', 5],
      ['base 199', 5],
      ['base 25', 3],
      ['base 2599', 10],
      ['base 2', 1200],
      ['base 29', 5],
      ['in no item', 10],
    ] as const) {
      const expected = items
        .map((item, index) => ({ index, text: String(item.content) }))
        .filter(({ text }) => text.includes(query))
        .map(({ index }) => index);
      const found = await service.search('default', id, { query, case_sensitive: false, limit });
      expect(
        found.matches.map((m) => m.index),
        query,
      ).toEqual(expected.slice(0, limit));
    }
    // matches close together are read in one range, those further apart (here 260 items, about 72
    // KiB, between item 29 and item 290) each in their own
    const before = gets();
    await service.search('default', id, { query: 'base 29', case_sensitive: false, limit: 5 });
    expect(gets() - before).toBe(2);
  });

  it('search asks the index the workers fill: nothing of a stored segment is read but its matched items', async () => {
    const { blobs, gets } = countingGets();
    const service = parts.service(blobs);
    const id = await turnContext(service, base(30), 4);
    const queries = [
      { query: 'BASE 1' },
      { query: 'base 1', case_sensitive: true },
      { query: 'Base 1', case_sensitive: true },
      { query: 'turn', roles: ['assistant' as const] },
      { query: 'lorem', limit: 3 },
      { query: '100%_\\' },
      { query: 'in no item' },
    ];
    // right after `stored`: the upload indexed the base, so its object is only read by ranges
    const before = gets();
    const first = [];
    for (const q of queries)
      first.push(await service.search('default', id, { case_sensitive: false, limit: 100, ...q }));
    expect(first[0]!.matches.map((m) => m.index)).toEqual([1, ...Array.from({ length: 10 }, (_, i) => 10 + i)]);
    expect(first[1]!.matches).toHaveLength(11);
    expect(first[2]!.matches).toEqual([]);
    expect(first[3]!.matches.map((m) => m.index)).toEqual([31, 33, 35, 37]);
    expect(first[4]).toMatchObject({ truncated: true, matches: [{ index: 0 }, { index: 1 }, { index: 2 }] });
    expect(first[5]!.matches).toEqual([]);
    expect(first[6]!.matches).toEqual([]);
    // only the candidates in the base's object, by their ranges, those close together in one: the 11
    // for "base 1" (twice, the second checked for case), the same 11 for "Base 1", 4 for "lorem"
    // (limit + 1) lie within a few KiB of each other, one GET each time
    expect(gets() - before).toBe(4);

    const again = [];
    const repeated = gets();
    for (const q of queries)
      again.push(await service.search('default', id, { case_sensitive: false, limit: 100, ...q }));
    expect(again).toEqual(first);
    expect(gets() - repeated).toBe(4);
    // a word in no item reads no body at all
    const none = gets();
    await service.search('default', id, { query: 'in no item', case_sensitive: false, limit: 100 });
    expect(gets() - none).toBe(0);

    // an inline append is not indexed yet: the search reads it (from its row), not the base's object
    await service.append('default', id, { items: rawItems([{ role: 'user', content: 'base 1 once more' }]) });
    const appended = await service.search('default', id, { query: 'base 1', case_sensitive: false, limit: 100 });
    expect(appended.matches.map((m) => m.index)).toEqual([...first[0]!.matches.map((m) => m.index), 38]);

    // a compaction copies the entries of what it merged: the merged object is read by ranges only
    expect(await parts.compactor(blobs).compact(id)).toBe('compacted');
    const merged = gets();
    const compacted = await service.search('default', id, { query: 'base 1', case_sensitive: false, limit: 100 });
    expect(compacted.matches).toEqual(appended.matches);
    expect(gets() - merged).toBeLessThanOrEqual(12);
    const noneAfter = gets();
    await service.search('default', id, { query: 'turn 7', case_sensitive: false, limit: 100 });
    await service.search('default', id, { query: 'in no item', case_sensitive: false, limit: 100 });
    expect(gets() - noneAfter).toBe(1);
  });

  it('a backlog pass indexes no more bytes than it is given, but always its oldest segment', async () => {
    const uploader = parts.uploader();
    const segs = await unindexedPair(uploader);
    const indexed = async () => [...(await parts.segments.searchIndexed(segs.map((s) => s.id)))];
    // the oldest alone, although it is larger than the budget
    expect(await uploader.indexBacklog(0, 10, 1)).toBe(1);
    expect(await indexed()).toEqual([segs[0]!.id]);
    // both fit in a budget of their sizes; only the other is left
    expect(await uploader.indexBacklog(0, 10, segs[0]!.size_bytes + segs[1]!.size_bytes)).toBe(1);
    expect((await indexed()).sort()).toEqual(segs.map((s) => s.id).sort());
  });

  it('a backlog segment that cannot be read is skipped: the others are indexed and the pass goes on', async () => {
    const uploader = parts.uploader();
    const segs = await unindexedPair(uploader);
    // the oldest one's object is lost
    await parts.blobs.delete(segs[0]!.object_key!);
    expect(await uploader.indexBacklog(0, 10, Number.MAX_SAFE_INTEGER)).toBe(1);
    expect([...(await parts.segments.searchIndexed(segs.map((s) => s.id)))]).toEqual([segs[1]!.id]);
  });

  it('a backlog segment that keeps failing goes behind the others, so it cannot hold every pass up', async () => {
    const uploader = parts.uploader();
    const segs = await unindexedPair(uploader);
    await parts.blobs.delete(segs[0]!.object_key!);
    // a budget of one byte: each pass takes its head alone
    expect(await uploader.indexBacklog(0, 10, 1)).toBe(0);
    expect(await uploader.indexBacklog(0, 10, 1)).toBe(1);
    expect([...(await parts.segments.searchIndexed(segs.map((s) => s.id)))]).toEqual([segs[1]!.id]);
  });

  it('the lifecycle pass indexes what the workers did not (segments stored before they indexed)', async () => {
    const id = await turnContext(parts.service(), base(12), 0);
    const [seg] = await parts.segments.segmentsOf(id, 1);
    expect((await parts.segments.searchIndexed([seg!.id])).has(seg!.id)).toBe(true);
    // as a segment stored before the workers indexed would be
    await parts.orm.em.fork().execute('update segments set search_indexed = false where id = ?', [seg!.id]);
    await parts.orm.em.fork().execute('delete from segment_search where segment_id = ?', [seg!.id]);
    const { blobs, gets } = countingGets();
    const service = parts.service(blobs);
    const unindexed = await service.search('default', id, { query: 'base 3', case_sensitive: false, limit: 10 });
    expect(gets()).toBe(1);
    expect((await parts.lifecycle().runOnce()).segments_indexed).toBeGreaterThanOrEqual(1);
    const before = gets();
    expect(await service.search('default', id, { query: 'base 3', case_sensitive: false, limit: 10 })).toEqual(
      unindexed,
    );
    expect(gets() - before).toBe(1);
    expect(
      await service.search('default', id, { query: 'nowhere at all', case_sensitive: false, limit: 10 }),
    ).toMatchObject({
      matches: [],
    });
    expect(gets() - before).toBe(1);
  });

  it('a shutdown lets the indexing owed finish within its grace, then stops the rest before its next write', async () => {
    const service = parts.service();
    /** a context staged, then stored by `uploader` (which queues its indexing); its segment */
    const stored = async (uploader: ReturnType<typeof parts.uploader>, thenAtOnce?: () => Promise<void>) => {
      const input = createContextSchema.parse({ agent_id: 'shutdown', content: base(40) });
      const created = await service.create('default', { ...input, content: rawItems(input.content) });
      if (created.state !== 'pending') throw new Error('expected a staged create');
      const outcome = await uploader.store(created.id, 1, () => {});
      // before anything else is awaited: the indexing the store queued has not written yet
      await thenAtOnce?.();
      expect(outcome).toBe('stored');
      return (await parts.segments.segmentsOf(created.id, 1))[0]!;
    };
    const entries = async (segmentId: string) => {
      const sql = 'select count(*) as n from segment_search where segment_id = ?';
      const [row] = await parts.orm.em.fork().execute(sql, [segmentId]);
      return Number(row?.n);
    };

    // a grace longer than the work: everything owed is indexed before it settles
    const patient = parts.uploader();
    const done = [await stored(patient), await stored(patient)];
    await patient.closeIndexing(60_000);
    expect([...(await parts.segments.searchIndexed(done.map((s) => s.id)))].sort()).toEqual(
      done.map((s) => s.id).sort(),
    );
    expect(await entries(done[1]!.id)).toBe(40);

    // no grace: the indexing just queued stops before it writes, and nothing stored later is indexed
    const hasty = parts.uploader();
    const cut = await stored(hasty, () => hasty.closeIndexing(0));
    await hasty.closeIndexing(0);
    const later = await stored(hasty);
    await hasty.indexed();
    expect(await parts.segments.searchIndexed([cut.id, later.id])).toEqual(new Set());
    expect(await entries(later.id)).toBe(0);
    // the lifecycle's backlog indexes both whole
    await parts.uploader().indexBacklog(0, 100, Number.MAX_SAFE_INTEGER);
    expect((await parts.segments.searchIndexed([cut.id, later.id])).size).toBe(2);
    expect([await entries(cut.id), await entries(later.id)]).toEqual([40, 40]);
  });
});
