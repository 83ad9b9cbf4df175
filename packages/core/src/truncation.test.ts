import { describe, expect, it } from 'vitest';
import { planTruncation } from './truncation.ts';

const conversation = [
  { role: 'system' as const },
  { role: 'user' as const },
  { role: 'assistant' as const },
  { role: 'tool' as const },
  { role: 'user' as const },
  { role: 'assistant' as const },
];
const tokens = [10, 20, 30, 40, 50, 60]; // 210 in all

describe('planTruncation', () => {
  it('keeps everything when the items fit', () => {
    expect(planTruncation(conversation, tokens, { max_tokens: 210, strategy: 'oldest_first' })).toEqual({
      keep: [true, true, true, true, true, true],
      tokens: 210,
      dropped: 0,
    });
  });

  it('oldest_first drops from the start, system prompt included', () => {
    const plan = planTruncation(conversation, tokens, { max_tokens: 160, strategy: 'oldest_first' });
    expect(plan.keep).toEqual([false, false, false, true, true, true]);
    expect(plan).toMatchObject({ tokens: 150, dropped: 3 });
  });

  it('preserving_user drops older assistant and tool items first, keeping system and user turns', () => {
    const plan = planTruncation(conversation, tokens, { max_tokens: 140, strategy: 'preserving_user' });
    expect(plan.keep).toEqual([true, true, false, false, true, true]);
    expect(plan).toMatchObject({ tokens: 140, dropped: 2 });
  });

  it('preserving_user drops the oldest user turns only when assistant and tool items are not enough', () => {
    const plan = planTruncation(conversation, tokens, { max_tokens: 60, strategy: 'preserving_user' });
    expect(plan.keep).toEqual([true, false, false, false, true, false]);
    expect(plan).toMatchObject({ tokens: 60, dropped: 4 });
  });

  it('preserving_user never drops system items, even over budget', () => {
    const plan = planTruncation(conversation, tokens, { max_tokens: 5, strategy: 'preserving_user' });
    expect(plan.keep).toEqual([true, false, false, false, false, false]);
    expect(plan).toMatchObject({ tokens: 10, dropped: 5 });
  });
});
