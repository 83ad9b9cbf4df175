// @ctxvault/ai-sdk with the real AI SDK against real `ctxvault api` and `ctxvault worker` processes:
// UIMessages of a chat saved from a UI message stream's onFinish and loaded for the next turn.
import { CtxvaultChatStore } from '@ctxvault/ai-sdk';
import { CtxvaultClient } from '@ctxvault/client';
import { convertToModelMessages, createUIMessageStream, type UIMessage, validateUIMessages } from 'ai';
import { describe, expect, it } from 'vitest';
import { useSuite } from '../helpers/suite.ts';

const suite = useSuite();

/** One assistant turn as a route handler streams it, saved by `onFinish` as the AI SDK docs show. */
async function turn(store: CtxvaultChatStore, chatId: string, messages: UIMessage[], answer: string, city?: string) {
  const stream = createUIMessageStream({
    originalMessages: messages,
    execute: ({ writer }) => {
      if (city) {
        writer.write({
          type: 'tool-input-available',
          toolCallId: `call_${city}`,
          toolName: 'getWeather',
          input: { city },
        });
        writer.write({ type: 'tool-output-available', toolCallId: `call_${city}`, output: { temp: 18 } });
      }
      writer.write({ type: 'text-start', id: 't' });
      writer.write({ type: 'text-delta', id: 't', delta: answer });
      writer.write({ type: 'text-end', id: 't' });
    },
    onFinish: ({ messages: all }) => store.saveChat({ chatId, messages: all }),
  });
  for await (const _chunk of stream);
  // onFinish runs as the stream ends: wait until the save is visible
  for (let i = 0; i < 100 && (await store.loadChat(chatId)).length < messages.length + 1; i++) {
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('CtxvaultChatStore', () => {
  it('saves each turn of a chat and loads it back as valid UIMessages', async () => {
    const client = new CtxvaultClient({ url: suite.app.url, apiKey: suite.app.key });
    const store = new CtxvaultChatStore({ client, agentId: 'chat-app', modelId: 'gpt-4o' });
    expect(await store.loadChat('chat-1')).toEqual([]);

    const first: UIMessage[] = [{ id: 'u1', role: 'user', parts: [{ type: 'text', text: 'Weather in Paris?' }] }];
    await turn(store, 'chat-1', first, 'It is 18 °C in Paris.', 'Paris');
    const loaded = await store.loadChat('chat-1');
    expect(await validateUIMessages({ messages: structuredClone(loaded) })).toHaveLength(2);
    expect(loaded[1]!.parts.map((p) => p.type)).toEqual(expect.arrayContaining(['tool-getWeather', 'text']));

    const second = [
      ...loaded,
      { id: 'u2', role: 'user' as const, parts: [{ type: 'text' as const, text: 'Thanks!' }] },
    ];
    await turn(store, 'chat-1', second, 'You are welcome.');
    const again = await store.loadChat('chat-1');
    expect(again.map((m) => m.role)).toEqual(['user', 'assistant', 'user', 'assistant']);
    expect(again.slice(0, 2)).toEqual(loaded);
    await convertToModelMessages(again);

    // the turns were appended (one context, one version per save after the first)
    const { items } = await client.list({ agent_id: 'chat-app', session_id: 'chat-1' });
    expect(items).toHaveLength(1);
    expect(items[0]).toMatchObject({ format: 'ai-sdk.ui', version: 2, message_count: 4 });

    // the chat reads as Anthropic messages: the tool call, then its result in a user turn, then the answer
    const anthropic = await client.get(items[0]!.id, { as: 'anthropic.messages' });
    expect(anthropic.content.map((m) => (m.content as { type: string }[]).map((b) => b.type))).toEqual([
      ['text'],
      ['tool_use'],
      ['tool_result'],
      ['text'],
      ['text'],
      ['text'],
    ]);

    // an edited history replaces what was stored
    await store.saveChat({ chatId: 'chat-1', messages: again.slice(0, 1) });
    expect(await store.loadChat('chat-1')).toEqual(again.slice(0, 1));
  });
});
