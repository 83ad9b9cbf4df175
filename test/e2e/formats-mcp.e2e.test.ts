// Contexts in every format over MCP (the official SDK client over Streamable HTTP) against real
// `ctxvault api` and `ctxvault worker` processes: created, appended, read as stored and as another
// format, searched, summarised (with the estimated parts of each item), listed and truncated on read and on
// write, each through the tools.
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FIXTURES } from '../../packages/formats/src/fixtures/transcripts.ts';
import { itemSchemaOf, TARGET_FORMATS } from '../../packages/formats/src/index.ts';
import { api, type JsonAnswer } from '../helpers/contexts.ts';
import { asSent, expectValid, FORMATS, MORE } from '../helpers/formats.ts';
import { useSuite } from '../helpers/suite.ts';

const suite = useSuite();
let client: Client;
beforeAll(async () => {
  client = new Client({ name: 'formats-mcp-e2e', version: '1.0.0' });
  await client.connect(
    new StreamableHTTPClientTransport(new URL(`${suite.app.url}/mcp`), {
      requestInit: { headers: suite.app.headers },
    }),
  );
});
afterAll(async () => {
  await client?.close();
});

/** A tool's answer: its value, or the REST API's error body when it failed. */
async function call(name: string, args: Record<string, unknown>): Promise<{ value: JsonAnswer; error?: JsonAnswer }> {
  const result = await client.callTool({ name, arguments: args }, undefined, { timeout: 60_000 });
  if (!result.isError) return { value: result.structuredContent };
  return { value: null, error: JSON.parse((result.content as { text: string }[])[0]!.text).error };
}

async function ok(name: string, args: Record<string, unknown>): Promise<JsonAnswer> {
  const { value, error } = await call(name, args);
  expect(error, `${name}: ${JSON.stringify(error)}`).toBeUndefined();
  return value;
}

/** The tools answer once the worker has counted the tokens (the stored items are the same before). */
async function settled(id: string): Promise<void> {
  await expect.poll(async () => (await ok('context_summary', { id })).tokens_final, { timeout: 60_000 }).toBe(true);
}

describe.each(FORMATS)('a %s context over MCP', (format) => {
  const { items, system } = FIXTURES[format];
  const agent = `mcp-${format}`;
  let id: string;

  it('is created and appended to, read back as sent, listed by its format', async () => {
    const created = await ok('context_create', {
      agent_id: agent,
      model_id: 'gpt-4o',
      format,
      content: items,
      ...(system && { system }),
    });
    expect(created).toMatchObject({ status: 'stored', context: { format, message_count: items.length } });
    id = created.id;
    const refused = await call('context_append', { id, items: [{ nonsense: true }] });
    expect(refused.error).toMatchObject({ code: 'invalid_request' });
    const appended = await ok('context_append', { id, items: [MORE[format]] });
    expect(appended.context).toMatchObject({ version: 2, message_count: items.length + 1 });
    await settled(id);

    const read = await ok('context_get', { id });
    expect(read.format).toBe(format);
    expect(read.content).toEqual(asSent([...items, MORE[format]]));
    expect(read.window).toMatchObject({ returned: items.length + 1, dropped: 0 });
    if (system) expect(read.system).toBe(system);
    const listed = await ok('context_list', { format, agent_id: agent });
    expect(listed.items.map((c: JsonAnswer) => [c.id, c.format])).toEqual([[id, format]]);
  });

  it('is searched and summarised through its format', async () => {
    const found = await ok('context_search', { id, query: 'ZEBRA' });
    expect(found.matches.map((m: JsonAnswer) => m.index)).toEqual([items.length]);
    const summary = await ok('context_summary', { id });
    const roles = Object.values(summary.roles as Record<string, { items: number; tokens: number }>);
    expect(roles.reduce((n, r) => n + r.items, 0)).toBe(items.length + 1);
    expect(roles.reduce((n, r) => n + r.tokens, 0)).toBe(summary.current_tokens);
    expect(summary.current_tokens).toBeGreaterThan(0);
  });

  it('is truncated on read to budgets and to the last items, staying valid for its provider', async () => {
    for (const max_tokens of [60, 250, 100_000]) {
      for (const strategy of ['oldest_first', 'preserving_user']) {
        const read = await ok('context_get', { id, max_tokens, strategy });
        expectValid(format, read.content);
        expect(read.window.returned).toBe(read.content.length);
        expect(read.window.returned + read.window.dropped).toBe(items.length + 1);
      }
    }
    for (const last of [1, 3]) {
      const read = await ok('context_get', { id, last });
      expectValid(format, read.content);
      expect(read.content.length).toBeLessThanOrEqual(last + (format === 'ctxvault' ? 0 : 1));
      expect(read.content.at(-1)).toEqual(asSent([MORE[format]])[0]);
    }
  });

  it('is truncated on write: a truncating create stores a valid transcript', async () => {
    const cut = await ok('context_create', {
      agent_id: `${agent}-cut`,
      format,
      content: items,
      ...(system && { system }),
      max_tokens: 150,
      truncate: 'preserving_user',
    });
    expect(cut.context.message_count).toBeLessThan(items.length);
    expectValid(format, (await ok('context_get', { id: cut.id })).content);
  });

  it.each(TARGET_FORMATS)('is read as %s, or refused naming the first part that cannot convert', async (target) => {
    const read = await call('context_get', { id, as: target });
    if (read.error) {
      expect(read.error).toMatchObject({
        code: 'unconvertible',
        details: { from: format, to: target, item: expect.any(Number), part: expect.any(String) },
      });
      // the last turns are plain text: they convert
      const tail = await ok('context_get', { id, as: target, last: 1 });
      expect(tail.format).toBe(target);
      return;
    }
    expect(read.value.format).toBe(target);
    expect(read.value.content.length).toBeGreaterThan(0);
    for (const item of read.value.content) expect(itemSchemaOf(target).safeParse(item).error).toBeUndefined();
  });
});

describe('context_summary with estimates', () => {
  it('lists the items holding estimated parts with their paths, as the REST summary does', async () => {
    const { items, system } = FIXTURES['anthropic.messages'];
    const byUrl = { type: 'image', source: { type: 'url', url: 'https://example.org/a.png' } };
    const created = await ok('context_create', {
      agent_id: 'mcp-estimates',
      model_id: 'claude-sonnet-4',
      format: 'anthropic.messages',
      system,
      content: [...items, { role: 'user', content: [{ type: 'text', text: 'And this?' }, byUrl] }],
    });
    await settled(created.id);
    // the fixture's own image is measured from its header: only the image given by URL is estimated
    const summary = await ok('context_summary', { id: created.id, estimates: true });
    expect(summary.estimated).toMatchObject({ items: 1, parts: [{ index: items.length, paths: ['content[1]'] }] });
    expect(summary.estimated.tokens).toBeGreaterThan(0);
    const rest = await api(suite.app.url, `/api/v1/contexts/${created.id}/summary?estimates=true`);
    expect(summary.estimated).toEqual(rest.json.estimated);
    expect((await ok('context_summary', { id: created.id, estimates: false })).estimated).toBeUndefined();
    expect((await ok('context_summary', { id: created.id })).estimated).toBeUndefined();
    const refused = await client.callTool({ name: 'context_summary', arguments: { id: created.id, estimates: 'yes' } });
    expect(refused.isError).toBe(true);
  });
});
