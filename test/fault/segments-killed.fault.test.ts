// Appends and compaction under process deaths: the worker is SIGKILLed while appended segments are
// uploading and again while compactions are uploading their merged objects, then every process
// (API and worker) is restarted between appends and the compaction they cause. Every appended item
// is there, in order, and nothing is left behind: no orphan object, no open multipart upload.

import { ListMultipartUploadsCommand } from '@aws-sdk/client-s3';
import { expect, it } from 'vitest';
import { api, type Item, itemsOfSize, sha256, waitUntilSettled } from '../helpers/contexts.ts';
import { FAULT_SETTINGS } from '../helpers/fault-setup.ts';
import { checkIntegrity } from '../helpers/integrity.ts';
import { spawnCtxvault } from '../helpers/processes.ts';
import { useSuite } from '../helpers/suite.ts';

const MiB = 1024 * 1024;
const CONTEXTS = 4;
const suite = useSuite({
  env: {
    ...FAULT_SETTINGS,
    MCP_STORAGE_S3_CONCURRENCY: '1',
    MCP_QUEUE_CONCURRENCY: '4',
    MCP_STORAGE_INLINE_THRESHOLD: '64KiB',
    MCP_STORAGE_COMPACTION_MAX_SEGMENTS: '4',
  },
});

async function openUploads(): Promise<number> {
  const out = await suite.bucket.client.send(new ListMultipartUploadsCommand({ Bucket: suite.bucket.name }));
  return out.Uploads?.length ?? 0;
}

async function killWorkerOnceUploading(): Promise<number> {
  await expect.poll(openUploads, { timeout: 60_000, interval: 25 }).toBeGreaterThan(0);
  await suite.app.worker.stop('SIGKILL');
  const inFlight = await openUploads();
  suite.app.worker = await spawnCtxvault('worker', suite.app.env, { readyLine: /worker running/ });
  return inFlight;
}

async function append(id: string, items: Item[]): Promise<void> {
  const res = await api(suite.app.url, `/api/v1/contexts/${id}/items`, { method: 'POST', json: { items } });
  expect([200, 202], res.text).toContain(res.status);
}

it('SIGKILL mid-append and mid-compaction, every process restarted between: nothing lost, nothing left', async () => {
  const contents = new Map<string, Item[]>();
  for (let i = 0; i < CONTEXTS; i++) {
    const content = itemsOfSize(6 * MiB);
    const res = await api(suite.app.url, '/api/v1/contexts', {
      method: 'POST',
      json: { agent_id: `seg-${i}`, content },
    });
    // 201 when written straight to its object (storage.s3.direct_writes), 202 when staged
    expect([201, 202], res.text).toContain(res.status);
    contents.set(res.json.id, content);
  }
  for (const id of contents.keys()) await waitUntilSettled(suite.app.url, id);

  // 1. large appends (staged, multipart uploads): the worker dies while they upload
  await suite.app.worker.stop();
  for (const [id, content] of contents) {
    const added = itemsOfSize(6 * MiB);
    await append(id, added);
    content.push(...added);
  }
  suite.app.worker = await spawnCtxvault('worker', suite.app.env, { readyLine: /worker running/ });
  const appendsInFlight = await killWorkerOnceUploading();
  for (const id of contents.keys()) expect((await waitUntilSettled(suite.app.url, id)).at(-1).status).toBe('stored');

  // 2. small appends (inline) push each context past max_segments: the compactions merge the tail,
  // now as large as the base, into one 12 MiB object each; the worker dies while they upload
  for (let round = 0; round < 4; round++) {
    for (const [id, content] of contents) {
      const added: Item[] = [{ role: 'user', content: `round ${round}` }];
      await append(id, added);
      content.push(...added);
    }
  }
  const compactionsInFlight = await killWorkerOnceUploading();

  // 3. every process restarts between appends and the compaction they cause
  await Promise.all([suite.app.api.stop('SIGKILL'), suite.app.worker.stop('SIGKILL')]);
  suite.app.api = await spawnCtxvault('api', suite.app.env, { readyLine: /API listening/ });
  for (const [id, content] of contents) {
    const added: Item[] = [{ role: 'assistant', content: 'after the restart' }];
    await append(id, added);
    content.push(...added);
  }
  await suite.app.api.stop('SIGKILL');
  suite.app.api = await spawnCtxvault('api', suite.app.env, { readyLine: /API listening/ });
  suite.app.worker = await spawnCtxvault('worker', suite.app.env, { readyLine: /worker running/ });
  console.info(`killed with ${appendsInFlight} append and ${compactionsInFlight} compaction upload(s) in flight`);
  expect(appendsInFlight).toBeGreaterThan(0);
  expect(compactionsInFlight).toBeGreaterThan(0);

  // the compactions ran to the end after all: each context is down to few segments
  for (const id of contents.keys()) {
    await expect
      .poll(async () => (await api(suite.app.url, `/api/v1/contexts/${id}`)).json.segments, { timeout: 120_000 })
      .toBeLessThanOrEqual(4);
  }
  const accepted = [...contents].map(([id, content]) => ({ id, sha256: sha256(JSON.stringify(content)) }));
  const report = await checkIntegrity(suite.app, suite.db.url, suite.bucket, CONTEXTS, accepted);
  expect(report).toMatchObject({ accepted: CONTEXTS, stored: CONTEXTS, lost: 0, orphans: 0, incomplete_uploads: 0 });
}, 600_000);
