import { describe, expect, it } from 'vitest';
import { countItemTokens } from './item-tokens.ts';
import { png } from './test-images.ts';
import { WorkerTokenCounter } from './worker-token-counter.ts';

// one token per character: the tests check what is counted, not the tokenizer
const chars = (text: string) => text.length;

describe('counting by format', () => {
  const image = png(1000, 750).toString('base64');

  it('counts an Anthropic tool_result turn as a tool item, thinking as text, the image by its header', () => {
    const results = {
      role: 'user',
      content: [{ type: 'tool_result', tool_use_id: 'toolu_1', content: [{ type: 'text', text: '18 C' }] }],
    };
    expect(countItemTokens(results, 'anthropic.messages', chars, 'anthropic')).toEqual({
      tokens: 4,
      role: 'tool',
      estimated: false,
      estimated_parts: [],
    });
    const turn = {
      role: 'assistant',
      content: [
        { type: 'thinking', thinking: 'hmm', signature: 'c2lnbmF0dXJl' },
        { type: 'tool_use', id: 'toolu_1', name: 'weather', input: { city: 'Paris' } },
      ],
    };
    expect(countItemTokens(turn, 'anthropic.messages', chars, 'anthropic')).toEqual({
      tokens: 3 + 'weather'.length + '{"city":"Paris"}'.length,
      role: 'assistant',
      estimated: false,
      estimated_parts: [],
    });
    const picture = {
      role: 'user',
      content: [{ type: 'image', source: { type: 'base64', media_type: 'image/png', data: image } }],
    };
    expect(countItemTokens(picture, 'anthropic.messages', chars, 'anthropic').tokens).toBe(1000);
  });

  it('counts OpenAI tool calls by name and arguments, and a tool message as a tool item', () => {
    const call = {
      role: 'assistant',
      content: null,
      tool_calls: [{ id: 'c1', type: 'function', function: { name: 'f', arguments: '{"a":1}' } }],
    };
    expect(countItemTokens(call, 'openai.chat', chars, 'openai')).toEqual({
      tokens: 1 + 7,
      role: 'assistant',
      estimated: false,
      estimated_parts: [],
    });
    expect(
      countItemTokens({ role: 'tool', tool_call_id: 'c1', content: 'ok' }, 'openai.chat', chars, 'openai'),
    ).toEqual({
      tokens: 2,
      role: 'tool',
      estimated: false,
      estimated_parts: [],
    });
    expect(countItemTokens({ role: 'developer', content: 'be brief' }, 'openai.chat', chars, 'openai').role).toBe(
      'system',
    );
  });

  it('counts Gemini, AI SDK and LangChain items from their own shapes', () => {
    const gemini = { role: 'model', parts: [{ functionCall: { name: 'f', args: {} } }] };
    expect(countItemTokens(gemini, 'gemini', chars, 'gemini')).toEqual({
      tokens: 1 + 2,
      role: 'assistant',
      estimated: false,
      estimated_parts: [],
    });
    const ui = {
      id: 'm1',
      role: 'user',
      parts: [
        { type: 'text', text: 'see' },
        { type: 'file', mediaType: 'image/png', url: `data:image/png;base64,${image}` },
      ],
    };
    expect(countItemTokens(ui, 'ai-sdk.ui', chars, 'openai')).toEqual({
      tokens: 3 + 85 + 170 * 4,
      role: 'user',
      estimated: false,
      estimated_parts: [],
    });
    const lc = { type: 'ai', data: { content: 'hi', tool_calls: [{ id: 'c', name: 'g', args: { x: 1 } }] } };
    expect(countItemTokens(lc, 'langchain', chars, 'openai')).toEqual({
      tokens: 2 + 1 + 7,
      role: 'assistant',
      estimated: false,
      estimated_parts: [],
    });
  });

  it('counts in the worker threads by the format it is given', async () => {
    const counter = new WorkerTokenCounter({ encoding: 'o200k_base', defaultEncoding: 'o200k_base' }, { threads: 1 });
    try {
      const results = JSON.stringify({
        role: 'user',
        content: [{ type: 'tool_result', tool_use_id: 't', content: 'fine' }],
      });
      const [counted] = await counter.count('claude-sonnet-4', [results], 'anthropic.messages');
      expect(counted).toMatchObject({ role: 'tool', estimated: false });
      expect(counted!.tokens).toBeGreaterThan(0);
    } finally {
      await counter.close();
    }
  });
});
