import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CtxvaultClient } from './client.ts';
import {
  ConflictError,
  ConnectionError,
  ContextFailedError,
  CtxvaultApiError,
  IncompleteResponseError,
  NotFoundError,
  WaitTimeoutError,
} from './errors.ts';

/** A fetch that answers from a list of canned responses and records the requests. */
function fakeFetch(responses: (() => Response)[]) {
  const requests: { url: string; init: RequestInit }[] = [];
  const fetch = (async (url: string, init: RequestInit) => {
    requests.push({ url, init });
    const next = responses.shift();
    if (!next) throw new Error('no more responses');
    return next();
  }) as unknown as typeof globalThis.fetch;
  return { fetch, requests };
}

const json =
  (status: number, body: unknown, headers: Record<string, string> = {}) =>
  () =>
    new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json', ...headers } });

const status = (state: string, extra: object = {}) =>
  json(200, { id: 'c1', version: 1, status: state, last_error: null, job: null, ...extra });

describe('CtxvaultClient', () => {
  it('sends the tenant, If-Match and query, and tells stored from pending writes', async () => {
    const { fetch, requests } = fakeFetch([
      json(202, { id: 'c1', version: 2, status: 'pending', job_id: 'upload-c1-v2' }),
      json(200, { items: [], next_cursor: null }),
    ]);
    const client = new CtxvaultClient({ url: 'http://vault:8080/', tenant: 't1', fetch });
    expect(await client.append('c1', { items: [{ role: 'user', content: 'x' }] }, { ifVersion: 1 })).toEqual({
      state: 'pending',
      id: 'c1',
      version: 2,
      job_id: 'upload-c1-v2',
    });
    await client.list({ agent_id: 'a b', limit: 5 });
    expect(requests[0]!.url).toBe('http://vault:8080/api/v1/contexts/c1/items');
    expect(requests[0]!.init.headers).toMatchObject({
      'x-tenant-id': 't1',
      'if-match': '"1"',
      'content-type': 'application/json',
    });
    expect(requests[1]!.url).toBe('http://vault:8080/api/v1/contexts?agent_id=a+b&limit=5');
  });

  it('throws typed errors carrying the API code, details and request id', async () => {
    const { fetch } = fakeFetch([
      json(404, { error: { code: 'not_found', message: 'no context c1' } }, { 'x-request-id': 'r-1' }),
      json(412, { error: { code: 'precondition_failed', message: 'stale', details: { current_version: 3 } } }),
      () => new Response('<html>bad gateway</html>', { status: 502 }),
    ]);
    const client = new CtxvaultClient({ url: 'http://vault', fetch });
    await expect(client.get('c1')).rejects.toEqual(
      expect.objectContaining({ constructor: NotFoundError, status: 404, code: 'not_found', requestId: 'r-1' }),
    );
    await expect(client.delete('c1', { ifVersion: 2 })).rejects.toMatchObject({
      constructor: ConflictError,
      code: 'precondition_failed',
      details: { current_version: 3 },
    });
    const proxy = await client.status('c1').catch((err: unknown) => err);
    expect(proxy).toBeInstanceOf(CtxvaultApiError);
    expect(proxy).toMatchObject({ status: 502, code: 'http_502', message: '<html>bad gateway</html>' });
  });

  it('names the server it cannot reach', async () => {
    const fetch = (async () => {
      throw new TypeError('fetch failed', { cause: { code: 'ECONNREFUSED' } });
    }) as unknown as typeof globalThis.fetch;
    await expect(new CtxvaultClient({ url: 'http://vault:1', fetch }).status('c1')).rejects.toMatchObject({
      constructor: ConnectionError,
      message: 'cannot reach ctxvault at http://vault:1/api/v1: ECONNREFUSED',
    });
  });

  it('streams an NDJSON upload, the envelope first, reporting bytes sent', async () => {
    let body = '';
    const fetch = (async (_url: string, init: RequestInit) => {
      body = await new Response(init.body).text();
      expect(init.headers).toMatchObject({ 'content-type': 'application/x-ndjson' });
      return json(202, { id: 'c1', version: 1, status: 'pending', job_id: 'j' })();
    }) as unknown as typeof globalThis.fetch;
    const sent: number[] = [];
    const items = [
      { role: 'user' as const, content: 'a' },
      { role: 'assistant' as const, content: 'b' },
    ];
    await new CtxvaultClient({ url: 'http://vault', fetch }).upload({ agent_id: 'x' }, items, {
      onProgress: (n) => sent.push(n),
    });
    expect(body).toBe('{"agent_id":"x"}\n{"role":"user","content":"a"}\n{"role":"assistant","content":"b"}\n');
    expect(sent.at(-1)).toBe(Buffer.byteLength(body));
  });

  it('streams an NDJSON append without an envelope, conditionally', async () => {
    let body = '';
    let headers: RequestInit['headers'];
    const fetch = (async (_url: string, init: RequestInit) => {
      body = await new Response(init.body).text();
      headers = init.headers;
      return json(200, { id: 'c1', version: 3 })();
    }) as unknown as typeof globalThis.fetch;
    await new CtxvaultClient({ url: 'http://vault', fetch }).appendStream('c1', [{ role: 'user', content: 'a' }], {
      ifVersion: 2,
    });
    expect(body).toBe('{"role":"user","content":"a"}\n');
    expect(headers).toMatchObject({ 'content-type': 'application/x-ndjson', 'if-match': '"2"' });
  });

  it('waitUntilStored reports each status and returns once stored', async () => {
    const { fetch } = fakeFetch([status('pending'), status('pending'), status('stored')]);
    const seen: string[] = [];
    const final = await new CtxvaultClient({ url: 'http://vault', fetch }).waitUntilStored('c1', {
      interval: 1,
      onProgress: (s) => seen.push(s.status),
    });
    expect(final.status).toBe('stored');
    expect(seen).toEqual(['pending', 'pending', 'stored']);
  });

  it('waitUntilStored fails with the reason of a failed upload, or on timeout', async () => {
    const failed = fakeFetch([status('failed', { last_error: 'access denied' })]);
    await expect(
      new CtxvaultClient({ url: 'http://vault', fetch: failed.fetch }).waitUntilStored('c1'),
    ).rejects.toMatchObject({
      constructor: ContextFailedError,
      reason: 'access denied',
    });
    const slow = fakeFetch(Array.from({ length: 10 }, () => status('pending')));
    await expect(
      new CtxvaultClient({ url: 'http://vault', fetch: slow.fetch }).waitUntilStored('c1', {
        timeout: 30,
        interval: 10,
      }),
    ).rejects.toBeInstanceOf(WaitTimeoutError);
  });
});

