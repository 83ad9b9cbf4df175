// MCP end to end: the official SDK client over Streamable HTTP (/mcp) and over stdio (`ctxvault mcp`),
// and the MCP Inspector's CLI, against real `ctxvault api` and `ctxvault worker` processes.
import { execFile, spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { ContextView } from '@ctxvault/core';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Item, type JsonAnswer, proseItemsOfSize, sha256 } from '../helpers/contexts.ts';
import { bearer, createApiKey } from '../helpers/credentials.ts';
import { CLI_ARGS, cliEnv, freePort } from '../helpers/processes.ts';
import { useSuite } from '../helpers/suite.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const MiB = 1024 * 1024;
const TOOLS = [
  'context_append',
  'context_create',
  'context_delete',
  'context_fork',
  'context_get',
  'context_list',
  'context_replace',
  'context_restore',
  'context_search',
  'context_status',
  'context_summary',
  'context_versions',
];

// the job's upload progress is under test here: large creates are staged for the worker, not
// written straight to their object by the API (test/e2e/direct-writes.e2e.test.ts)
const suite = useSuite({ env: { MCP_STORAGE_S3_DIRECT_WRITES: 'false' } });
/** each transport speaks for a tenant of its own, with an API key of it */
const keys = { http: '', stdio: '' };
beforeAll(async () => {
  keys.http = await createApiKey(suite.db.url, 'mcp-http', ['write']);
  keys.stdio = await createApiKey(suite.db.url, 'mcp-stdio', ['write']);
});

async function call(client: Client, name: string, args: Record<string, unknown>): Promise<JsonAnswer> {
  const result = await client.callTool({ name, arguments: args }, undefined, { timeout: 120_000 });
  if (result.isError) throw new Error(`${name} failed: ${JSON.stringify(result.content)}`);
  return result.structuredContent;
}

const transports: [string, () => Transport][] = [
  [
    'Streamable HTTP',
    () =>
      new StreamableHTTPClientTransport(new URL(`${suite.app.url}/mcp`), {
        requestInit: { headers: bearer(keys.http) },
      }),
  ],
  [
    'stdio (ctxvault mcp)',
    () =>
      new StdioClientTransport({
        command: process.execPath,
        args: [...CLI_ARGS, 'mcp'],
        env: {
          PATH: process.env.PATH ?? '',
          HOME: process.env.HOME ?? '/tmp',
          MCP_CLIENT_URL: suite.app.url,
          MCP_CLIENT_API_KEY: keys.stdio,
        },
        stderr: 'inherit',
        // a whole 20 MiB context comes back as one message
        maxBufferSize: 128 * MiB,
      }),
  ],
];

