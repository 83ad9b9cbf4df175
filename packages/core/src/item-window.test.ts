import { describe, expect, it } from 'vitest';
import { windowOf } from './item-window.ts';
import { rawItems } from './raw-items.ts';
import type { ContextItem, RawItem } from './schemas.ts';

const items: ContextItem[] = [
  { role: 'system', content: 's', tokens: 5 },
  { role: 'user', content: 'u1', tokens: 10 },
  { role: 'assistant', content: 'a1', tokens: 20 },
  { role: 'user', content: 'u2', tokens: 10 },
  { role: 'assistant', content: 'a2', tokens: 20 },
];
const byGiven = async (texts: readonly string[]) =>
  texts.map((text) => ((JSON.parse(text) as ContextItem).tokens as number | undefined) ?? 0);

async function collect(it: AsyncIterable<RawItem>): Promise<string[]> {
  const out: string[] = [];
  for await (const { item } of it) out.push(item.content as string);
  return out;
}

describe('windowOf', () => {
  it('returns everything without options', async () => {
    const w = await windowOf(() => rawItems(items), byGiven, { format: 'ctxvault' });
    expect(await collect(w.items)).toEqual(['s', 'u1', 'a1', 'u2', 'a2']);
    expect(w).toMatchObject({ returned: 5, dropped: 0, tokens: 65 });
  });

  it('keeps the last N items', async () => {
    const w = await windowOf(() => rawItems(items), byGiven, { format: 'ctxvault', last: 2 });
    expect(await collect(w.items)).toEqual(['u2', 'a2']);
    expect(w).toMatchObject({ returned: 2, dropped: 3, tokens: 30 });
  });

  it('applies a budget after `last`', async () => {
    const w = await windowOf(() => rawItems(items), byGiven, {
      format: 'ctxvault',
      last: 4,
      budget: { max_tokens: 30, strategy: 'preserving_user' },
    });
    expect(await collect(w.items)).toEqual(['u1', 'u2']);
    expect(w).toMatchObject({ returned: 2, dropped: 3, tokens: 20 });
  });

  it('reads an asynchronous source twice, holding no item between passes', async () => {
    let opened = 0;
    const source = async function* () {
      opened++;
      yield* rawItems(items);
    };
    const w = await windowOf(source, byGiven, {
      format: 'ctxvault',
      budget: { max_tokens: 40, strategy: 'oldest_first' },
    });
    expect(await collect(w.items)).toEqual(['u2', 'a2']);
    expect(opened).toBe(2);
  });
});

describe('windowOf a provider format', () => {
  it('keeps an OpenAI tool call with its results and the developer message, and says the boundary moved', async () => {
    const chat: ContextItem[] = [
      { role: 'developer', content: 'be brief' },
      { role: 'user', content: 'weather?' },
      {
        role: 'assistant',
        content: null,
        tool_calls: [{ id: 'c1', type: 'function', function: { name: 'w', arguments: '{}' } }],
      },
      { role: 'tool', tool_call_id: 'c1', content: 'sunny' },
      { role: 'assistant', content: 'It is sunny.' },
    ];
    const w = await windowOf(
      () => rawItems(chat),
      async (texts) => texts.map(() => 10),
      { format: 'openai.chat', last: 2 },
    );
    const kept = [];
    for await (const { item } of w.items) kept.push(item.role);
    expect(kept).toEqual(['developer', 'assistant']);
    expect(w).toMatchObject({ returned: 2, dropped: 3, boundary_dropped: 1, tokens: 20 });
  });
});
