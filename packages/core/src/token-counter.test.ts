import { describe, expect, it } from 'vitest';
import { InlineTokenCounter } from './token-counter.ts';

describe('InlineTokenCounter', () => {
  it('counts items given as their JSON text, keeping their roles', async () => {
    const counter = new InlineTokenCounter({ encoding: 'auto', defaultEncoding: 'o200k_base' });
    const counts = await counter.count(null, [
      '{"role":"user","content":"hello world"}',
      '{"role":"assistant","content":[{"type":"text","text":"hi"}],"tokens":7}',
    ]);
    expect(counts).toEqual([
      { tokens: 2, role: 'user', estimated: false, estimated_parts: [] },
      { tokens: 7, role: 'assistant', estimated: false, estimated_parts: [] },
    ]);
    await counter.close();
  });
});
