// Envelope encryption on real parts (Postgres, moto S3): every body at rest is sealed — staged
// chunks, inline rows, objects — and still reads, appends, compacts and answers ?last with one
// ranged GET; a tampered object or a missing master key fails the read; a master rotation re-wraps
// the data keys without touching a body; a purged context's data key is gone, once no fork shares
// its segments any more.
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { DataKeyRepository, type MikroORM } from '@ctxvault/db';
import { type ByteRange, LocalMasterKeys, UnsealError } from '@ctxvault/storage';
import { describe, expect, it } from 'vitest';
import { blobStoreWith, useCoreParts } from '../../../../test/helpers/core-services.ts';
import { ContextService } from '../context-service.ts';
import { rawItems } from '../raw-items.ts';
import { type ContextItem, createContextSchema } from '../schemas.ts';
import { InlineTokenCounter } from '../token-counter.ts';
import { Keyring } from './keyring.ts';

const master = randomBytes(32);
const keyringOn = (orm: MikroORM, keys = new LocalMasterKeys(master), seal = true) =>
  new Keyring(new DataKeyRepository(orm), keys, { seal, cacheSize: 100 });
const parts = useCoreParts({ keyring: (orm) => keyringOn(orm) });

const MARK = 'plaintext-marker';
const items = (n: number, tag: string): ContextItem[] =>
  Array.from({ length: n }, (_, i) => ({
    role: i % 2 ? 'assistant' : 'user',
    content: `${MARK} ${tag} ${i} ${'y'.repeat(3000)}`,
  }));

/** A context service like the parts' one, on another keyring (or none). */
function serviceWith(keyring: Keyring | undefined, blobs = parts.blobs): ContextService {
  const tokens = { encoding: 'auto', defaultEncoding: 'o200k_base' } as const;
  const logger = { info() {}, warn() {}, error() {}, debug() {} };
  return new ContextService({ ...parts, blobs, tokenCounter: new InlineTokenCounter(tokens), logger, keyring });
}

async function created(service: ContextService, content: ContextItem[]): Promise<string> {
  const input = createContextSchema.parse({ agent_id: 'sealed', content });
  const made = await service.create('default', { ...input, content: rawItems(input.content) });
  return made.state === 'pending' ? made.id : made.context.id;
}

async function contents(service: ContextService, id: string, last?: number): Promise<string[]> {
  if (last === undefined) {
    const text = (await buffer(Readable.from((await service.get('default', id)).body))).toString();
    return JSON.parse(text).content.map((item: ContextItem) => item.content);
  }
  const text = (await buffer(Readable.from((await service.read('default', id, { last })).lines)))
    .toString()
    .split('\n')
    .filter(Boolean);
  return text.map((line) => JSON.parse(line).content);
}

async function rawObject(key: string): Promise<Buffer> {
  // the store hands out the bytes as they are in the bucket
  return buffer(await parts.blobs.get(key));
}

async function stagedBytes(id: string): Promise<Buffer> {
  const rows = await parts.orm.em
    .fork()
    .execute<{ data: Buffer }[]>('select data from staged_chunks where context_id = ? order by version, seq', [id]);
  return Buffer.concat(rows.map((r) => r.data));
}

