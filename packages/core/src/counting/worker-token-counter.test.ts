import { describe, expect, it } from 'vitest';
import { InlineTokenCounter } from '../token-counter.ts';
import { png } from './test-images.ts';
import { WorkerTokenCounter } from './worker-token-counter.ts';

const settings = { encoding: 'auto', defaultEncoding: 'o200k_base' } as const;

describe('WorkerTokenCounter', () => {
  it('counts in worker threads exactly as on the calling thread, in order, across batches', async () => {
    const items = Array.from({ length: 300 }, (_, i) =>
      JSON.stringify({
        role: i % 2 ? 'assistant' : 'user',
        content: `turn ${i}: ${'lorem ipsum dolor '.repeat(i % 40)}`,
      }),
    );
    items.push(
      JSON.stringify({
        role: 'user',
        content: [
          {
            type: 'image',
            source: { type: 'base64', media_type: 'image/png', data: png(800, 600).toString('base64') },
          },
        ],
      }),
    );
    const threaded = new WorkerTokenCounter(settings, { threads: 2, batchChars: 2000 });
    const inline = new InlineTokenCounter(settings);
    try {
      const [fromThreads, fromInline] = await Promise.all([
        threaded.count('claude-sonnet-4', items),
        inline.count('claude-sonnet-4', items),
      ]);
      expect(fromThreads).toEqual(fromInline);
      expect(fromThreads).toHaveLength(301);
      expect(fromThreads.at(-1)).toEqual({ tokens: 640, role: 'user', estimated: false, estimated_parts: [] });
      expect(fromThreads[1]!.role).toBe('assistant');
      // the same items handed over as their lines' bytes, split in the thread
      const lines = Buffer.from(items.map((text) => `${text}\n`).join(''));
      expect(await threaded.countLines('claude-sonnet-4', lines)).toEqual(fromInline);
      expect(await inline.countLines('claude-sonnet-4', lines)).toEqual(fromInline);
    } finally {
      await threaded.close();
    }
  });

  it('keeps serving after a bad item fails its batch, and refuses work once closed', async () => {
    const counter = new WorkerTokenCounter(settings, { threads: 1 });
    await expect(counter.count(null, ['{not json'])).rejects.toThrow(/token counting failed/);
    expect(await counter.count('gpt-4o', ['{"role":"user","content":"hello world"}'])).toEqual([
      { tokens: 2, role: 'user', estimated: false, estimated_parts: [] },
    ]);
    await counter.close();
    await expect(counter.count(null, ['{}'])).rejects.toThrow(/closed/);
  });

  it('leaves no copy of the lines it counted in the thread', { timeout: 120_000 }, async () => {
    const counter = new WorkerTokenCounter(settings, { threads: 1 });
    // runs of 1 MiB of lines, as LineCounting sends them
    const line = `${JSON.stringify({ role: 'user', content: 'counting leaves nothing behind. '.repeat(30) })}\n`;
    const run = Buffer.from(line.repeat(Math.ceil(2 ** 20 / line.length)));
    try {
      const counts = await counter.countLines('gpt-4o', run);
      const external = async () => (await counter.threadHeaps())[0]!.external_memory;
      const before = await external();
      // a run posted as bytes, or decoded whole, stayed outside the thread's heap until a full
      // collection, which V8 starts once such memory grew by about 64 MB
      let grown = 0;
      for (let i = 0; i < 40; i++) {
        expect(await counter.countLines('gpt-4o', run)).toEqual(counts);
        grown = Math.max(grown, (await external()) - before);
      }
      expect(grown).toBeLessThan(8 * 2 ** 20);
    } finally {
      await counter.close();
    }
  });
});
