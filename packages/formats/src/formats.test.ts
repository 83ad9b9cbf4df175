import { mapStoredMessagesToChatMessages, type StoredMessage } from '@langchain/core/messages';
import { protocol } from '@openai/agents-core';
import { type ModelMessage, modelMessageSchema, type UIMessage, validateUIMessages } from 'ai';
import { describe, expect, it } from 'vitest';
import { FIXTURES } from './fixtures/transcripts.ts';
import { FORMATS } from './format.ts';
import { itemIssues } from './issues.ts';
import { callIds, resultIds } from './normalized.ts';
import { itemSchemaOf, normalizeItem, validItemSchema } from './registry.ts';

describe('item schemas', () => {
  it.each(FORMATS)('accept every item of the %s fixture, as sent', (format) => {
    for (const item of FIXTURES[format].items) {
      const text = JSON.stringify(item);
      expect(itemSchemaOf(format).safeParse(JSON.parse(text)).error).toBeUndefined();
    }
  });

  it('agree with the SDKs’ own validators where they ship one', async () => {
    for (const item of FIXTURES['ai-sdk.model'].items) expect(modelMessageSchema.safeParse(item).success).toBe(true);
    await expect(
      validateUIMessages({ messages: structuredClone(FIXTURES['ai-sdk.ui'].items) as UIMessage[] }),
    ).resolves.toHaveLength(5);
    const messages = mapStoredMessagesToChatMessages(structuredClone(FIXTURES.langchain.items) as StoredMessage[]);
    expect(messages.map((m) => m.type)).toEqual(['system', 'human', 'ai', 'tool', 'tool', 'ai', 'human', 'ai']);
    for (const item of FIXTURES['openai.agents'].items)
      expect(protocol.ModelItem.safeParse(item).error).toBeUndefined();
  });

  it('refuse what the provider would refuse, naming the path', () => {
    const bad = (format: (typeof FORMATS)[number], item: unknown) => {
      const error = itemSchemaOf(format).safeParse(item).error;
      return error && itemIssues(error).map((issue) => issue.path.join('.'));
    };
    expect(bad('openai.chat', { role: 'tool', content: '42' })).toEqual(['tool_call_id']);
    expect(bad('openai.chat', { role: 'robot', content: 'hi' })).toEqual(['role']);
    expect(bad('anthropic.messages', { role: 'tool', content: 'hi' })).toEqual(['role']);
    expect(bad('anthropic.messages', { role: 'system', content: [{ type: 'image' }] })).toEqual([
      'content.0.type',
      'content.0.text',
    ]);
    expect(bad('anthropic.messages', { role: 'user', content: [{ type: 'tool_result' }] })).toEqual([
      'content.0.tool_use_id',
    ]);
    expect(bad('gemini', { role: 'model', parts: [] })).toEqual(['parts']);
    expect(bad('ai-sdk.ui', { role: 'user', parts: [] })).toEqual(['id']);
    expect(bad('langchain', { type: 'tool', data: { content: 'x' } })).toEqual(['data.tool_call_id']);
    expect(bad('ctxvault', { role: 'user', content: 'x', extra: 1 })).toEqual(['']);
    // an item reference may leave its type out (or null), as the SDK's ItemReference does; then it is its id alone
    for (const reference of [{ id: 'msg_1' }, { id: 'msg_1', type: null }, { id: 'msg_1', type: 'item_reference' }]) {
      expect(bad('openai.responses', reference)).toBeUndefined();
      expect(normalizeItem('openai.responses', reference)).toMatchObject({
        role: 'assistant',
        parts: [{ type: 'other', label: 'item_reference', value: reference }],
      });
    }
    expect(bad('openai.responses', { id: 7 })).toBeDefined();
    expect(bad('openai.responses', { id: 'msg_1', status: 'completed' })).toBeDefined();
    // what the provider allows beside the known fields is accepted (and kept as sent)
    expect(bad('openai.chat', { role: 'user', content: 'hi', future_field: true })).toBeUndefined();
  });
});

describe('normalized view', () => {
  it('reads roles and kinds: an Anthropic tool_result turn is a tool result, Gemini’s model an assistant', () => {
    const kinds = (format: (typeof FORMATS)[number]) =>
      FIXTURES[format].items.map((item) => normalizeItem(format, item).kind);
    expect(kinds('anthropic.messages')).toEqual([
      'user',
      'tool-call',
      'tool-result',
      'assistant',
      'user',
      'assistant',
      'user',
      'assistant',
    ]);
    expect(normalizeItem('anthropic.messages', FIXTURES['anthropic.messages'].items[2]).role).toBe('tool');
    expect(kinds('openai.chat')).toEqual([
      'instruction',
      'user',
      'tool-call',
      'tool-result',
      'tool-result',
      'assistant',
      'user',
      'assistant',
      'user',
      'assistant',
    ]);
    expect(kinds('gemini')).toEqual(['user', 'tool-call', 'tool-result', 'assistant', 'user', 'assistant']);
    expect(kinds('openai.responses')).toEqual([
      'instruction',
      'user',
      'assistant',
      'tool-call',
      'tool-call',
      'tool-result',
      'tool-result',
      'assistant',
      'user',
      'assistant',
    ]);
  });

  it('pairs tool call ids with their results, in every format that has ids', () => {
    const pairs = (format: (typeof FORMATS)[number]) => {
      const items = FIXTURES[format].items.map((item) => normalizeItem(format, item));
      return [items.flatMap(callIds), items.flatMap(resultIds)];
    };
    expect(pairs('openai.chat')).toEqual([
      ['call_paris', 'call_tokyo'],
      ['call_paris', 'call_tokyo'],
    ]);
    expect(pairs('anthropic.messages')).toEqual([
      ['toolu_01A', 'toolu_01B'],
      ['toolu_01A', 'toolu_01B'],
    ]);
    expect(pairs('ai-sdk.ui')).toEqual([
      ['call_b', 'call_r', 'call_f'],
      ['call_b', 'call_r', 'call_f'],
    ]);
    expect(pairs('langchain')).toEqual([
      ['call_m', 'call_a'],
      ['call_m', 'call_a'],
    ]);
  });

  it('keeps media as media: base64 images with their type, never as text', () => {
    const [, user] = FIXTURES['openai.chat'].items.map((item) => normalizeItem('openai.chat', item));
    const image = user!.parts[1]!;
    expect(image).toMatchObject({ type: 'media', media: 'image', mediaType: 'image/png', detail: 'high' });
    expect(image.type === 'media' && image.base64?.length).toBeGreaterThan(20);
    const model = normalizeItem('ai-sdk.model', (FIXTURES['ai-sdk.model'].items as ModelMessage[])[1]);
    expect(model.parts[1]).toMatchObject({ type: 'media', media: 'image', mediaType: 'image/png' });
  });
});

describe('validItemSchema', () => {
  it('passes the item on as sent, unknown fields included, and reports the deepest path', () => {
    const item = { role: 'user', content: 'hi', future_field: { kept: true } };
    expect(validItemSchema('openai.chat').parse(item)).toEqual(item);
    const bad = validItemSchema('anthropic.messages').safeParse({ role: 'user', content: [{ type: 'tool_result' }] });
    expect(bad.error?.issues.map((issue) => issue.path.join('.'))).toEqual(['content.0.tool_use_id']);
  });
});
