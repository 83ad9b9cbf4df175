import { describe, expect, it } from 'vitest';
import { readU32s } from './item-index.ts';
import { LineCounting } from './segment-counting.ts';
import { InlineTokenCounter, type TokenCounter } from './token-counter.ts';

const counter = new InlineTokenCounter({ encoding: 'auto', defaultEncoding: 'o200k_base' });

describe('LineCounting', () => {
  it('counts item lines cut anywhere (inside a line, inside a character) exactly as the items one by one', async () => {
    const items = Array.from({ length: 5000 }, (_, i) =>
      JSON.stringify({
        role: i % 3 ? 'assistant' : 'user',
        content: `${i} héllo wörld 日本語 👋🏽 ${'ab '.repeat(i % 300)}`,
      }),
    );
    const bytes = Buffer.from(items.map((text) => `${text}\n`).join(''));
    expect(bytes.length).toBeGreaterThan(2 * 1024 * 1024);
    const counting = new LineCounting(counter, 'gpt-4o', 'ctxvault');
    // pieces of 1..70,000 bytes, cut without regard for lines or UTF-8 sequences
    let seed = 7;
    for (let at = 0; at < bytes.length; ) {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      const size = 1 + (seed % 70_000);
      await counting.push(bytes.subarray(at, at + size));
      at += size;
    }
    const counts = await counting.counts();
    const expected = await counter.count('gpt-4o', items);
    expect(readU32s(counts.item_tokens!)).toEqual(expected.map((c) => c.tokens));
    expect(counts.token_count).toBe(expected.reduce((sum, c) => sum + c.tokens, 0));
    expect(counts.roles.user!.items + counts.roles.assistant!.items).toBe(5000);
  });

  it('beside an upload, stops taking bytes when the counter falls behind and counts the rest in catchUp', async () => {
    const items = Array.from({ length: 5000 }, (_, i) =>
      JSON.stringify({ role: 'user', content: `${i} ${'cd '.repeat(400)}` }),
    );
    const lines = items.map((text) => Buffer.from(`${text}\n`));
    // a counter that answers only when released: the upload side must not wait for it
    const gates: (() => void)[] = [];
    const slow: TokenCounter = {
      count: (model, texts, format) => counter.count(model, texts, format),
      countLines: async (model, bytes, format) => {
        await new Promise<void>((resolve) => gates.push(resolve));
        return counter.countLines(model, bytes, format);
      },
      close: async () => {},
    };
    const counting = new LineCounting(slow, 'gpt-4o', 'ctxvault', true);
    for (const line of lines) await counting.push(line);
    // 6 MB went by, but only the 4 runs (of 1 MiB) that could be in flight were taken
    expect(gates.length).toBe(4);
    const release = setInterval(() => {
      for (const open of gates.splice(0)) open();
    }, 1);
    let skipped = -1;
    await counting.catchUp(async function* (skip) {
      skipped = skip;
      yield* lines.slice(skip);
    });
    const counts = await counting.counts();
    clearInterval(release);
    expect(skipped).toBeGreaterThan(3000);
    expect(skipped).toBeLessThan(4000);
    const expected = await counter.count('gpt-4o', items);
    expect(readU32s(counts.item_tokens!)).toEqual(expected.map((c) => c.tokens));
  });
});
