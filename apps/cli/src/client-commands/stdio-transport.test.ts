import { PassThrough } from 'node:stream';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import { describe, expect, it } from 'vitest';
import { idOf, StdioTransport } from './stdio-transport.ts';

async function run(input: string[], maxBytes = 1024) {
  const stdin = new PassThrough();
  const stdout = new PassThrough();
  const transport = new StdioTransport(maxBytes, 'limits.max_body_bytes', stdin, stdout);
  const received: JSONRPCMessage[] = [];
  const errors: string[] = [];
  transport.onmessage = (message) => received.push(message);
  transport.onerror = (error) => errors.push(error.message);
  await transport.start();
  for (const part of input) stdin.write(part);
  await new Promise((resolve) => setImmediate(resolve));
  const written = String(stdout.read() ?? '');
  const answers = written
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line));
  return { received, errors, answers, transport, stdin };
}

describe('StdioTransport', () => {
  it('passes on each JSON-RPC message, whatever the chunks', async () => {
    const ping = { jsonrpc: '2.0', id: 1, method: 'ping' };
    const note = { jsonrpc: '2.0', method: 'notifications/initialized' };
    const text = `${JSON.stringify(ping)}\r\n${JSON.stringify(note)}\n`;
    const { received, answers, errors } = await run([text.slice(0, 10), text.slice(10, 30), text.slice(30)]);
    expect(received).toEqual([ping, note]);
    expect(answers).toEqual([]);
    expect(errors).toEqual([]);
  });

  it('answers a message over the limit with an Invalid Request error naming the limit and its id, then goes on', async () => {
    const big = JSON.stringify({ method: 'tools/call', params: { pad: 'x'.repeat(5000) }, jsonrpc: '2.0', id: 42 });
    const { received, answers, errors } = await run([
      big.slice(0, 3000),
      big.slice(3000),
      '\n{"jsonrpc":"2.0","id":2,"method":"ping"}\n',
    ]);
    const message = `message of ${big.length} bytes is over limits.max_body_bytes (1024 bytes)`;
    expect(answers).toEqual([{ jsonrpc: '2.0', id: 42, error: { code: -32600, message } }]);
    expect(errors).toEqual([message]);
    expect(received).toEqual([{ jsonrpc: '2.0', id: 2, method: 'ping' }]);
  });

  it('answers what is not JSON with a Parse error, and what is not JSON-RPC with an Invalid Request error', async () => {
    const { received, answers } = await run(['{"jsonrpc":\n', '{"jsonrpc":"1.0","id":"a","method":"x"}\n', '  \n']);
    expect(received).toEqual([]);
    expect(answers).toMatchObject([
      { jsonrpc: '2.0', id: null, error: { code: -32700, message: expect.stringContaining('message is not JSON') } },
      {
        jsonrpc: '2.0',
        id: 'a',
        error: { code: -32600, message: expect.stringContaining('not a JSON-RPC 2.0 message') },
      },
    ]);
  });

  it('stops reading when closed', async () => {
    const { transport, stdin, received } = await run([]);
    let closed = false;
    transport.onclose = () => {
      closed = true;
    };
    await transport.close();
    stdin.write('{"jsonrpc":"2.0","id":1,"method":"ping"}\n');
    await new Promise((resolve) => setImmediate(resolve));
    expect(closed).toBe(true);
    expect(received).toEqual([]);
  });
});

describe('idOf', () => {
  it.each([
    ['{"jsonrpc":"2.0","id":5,"method":"tools/call","params":{', '', 5],
    ['{ "id" : "req-\\"1", "jsonrpc":"2.0"', '', 'req-"1'],
    ['{"method":"tools/call","params":{"a":', '"x"}},"jsonrpc":"2.0","id":12}', 12],
    ['{"method":"m","params":{', '"id":3}}', null],
    ['{"method":"m","params":{', '"id":3}, "other":1}', null],
    ['{"method":"m"', '"x\\",\\"id\\":4}"}', null],
  ])('%s … %s is %s', (head, tail, id) => {
    expect(idOf(head, tail)).toBe(id);
  });
});
