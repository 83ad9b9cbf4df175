// @ctxvault/langchain with the real LangChain.js against real `ctxvault api` and `ctxvault worker`
// processes: a chain's history kept in a ctxvault context of format `langchain`.
import { CtxvaultClient } from '@ctxvault/client';
import { CtxvaultChatMessageHistory } from '@ctxvault/langchain';
import { AIMessage, HumanMessage, SystemMessage, ToolMessage } from '@langchain/core/messages';
import { ChatPromptTemplate, MessagesPlaceholder } from '@langchain/core/prompts';
import { RunnableWithMessageHistory } from '@langchain/core/runnables';
import { FakeListChatModel } from '@langchain/core/utils/testing';
import { describe, expect, it } from 'vitest';
import { useSuite } from '../helpers/suite.ts';

const suite = useSuite();

describe('CtxvaultChatMessageHistory', () => {
  it('keeps a RunnableWithMessageHistory conversation in one context per session', async () => {
    const client = new CtxvaultClient({ url: suite.app.url, apiKey: suite.app.key });
    const histories = new Map<string, CtxvaultChatMessageHistory>();
    const historyOf = (sessionId: string) => {
      let history = histories.get(sessionId);
      if (!history) {
        history = new CtxvaultChatMessageHistory({ client, agentId: 'lc-agent', sessionId, modelId: 'gpt-4o' });
        histories.set(sessionId, history);
      }
      return history;
    };
    const prompt = ChatPromptTemplate.fromMessages([
      ['system', 'You are terse.'],
      new MessagesPlaceholder('history'),
      ['human', '{question}'],
    ]);
    const model = new FakeListChatModel({ responses: ['Paris.', 'About 2.1 million.'] });
    const chain = new RunnableWithMessageHistory({
      runnable: prompt.pipe(model),
      getMessageHistory: historyOf,
      inputMessagesKey: 'question',
      historyMessagesKey: 'history',
    });
    const config = { configurable: { sessionId: 'trip-1' } };
    expect((await chain.invoke({ question: 'Capital of France?' }, config)).content).toBe('Paris.');
    expect((await chain.invoke({ question: 'Its population?' }, config)).content).toBe('About 2.1 million.');

    // a new history (another process, say) finds the session's context and reads it back
    const fresh = new CtxvaultChatMessageHistory({ client, agentId: 'lc-agent', sessionId: 'trip-1' });
    const messages = await fresh.getMessages();
    expect(messages.map((m) => [m.type, m.content])).toEqual([
      ['human', 'Capital of France?'],
      ['ai', 'Paris.'],
      ['human', 'Its population?'],
      ['ai', 'About 2.1 million.'],
    ]);
    const listed = await client.list({ agent_id: 'lc-agent', session_id: 'trip-1' });
    expect(listed.items).toHaveLength(1);
    expect(listed.items[0]).toMatchObject({ format: 'langchain', message_count: 4 });
  });

  it('round-trips tool calls and their results, and clears the session', async () => {
    const client = new CtxvaultClient({ url: suite.app.url, apiKey: suite.app.key });
    const history = new CtxvaultChatMessageHistory({ client, agentId: 'lc-tools', sessionId: 's' });
    await history.addMessages([
      new SystemMessage('Use the tools.'),
      new HumanMessage('What is 6 × 7?'),
      new AIMessage({ content: '', tool_calls: [{ id: 'call_1', name: 'multiply', args: { a: 6, b: 7 } }] }),
      new ToolMessage({ content: '42', tool_call_id: 'call_1', name: 'multiply' }),
    ]);
    await history.addAIMessage('42.');
    const messages = await new CtxvaultChatMessageHistory({
      client,
      agentId: 'lc-tools',
      sessionId: 's',
    }).getMessages();
    expect(messages.map((m) => m.type)).toEqual(['system', 'human', 'ai', 'tool', 'ai']);
    expect((messages[2] as AIMessage).tool_calls).toEqual([
      expect.objectContaining({ id: 'call_1', name: 'multiply', args: { a: 6, b: 7 } }),
    ]);
    expect((messages[3] as ToolMessage).tool_call_id).toBe('call_1');

    // the stored transcript reads as OpenAI messages too
    const { items } = await client.list({ agent_id: 'lc-tools' });
    const openai = await client.get(items[0]!.id, { as: 'openai.chat' });
    expect(openai.content.map((m) => m.role)).toEqual(['system', 'user', 'assistant', 'tool', 'assistant']);

    await history.clear();
    expect(await history.getMessages()).toEqual([]);
  });
});
