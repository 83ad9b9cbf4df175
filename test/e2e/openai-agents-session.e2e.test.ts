// @ctxvault/openai-agents with the real OpenAI Agents SDK against real `ctxvault api` and `ctxvault
// worker` processes: an Agent run (its model a scripted fake, no network) keeps its history in a
// ctxvault context of format `openai.agents`, and the session answers as the SDK's MemorySession does,
// history rewrites (mutations, compaction) included.
import { CtxvaultClient } from '@ctxvault/client';
import { CtxvaultSession, HISTORY_OPERATIONS_KEY } from '@ctxvault/openai-agents';
import {
  Agent,
  type AgentInputItem,
  type AgentOutputItem,
  isSessionHistoryRewriteAwareSession,
  isSessionHistoryTransactionAwareSession,
  MemorySession,
  type Model,
  type ModelRequest,
  type ModelResponse,
  OutputGuardrailTripwireTriggered,
  protocol,
  run,
  type Session,
  setTracingDisabled,
  tool,
  Usage,
  UserError,
} from '@openai/agents';
import { beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { useSuite } from '../helpers/suite.ts';

const suite = useSuite();
beforeAll(() => {
  // no trace export (network) from the runs
  setTracingDisabled(true);
});

/** A model that answers from a script, one response a call, and keeps what it was sent. */
class ScriptedModel implements Model {
  readonly inputs: AgentInputItem[][] = [];
  private readonly script: AgentOutputItem[][];
  constructor(script: AgentOutputItem[][]) {
    this.script = [...script];
  }
  async getResponse(request: ModelRequest): Promise<ModelResponse> {
    this.inputs.push(typeof request.input === 'string' ? [{ role: 'user', content: request.input }] : request.input);
    const output = this.script.shift();
    if (!output) throw new Error('the script has no more responses');
    return { usage: new Usage({ requests: 1, inputTokens: 10, outputTokens: 5, totalTokens: 15 }), output };
  }
  // biome-ignore lint/correctness/useYield: the runs here do not stream
  async *getStreamedResponse(): AsyncIterable<never> {
    throw new Error('not streamed in these tests');
  }
}

const say = (text: string, id: string): AgentOutputItem => ({
  type: 'message',
  id,
  role: 'assistant',
  status: 'completed',
  content: [{ type: 'output_text', text }],
});

/** A travel agent whose model first calls the weather tool for two cities at once, then answers. */
function travelAgent() {
  const model = new ScriptedModel([
    [
      {
        type: 'function_call',
        id: 'fc_1',
        callId: 'call_paris',
        name: 'get_weather',
        arguments: '{"city":"Paris"}',
        status: 'completed',
      },
      {
        type: 'function_call',
        id: 'fc_2',
        callId: 'call_tokyo',
        name: 'get_weather',
        arguments: '{"city":"Tokyo"}',
        status: 'completed',
      },
    ],
    [say('Paris 18 °C, Tokyo 24 °C.', 'msg_1')],
    [say('Tokyo, by 6 °C.', 'msg_2')],
  ]);
  const getWeather = tool({
    name: 'get_weather',
    description: 'The weather in a city',
    parameters: z.object({ city: z.string() }),
    execute: async ({ city }) => (city === 'Paris' ? '18 °C' : '24 °C'),
  });
  const agent = new Agent({ name: 'travel', instructions: 'Be brief.', model, tools: [getWeather] });
  return { agent, model };
}

describe('CtxvaultSession', () => {
  it('keeps an Agent run’s history across runs and processes, as the SDK’s MemorySession does', async () => {
    const client = new CtxvaultClient({ url: suite.app.url, apiKey: suite.app.key });
    const histories: Record<string, AgentInputItem[]> = {};
    const sessions: [string, () => Session][] = [
      ['memory', () => new MemorySession({ sessionId: 'trip-1' })],
      ['ctxvault', () => new CtxvaultSession({ client, agentId: 'travel', sessionId: 'trip-1', modelId: 'gpt-4o' })],
    ];
    for (const [name, sessionOf] of sessions) {
      const { agent, model } = travelAgent();
      const session = sessionOf();
      const first = await run(agent, 'Weather in Paris and Tokyo?', { session });
      expect(first.finalOutput).toBe('Paris 18 °C, Tokyo 24 °C.');
      // the next run (a new session object for ctxvault: another process, say) starts from the history
      const again = name === 'ctxvault' ? sessionOf() : session;
      const second = await run(agent, 'Which is warmer?', { session: again });
      expect(second.finalOutput).toBe('Tokyo, by 6 °C.');
      expect(model.inputs[2]!.map((i) => ('role' in i ? i.role : i.type))).toEqual([
        'user',
        'function_call',
        'function_call',
        'function_call_result',
        'function_call_result',
        'assistant',
        'user',
      ]);
      histories[name] = await again.getItems();
    }
    expect(histories.ctxvault).toEqual(histories.memory);
    expect(histories.ctxvault).toHaveLength(8);
    for (const item of histories.ctxvault!) expect(protocol.ModelItem.safeParse(item).error).toBeUndefined();

    const listed = await client.list({ agent_id: 'travel', session_id: 'trip-1' });
    expect(listed.items).toHaveLength(1);
    expect(listed.items[0]).toMatchObject({ format: 'openai.agents', message_count: 8 });
    // what an Agents SDK run stored reads as Chat Completions messages too
    const chat = await client.get(listed.items[0]!.id, { as: 'openai.chat' });
    expect(chat.content.map((m) => m.role)).toEqual([
      'user',
      'assistant',
      'tool',
      'tool',
      'assistant',
      'user',
      'assistant',
    ]);
  });

  it('answers getItems(limit), popItem and clearSession as MemorySession does', async () => {
    const client = new CtxvaultClient({ url: suite.app.url, apiKey: suite.app.key });
    const items: AgentInputItem[] = [
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: 'Hi' },
      { type: 'message', role: 'assistant', status: 'completed', content: [{ type: 'output_text', text: 'Hello.' }] },
      { type: 'function_call', callId: 'c1', name: 'now', arguments: '{}' },
      { type: 'function_call_result', callId: 'c1', name: 'now', status: 'completed', output: '14:05' },
      { role: 'user', content: [{ type: 'input_text', text: 'Thanks' }] },
    ];
    const memory = new MemorySession();
    const vault = new CtxvaultSession({ client, agentId: 'contract' });
    expect(await vault.getItems()).toEqual([]);
    expect(await vault.popItem()).toBeUndefined();
    for (const session of [memory, vault]) {
      await session.addItems(items.slice(0, 3));
      await session.addItems(items.slice(3));
    }
    expect(await vault.getItems()).toEqual(await memory.getItems());
    expect(await vault.getItems(3)).toEqual(await memory.getItems(3));
    expect(await vault.getItems(100)).toEqual(items);
    // a limit that would cut a call from its result starts after the pair instead
    expect(await vault.getItems(2)).toEqual(items.slice(-1));
    expect(await memory.getItems(2)).toEqual(items.slice(-2));

    expect(await vault.popItem()).toEqual(await memory.popItem());
    expect(await vault.getItems()).toEqual(await memory.getItems());
    expect(
      await new CtxvaultSession({ client, agentId: 'contract', sessionId: await vault.getSessionId() }).getItems(),
    ).toHaveLength(5);

    await vault.clearSession();
    await memory.clearSession();
    expect(await vault.getItems()).toEqual([]);
    await vault.addItems([{ role: 'user', content: 'again' }]);
    expect(await vault.getItems()).toEqual([{ role: 'user', content: 'again' }]);
  });

  it('applies the runner’s history mutations as MemorySession does, and replaces history with a compaction', async () => {
    const client = new CtxvaultClient({ url: suite.app.url, apiKey: suite.app.key });
    const items: AgentInputItem[] = [
      { role: 'user', content: 'Weather in Paris?' },
      { type: 'function_call', callId: 'c1', name: 'get_weather', arguments: '{"city":"Pari"}' },
      { type: 'function_call_result', callId: 'c1', name: 'get_weather', status: 'completed', output: '18 °C' },
    ];
    const memory = new MemorySession();
    const vault = new CtxvaultSession({ client, agentId: 'rewrites' });
    // the runner looks for the capability as the SDK's own check sees it
    expect(isSessionHistoryRewriteAwareSession(vault)).toBe(true);
    const replacement = { type: 'function_call', callId: 'c1', name: 'get_weather', arguments: '{"city":"Paris"}' };
    const mutations = [{ type: 'replace_function_call' as const, callId: 'c1', replacement: replacement as never }];
    for (const session of [memory, vault]) {
      await session.addItems(items);
      await session.applyHistoryMutations({ mutations });
    }
    expect(await vault.getItems()).toEqual(await memory.getItems());
    expect((await vault.getItems())[1]).toMatchObject({ arguments: '{"city":"Paris"}' });

    const compacted: AgentInputItem[] = [
      { type: 'compaction', encrypted_content: 'enc_summary_1' },
      { role: 'user', content: 'And tomorrow?' },
    ];
    await vault.replaceHistoryWithCompaction(compacted);
    expect(await vault.getItems()).toEqual(compacted);
    // each rewrite is one version of the context: the history before it stays readable
    const [stored] = (await client.list({ agent_id: 'rewrites' })).items;
    expect(stored).toMatchObject({ version: 3, message_count: 2 });
    expect((await client.get(stored!.id, { version: 1 })).content).toEqual(items);
    // a session without history yet starts with the compaction
    const fresh = new CtxvaultSession({ client, agentId: 'rewrites-fresh' });
    await fresh.replaceHistoryWithCompaction(compacted);
    expect(await fresh.getItems()).toEqual(compacted);
  });

  it('applies history transactions once per operation id, as MemorySession does', async () => {
    const client = new CtxvaultClient({ url: suite.app.url, apiKey: suite.app.key });
    const memory = new MemorySession();
    const vault = new CtxvaultSession({ client, agentId: 'transactions' });
    expect(isSessionHistoryTransactionAwareSession(vault)).toBe(true);
    const hi: AgentInputItem = { role: 'user', content: 'Hi' };
    const hello: AgentInputItem = {
      type: 'message',
      role: 'assistant',
      status: 'completed',
      content: [{ type: 'output_text', text: 'Hello.' }],
    };
    const better: AgentInputItem = { ...hello, content: [{ type: 'output_text', text: 'Hello there.' }] };
    const append = { type: 'append_items' as const, items: [hi, hello] };
    const replace = { type: 'replace_suffix' as const, expectedSuffix: [hello], replacement: [better] };
    for (const session of [memory, vault]) {
      // the first one creates the context; the same id again does nothing
      await session.applyHistoryTransaction({ operationId: 'op-1', transaction: append });
      await session.applyHistoryTransaction({ operationId: 'op-1', transaction: structuredClone(append) });
      await expect(
        session.applyHistoryTransaction({ operationId: 'op-1', transaction: { type: 'append_items', items: [hi] } }),
      ).rejects.toThrow(new UserError('Session history operation was already applied with a different transaction.'));
      await session.applyHistoryTransaction({ operationId: 'op-2', transaction: replace });
      // the suffix is no longer `hello`: refused, nothing changed
      await expect(session.applyHistoryTransaction({ operationId: 'op-3', transaction: replace })).rejects.toThrow(
        new UserError('Session history suffix no longer matches the transaction precondition.'),
      );
      await expect(session.applyHistoryTransaction({ operationId: ' ', transaction: append })).rejects.toThrow(
        UserError,
      );
    }
    expect(await vault.getItems()).toEqual(await memory.getItems());
    expect(await vault.getItems()).toEqual([hi, better]);
    // the record of the operations lives with the history: another session object (another process)
    // retrying op-2 does nothing
    const again = new CtxvaultSession({ client, agentId: 'transactions', sessionId: await vault.getSessionId() });
    await again.applyHistoryTransaction({ operationId: 'op-2', transaction: replace });
    await again.applyHistoryTransaction({ operationId: 'op-4', transaction: { type: 'append_items', items: [hi] } });
    expect(await again.getItems()).toEqual([hi, better, hi]);
    const [stored] = (await client.list({ agent_id: 'transactions' })).items;
    // one version each: create, op-2's replace, op-4's append
    expect(stored).toMatchObject({ version: 3, message_count: 3 });
    expect(Object.keys(stored!.metadata[HISTORY_OPERATIONS_KEY] as object)).toEqual(['op-1', 'op-2', 'op-4']);
  });

  it('keeps what an Agent run blocked by an output guardrail persists, as MemorySession does', async () => {
    const client = new CtxvaultClient({ url: suite.app.url, apiKey: suite.app.key });
    const histories: AgentInputItem[][] = [];
    const vault = new CtxvaultSession({ client, agentId: 'guarded' });
    for (const session of [new MemorySession(), vault]) {
      const { agent } = travelAgent();
      agent.outputGuardrails = [
        { name: 'no-weather', execute: async () => ({ tripwireTriggered: true, outputInfo: 'blocked' }) },
      ];
      await expect(run(agent, 'Weather in Paris and Tokyo?', { session })).rejects.toThrow(
        OutputGuardrailTripwireTriggered,
      );
      histories.push(await session.getItems());
    }
    expect(histories[1]).toEqual(histories[0]);
    expect(histories[1]!.length).toBeGreaterThan(0);
    // the runner wrote through applyHistoryTransaction
    const [stored] = (await client.list({ agent_id: 'guarded' })).items;
    expect(Object.keys(stored!.metadata[HISTORY_OPERATIONS_KEY] as object).length).toBeGreaterThan(0);
  });

  it('stores raw image bytes as base64, and refuses an item the SDK’s schema refuses', async () => {
    const client = new CtxvaultClient({ url: suite.app.url, apiKey: suite.app.key });
    const session = new CtxvaultSession({ client, agentId: 'bytes' });
    await session.addItems([
      { type: 'function_call', callId: 'c1', name: 'snap', arguments: '{}' },
      {
        type: 'function_call_result',
        callId: 'c1',
        name: 'snap',
        status: 'completed',
        output: { type: 'image', image: { data: new Uint8Array([1, 2, 3]), mediaType: 'image/png' } },
      },
    ]);
    const [, result] = await session.getItems();
    expect(result).toMatchObject({ output: { image: { data: 'AQID', mediaType: 'image/png' } } });
    await expect(
      session.addItems([{ type: 'function_call_result', callId: 'c2' } as unknown as AgentInputItem]),
    ).rejects.toMatchObject({ status: 400, code: 'invalid_request' });
  });
});
