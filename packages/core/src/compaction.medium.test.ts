// Compaction on real parts: merging segments, swapping them in while appends and reads run, and
// collecting what it replaced. The settings of core-services.ts compact beyond 4 segments.
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { describe, expect, it } from 'vitest';
import { useCoreParts } from '../../../test/helpers/core-services.ts';
import type { ContextService } from './context-service.ts';
import { rawItems } from './raw-items.ts';
import { type ContextItem, createContextSchema } from './schemas.ts';

const parts = useCoreParts();

const turn = (i: number): ContextItem => ({ role: i % 2 ? 'assistant' : 'user', content: `turn ${i}` });
const big = (n: number): ContextItem[] =>
  Array.from({ length: n }, (_, i) => ({ role: 'user', content: `base ${i} ${'x'.repeat(200)}` }));

async function storedContext(service: ContextService, content: ContextItem[]): Promise<string> {
  const input = createContextSchema.parse({ agent_id: 'compaction', content });
  const created = await service.create('default', { ...input, content: rawItems(input.content) });
  if (created.state !== 'pending') throw new Error('expected a staged create');
  expect(await parts.uploader().store(created.id, 1, () => {})).toBe('stored');
  return created.id;
}

async function contentOf(service: ContextService, id: string, query = ''): Promise<string[]> {
  const body = query
    ? (await service.read('default', id, { last: Number(query) })).lines
    : (await service.get('default', id)).body;
  const text = (await buffer(Readable.from(body))).toString();
  if (query)
    return text
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line).content);
  return JSON.parse(text).content.map((item: ContextItem) => item.content);
}

describe('compaction', () => {
  it('merges the small tail segments into one object, leaving the base, and the lifecycle collects them', async () => {
    const service = parts.service();
    const base = big(20);
    const id = await storedContext(service, base);
    for (let i = 0; i < 5; i++) {
      const appended = await service.append('default', id, { items: rawItems([turn(i)]) });
      expect(appended.state).toBe('stored');
    }
    expect((await service.head('default', id)).segments).toBe(6);
    const expected = [...base.map((i) => i.content), ...[0, 1, 2, 3, 4].map((i) => `turn ${i}`)];

    expect(await parts.compactor().compact(id)).toBe('compacted');
    const view = await service.head('default', id);
    expect(view).toMatchObject({ segments: 2, message_count: 25, version: 6, tokens_final: true });
    expect(await contentOf(service, id)).toEqual(expected);
    expect(await contentOf(service, id, '3')).toEqual(['turn 2', 'turn 3', 'turn 4']);
    const summary = await service.summary('default', id);
    expect(summary.roles.user.items + summary.roles.assistant.items).toBe(25);
    expect(summary.current_tokens).toBe(view.current_tokens);
    // nothing more to merge: one base, one tail
    expect(await parts.compactor().compact(id)).toBe('nothing');

    const keysBefore = (await parts.bucket.keys()).filter((k) => k.includes(id));
    expect(keysBefore).toHaveLength(2);
    const counts = await parts.lifecycle().runOnce(new Date(Date.now() + 1000));
    expect(counts.old_versions_removed).toBeGreaterThanOrEqual(5);
    expect(await contentOf(service, id)).toEqual(expected);
    expect((await parts.bucket.keys()).filter((k) => k.includes(id)).sort()).toEqual(keysBefore.sort());
  });

  it('merges everything once the tail outgrows the base', async () => {
    const service = parts.service();
    const id = await storedContext(service, big(5));
    for (let i = 0; i < 4; i++) {
      const appended = await service.append('default', id, { items: rawItems(big(8)) });
      if (appended.state === 'pending') await parts.uploader().store(id, appended.version, () => {});
    }
    expect(await parts.compactor().compact(id)).toBe('compacted');
    expect((await service.head('default', id)).segments).toBe(1);
    expect(await contentOf(service, id)).toHaveLength(5 + 32);
  });

  it('loses no append and tears no read while appends, reads and compactions interleave', async () => {
    const service = parts.service();
    const base = big(10);
    const id = await storedContext(service, base);
    const appended: string[] = [];
    let reads = 0;
    let stop = false;
    const appender = (async () => {
      for (let i = 0; i < 40; i++) {
        // listed before it is sent: a read may see an append as soon as it commits, before append() returns
        appended.push(`turn ${i}`);
        const result = await service.append('default', id, { items: rawItems([turn(i)]) });
        if (result.state === 'pending') await parts.uploader().store(id, result.version, () => {});
      }
    })();
    const reader = (async () => {
      while (!stop) {
        const content = await contentOf(service, id);
        // every read is a prefix of the final content: whole items, in order, none missing
        expect(content.slice(0, base.length)).toEqual(base.map((i) => i.content));
        expect(content.slice(base.length)).toEqual(appended.slice(0, content.length - base.length));
        reads++;
      }
    })();
    let compactions = 0;
    const compactor = (async () => {
      while (!stop) {
        if ((await parts.compactor().compact(id)) === 'compacted') compactions++;
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    })();
    await appender;
    stop = true;
    await Promise.all([reader, compactor]);
    await parts.compactor().compact(id);
    expect(await contentOf(service, id)).toEqual([...base.map((i) => i.content), ...appended]);
    expect((await service.head('default', id)).message_count).toBe(50);
    expect(reads).toBeGreaterThan(0);
    expect(compactions).toBeGreaterThan(0);
  }, 60_000);
});
