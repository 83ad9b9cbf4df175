// The client SDK (@ctxvault/client) and the `ctxvault put/get/status/ls` commands against real
// `ctxvault api` and `ctxvault worker` processes on Postgres, Redis and S3; with them the REST side
// of issue 6: NDJSON creates, token counts, partial reads and truncation on writes.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  ConflictError,
  type ContextItem,
  CtxvaultClient,
  InvalidRequestError,
  NotFoundError,
  type StatusView,
} from '@ctxvault/client';
import { uploadJobId } from '@ctxvault/queue';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Item, itemsOfSize } from '../helpers/contexts.ts';
import { createApiKey } from '../helpers/credentials.ts';
import { runCtxvault } from '../helpers/processes.ts';
import { useSuite } from '../helpers/suite.ts';

const MiB = 1024 * 1024;
// the job's upload progress is under test here: large creates are staged for the worker, not
// written straight to their object by the API (test/e2e/direct-writes.e2e.test.ts)
const suite = useSuite({ env: { MCP_STORAGE_S3_DIRECT_WRITES: 'false' } });
let client: CtxvaultClient;
let dir: string;
/** the key the CLI commands send (client.api_key): tenant "cli" */
let cliKey: string;

beforeAll(async () => {
  client = new CtxvaultClient({ url: suite.app.url, apiKey: await createApiKey(suite.db.url, 'sdk', ['write']) });
  cliKey = await createApiKey(suite.db.url, 'cli', ['write']);
  dir = await mkdtemp(path.join(tmpdir(), 'ctxvault-cli-'));
});

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function count(sql: string, params: unknown[] = []): Promise<number> {
  const c = new pg.Client({ connectionString: suite.db.url });
  await c.connect();
  try {
    return Number((await c.query(sql, params)).rows[0].n);
  } finally {
    await c.end();
  }
}

const conversation: Item[] = [
  { role: 'system', content: 'You are terse.', tokens: 5 },
  { role: 'user', content: 'first question', tokens: 10 },
  { role: 'assistant', content: 'first answer', tokens: 30 },
  { role: 'tool', content: 'tool output', tokens: 40 },
  { role: 'user', content: 'second question', tokens: 10 },
  { role: 'assistant', content: 'second answer', tokens: 30 },
];