describe('a body cut off on the way', () => {
  /** A real HTTP server that starts a JSON answer and stops: by closing the stream early, or the socket. */
  async function cuttingServer(cut: 'end' | 'socket'): Promise<{ url: string; close(): Promise<void> }> {
    const server = createServer((_req, res) => {
      const partial = '{"id":"c1","version":1,"content":[{"role":"user","content":"hel';
      if (cut === 'end') {
        // chunked, ended cleanly: the JSON is simply incomplete
        res.writeHead(200, { 'content-type': 'application/json' });
        res.write(partial);
        res.end();
      } else {
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(partial.length * 2) });
        res.write(partial, () => res.socket?.destroy());
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    return {
      url: `http://127.0.0.1:${port}`,
      close: () => new Promise((resolve) => server.close(() => resolve())),
    };
  }

  it.each(['end', 'socket'] as const)('is an IncompleteResponseError, not a raw SyntaxError (%s)', async (cut) => {
    const server = await cuttingServer(cut);
    try {
      const client = new CtxvaultClient({ url: server.url });
      const thrown = await client.get('c1').catch((err: unknown) => err);
      expect(thrown).toBeInstanceOf(IncompleteResponseError);
      expect((thrown as Error).message).toContain('GET /contexts/c1');
    } finally {
      await server.close();
    }
  });
});

describe('an answer that breaks off', () => {
  // a real HTTP server that starts a chunked 200 and cuts the connection before its last chunk,
  // as the API does when a read of the blob store fails midway
  let server: Server;
  let url: string;
  beforeAll(async () => {
    server = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'x-request-id': 'req-42' });
      res.write('{"id":"c1","content":[\n{"role":"user","content":"hel');
      setTimeout(() => res.socket?.destroy(), 20);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('fails get with IncompleteResponseError naming the call, the bytes received and the request id', async () => {
    const error = await new CtxvaultClient({ url }).get('c1').catch((err: unknown) => err);
    expect(error).toBeInstanceOf(IncompleteResponseError);
    expect(error).toMatchObject({ code: 'incomplete_response', requestId: 'req-42', receivedBytes: 52 });
    expect((error as Error).message).toMatch(/GET \/contexts\/c1 broke off after 52 bytes.*request id req-42/);
  });

  it('fails the iteration of download after the bytes that arrived', async () => {
    const body = await new CtxvaultClient({ url }).download('c1');
    const received: Uint8Array[] = [];
    const error = await (async () => {
      for await (const chunk of body) received.push(chunk);
    })().catch((err: unknown) => err);
    expect(error).toBeInstanceOf(IncompleteResponseError);
    expect(Buffer.concat(received).length).toBe(52);
  });
});
