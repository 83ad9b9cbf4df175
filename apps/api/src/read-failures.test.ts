// How failures of the blob store reach a reader: before the answer starts, a 503 naming the store;
// after it started, an aborted response (never a clean end), logged with the request id.

import { type ContextService, type ContextView, NotFoundError } from '@ctxvault/core';
import { BlobStoreError } from '@ctxvault/storage';
import { describe, expect, it, vi } from 'vitest';
import { createApp } from './app.ts';
import { FIRST_PIECE_BYTES } from './streamed-body.ts';
import { unitApiDeps } from './unit-api-deps.ts';

const ID = '0192d5e4-8a7b-7c3d-9e1f-2a3b4c5d6e7f';
const reset = () =>
  new BlobStoreError(
    'connection_reset',
    'the connection to S3 at http://s3.test was cut: aborted',
    'check the network to the S3 server at storage.s3.endpoint (MCP_STORAGE_S3_ENDPOINT)',
  );

function appReading(body: () => AsyncGenerator<Buffer>) {
  const logger = { info: vi.fn(), warn: vi.fn(), error: vi.fn(), debug: vi.fn() };
  const service = {
    get: async () => ({ context: { id: ID, version: 3 } as ContextView, body: body() }),
    summary: async () => Promise.reject(reset()),
    status: async () => Promise.reject(new NotFoundError('no such context')),
  } as unknown as ContextService;
  const deps = unitApiDeps({ service, logger });
  return { app: createApp(deps), logger };
}

describe('a read whose blob store fails', () => {
  it('answers 503 blob_store_unavailable naming the cause and storage.s3.endpoint when nothing was sent yet', async () => {
    const { app } = appReading(async function* () {
      yield* [];
      throw reset();
    });
    for (const path of [`/api/v1/contexts/${ID}`, `/api/v1/contexts/${ID}/summary`]) {
      const res = await app.request(path);
      expect(res.status, path).toBe(503);
      const { error } = (await res.json()) as { error: { code: string; message: string; details: unknown } };
      expect(error.code).toBe('blob_store_unavailable');
      expect(error.details).toEqual({ cause: 'connection_reset' });
      expect(error.message).toContain('storage.s3.endpoint (MCP_STORAGE_S3_ENDPOINT)');
      expect(error.message).not.toContain('database');
    }
  });

  it.each(['throttled', 'server_error', 'unknown', 'object_changed'] as const)(
    'answers 503, never 500, for a %s failure of the store',
    async (code) => {
      const { app } = appReading(async function* () {
        yield* [];
        throw new BlobStoreError(code, `S3 said ${code}`, 'check storage.s3.endpoint');
      });
      const res = await app.request(`/api/v1/contexts/${ID}`);
      expect(res.status).toBe(503);
      expect(((await res.json()) as { error: { details: unknown } }).error.details).toEqual({ cause: code });
    },
  );

  it('aborts the streamed answer when the store fails midway, and logs it with the request id', async () => {
    // past the first piece the API awaits before answering
    const hello = `{"role":"user","content":"${'hello '.repeat(FIRST_PIECE_BYTES / 6 + 1000)}"}`;
    const { app, logger } = appReading(async function* () {
      yield Buffer.from('{"id":"x","content":[\n');
      yield Buffer.from(hello);
      throw reset();
    });
    const res = await app.request(`/api/v1/contexts/${ID}`, { headers: { 'x-request-id': 'req-cut-1' } });
    expect(res.status).toBe(200);
    expect(res.headers.get('transfer-encoding')).toBe('chunked');
    const reader = res.body!.getReader();
    const received: Uint8Array[] = [];
    const ended = await (async () => {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return 'cleanly';
        received.push(value);
      }
    })().catch((err: unknown) => err);
    expect(ended).toBeInstanceOf(BlobStoreError);
    expect(Buffer.concat(received).toString()).toBe(`{"id":"x","content":[\n${hello}`);
    expect(logger.error).toHaveBeenCalledWith(
      expect.objectContaining({ err: expect.any(BlobStoreError), sent_bytes: 22 + hello.length }),
      'response aborted: reading the body failed midway',
    );
  });

  it('streams a body read to its end completely', async () => {
    const { app, logger } = appReading(async function* () {
      yield Buffer.from('{"content":[\n');
      yield Buffer.from(']}\n');
    });
    const res = await app.request(`/api/v1/contexts/${ID}`);
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('{"content":[\n]}\n');
    expect(logger.error).not.toHaveBeenCalled();
  });
});
