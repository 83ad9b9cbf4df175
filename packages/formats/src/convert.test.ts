import { modelMessageSchema } from 'ai';
import { describe, expect, it } from 'vitest';
import { convertItems, convertStream, LEADING_USER_TURN, UnconvertiblePartError } from './convert.ts';
import { FIXTURES, openaiChat } from './fixtures/transcripts.ts';
import { FORMATS, type Format, TARGET_FORMATS } from './format.ts';
import {
  anthropicMessageSchema,
  anthropicSystemSchema,
  normalizeAnthropicSystem,
} from './formats/anthropic-messages.ts';
import { itemSchemaOf, normalizeItem } from './registry.ts';

const views = (format: Format, items: readonly unknown[]) => items.map((item) => normalizeItem(format, item));

describe('convertItems', () => {
  it('hands an OpenAI transcript to Anthropic and back', async () => {
    // refusals have no Anthropic form: the refused request and its refusal are left out
    const plain = [...openaiChat.slice(0, 6), ...openaiChat.slice(8)];
    const anthropic = await convertItems(views('openai.chat', plain), 'anthropic.messages');
    expect(anthropic.system).toBe('You are a travel assistant. Use the tools for live data.');
    for (const message of anthropic.items) expect(anthropicMessageSchema.safeParse(message).success).toBe(true);
    expect(anthropic.items[1]).toEqual({
      role: 'assistant',
      content: [
        { type: 'tool_use', id: 'call_paris', name: 'get_weather', input: { city: 'Paris' } },
        { type: 'tool_use', id: 'call_tokyo', name: 'get_weather', input: { city: 'Tokyo' } },
      ],
    });
    // both parallel results travel in the one user turn after the call
    expect((anthropic.items[2] as { content: { type: string }[] }).content.map((b) => b.type)).toEqual([
      'tool_result',
      'tool_result',
    ]);

    const system = normalizeAnthropicSystem(anthropicSystemSchema.parse(anthropic.system));
    const back = await convertItems(views('anthropic.messages', anthropic.items), 'openai.chat', system);
    // what Anthropic has no place for is lost: `developer` comes back `system`, the image's `detail` goes
    const expected = structuredClone(plain);
    expected[0] = { role: 'system', content: 'You are a travel assistant. Use the tools for live data.' };
    delete (expected[1] as { content: { image_url?: { detail?: string } }[] }).content[1]!.image_url!.detail;
    expect(back.items).toEqual(expected);
  });

  it.each(FORMATS)('converts %s into every target or names the first part it cannot', async (format) => {
    const { items, system } = FIXTURES[format];
    const instructions = system === undefined ? undefined : normalizeAnthropicSystem(system);
    for (const target of TARGET_FORMATS) {
      try {
        const converted = await convertItems(views(format, items), target, instructions);
        for (const item of converted.items) expect(itemSchemaOf(target).safeParse(item).error).toBeUndefined();
        if (target === 'ai-sdk.model')
          for (const item of converted.items) expect(modelMessageSchema.safeParse(item).success).toBe(true);
      } catch (err) {
        expect(err).toBeInstanceOf(UnconvertiblePartError);
        const { item, path, part } = err as UnconvertiblePartError;
        expect(item).toBeGreaterThanOrEqual(0);
        expect(path).not.toBe(undefined);
        expect(part).toMatch(/reasoning|refusal|redacted_thinking|encrypted reasoning|file|audio|inside a tool result/);
      }
    }
  });

  it('opens an Anthropic transcript with a user turn when it starts with the assistant, and says so', async () => {
    const tail = await convertItems(
      views('openai.chat', openaiChat.slice(0, 1).concat(openaiChat.slice(-1))),
      'anthropic.messages',
    );
    expect(tail).toEqual({
      items: [LEADING_USER_TURN, { role: 'assistant', content: [{ type: 'text', text: 'Tokyo, by 6 °C.' }] }],
      system: 'You are a travel assistant. Use the tools for live data.',
      insertedUserTurn: true,
    });
    const whole = await convertItems(views('openai.chat', openaiChat.slice(0, 2)), 'anthropic.messages');
    expect(whole.insertedUserTurn).toBe(false);
    // only Anthropic needs it
    const chat = await convertItems(views('openai.chat', openaiChat.slice(-1)), 'openai.chat');
    expect(chat).toEqual({ items: [{ role: 'assistant', content: 'Tokyo, by 6 °C.' }], insertedUserTurn: false });
  });

  it('names the part: Anthropic thinking cannot go to OpenAI, an OpenAI refusal can', async () => {
    await expect(
      convertItems(views('anthropic.messages', FIXTURES['anthropic.messages'].items), 'openai.chat'),
    ).rejects.toThrow('item 1 at content[0]: a reasoning part cannot be converted to openai.chat');
    const refusal = (await convertItems(views('openai.chat', openaiChat), 'openai.chat')).items[7];
    expect(refusal).toEqual({
      role: 'assistant',
      content: 'I can’t help with using someone else’s card without consent.',
    });
    await expect(convertItems(views('openai.chat', openaiChat), 'anthropic.messages')).rejects.toThrow(
      'item 7 at refusal: a refusal cannot be converted to anthropic.messages',
    );
  });

  it('streams one turn at a time: a message is out before the rest is read', async () => {
    let read = 0;
    async function* items() {
      for (const item of openaiChat.slice(0, 6)) {
        read++;
        yield normalizeItem('openai.chat', item);
      }
    }
    const stream = convertStream(items(), 'openai.chat');
    expect((await stream.next()).value).toEqual({ role: 'system', content: openaiChat[0]!.content });
    expect(read).toBeLessThanOrEqual(2);
  });

  it('gives Gemini’s id-less function calls ids their responses share', async () => {
    const [, model, user] = FIXTURES.gemini.items;
    const converted = await convertItems(
      views('gemini', [
        FIXTURES.gemini.items[0],
        { ...(model as object), parts: (model as { parts: unknown[] }).parts.slice(1) },
        user,
      ]),
      'ai-sdk.model',
    );
    expect(converted.items.slice(1)).toEqual([
      {
        role: 'assistant',
        content: [
          { type: 'tool-call', toolCallId: 'call_1', toolName: 'get_weather', input: { city: 'Paris' } },
          { type: 'tool-call', toolCallId: 'call_2', toolName: 'get_time', input: { city: 'Paris' } },
        ],
      },
      {
        role: 'tool',
        content: [
          {
            type: 'tool-result',
            toolCallId: 'call_1',
            toolName: 'get_weather',
            output: { type: 'text', value: '{"temp_c":18}' },
          },
          {
            type: 'tool-result',
            toolCallId: 'call_2',
            toolName: 'get_time',
            output: { type: 'text', value: '{"time":"14:05"}' },
          },
        ],
      },
    ]);
  });
});