describe.each(transports)('the SDK client over %s', (_name, transport) => {
  let client: Client;
  const content = proseItemsOfSize(20 * MiB);
  content[700] = { role: 'user', content: 'where did I put the needle-7f3a in this haystack?' };
  let id: string;

  beforeAll(async () => {
    client = new Client({ name: 'ctxvault-e2e', version: '1.0.0' });
    await client.connect(transport());
  });

  afterAll(async () => {
    await client?.close();
  });

  it('lists the context tools, each with input and output schemas', async () => {
    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name).sort()).toEqual(TOOLS);
    for (const tool of tools) {
      expect(tool.inputSchema.type).toBe('object');
      expect(tool.outputSchema?.type).toBe('object');
    }
    const create = tools.find((t) => t.name === 'context_create')!;
    expect(create.inputSchema.required).toContain('agent_id');
  });

  it('creates a 20 MiB context, waits until it is stored, reads it back and searches it', async () => {
    const started = performance.now();
    const created = await call(client, 'context_create', { agent_id: 'mcp-agent', model_id: 'gpt-4o', content });
    expect(created).toMatchObject({ status: 'pending', version: 1, context: null });
    id = created.id;
    let status: JsonAnswer;
    const seen: string[] = [];
    for (const deadline = Date.now() + 120_000; Date.now() < deadline; await new Promise((r) => setTimeout(r, 200))) {
      status = await call(client, 'context_status', { id });
      seen.push(status.status);
      if (status.status !== 'pending') break;
    }
    expect(status).toMatchObject({ status: 'stored', job: { progress: { percent: 100 } } });
    const stored = performance.now();

    const raw = await client.callTool({ name: 'context_get', arguments: { id } }, undefined, { timeout: 120_000 });
    const read = raw.structuredContent as { content: Item[]; current_tokens: number; tokens_final: boolean };
    // too large to repeat as text; small results are
    expect((raw.content as { text: string }[])[0]!.text).toContain('too large to repeat as text');
    expect(read.content).toHaveLength(content.length);
    // the items come back as sent: no `tokens` added to them
    expect(sha256(JSON.stringify(read.content))).toBe(sha256(JSON.stringify(content)));
    // the worker counts them beside the items: current_tokens is real once final
    await expect
      .poll(async () => (await call(client, 'context_summary', { id })).tokens_final, { timeout: 60_000 })
      .toBe(true);
    const summary = await call(client, 'context_summary', { id });
    expect(summary.current_tokens).toBeGreaterThan(content.length);
    expect(summary.current_tokens).toBe(
      Object.values(summary.roles as Record<string, { tokens: number }>).reduce((sum, r) => sum + r.tokens, 0),
    );
    expect(read).toMatchObject({ status: 'stored', window: { returned: content.length, dropped: 0 } });
    const readAsText = await client.callTool({ name: 'context_get', arguments: { id, last: 1 } });
    expect(JSON.parse((readAsText.content as { text: string }[])[0]!.text)).toMatchObject({
      id,
      window: { returned: 1 },
    });

    const found = await call(client, 'context_search', { id, query: 'NEEDLE-7F3A' });
    expect(found.matches).toEqual([{ index: 700, item: expect.objectContaining({ role: 'user' }) }]);
    console.info(
      `MCP ${_name}: 20 MiB stored after ${Math.round(stored - started)} ms, read back and searched after ${Math.round(performance.now() - started)} ms`,
    );
  }, 180_000);

  it('reads only the last items, or what fits in a token budget', async () => {
    const last = await call(client, 'context_get', { id, last: 2 });
    expect(last.content.map((i: Item) => i.content)).toEqual(content.slice(-2).map((i) => i.content));
    expect(last.window).toMatchObject({ returned: 2, dropped: content.length - 2 });

    const budget = await call(client, 'context_get', { id, max_tokens: 20_000, strategy: 'preserving_user' });
    expect(budget.window.tokens).toBeLessThanOrEqual(20_000);
    expect(budget.content[0]).toMatchObject({ role: 'system' });
  });

  it('summarises, appends, replaces and deletes; lists and reads the context:// resources', async () => {
    const summary = await call(client, 'context_summary', { id });
    expect(summary.roles.system.items).toBe(1);
    expect(summary.message_count).toBe(content.length);

    const small = await call(client, 'context_create', {
      agent_id: 'mcp-agent',
      max_tokens: 8,
      content: [{ role: 'system', content: 'be brief', tokens: 2 }],
    });
    expect(small).toMatchObject({ status: 'stored', context: { current_tokens: 2 } });
    const appended = await call(client, 'context_append', {
      id: small.id,
      items: [
        { role: 'assistant', content: 'a', tokens: 4 },
        { role: 'user', content: 'u', tokens: 4 },
      ],
      truncate: 'preserving_user',
    });
    expect(appended.context).toMatchObject({ version: 2, message_count: 2, current_tokens: 6 });
    const replaced = await call(client, 'context_replace', {
      id: small.id,
      if_version: 2,
      content: [{ role: 'user', content: 'fresh' }],
    });
    expect(replaced.context).toMatchObject({ version: 3, message_count: 1 });
    const conflict = await client.callTool({
      name: 'context_replace',
      arguments: { id: small.id, if_version: 1, content: [] },
    });
    expect(conflict.isError).toBe(true);
    expect(JSON.stringify(conflict.content)).toContain('precondition_failed');

    const listed = await call(client, 'context_list', { agent_id: 'mcp-agent' });
    expect(listed.items.map((c: ContextView) => c.id)).toEqual([small.id, id]);
    const { resources } = await client.listResources();
    expect(resources.map((r) => r.uri)).toEqual([`context://${small.id}`, `context://${id}`]);
    const { resourceTemplates } = await client.listResourceTemplates();
    expect(resourceTemplates.map((t) => t.uriTemplate)).toEqual(['context://{id}']);
    const resource = await client.readResource({ uri: `context://${small.id}` });
    expect(JSON.parse((resource.contents[0] as { text: string }).text)).toMatchObject({
      id: small.id,
      content: [{ content: 'fresh' }],
    });

    expect(await call(client, 'context_delete', { id: small.id })).toMatchObject({ id: small.id, status: 'deleting' });
    const gone = await client.callTool({ name: 'context_status', arguments: { id: small.id } });
    expect(gone.isError).toBe(true);
    expect(JSON.stringify(gone.content)).toContain('not_found');
  });

  it('lists versions, reads an old one, restores it and forks', async () => {
    const made = await call(client, 'context_create', {
      agent_id: 'mcp-history',
      content: [{ role: 'user', content: 'first' }],
    });
    await call(client, 'context_append', { id: made.id, items: [{ role: 'assistant', content: 'second' }] });
    const versions = await call(client, 'context_versions', { id: made.id });
    expect(versions.items.map((v: { kind: string }) => v.kind)).toEqual(['append', 'create']);
    const old = await call(client, 'context_get', { id: made.id, version: 1 });
    expect(old).toMatchObject({ version: 1, content: [{ content: 'first' }] });
    const restored = await call(client, 'context_restore', { id: made.id, version: 1, if_version: 2 });
    expect(restored.context).toMatchObject({ version: 3, message_count: 1 });
    const fork = await call(client, 'context_fork', { id: made.id, version: 2, agent_id: 'mcp-branch' });
    expect(fork).toMatchObject({ status: 'stored', version: 1, context: { agent_id: 'mcp-branch', message_count: 2 } });
    const missing = await client.callTool({ name: 'context_get', arguments: { id: made.id, version: 9 } });
    expect(missing.isError).toBe(true);
  });

  it('restores and forks once per idempotency_key, as the REST calls do with Idempotency-Key', async () => {
    const made = await call(client, 'context_create', {
      agent_id: 'mcp-idempotent',
      content: [{ role: 'user', content: 'first' }],
    });
    await call(client, 'context_append', { id: made.id, items: [{ role: 'assistant', content: 'second' }] });
    const restore = { id: made.id, version: 1, if_version: 2, idempotency_key: `restore-${made.id}` };
    const first = await call(client, 'context_restore', restore);
    expect(first.context).toMatchObject({ version: 3, message_count: 1 });
    // the retry answers as the first call did, though if_version no longer holds, and makes no version
    const again = await call(client, 'context_restore', restore);
    expect(again).toMatchObject({ id: made.id, version: 3 });
    const versions = await call(client, 'context_versions', { id: made.id });
    expect(versions.items.map((v: { kind: string }) => v.kind)).toEqual(['restore', 'append', 'create']);
    const reused = await client.callTool({
      name: 'context_restore',
      arguments: { ...restore, version: 2 },
    });
    expect(reused.isError).toBe(true);
    expect(JSON.stringify(reused.content)).toContain('Idempotency-Key');

    const fork = { id: made.id, version: 2, agent_id: 'mcp-branch', idempotency_key: `fork-${made.id}` };
    const forked = await call(client, 'context_fork', fork);
    expect(forked).toMatchObject({ status: 'stored', version: 1 });
    expect(forked.id).not.toBe(made.id);
    expect(await call(client, 'context_fork', fork)).toMatchObject({ id: forked.id, version: 1 });
    const branches = await call(client, 'context_list', { agent_id: 'mcp-branch' });
    expect(branches.items.filter((c: { id: string }) => c.id === forked.id)).toHaveLength(1);
    const bad = await client.callTool({ name: 'context_fork', arguments: { ...fork, idempotency_key: 'no spaces' } });
    expect(bad.isError).toBe(true);
  });
});

