// Contexts in providers' formats, end to end against real `ctxvault api` and `ctxvault worker`
// processes: created, read, appended, searched, summarised, truncated and converted over REST (over
// MCP: formats-mcp.e2e.test.ts).
import { describe, expect, it } from 'vitest';
import { FIXTURES, HOSTED_TOOL_FIXTURES, openaiChat } from '../../packages/formats/src/fixtures/transcripts.ts';
import { type Format, itemSchemaOf, TARGET_FORMATS } from '../../packages/formats/src/index.ts';
import { api, type JsonAnswer, waitUntilSettled } from '../helpers/contexts.ts';
import { asSent, expectValid, FORMATS, MORE } from '../helpers/formats.ts';
import { useSuite } from '../helpers/suite.ts';

const suite = useSuite();

async function create(format: string, extra: Record<string, unknown> = {}): Promise<JsonAnswer> {
  const { items, system } = FIXTURES[format as keyof typeof FIXTURES];
  const res = await api(suite.app.url, '/api/v1/contexts', {
    method: 'POST',
    json: {
      agent_id: `formats-${format}`,
      model_id: 'gpt-4o',
      format,
      content: items,
      ...(system && { system }),
      ...extra,
    },
  });
  expect(res.status, res.text).toBeLessThan(300);
  const id = res.json.id as string;
  await waitUntilSettled(suite.app.url, id);
  return (await api(suite.app.url, `/api/v1/contexts/${id}`)).json;
}