describe('envelope encryption at rest', () => {
  it('seals staged, stored and inline bodies; reads, appends, ?last and compaction see the items', async () => {
    const service = parts.service();
    const base = items(40, 'base');
    const id = await created(service, base);
    const staged = await stagedBytes(id);
    expect(staged.length).toBeGreaterThan(100_000);
    expect(staged.includes(MARK)).toBe(false);
    // a pending context is served from its sealed staging
    expect(await contents(service, id)).toEqual(base.map((i) => i.content));

    expect(await parts.uploader().store(id, 1, () => {})).toBe('stored');
    const view = await service.head('default', id);
    const object = await rawObject(view.storage.key!);
    expect(object.includes(MARK)).toBe(false);
    expect(object.includes('ctxvault_segment')).toBe(false);
    const head = await parts.blobs.head(view.storage.key!);
    const dataKey = await new DataKeyRepository(parts.orm).findByContext(id);
    expect(head?.metadata).toMatchObject({
      encryption: 'ctxvault-envelope-v1',
      'data-key-id': dataKey!.id,
      'master-key-id': dataKey!.master_key_id,
      'wrapped-key': dataKey!.wrapped.toString('base64'),
      'context-id': id,
      'item-count': '40',
      sha256: expect.stringMatching(/^[0-9a-f]{64}$/),
    });

    const added: ContextItem[] = [{ role: 'user', content: `${MARK} small append` }];
    expect((await service.append('default', id, { items: rawItems(added) })).state).toBe('stored');
    const inline = await parts.orm.em
      .fork()
      .execute<{ body: Buffer; data_key_id: string }[]>(
        "select body, data_key_id from segments where context_id = ? and state = 'inline'",
        [id],
      );
    expect(inline).toHaveLength(1);
    expect(inline[0]!.data_key_id).toBe(dataKey!.id);
    expect(inline[0]!.body.includes(MARK)).toBe(false);

    const all = [...base, ...added].map((i) => i.content);
    expect(await contents(service, id)).toEqual(all);

    // ?last=N: one ranged GET of the frames that hold the tail
    const ranges: (ByteRange | undefined)[] = [];
    const counting = blobStoreWith(parts.blobs, {
      get: (key, range) => {
        ranges.push(range);
        return parts.blobs.get(key, range);
      },
    });
    const tailReader = serviceWith(keyringOn(parts.orm), counting);
    expect(await contents(tailReader, id, 3)).toEqual(all.slice(-3));
    expect(ranges).toHaveLength(1);
    expect(ranges[0]!.start).toBeGreaterThan(64 * 1024);
    expect(ranges[0]!.end).toBeLessThan(object.length + 64 * 1024);

    for (let i = 0; i < 3; i++)
      await service.append('default', id, { items: rawItems([{ role: 'user', content: `t${i}` }]) });
    expect(await parts.compactor().compact(id)).toBe('compacted');
    const after = await service.head('default', id);
    expect(after.segments).toBe(2);
    const final = [...all, 't0', 't1', 't2'];
    expect(await contents(service, id)).toEqual(final);
    expect(await contents(serviceWith(keyringOn(parts.orm)), id, 5)).toEqual(final.slice(-5));
    for (const key of (await parts.bucket.keys()).filter((k) => k.includes(id))) {
      expect((await rawObject(key)).includes(MARK)).toBe(false);
    }

    // sealed texts never go to the search index (not by the upload, the compaction nor the
    // lifecycle's backlog): a search reads the sealed segments and still finds them
    expect(await parts.uploader().indexBacklog(0, 100, Number.MAX_SAFE_INTEGER)).toBe(0);
    const found = await service.search('default', id, { query: 'SMALL append', case_sensitive: false, limit: 10 });
    expect(found.matches.map((m) => m.index)).toEqual([40]);
    const entries = await parts.orm.em
      .fork()
      .execute<{ n: number }[]>(
        'select count(*)::int as n from segment_search ss join segments s on s.id = ss.segment_id where s.context_id = ?',
        [id],
      );
    expect(entries[0]!.n).toBe(0);
  });

  it('refuses a tampered object, another master key, and no master key at all', async () => {
    const service = parts.service();
    const id = await created(service, items(30, 'tamper'));
    await parts.uploader().store(id, 1, () => {});
    const view = await service.head('default', id);
    const reader = serviceWith(keyringOn(parts.orm));
    expect(await contents(reader, id)).toHaveLength(30);

    await expect(contents(serviceWith(keyringOn(parts.orm, new LocalMasterKeys(randomBytes(32)))), id)).rejects.toThrow(
      /not configured/,
    );
    await expect(contents(serviceWith(undefined), id)).rejects.toBeInstanceOf(UnsealError);

    const object = await rawObject(view.storage.key!);
    object[object.length - 40]! ^= 1;
    await parts.blobs.put(view.storage.key!, object);
    await expect(contents(serviceWith(keyringOn(parts.orm)), id)).rejects.toBeInstanceOf(UnsealError);
  });

  it('rotate re-wraps every data key under the new master without rewriting a body; purge forgets the key', async () => {
    const service = parts.service();
    const id = await created(service, items(20, 'rotate'));
    await parts.uploader().store(id, 1, () => {});
    const key = (await service.head('default', id)).storage.key!;
    const before = await parts.blobs.head(key);

    const next = randomBytes(32);
    const progress: [number, number][] = [];
    const rotating = keyringOn(parts.orm, new LocalMasterKeys(next, [master]));
    const report = await rotating.rotate((done, total) => progress.push([done, total]));
    expect(report.rewrapped).toBeGreaterThanOrEqual(1);
    expect(report.rewrapped).toBe(report.total);
    expect(progress.at(-1)).toEqual([report.total, report.total]);
    expect((await rotating.rotate()).total).toBe(0);

    // only the new master now: everything still opens; the object was not rewritten
    const onlyNew = serviceWith(keyringOn(parts.orm, new LocalMasterKeys(next)));
    expect(await contents(onlyNew, id)).toHaveLength(20);
    expect((await parts.blobs.head(key))?.etag).toBe(before?.etag);
    await expect(contents(serviceWith(keyringOn(parts.orm)), id)).rejects.toBeInstanceOf(UnsealError);

    await service.delete('default', id);
    expect(await parts.uploader().purge(id)).toBe('purged');
    expect(await new DataKeyRepository(parts.orm).findByContext(id)).toBeNull();
  });

  it('a purged context keeps its data key while a fork shares its segments; the lifecycle pass removing the last of them deletes it', async () => {
    const service = parts.service();
    const keys = new DataKeyRepository(parts.orm);
    const source = await created(service, items(20, 'shared'));
    await parts.uploader().store(source, 1, () => {});
    const fork = await service.fork('default', source, {});
    if (fork.state !== 'stored') throw new Error('a fork is stored at once');
    const live = await created(service, items(1, 'live'));

    await service.delete('default', source);
    expect(await parts.uploader().purge(source)).toBe('purged');
    expect(await keys.findByContext(source)).not.toBeNull();
    expect(await contents(service, fork.context.id)).toHaveLength(20);

    await service.delete('default', fork.context.id);
    expect(await parts.uploader().purge(fork.context.id)).toBe('purged');
    // the source's segments are no one's now, but still there until the lifecycle pass removes them
    expect(await keys.findByContext(source)).not.toBeNull();
    const later = new Date(Date.now() + 1000);
    await parts.lifecycle().runOnce(later);
    await parts.lifecycle().runOnce(later);
    const left = await parts.orm.em
      .fork()
      .execute<{ n: string }[]>('select count(*) as n from segments where context_id = ?', [source]);
    expect(Number(left[0]?.n)).toBe(0);
    expect(await keys.findByContext(source)).toBeNull();
    // a live context's key is not touched
    expect(await keys.findByContext(live)).not.toBeNull();
    expect(await contents(service, live)).toHaveLength(1);
  });

  it('with mode "none" and the master kept, new bodies are in the clear and sealed ones still open', async () => {
    const sealed = await created(parts.service(), items(1, 'old'));
    const open = serviceWith(keyringOn(parts.orm, new LocalMasterKeys(master), false));
    const plain = await created(open, [{ role: 'user', content: `${MARK} clear` }]);
    const rows = await parts.orm.em
      .fork()
      .execute<{ context_id: string; data_key_id: string | null }[]>(
        'select context_id, data_key_id from segments where context_id in (?, ?)',
        [sealed, plain],
      );
    expect(rows.find((r) => r.context_id === plain)?.data_key_id).toBeNull();
    expect(rows.find((r) => r.context_id === sealed)?.data_key_id).not.toBeNull();
    expect(await contents(open, sealed)).toHaveLength(1);
    expect(await contents(open, plain)).toEqual([`${MARK} clear`]);
  });
});