describe('the client SDK', () => {
  it('creates, reads, summarises, searches, appends, replaces and deletes, with counted tokens', async () => {
    const created = await client.create({
      agent_id: 'sdk-agent',
      model_id: 'gpt-4',
      content: [{ role: 'user', content: 'hello world' }],
    });
    if (created.state !== 'stored') throw new Error('expected a small context to be stored at once');
    // gpt-4 uses cl100k_base: "hello world" is 2 tokens
    expect(created.context).toMatchObject({ tenant_id: 'sdk', message_count: 1, current_tokens: 2 });
    const id = created.context.id;
    expect((await client.get(id)).content).toEqual([{ role: 'user', content: 'hello world' }]);

    const appended = await client.append(id, { items: [{ role: 'assistant', content: 'hi' }] }, { ifVersion: 1 });
    expect(appended).toMatchObject({ state: 'stored', context: { version: 2, message_count: 2 } });
    const summary = await client.summary(id);
    expect(summary).toMatchObject({
      version: 2,
      message_count: 2,
      roles: { user: { items: 1, tokens: 2 }, assistant: { items: 1 } },
    });
    expect(summary.current_tokens).toBe(summary.roles.user.tokens + summary.roles.assistant.tokens);

    const found = await client.search(id, { query: 'HELLO' });
    expect(found.matches).toEqual([{ index: 0, item: { role: 'user', content: 'hello world' } }]);

    const replaced = await client.replace(
      id,
      { content: conversation, max_tokens: 50, truncate: 'preserving_user' },
      { ifVersion: 2 },
    );
    // system + both user turns (25) + the newer assistant answer (30) would be 55: both assistant and the tool item go
    expect(replaced).toMatchObject({
      state: 'stored',
      context: { version: 3, max_tokens: 50, current_tokens: 25, message_count: 3 },
    });
    expect((await client.get(id)).content.map((i) => i.role)).toEqual(['system', 'user', 'user']);

    await expect(client.replace(id, { content: [] }, { ifVersion: 2 })).rejects.toMatchObject({
      constructor: ConflictError,
      status: 412,
      code: 'precondition_failed',
    });
    expect(await client.delete(id)).toMatchObject({ id, status: 'deleting' });
    await expect(client.get(id)).rejects.toBeInstanceOf(NotFoundError);
  });

  it('reads the last items or a token budget (GET ?last&max_tokens&strategy), saying what it left out', async () => {
    const created = await client.create({ agent_id: 'sdk-window', content: conversation });
    if (created.state !== 'stored') throw new Error('expected stored');
    const id = created.context.id;
    const last = await client.get(id, { last: 2 });
    expect(last.content).toEqual(conversation.slice(-2));
    expect(last.window).toEqual({ returned: 2, dropped: 4, tokens: 40, boundary_dropped: 0 });

    const oldest = await client.get(id, { max_tokens: 80, strategy: 'oldest_first' });
    expect(oldest.content.map((i) => i.content)).toEqual(['tool output', 'second question', 'second answer']);
    expect(oldest.window).toEqual({ returned: 3, dropped: 3, tokens: 80, boundary_dropped: 0 });

    const preserving = await client.get(id, { max_tokens: 80, strategy: 'preserving_user' });
    expect(preserving.content.map((i) => i.role)).toEqual(['system', 'user', 'user', 'assistant']);
    expect(preserving.window).toEqual({ returned: 4, dropped: 2, tokens: 55, boundary_dropped: 0 });

    await expect(client.get(id, { strategy: 'preserving_user' })).rejects.toMatchObject({
      constructor: InvalidRequestError,
      code: 'invalid_request',
    });
    await expect(
      client.create({ agent_id: 'x', content: conversation, truncate: 'oldest_first' }),
    ).rejects.toMatchObject({
      code: 'invalid_request',
      details: [{ path: 'max_tokens', message: 'required with truncate' }],
    });
  });

  it('uploads 8 MiB as NDJSON with progress and waits until it is stored', async () => {
    const content = itemsOfSize(8 * MiB);
    const sent: number[] = [];
    const result = await client.upload({ agent_id: 'sdk-ndjson', session_id: 's-1' }, content, {
      onProgress: (bytes) => sent.push(bytes),
    });
    if (result.state !== 'pending') throw new Error('expected an 8 MiB context to be staged for upload');
    expect(sent.at(-1)).toBeGreaterThan(8 * MiB);
    const seen: StatusView[] = [];
    const final = await client.waitUntilStored(result.id, { onProgress: (s) => seen.push(s), interval: 50 });
    expect(final).toMatchObject({ status: 'stored', job: { progress: { percent: 100 } } });
    expect(seen.length).toBeGreaterThan(0);
    const read = await client.get(result.id);
    expect(read.content).toEqual(content);
    expect(read).toMatchObject({ session_id: 's-1', current_tokens: content.reduce((sum, i) => sum + i.tokens!, 0) });
    expect(await client.job(result.job_id)).toMatchObject({
      id: result.job_id,
      state: expect.stringMatching(/active|completed/),
    });

    const more = await client.appendStream(result.id, [{ role: 'user', content: 'and now?' }], { ifVersion: 1 });
    const moreId = more.state === 'stored' ? more.context.id : more.id;
    await client.waitUntilStored(moreId);
    const appended = await client.get(result.id, { last: 1 });
    expect(appended).toMatchObject({
      version: 2,
      message_count: content.length + 1,
      content: [{ role: 'user', content: 'and now?' }],
    });
  }, 120_000);

  it('refuses a bad NDJSON line with 400 naming the line, leaving nothing behind', async () => {
    const items: ContextItem[] = itemsOfSize(2 * MiB);
    (items[100] as { role: string }).role = 'narrator';
    const before = await count('select count(*) as n from staged_chunks');
    const error = await client.upload({ agent_id: 'sdk-bad-ndjson' }, items).catch((err: unknown) => err);
    expect(error).toBeInstanceOf(InvalidRequestError);
    expect(error).toMatchObject({ status: 400, code: 'invalid_request', details: [{ path: 'line 102.role' }] });
    expect((error as Error).message).toContain('line 102');
    expect(await count('select count(*) as n from contexts where agent_id = $1', ['sdk-bad-ndjson'])).toBe(0);
    expect(await count('select count(*) as n from staged_chunks')).toBe(before);
  });

  it('lists with filters, page by page', async () => {
    for (let i = 0; i < 3; i++) await client.create({ agent_id: 'sdk-list', session_id: `s-${i % 2}`, content: [] });
    const page = await client.list({ agent_id: 'sdk-list', limit: 2 });
    expect(page.items).toHaveLength(2);
    expect(page.next_cursor).toEqual(expect.any(String));
    expect((await Array.fromAsync(client.listAll({ agent_id: 'sdk-list', limit: 1 }))).length).toBe(3);
    expect((await client.list({ agent_id: 'sdk-list', session_id: 's-0' })).items).toHaveLength(2);
    await expect(client.list({ status: 'bogus' as never })).rejects.toMatchObject({ code: 'invalid_request' });
  });
});

