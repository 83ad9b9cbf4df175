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
});
