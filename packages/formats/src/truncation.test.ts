import { mapStoredMessagesToChatMessages, type StoredMessage } from '@langchain/core/messages';
import { modelMessageSchema, type UIMessage, validateUIMessages } from 'ai';
import { describe, expect, it } from 'vitest';
import { FIXTURES } from './fixtures/transcripts.ts';
import { FORMATS, type Format } from './format.ts';
import { callIds, resultIds } from './normalized.ts';
import { itemSchemaOf, normalizeItem } from './registry.ts';
import { planWindow, shapeOf, TRUNCATION_STRATEGIES, type WindowRequest } from './truncation.ts';

// what an item costs here does not matter, only that the plan respects it: a quarter of its JSON
const tokensOf = (item: unknown) => Math.ceil(JSON.stringify(item).length / 4);

function window(format: Format, request: WindowRequest) {
  const { items } = FIXTURES[format];
  const plan = planWindow(
    format,
    items.map((item) => shapeOf(normalizeItem(format, item))),
    items.map(tokensOf),
    request,
  );
  return { plan, kept: items.filter((_, i) => plan.keep[i]) };
}

/** The checks a provider makes on a transcript, plus the SDKs' own validators where they ship one. */
async function expectValid(format: Format, kept: readonly unknown[]): Promise<void> {
  for (const item of kept) expect(itemSchemaOf(format).safeParse(item).success).toBe(true);
  const views = kept.map((item) => normalizeItem(format, item));
  const called = new Set<string>();
  for (const view of views) {
    // an AI SDK UI message carries a tool call and its result together
    for (const id of callIds(view)) called.add(id);
    for (const id of resultIds(view)) if (id !== '') expect(called, `result ${id} without its call`).toContain(id);
  }
  const answered = new Set(views.flatMap(resultIds));
  for (const id of called) expect(answered, `call ${id} without its result`).toContain(id);
  const first = views.find((v) => v.kind !== 'instruction');
  if (first && (format === 'anthropic.messages' || format === 'gemini')) expect(first.kind).toBe('user');
  if (format === 'ai-sdk.model') for (const item of kept) expect(modelMessageSchema.safeParse(item).success).toBe(true);
  if (format === 'ai-sdk.ui' && kept.length > 0)
    await validateUIMessages({ messages: structuredClone(kept) as UIMessage[] });
  if (format === 'langchain') mapStoredMessagesToChatMessages(structuredClone(kept) as StoredMessage[]); // it changes what it is given;
}

describe('planWindow', () => {
  const budgets = [60, 150, 300, 600, 1_000_000];
  it.each(FORMATS)('keeps %s transcripts valid at every budget and strategy', async (format) => {
    const total = FIXTURES[format].items.map(tokensOf).reduce((a, b) => a + b, 0);
    for (const max_tokens of budgets) {
      for (const strategy of TRUNCATION_STRATEGIES) {
        const { plan, kept } = window(format, { budget: { max_tokens, strategy } });
        await expectValid(format, kept);
        const instructions = FIXTURES[format].items.filter(
          (item) => normalizeItem(format, item).kind === 'instruction',
        );
        const floor = instructions.map(tokensOf).reduce((a, b) => a + b, 0);
        expect(plan.tokens).toBeLessThanOrEqual(Math.max(max_tokens, floor));
        expect(plan.tokens).toBe(kept.map(tokensOf).reduce((a, b) => a + b, 0));
        if (max_tokens >= total) expect(plan.dropped).toBe(0);
      }
    }
  });

  it.each(FORMATS)('moves last=N of %s to the nearest valid boundary', async (format) => {
    for (let last = 1; last <= FIXTURES[format].items.length; last++) {
      const { plan, kept } = window(format, { last });
      await expectValid(format, kept);
      const instructions = kept.filter((item) => normalizeItem(format, item).kind === 'instruction').length;
      expect(kept.length - instructions).toBeLessThanOrEqual(last);
      expect(plan.dropped).toBe(FIXTURES[format].items.length - kept.length);
    }
  });

  it('drops a tool call with its parallel results, and says the boundary moved', () => {
    // OpenAI: the last 3 items start on the second tool result: both results and the call go
    const cut = window('openai.chat', { last: 6 });
    expect(cut.kept.map((m) => (m as { role: string }).role)).toEqual([
      'developer',
      'assistant',
      'user',
      'assistant',
      'user',
      'assistant',
    ]);
    expect(cut.plan.boundaryDropped).toBe(1);
    // Anthropic: the tool_result turn is not a user turn to start on, and its tool_use went
    const anthropic = window('anthropic.messages', { last: 6 });
    expect(anthropic.kept).toEqual(FIXTURES['anthropic.messages'].items.slice(4));
    expect(anthropic.plan.boundaryDropped).toBe(2);
  });

  it('preserving_user drops assistant and tool groups before user turns, never instructions', () => {
    const { kept } = window('openai.chat', { budget: { max_tokens: 150, strategy: 'preserving_user' } });
    const roles = kept.map((m) => (m as { role: string }).role);
    expect(roles[0]).toBe('developer');
    expect(roles.filter((r) => r === 'user').length).toBeGreaterThan(roles.filter((r) => r === 'assistant').length);
    expect(roles).not.toContain('tool');
  });
});

describe('planWindow on ctxvault items keeps today’s rules', () => {
  const shapes = (['instruction', 'user', 'assistant', 'tool-result', 'user', 'assistant'] as const).map((kind) => ({
    kind,
    calls: [],
    results: [],
  }));
  const tokens = [10, 20, 30, 40, 50, 60]; // 210 in all
  const plan = (request: WindowRequest) => planWindow('ctxvault', shapes, tokens, request);

  it('keeps everything that fits; last=N is exactly the last N', () => {
    expect(plan({ budget: { max_tokens: 210, strategy: 'oldest_first' } })).toMatchObject({ tokens: 210, dropped: 0 });
    expect(plan({ last: 2 }).keep).toEqual([false, false, false, false, true, true]);
  });

  it('oldest_first drops from the start, system prompt included', () => {
    expect(plan({ budget: { max_tokens: 160, strategy: 'oldest_first' } })).toMatchObject({
      keep: [false, false, false, true, true, true],
      tokens: 150,
      dropped: 3,
    });
  });

  it('preserving_user drops assistant and tool items first, then the oldest users, never system', () => {
    expect(plan({ budget: { max_tokens: 140, strategy: 'preserving_user' } }).keep).toEqual([
      true,
      true,
      false,
      false,
      true,
      true,
    ]);
    expect(plan({ budget: { max_tokens: 60, strategy: 'preserving_user' } }).keep).toEqual([
      true,
      false,
      false,
      false,
      true,
      false,
    ]);
    expect(plan({ budget: { max_tokens: 5, strategy: 'preserving_user' } })).toMatchObject({
      keep: [true, false, false, false, false, false],
      tokens: 10,
    });
  });
});