describe('/mcp over plain HTTP', () => {
  it('is stateless: GET and DELETE answer 405', async () => {
    for (const method of ['GET', 'DELETE']) {
      const res = await fetch(`${suite.app.url}/mcp`, {
        method,
        headers: { accept: 'text/event-stream', ...suite.app.headers },
      });
      expect(res.status).toBe(405);
      expect(res.headers.get('allow')).toBe('POST');
    }
  });

  it('refuses a message over limits.max_body_bytes with 413', async () => {
    const res = await fetch(`${suite.app.url}/mcp`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
        ...suite.app.headers,
      },
      body: JSON.stringify({
        jsonrpc: '2.0',
        id: 1,
        method: 'tools/call',
        params: { name: 'context_create', arguments: { agent_id: 'x', pad: 'x'.repeat(65 * MiB) } },
      }),
    });
    expect(res.status).toBe(413);
  });
});

/**
 * `ctxvault mcp` driven over raw pipes: the test writes each message as one line to its stdin and
 * reads the lines of its stdout, so what is timed is the bridge (stdin → API → stdout), not a client's
 * own reading.
 */
function rawMcp(env: Record<string, string>) {
  const child = spawn(process.execPath, [...CLI_ARGS, 'mcp'], {
    env: cliEnv({ MCP_CLIENT_URL: suite.app.url, MCP_CLIENT_API_KEY: keys.stdio, ...env }),
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const waiting = new Map<unknown, (answer: JsonAnswer) => void>();
  let pending = '';
  child.stdout.setEncoding('utf8').on('data', (text: string) => {
    const lines = (pending + text).split('\n');
    pending = lines.pop()!;
    for (const line of lines) {
      const answer = JSON.parse(line);
      waiting.get(answer.id)?.(answer);
    }
  });
  return {
    child,
    /** sends a request as one line and resolves with the answer of its id */
    request(id: unknown, method: string, params: unknown): Promise<JsonAnswer> {
      const answered = new Promise<JsonAnswer>((resolve) => waiting.set(id, resolve));
      child.stdin.write(`${JSON.stringify({ method, params, jsonrpc: '2.0', id })}\n`);
      return answered;
    },
    async close() {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.stdin.end();
      return exited;
    },
  };
}

describe('ctxvault mcp reading large messages', () => {
  it('relays a 20 MiB message in time linear in its size', async () => {
    const mcp = rawMcp({});
    const init = await mcp.request(0, 'initialize', {
      protocolVersion: '2025-06-18',
      capabilities: {},
      clientInfo: { name: 'raw', version: '1' },
    });
    expect(init.result.serverInfo).toBeDefined();
    mcp.child.stdin.write('{"jsonrpc":"2.0","method":"notifications/initialized"}\n');
    const times: string[] = [];
    for (const [i, size] of [2 * MiB, 20 * MiB].entries()) {
      const content = proseItemsOfSize(size);
      const started = performance.now();
      const answer = await mcp.request(i + 1, 'tools/call', {
        name: 'context_create',
        arguments: { agent_id: 'mcp-raw', content },
      });
      times.push(`${size / MiB} MiB in ${Math.round(performance.now() - started)} ms`);
      expect(answer.result.isError).toBeFalsy();
      expect(answer.result.structuredContent).toMatchObject({ status: 'pending', version: 1 });
      // the whole message reached the API: every item is stored
      const id = answer.result.structuredContent.id;
      let next = 100 * (i + 1);
      const tool = async (name: string) =>
        (await mcp.request(next++, 'tools/call', { name, arguments: { id } })).result.structuredContent;
      await expect.poll(async () => (await tool('context_status')).status, { timeout: 60_000 }).toBe('stored');
      expect((await tool('context_summary')).message_count).toBe(content.length);
    }
    // timed figures are noisy on a shared machine: logged for the record, not asserted
    console.info(`ctxvault mcp relayed context_create of ${times.join(', ')}`);
    expect(await mcp.close()).toBe(0);
  }, 120_000);

  it('answers a message over limits.max_body_bytes with a JSON-RPC error naming its id, and goes on', async () => {
    const mcp = rawMcp({ MCP_LIMITS_MAX_BODY_BYTES: '1MiB' });
    const big = await mcp.request(41, 'tools/call', {
      name: 'context_create',
      arguments: { agent_id: 'too-big', content: [{ role: 'user', content: 'x'.repeat(2 * MiB) }] },
    });
    expect(big.error).toMatchObject({
      code: -32600,
      message: expect.stringContaining('over limits.max_body_bytes (1048576 bytes)'),
    });
    const init = await mcp.request(42, 'initialize', {
      protocolVersion: '2025-06-18',
      capabilities: {},
      clientInfo: { name: 'raw', version: '1' },
    });
    expect(init.result.serverInfo).toBeDefined();
    expect(await mcp.close()).toBe(0);
  });
});

describe('ctxvault mcp without a reachable API', () => {
  it('answers requests with an error naming the URL it relays to', async () => {
    const port = await freePort();
    const client = new Client({ name: 'ctxvault-e2e', version: '1.0.0' });
    const transport = new StdioClientTransport({
      command: process.execPath,
      args: [...CLI_ARGS, 'mcp', '--url', `http://127.0.0.1:${port}`],
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp' },
      stderr: 'ignore',
    });
    await expect(client.connect(transport)).rejects.toThrow(`ctxvault at http://127.0.0.1:${port}/mcp`);
    await client.close();
  });
});

describe('the MCP Inspector CLI', () => {
  const inspector = path.join(ROOT, 'test/node_modules/.bin/mcp-inspector');
  const run = async (...args: string[]) => {
    const { stdout } = await promisify(execFile)(
      inspector,
      [
        '--cli',
        `${suite.app.url}/mcp`,
        '--transport',
        'http',
        '--header',
        `authorization: ${suite.app.headers.authorization}`,
        ...args,
      ],
      { timeout: 60_000 },
    );
    return JSON.parse(stdout);
  };

  it('lists the tools', async () => {
    const { tools } = await run('--method', 'tools/list');
    expect(tools.map((t: { name: string }) => t.name).sort()).toEqual(TOOLS);
  });

  it('calls a tool', async () => {
    const result = await run(
      '--method',
      'tools/call',
      '--tool-name',
      'context_create',
      '--tool-arg',
      'agent_id=inspector',
    );
    expect(result.isError).toBeFalsy();
    expect(result.structuredContent).toMatchObject({
      status: 'stored',
      context: { agent_id: 'inspector', message_count: 0 },
    });
  });
});
