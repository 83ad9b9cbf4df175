import { describe, expect, it } from 'vitest';
import { readU32s } from './item-index.ts';
import { LineCounting } from './segment-counting.ts';
import { InlineTokenCounter } from './token-counter.ts';

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
});