describe('the ctxvault CLI', () => {
  const env = () => ({ MCP_CLIENT_URL: suite.app.url, MCP_CLIENT_API_KEY: cliKey });

  it('puts a 6 MiB JSON file with progress bars and --wait, then gets, lists and shows its status', async () => {
    const content = itemsOfSize(6 * MiB);
    const file = path.join(dir, 'context.json');
    await writeFile(file, JSON.stringify({ agent_id: 'cli-agent', session_id: 'cli-s', content }));
    const put = await runCtxvault(['put', file, '--wait'], env());
    expect(put.stderr).toMatch(/staging\s+\[#+\]\s+100% 6\.\d \/ 6\.\d MiB/);
    expect(put.stderr).toMatch(/uploading\s+\[#+\]\s+100%/);
    expect(put.code).toBe(0);
    const written = JSON.parse(put.stdout);
    expect(written).toMatchObject({ version: 1, status: 'stored', job_id: uploadJobId(written.id, 1) });

    const status = await runCtxvault(['status', written.id], env());
    expect(JSON.parse(status.stdout)).toMatchObject({ id: written.id, status: 'stored' });

    const got = await runCtxvault(['get', written.id, '--last', '2'], env());
    expect(got.code).toBe(0);
    const doc = JSON.parse(got.stdout);
    expect(doc).toMatchObject({ id: written.id, tenant_id: 'cli', window: { returned: 2 } });
    expect(doc.content).toEqual(content.slice(-2));
    const whole = await runCtxvault(['get', written.id], env());
    expect(JSON.parse(whole.stdout).content).toHaveLength(content.length);
    const asOpenAI = await runCtxvault(['get', written.id, '--last', '1', '--as', 'openai.chat'], env());
    expect(JSON.parse(asOpenAI.stdout)).toMatchObject({
      format: 'openai.chat',
      content: [{ role: expect.any(String) }],
    });
    const badAs = await runCtxvault(['get', written.id, '--as', 'gemini'], env());
    expect(badAs.code).toBe(2);
    expect(badAs.stderr).toContain('--as must be one of openai.chat, anthropic.messages, ai-sdk.model');

    const ls = await runCtxvault(['ls', '--agent-id', 'cli-agent', '--session-id', 'cli-s'], env());
    expect(ls.stdout.split('\n')[0]).toMatch(/^ID\s+STATUS\s+VERSION\s+ITEMS\s+TOKENS/);
    expect(ls.stdout).toContain(written.id);
  }, 180_000);

  it('puts an NDJSON file, lists as JSON with --url overriding the settings, and fails clearly', async () => {
    const file = path.join(dir, 'context.ndjson');
    const lines = [{ agent_id: 'cli-ndjson' }, { role: 'user', content: 'hi' }];
    await writeFile(file, lines.map((l) => JSON.stringify(l)).join('\n'));
    const put = await runCtxvault(['put', file], env());
    expect(put.code).toBe(0);
    const written = JSON.parse(put.stdout);
    expect(written).toMatchObject({ status: 'stored', job_id: null });

    const wrongUrl = { ...env(), MCP_CLIENT_URL: 'http://127.0.0.1:9' };
    const ls = await runCtxvault(['ls', '--json', '--agent-id', 'cli-ndjson', '--url', suite.app.url], wrongUrl);
    expect(JSON.parse(ls.stdout)).toMatchObject({ items: [{ id: written.id, message_count: 1 }], next_cursor: null });

    const missing = await runCtxvault(['get', '0190a4c5-0000-7000-8000-000000000000'], env());
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/^ctxvault: not_found: no context/);
    const usage = await runCtxvault(['get'], env());
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain('usage: ctxvault get ID');
  }, 180_000);
});
