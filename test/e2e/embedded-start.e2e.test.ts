// The README's first command: `ctxvault start` with nothing configured runs API and worker in one
// process on embedded PGlite and local disk, persisted under the working directory.

import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, itemsOfSize, waitUntilSettled } from '../helpers/contexts.ts';
import { freePort, spawnCtxvault } from '../helpers/processes.ts';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'ctxvault-start-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('ctxvault start (embedded)', () => {
  it('stores small and large contexts with nothing installed, and keeps them across restarts', async () => {
    const port = await freePort();
    const env = { MCP_SERVER_PORT: String(port) };
    const ready = /ctxvault is ready: send requests to http:\/\/127\.0\.0\.1:\d+\/api\/v1\/contexts/;
    let proc = await spawnCtxvault('start', env, { cwd: dir, readyLine: ready });
    const url = `http://127.0.0.1:${port}`;
    let small: string;
    let large: string;
    const largeContent = itemsOfSize(2 * 1024 * 1024);
    try {
      const a = await api(url, '/api/v1/contexts', {
        method: 'POST',
        json: { agent_id: 'first-try', content: [{ role: 'user', content: 'hello' }] },
      });
      expect(a.status).toBe(201);
      small = a.json.id;
      const b = await api(url, '/api/v1/contexts', {
        method: 'POST',
        json: { agent_id: 'first-try', content: largeContent },
      });
      expect(b.status).toBe(202);
      large = b.json.id;
      expect((await waitUntilSettled(url, large, 60_000)).at(-1).status).toBe('stored');
      const read = await api(url, `/api/v1/contexts/${large}`);
      expect(read.json.storage.provider).toBe('local');
      expect(read.json.content).toEqual(largeContent);
      // reads at once take several of the pool's connections, which PGlite serves in one session:
      // none may fail on a statement another connection prepared
      const windows = await Promise.all(
        Array.from({ length: 12 }, (_, i) => api(url, `/api/v1/contexts/${i % 2 ? small : large}?last=1`)),
      );
      expect(windows.map((w) => w.status)).toEqual(Array(12).fill(200));
    } finally {
      await proc.stop();
    }
    expect(await readdir(path.join(dir, '.data'))).toEqual(expect.arrayContaining(['blobs', 'pglite']));

    proc = await spawnCtxvault('start', env, { cwd: dir, readyLine: ready });
    try {
      expect((await api(url, `/api/v1/contexts/${small}`)).json.content).toEqual([{ role: 'user', content: 'hello' }]);
      expect((await api(url, `/api/v1/contexts/${large}`)).json.content.length).toBe(largeContent.length);
    } finally {
      await proc.stop();
    }
  }, 240_000);
});
