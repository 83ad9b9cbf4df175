// storage.compression: bodies go to S3 compressed, the row and object record the codec, and reads
// decode whatever a context was written with, after the setting changes too.

import { HeadObjectCommand } from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { api, type Item, itemsOfSize, waitUntilSettled } from '../helpers/contexts.ts';
import { startDeployment } from '../helpers/deployment.ts';
import { useSuite } from '../helpers/suite.ts';

const MiB = 1024 * 1024;
const suite = useSuite({ deploy: false });

/** Conversation-like text that compresses the way real contexts do. */
function prose(bytes: number): Item[] {
  const words =
    'the agent reads the file then calls the tool and summarises what the user asked for in plain words'.split(' ');
  return itemsOfSize(bytes).map((item, i) => ({
    ...item,
    content: Array.from({ length: item.content.length / 6 }, (_, j) => words[(i * 7 + j * 13) % words.length]).join(
      ' ',
    ),
  }));
}

/** `answered`: 201 for a body larger than a part (written straight to its object, stored when answered), 202 for one staged. */
async function storeWith(env: Record<string, string>, content: Item[], answered: 201 | 202) {
  const app = await startDeployment(suite.services, env);
  try {
    const created = await api(app.url, '/api/v1/contexts', { method: 'POST', json: { agent_id: 'codec', content } });
    expect(created.status).toBe(answered);
    await waitUntilSettled(app.url, created.json.id);
    return { id: created.json.id as string, read: await api(app.url, `/api/v1/contexts/${created.json.id}`) };
  } finally {
    await app.stop();
  }
}

describe('compression', () => {
  it('zstd and gzip bodies are recorded, smaller, and read back identical by any later setting', async () => {
    const zstdContent = prose(6 * MiB);
    const zstd = await storeWith(
      { MCP_STORAGE_COMPRESSION: 'zstd', MCP_STORAGE_COMPRESSION_LEVEL: '3' },
      zstdContent,
      201,
    );
    expect(zstd.read.json.storage).toMatchObject({ content_encoding: 'zstd' });
    expect(zstd.read.json.storage.key).toMatch(/\/1\.[0-9a-f-]{36}\.json\.zst$/);
    expect(zstd.read.json.storage.stored_bytes).toBeLessThan(zstd.read.json.storage.size_bytes / 3);
    expect(zstd.read.json.content).toEqual(zstdContent);
    const head = await suite.bucket.client.send(
      new HeadObjectCommand({ Bucket: suite.bucket.name, Key: zstd.read.json.storage.key }),
    );
    expect(head.Metadata).toMatchObject({ 'content-encoding': 'zstd' });
    expect(head.ContentLength).toBe(zstd.read.json.storage.stored_bytes);

    const gzipContent = prose(1 * MiB);
    const gzip = await storeWith({ MCP_STORAGE_COMPRESSION: 'gzip' }, gzipContent, 202);
    expect(gzip.read.json.storage).toMatchObject({ content_encoding: 'gzip' });
    expect(gzip.read.json.storage.key).toMatch(/\/1\.[0-9a-f-]{36}\.json\.gz$/);
    expect(gzip.read.json.content).toEqual(gzipContent);

    // a deployment without compression still reads both, and appends to a compressed one
    const plain = await startDeployment(suite.services, { MCP_STORAGE_COMPRESSION: 'none' });
    try {
      expect((await api(plain.url, `/api/v1/contexts/${zstd.id}`)).json.content).toEqual(zstdContent);
      expect((await api(plain.url, `/api/v1/contexts/${gzip.id}`)).json.content).toEqual(gzipContent);
      const added: Item[] = [{ role: 'user', content: 'and one more' }];
      const appended = await api(plain.url, `/api/v1/contexts/${zstd.id}/items`, {
        method: 'POST',
        json: { items: added },
      });
      // a small append is an inline segment: the compressed object stays as it is
      expect(appended.status).toBe(200);
      const read = await api(plain.url, `/api/v1/contexts/${zstd.id}`);
      expect(read.json.storage.content_encoding).toBe('zstd');
      expect(read.json.segments).toBe(2);
      expect(read.json.content).toEqual([...zstdContent, ...added]);
      const search = await api(plain.url, `/api/v1/contexts/${gzip.id}/search`, {
        method: 'POST',
        json: { query: 'summarises', limit: 1 },
      });
      expect(search.json.matches).toHaveLength(1);
    } finally {
      await plain.stop();
    }
  }, 180_000);
});
