// OpenAI Responses hosted-tool items and Anthropic server-tool blocks: accepted as the SDKs type them,
// paired in truncation, and named when a conversion meets them.
import { describe, expect, it } from 'vitest';
import { convertItems, UnconvertiblePartError } from './convert.ts';
import { HOSTED_TOOL_FIXTURES } from './fixtures/transcripts.ts';
import { type Format, TARGET_FORMATS } from './format.ts';
import { itemIssues } from './issues.ts';
import { callIds, resultIds } from './normalized.ts';
import { itemSchemaOf, normalizeItem } from './registry.ts';
import { planWindow, shapeOf, TRUNCATION_STRATEGIES } from './truncation.ts';

const FORMATS = Object.keys(HOSTED_TOOL_FIXTURES) as Format[];
const itemsOf = (format: Format) => HOSTED_TOOL_FIXTURES[format]!.items;
const tokensOf = (item: unknown) => Math.ceil(JSON.stringify(item).length / 4);

describe('hosted and server tools', () => {
  it.each(FORMATS)('%s: every item is accepted as sent', (format) => {
    for (const item of itemsOf(format)) expect(itemSchemaOf(format).safeParse(item).error).toBeUndefined();
  });

  it('reads Responses hosted calls the client answers as calls paired with their outputs by id', () => {
    const views = itemsOf('openai.responses').map((item) => normalizeItem('openai.responses', item));
    expect(views.map((v) => v.kind)).toEqual([
      'user',
      'assistant', // web search: run and answered by the provider, one item
      'assistant', // file search
      'assistant', // code interpreter
      'tool-call',
      'tool-result',
      'tool-call',
      'tool-result',
      'tool-call',
      'tool-result',
      'assistant', // MCP tool list
      'tool-call', // MCP approval request …
      'tool-result', // … answered by its approval response
      'assistant', // MCP call
      'assistant', // generated image
      'instruction', // the developer's additional tools …
      'instruction', // … and configuration update, kept like instructions
      'tool-call', // tool search …
      'tool-result', // … and the tools it found
      'tool-call', // program …
      'tool-result', // … and its result
      'assistant', // compaction trigger
      'assistant',
      'user',
    ]);
    const paired = ['call_click', 'call_sh', 'call_patch', 'mcpr_1', 'call_ts', 'call_prog'];
    expect(views.flatMap(callIds)).toEqual(paired);
    expect(views.flatMap(resultIds)).toEqual(paired);
    expect(views[20]!.parts[0]!).toMatchObject({
      type: 'tool-result',
      parts: [{ type: 'text', path: 'result', text: '32A is a window seat' }],
    });
    // the screenshot and the generated image are images, counted by their size, never as text
    expect(views[5]!.parts[0]!).toMatchObject({ type: 'tool-result', parts: [{ type: 'media', media: 'image' }] });
    expect(views[14]!.parts[0]!).toMatchObject({ type: 'media', media: 'image', mediaType: 'image/png' });
  });

  it('pairs a tool search the provider ran (no call id) with the call before it', () => {
    const views = [
      { type: 'tool_search_call', call_id: null, execution: 'server', arguments: { query: 'seats' } },
      { type: 'tool_search_output', call_id: null, execution: 'server', tools: [{ type: 'tool_search' }] },
    ].map((item) => normalizeItem('openai.responses', itemSchemaOf('openai.responses').parse(item)));
    const { keep } = planWindow('openai.responses', views.map(shapeOf), [10, 10], { last: 1 });
    expect(keep).toEqual([false, false]);
  });

  it('refuses a tool definition whose type is no tool, naming its path', () => {
    const error = itemSchemaOf('openai.responses').safeParse({
      type: 'additional_tools',
      role: 'developer',
      tools: [{ type: 'teleport' }],
    }).error;
    expect(error && itemIssues(error).map((issue) => issue.path.join('.'))).toEqual(['tools.0']);
  });

  it('reads an Anthropic server tool and its result block as a pair inside one assistant turn', () => {
    const view = normalizeItem('anthropic.messages', itemsOf('anthropic.messages')[1]);
    expect(callIds(view)).toEqual(['srvtoolu_1', 'srvtoolu_2']);
    expect(resultIds(view)).toEqual(['srvtoolu_1', 'srvtoolu_2']);
    // answered within the item: nothing outside it to keep it with
    expect(shapeOf(view)).toEqual({ kind: 'tool-call', calls: [], results: [] });
    const search = view.parts[2]!;
    expect(search).toMatchObject({ type: 'tool-result', hosted: 'web_search_tool_result' });
    expect(JSON.stringify(search)).toContain('Paris this weekend');
  });

  it.each(FORMATS)('%s: truncation keeps every hosted call with its output, at every budget and last=N', (format) => {
    const items = itemsOf(format);
    const views = items.map((item) => normalizeItem(format, item));
    const shapes = views.map(shapeOf);
    const tokens = items.map(tokensOf);
    const requests = [
      ...[40, 120, 300, 700, 1_000_000].flatMap((max_tokens) =>
        TRUNCATION_STRATEGIES.map((strategy) => ({ budget: { max_tokens, strategy } })),
      ),
      ...[1, 2, 5, 8, 11, 12, 16, 19, 21, 22].map((last) => ({ last })),
    ];
    for (const request of requests) {
      const { keep } = planWindow(format, shapes, tokens, request);
      const kept = views.filter((_, i) => keep[i]);
      const calls = new Set(kept.flatMap(callIds));
      const results = new Set(kept.flatMap(resultIds));
      expect([...calls].sort(), JSON.stringify(request)).toEqual([...results].sort());
      const first = kept.find((v) => v.kind !== 'instruction');
      if (format === 'anthropic.messages' && first) expect(first.kind).toBe('user');
    }
  });

  it.each(FORMATS)('%s: a conversion names the first hosted part it cannot convert', async (format) => {
    const views = itemsOf(format).map((item) => normalizeItem(format, item));
    for (const target of TARGET_FORMATS) {
      const error = await convertItems(views, target).catch((err: unknown) => err);
      expect(error).toBeInstanceOf(UnconvertiblePartError);
      expect((error as UnconvertiblePartError).item).toBe(1);
    }
    const error = (await convertItems(views, 'openai.chat').catch((err: unknown) => err)) as UnconvertiblePartError;
    if (format === 'openai.responses')
      expect(error.message).toBe('item 1 at action: a web_search_call part cannot be converted to openai.chat');
    else {
      expect(error.message).toBe(
        'item 1 at content[1]: a server_tool_use (a provider-run or built-in tool) cannot be converted to openai.chat',
      );
    }
    // the turns after the tools convert; an Anthropic transcript starting on the assistant gets a user turn first
    const tail = await convertItems(views.slice(-2), 'anthropic.messages');
    expect(tail.insertedUserTurn).toBe(format === 'openai.responses');
    expect(tail.items).toHaveLength(tail.insertedUserTurn ? 3 : 2);
  });
});