describe('contexts in every format over REST', () => {
  it.each(FORMATS)('stores a %s transcript as sent and shows its format', async (format) => {
    const context = await create(format);
    expect(context.format).toBe(format);
    expect(context.content).toEqual(format === 'ctxvault' ? expect.any(Array) : asSent(FIXTURES[format].items));
    expect(context.message_count).toBe(FIXTURES[format].items.length);
    expect(context.current_tokens).toBeGreaterThan(0);
    if (format === 'anthropic.messages') expect(context.system).toBe(FIXTURES[format].system);
    const listed = await api(suite.app.url, `/api/v1/contexts?format=${format}`);
    expect(listed.json.items.map((c: JsonAnswer) => c.id)).toContain(context.id);
    expect(listed.json.items.every((c: JsonAnswer) => c.format === format)).toBe(true);
  });

  it.each(FORMATS)('round-trips a %s transcript byte for byte (NDJSON, as sent)', async (format) => {
    const { items, system } = FIXTURES[format];
    // spacing no re-serialization would keep
    const lines = items.map((item) => JSON.stringify(item).replace(/":/g, '" : '));
    const envelope = { agent_id: `bytes-${format}`, format, ...(system && { system }) };
    const created = await api(suite.app.url, '/api/v1/contexts', {
      method: 'POST',
      headers: { 'content-type': 'application/x-ndjson' },
      body: [JSON.stringify(envelope), ...lines].join('\n'),
    });
    expect(created.status, created.text).toBeLessThan(300);
    await waitUntilSettled(suite.app.url, created.json.id);
    const read = await api(suite.app.url, `/api/v1/contexts/${created.json.id}`);
    for (const line of lines) expect(read.text).toContain(line);
    expect(read.json.content).toEqual(lines.map((line) => JSON.parse(line)));
  });

  it('refuses items that do not follow the format, naming the path, and changes nothing', async () => {
    const bad = await api(suite.app.url, '/api/v1/contexts', {
      method: 'POST',
      json: { agent_id: 'bad', format: 'openai.chat', content: [{ role: 'tool', content: '42' }] },
    });
    expect(bad.status).toBe(400);
    expect(bad.json.error.details.map((d: JsonAnswer) => d.path)).toEqual(['content.0.tool_call_id']);
    const context = await create('anthropic.messages');
    const append = (items: unknown[], type = 'application/json') =>
      api(suite.app.url, `/api/v1/contexts/${context.id}/items`, {
        method: 'POST',
        headers: { 'content-type': type },
        body: type === 'application/json' ? JSON.stringify({ items }) : items.map((i) => JSON.stringify(i)).join('\n'),
      });
    const wrong = await append([{ role: 'user', content: [{ type: 'tool_result' }] }]);
    expect(wrong.status).toBe(400);
    expect(wrong.json.error.details.map((d: JsonAnswer) => d.path)).toEqual(['items.0.content.0.tool_use_id']);
    const streamed = await append(
      [
        { role: 'user', content: 'ok' },
        { role: 'tool', content: 'no' },
      ],
      'application/x-ndjson',
    );
    expect(streamed.status).toBe(400);
    expect(streamed.json.error.details.map((d: JsonAnswer) => d.path)).toEqual(['line 2.role']);
    expect((await api(suite.app.url, `/api/v1/contexts/${context.id}`)).json.version).toBe(1);
    const good = await append([{ role: 'user', content: 'One more question.' }], 'application/x-ndjson');
    expect(good.status, good.text).toBeLessThan(300);
  });

  it('counts, searches and summarises through the format: an Anthropic tool_result turn is a tool item', async () => {
    const context = await create('anthropic.messages', { model_id: 'claude-sonnet-4' });
    const summary = (await api(suite.app.url, `/api/v1/contexts/${context.id}/summary`)).json;
    expect(summary.roles.tool.items).toBe(1);
    expect(summary.roles.user.items).toBe(3);
    const found = await api(suite.app.url, `/api/v1/contexts/${context.id}/search`, {
      method: 'POST',
      json: { query: 'Europe/Paris', roles: ['assistant'] },
    });
    expect(found.json.matches.map((m: JsonAnswer) => m.index)).toEqual([1]);
    // its image is measured from its header: nothing estimated, until an image given only by URL
    const estimates = `/api/v1/contexts/${context.id}/summary?estimates=true`;
    expect((await api(suite.app.url, estimates)).json.estimated).toEqual({ items: 0, tokens: 0, parts: [] });
    const url = { type: 'image', source: { type: 'url', url: 'https://example.org/a.png' } };
    const appended = await api(suite.app.url, `/api/v1/contexts/${context.id}/items`, {
      method: 'POST',
      json: { items: [{ role: 'user', content: [{ type: 'text', text: 'And this?' }, url] }] },
    });
    expect(appended.status, appended.text).toBeLessThan(300);
    await waitUntilSettled(suite.app.url, context.id);
    const { estimated } = (await api(suite.app.url, estimates)).json;
    expect(estimated).toMatchObject({
      items: 1,
      parts: [{ index: FIXTURES['anthropic.messages'].items.length, paths: ['content[1]'] }],
    });
    expect(estimated.tokens).toBeGreaterThan(0);
    expect((await api(suite.app.url, `/api/v1/contexts/${context.id}/summary`)).json.estimated).toBeUndefined();
    expect((await api(suite.app.url, `${estimates.split('?')[0]}?estimates=maybe`)).status).toBe(400);
  });

  it('truncates to budgets without splitting a tool call from its results, and says the boundary moved', async () => {
    const context = await create('openai.chat');
    for (const max of [50, 200, 400, 800]) {
      for (const strategy of ['oldest_first', 'preserving_user']) {
        const read = (await api(suite.app.url, `/api/v1/contexts/${context.id}?max_tokens=${max}&strategy=${strategy}`))
          .json;
        const roles = read.content.map((m: JsonAnswer) => m.role);
        expect(roles[0]).toBe('developer');
        const calls = read.content.flatMap((m: JsonAnswer) => (m.tool_calls ?? []).map((c: JsonAnswer) => c.id));
        const results = read.content
          .filter((m: JsonAnswer) => m.role === 'tool')
          .map((m: JsonAnswer) => m.tool_call_id);
        expect(results).toEqual(calls);
        expect(read.window.returned + read.window.dropped).toBe(openaiChat.length);
      }
    }
    const last = (await api(suite.app.url, `/api/v1/contexts/${context.id}?last=6`)).json;
    expect(last.content.map((m: JsonAnswer) => m.role)).toEqual([
      'developer',
      'assistant',
      'user',
      'assistant',
      'user',
      'assistant',
    ]);
    expect(last.window).toMatchObject({ returned: 6, boundary_dropped: 1 });
  });

  it('reads an OpenAI context as Anthropic and back, and answers 422 naming what cannot convert', async () => {
    const context = await create('openai.chat');
    const anthropic = await api(suite.app.url, `/api/v1/contexts/${context.id}?as=anthropic.messages&last=2`);
    expect(anthropic.status, anthropic.text).toBe(200);
    expect(anthropic.json).toMatchObject({
      format: 'anthropic.messages',
      system: 'You are a travel assistant. Use the tools for live data.',
    });
    expect(anthropic.json.content).toEqual([
      { role: 'user', content: [{ type: 'text', text: 'Fine. Which city is warmer?' }] },
      { role: 'assistant', content: [{ type: 'text', text: 'Tokyo, by 6 °C.' }] },
    ]);
    // a window opening on the assistant gets a user turn first, which the window reports
    const opened = await api(suite.app.url, `/api/v1/contexts/${context.id}?as=anthropic.messages&last=1`);
    expect(opened.json.content).toEqual([
      { role: 'user', content: [{ type: 'text', text: '[earlier conversation omitted]' }] },
      { role: 'assistant', content: [{ type: 'text', text: 'Tokyo, by 6 °C.' }] },
    ]);
    expect(opened.json.window).toMatchObject({ returned: 2, inserted_user_turn: true });
    expect(anthropic.json.window.inserted_user_turn).toBeUndefined();
    const refused = await api(suite.app.url, `/api/v1/contexts/${context.id}?as=anthropic.messages`);
    expect(refused.status).toBe(422);
    expect(refused.json.error).toMatchObject({
      code: 'unconvertible',
      details: { item: 7, path: 'refusal', part: 'a refusal' },
    });
    const model = await api(suite.app.url, `/api/v1/contexts/${context.id}?as=ai-sdk.model&last=2`);
    expect(model.status, model.text).toBe(200);
    expect(model.json.format).toBe('ai-sdk.model');

    const claude = await create('anthropic.messages');
    const thinking = await api(suite.app.url, `/api/v1/contexts/${claude.id}?as=openai.chat`);
    expect(thinking.status).toBe(422);
    expect(thinking.json.error.details).toMatchObject({ item: 1, path: 'content[0]', part: 'a reasoning part' });
  });
});

describe('an openai.responses item_reference without its type', () => {
  it('is stored byte for byte, counted, kept by truncation, and refused by ?as= naming the part', async () => {
    // the SDK's ItemReference: `type` may be left out or null
    const items = [
      '{"role":"user","content":"Go on."}',
      '{ "id" : "msg_0123456789abcdef" }',
      '{"id":"rs_42","type":null}',
      '{"type":"item_reference","id":"fc_7"}',
      '{"role":"user","content":"Thanks."}',
    ];
    const created = await api(suite.app.url, '/api/v1/contexts', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: `{"agent_id":"refs","format":"openai.responses","content":[${items.join(',')}]}`,
    });
    expect(created.status, created.text).toBeLessThan(300);
    await waitUntilSettled(suite.app.url, created.json.id);
    const path = `/api/v1/contexts/${created.json.id}`;
    const read = await api(suite.app.url, path);
    expect(read.json.content).toHaveLength(items.length);
    for (const item of items) expect(read.text).toContain(item);
    const summary = (await api(suite.app.url, `${path}/summary`)).json;
    expect(summary.roles.assistant.items).toBe(3);
    const last = (await api(suite.app.url, `${path}?last=3`)).json;
    expect(last.content).toEqual(items.slice(2).map((item) => JSON.parse(item)));
    for (const target of TARGET_FORMATS) {
      const refused = await api(suite.app.url, `${path}?as=${target}`);
      expect(refused.status, refused.text).toBe(422);
      expect(refused.json.error).toMatchObject({
        code: 'unconvertible',
        details: { item: 1, path: '', part: 'a item_reference part' },
      });
    }
    // an untyped item with other fields is no reference: refused, naming the item
    const bad = await api(suite.app.url, '/api/v1/contexts', {
      method: 'POST',
      json: { agent_id: 'refs', format: 'openai.responses', content: [{ id: 'msg_1', status: 'completed' }] },
    });
    expect(bad.status, bad.text).toBe(400);
    expect(bad.text).toContain('content');
  });
});

describe('every format through every call', () => {
  it.each(FORMATS)('%s: appended, searched, summarised, truncated on write and read, converted', async (format) => {
    const context = await create(format);
    const appended = await api(suite.app.url, `/api/v1/contexts/${context.id}/items`, {
      method: 'POST',
      json: { items: [MORE[format]] },
    });
    expect(appended.status, appended.text).toBeLessThan(300);
    await waitUntilSettled(suite.app.url, context.id);
    const total = FIXTURES[format].items.length + 1;

    const found = await api(suite.app.url, `/api/v1/contexts/${context.id}/search`, {
      method: 'POST',
      json: { query: 'ZEBRA' },
    });
    expect(found.json.matches.map((m: JsonAnswer) => m.index)).toEqual([total - 1]);
    const summary = (await api(suite.app.url, `/api/v1/contexts/${context.id}/summary`)).json;
    const counted = Object.values(summary.roles as Record<string, { items: number }>).reduce((n, r) => n + r.items, 0);
    expect(counted).toBe(total);

    for (const max of [60, 250, 100_000]) {
      const read = (await api(suite.app.url, `/api/v1/contexts/${context.id}?max_tokens=${max}`)).json;
      expectValid(format, read.content);
      expect(read.window.returned).toBe(read.content.length);
    }
    // a truncating write stores a valid transcript
    const { items, system } = FIXTURES[format];
    const cut = await api(suite.app.url, '/api/v1/contexts', {
      method: 'POST',
      json: {
        agent_id: 'cut',
        format,
        ...(system && { system }),
        content: items,
        max_tokens: 150,
        truncate: 'preserving_user',
      },
    });
    expect(cut.status, cut.text).toBeLessThan(300);
    await waitUntilSettled(suite.app.url, cut.json.id);
    expectValid(format, (await api(suite.app.url, `/api/v1/contexts/${cut.json.id}`)).json.content);

    for (const target of TARGET_FORMATS) {
      const read = await api(suite.app.url, `/api/v1/contexts/${context.id}?as=${target}`);
      if (read.status === 200) {
        expect(read.json.format).toBe(target);
        for (const item of read.json.content) expect(itemSchemaOf(target).safeParse(item).error).toBeUndefined();
      } else {
        expect(read.status, read.text).toBe(422);
        expect(read.json.error.details).toMatchObject({ from: format, to: target, item: expect.any(Number) });
      }
    }
  });
});

describe('hosted and server tools over REST', () => {
  it.each(Object.keys(HOSTED_TOOL_FIXTURES) as Format[])(
    '%s: stored as sent, counted, truncated in pairs, refused by ?as= naming the part',
    async (format) => {
      const { items } = HOSTED_TOOL_FIXTURES[format]!;
      const created = await api(suite.app.url, '/api/v1/contexts', {
        method: 'POST',
        json: { agent_id: `hosted-${format}`, model_id: 'gpt-4o', format, content: items },
      });
      expect(created.status, created.text).toBeLessThan(300);
      await waitUntilSettled(suite.app.url, created.json.id);
      const path = `/api/v1/contexts/${created.json.id}`;
      expect((await api(suite.app.url, path)).json.content).toEqual(asSent(items));
      const summary = (await api(suite.app.url, `${path}/summary`)).json;
      const roles = Object.values(summary.roles as Record<string, { items: number; tokens: number }>);
      expect(roles.reduce((n, r) => n + r.items, 0)).toBe(items.length);
      expect(summary.current_tokens).toBeGreaterThan(0);
      for (const max of [80, 300, 900]) {
        for (const strategy of ['oldest_first', 'preserving_user']) {
          const read = (await api(suite.app.url, `${path}?max_tokens=${max}&strategy=${strategy}`)).json;
          expectValid(format, read.content);
        }
      }
      const refused = await api(suite.app.url, `${path}?as=openai.chat`);
      expect(refused.status).toBe(422);
      expect(refused.json.error.details).toMatchObject({ item: 1, from: format, to: 'openai.chat' });
      expect(refused.json.error.details.part).toMatch(/web_search_call|server_tool_use/);
    },
  );
});
