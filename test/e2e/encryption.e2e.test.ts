// Envelope encryption (encryption.mode "envelope") through the real api, worker and CLI, on
// Postgres and moto's S3 and KMS: the bytes at rest — objects in the bucket, inline and staged
// bodies in Postgres — hold no plaintext, while reads, appends, ?last, compaction and
// `ctxvault keys rotate-master` all work; a local master key rotates out of the settings.

import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { CreateKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { GetObjectCommand, HeadObjectCommand } from '@aws-sdk/client-s3';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { exportTo, startApi } from '../helpers/archive.ts';
import { api, type Item, waitUntilSettled } from '../helpers/contexts.ts';
import { deploymentEnv, startDeployment } from '../helpers/deployment.ts';
import { createFileDatabase } from '../helpers/file-database.ts';
import { runCtxvault } from '../helpers/processes.ts';
import { TEST_CREDENTIALS } from '../helpers/s3.ts';
import { useSuite } from '../helpers/suite.ts';

const suite = useSuite({ deploy: false });
const MARK = 'do-not-store-me-in-the-clear';
let kms: KMSClient;
let db: pg.Client;

beforeAll(async () => {
  kms = new KMSClient({ region: 'us-east-1', endpoint: inject('s3Endpoint'), credentials: TEST_CREDENTIALS });
  db = new pg.Client({ connectionString: suite.db.url });
  await db.connect();
});
afterAll(async () => {
  kms?.destroy();
  await db?.end();
});

async function kmsKey(): Promise<string> {
  const made = await kms.send(new CreateKeyCommand({ Description: 'ctxvault e2e master' }));
  return made.KeyMetadata!.KeyId!;
}

const turns = (n: number, tag: string, size = 2000): Item[] =>
  Array.from({ length: n }, (_, i) => ({
    role: i % 2 ? 'assistant' : 'user',
    content: `${MARK} ${tag} ${i} ${'z'.repeat(size)}`,
  }));

async function rawObject(key: string): Promise<Buffer> {
  const got = await suite.bucket.client.send(new GetObjectCommand({ Bucket: suite.bucket.name, Key: key }));
  return Buffer.from(await got.Body!.transformToByteArray());
}

/** Every byte of a context at rest in Postgres: its segments' inline bodies and any staged chunks. */
async function bytesInDatabase(id: string): Promise<Buffer> {
  const inline = await db.query<{ body: Buffer | null }>('select body from segments where context_id = $1', [id]);
  const staged = await db.query<{ data: Buffer }>('select data from staged_chunks where context_id = $1', [id]);
  return Buffer.concat([...inline.rows.flatMap((r) => (r.body ? [r.body] : [])), ...staged.rows.map((r) => r.data)]);
}

async function waitForSegments(url: string, id: string, count: number): Promise<void> {
  const deadline = Date.now() + 60_000;
  while ((await api(url, `/api/v1/contexts/${id}`)).json.segments !== count) {
    if (Date.now() > deadline) throw new Error(`context ${id} never reached ${count} segments`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('envelope encryption with AWS KMS (moto)', () => {
  it('stores no plaintext, reads, appends, compacts and answers ?last; rotate-master re-wraps under a new key', async () => {
    const [first, second] = [await kmsKey(), await kmsKey()];
    const kmsEnv = (keyId: string) => ({
      MCP_ENCRYPTION_MODE: 'envelope',
      MCP_ENCRYPTION_PROVIDER: 'kms',
      MCP_ENCRYPTION_KMS_KEY_ID: keyId,
      MCP_ENCRYPTION_KMS_ENDPOINT: inject('s3Endpoint'),
      MCP_STORAGE_COMPACTION_MAX_SEGMENTS: '3',
    });
    const app = await startDeployment(suite.services, kmsEnv(first));
    const base = turns(200, 'base');
    let id: string;
    try {
      const created = await api(app.url, '/api/v1/contexts', {
        method: 'POST',
        json: { agent_id: 'kms', content: base },
      });
      expect(created.status).toBe(202);
      id = created.json.id;
      await waitUntilSettled(app.url, id);
      const read = await api(app.url, `/api/v1/contexts/${id}`);
      expect(read.json.content).toEqual(base);
      const key = read.json.storage.key as string;
      const object = await rawObject(key);
      expect(object.length).toBeGreaterThan(400_000);
      expect(object.includes(MARK)).toBe(false);
      const head = await suite.bucket.client.send(new HeadObjectCommand({ Bucket: suite.bucket.name, Key: key }));
      const row = await db.query('select data_key_id from contexts where id = $1', [id]);
      expect(row.rows[0].data_key_id).toMatch(/^[0-9a-f-]{36}$/);
      expect(read.json.storage.data_key_id).toBe(row.rows[0].data_key_id);
      expect(head.Metadata).toMatchObject({
        encryption: 'ctxvault-envelope-v1',
        'data-key-id': row.rows[0].data_key_id,
        'master-key-id': expect.stringContaining(first),
        'context-id': id,
        'first-item': '0',
        'item-count': '200',
      });

      // small appends are inline segments (sealed in their rows); the third triggers a compaction
      const added: Item[] = [];
      for (let i = 0; i < 3; i++) {
        const item: Item = { role: 'user', content: `${MARK} appended ${i}` };
        added.push(item);
        const appended = await api(app.url, `/api/v1/contexts/${id}/items`, {
          method: 'POST',
          json: { items: [item] },
        });
        expect(appended.status).toBe(200);
      }
      expect((await bytesInDatabase(id)).includes(MARK)).toBe(false);
      const last = await api(app.url, `/api/v1/contexts/${id}?last=4`);
      expect(last.json.content).toEqual([...base.slice(-1), ...added]);
      await waitForSegments(app.url, id, 2);
      expect((await api(app.url, `/api/v1/contexts/${id}`)).json.content).toEqual([...base, ...added]);
      expect((await api(app.url, `/api/v1/contexts/${id}?last=2`)).json.content).toEqual(added.slice(-2));
      for (const k of (await suite.bucket.keys()).filter((k) => k.includes(id))) {
        expect((await rawObject(k)).includes(MARK)).toBe(false);
      }
    } finally {
      await app.stop();
    }

    const cliEnv = { ...app.env, ...kmsEnv(second), MCP_LOGGING_LEVEL: 'silent' };
    const rotated = await runCtxvault(['keys', 'rotate-master'], cliEnv);
    expect(rotated.code, rotated.output).toBe(0);
    const report = JSON.parse(rotated.stdout);
    expect(report).toMatchObject({ total: 1, rewrapped: 1, skipped: 0 });
    expect(report.master_key_id).toContain(second);
    expect(rotated.stderr).toMatch(/re-wrapping .*100% 1 \/ 1 keys/);
    const wrapped = await db.query('select master_key_id from data_keys');
    expect(wrapped.rows.map((r) => r.master_key_id)).toEqual([expect.stringContaining(second)]);
    expect(JSON.parse((await runCtxvault(['keys', 'rotate-master'], cliEnv)).stdout).total).toBe(0);

    const after = await startDeployment(suite.services, kmsEnv(second));
    try {
      const read = await api(after.url, `/api/v1/contexts/${id}`);
      expect(read.status).toBe(200);
      expect(read.json.content).toHaveLength(203);
    } finally {
      await after.stop();
    }
  }, 240_000);
});

describe('envelope encryption with a local master key', () => {
  it('seals inline bodies, and a rotated-out master key is no longer needed', async () => {
    const oldKey = randomBytes(32).toString('base64');
    const newKey = randomBytes(32).toString('base64');
    const localEnv = (master: string, previous = '') => ({
      MCP_ENCRYPTION_MODE: 'envelope',
      MCP_ENCRYPTION_MASTER_KEY: master,
      MCP_ENCRYPTION_PREVIOUS_MASTER_KEYS: previous,
    });
    const content = turns(3, 'local', 100);
    const app = await startDeployment(suite.services, localEnv(oldKey));
    let id: string;
    try {
      const created = await api(app.url, '/api/v1/contexts', { method: 'POST', json: { agent_id: 'local', content } });
      expect(created.status).toBe(201);
      id = created.json.id;
      expect((await bytesInDatabase(id)).includes(MARK)).toBe(false);
      expect((await api(app.url, `/api/v1/contexts/${id}`)).json.content).toEqual(content);
    } finally {
      await app.stop();
    }
    // without the master key, the body does not open: an error answer, never the bytes
    const keyless = await startDeployment(suite.services, localEnv(newKey));
    try {
      const refused = await api(keyless.url, `/api/v1/contexts/${id}`);
      expect(refused.status).toBeGreaterThanOrEqual(500);
      expect(refused.text).not.toContain(MARK);
    } finally {
      await keyless.stop();
    }
    const rotated = await runCtxvault(['keys', 'rotate-master'], {
      ...app.env,
      ...localEnv(newKey, oldKey),
      MCP_LOGGING_LEVEL: 'silent',
    });
    expect(rotated.code, rotated.output).toBe(0);
    expect(JSON.parse(rotated.stdout).rewrapped).toBeGreaterThanOrEqual(1);
    const after = await startDeployment(suite.services, localEnv(newKey));
    try {
      expect((await api(after.url, `/api/v1/contexts/${id}`)).json.content).toEqual(content);
    } finally {
      await after.stop();
    }
  }, 240_000);
});

describe('archives under envelope encryption', () => {
  it('exports sealed contexts with their items in the clear, and an import seals them again', async () => {
    const sealed = { MCP_ENCRYPTION_MODE: 'envelope', MCP_ENCRYPTION_MASTER_KEY: randomBytes(32).toString('base64') };
    // one inline context, one large enough for an object
    const contents = [turns(3, 'archived-small', 100), turns(200, 'archived-large', 2000)];
    const app = await startDeployment(suite.services, sealed);
    const ids: string[] = [];
    try {
      for (const content of contents) {
        const created = await api(app.url, '/api/v1/contexts', {
          method: 'POST',
          json: { agent_id: 'moved', content },
        });
        expect([201, 202], created.text).toContain(created.status);
        ids.push(created.json.id);
        await waitUntilSettled(app.url, created.json.id);
      }
    } finally {
      await app.stop();
    }
    const dir = await mkdtemp(path.join(tmpdir(), 'ctxvault-sealed-archive-'));
    const destination = await createFileDatabase();
    try {
      const file = path.join(dir, 'archive.ndjson');
      const exported = await exportTo(file, ['--tenant', 'default', '--agent-id', 'moved'], {
        ...app.env,
        MCP_LOGGING_LEVEL: 'silent',
      });
      expect(exported.code, exported.stderr).toBe(0);
      expect((await readFile(file, 'utf8')).includes(MARK)).toBe(true);

      // another deployment with its own master key, on local disk
      const blobs = path.join(dir, 'blobs');
      const env = {
        ...deploymentEnv({ ...suite.services, databaseUrl: destination.url }, { MCP_LOGGING_LEVEL: 'warn' }),
        MCP_STORAGE_TYPE: 'local',
        MCP_STORAGE_LOCAL_PATH: blobs,
        MCP_ENCRYPTION_MODE: 'envelope',
        MCP_ENCRYPTION_MASTER_KEY: randomBytes(32).toString('base64'),
      };
      const imported = await runCtxvault(['import', file], env);
      expect(imported.code, imported.output).toBe(0);

      const files = (await readdir(blobs, { recursive: true, withFileTypes: true })).filter((f) => f.isFile());
      expect(files.length).toBeGreaterThan(0);
      for (const f of files)
        expect((await readFile(path.join(f.parentPath, f.name))).includes(MARK), f.name).toBe(false);
      const rows = new pg.Client({ connectionString: destination.url });
      await rows.connect();
      try {
        const segs = await rows.query<{ body: Buffer | null; data_key_id: string | null }>(
          'select body, data_key_id from segments',
        );
        expect(segs.rows.length).toBeGreaterThanOrEqual(2);
        for (const seg of segs.rows) {
          expect(seg.data_key_id).not.toBeNull();
          expect(seg.body?.includes(MARK) ?? false).toBe(false);
        }
      } finally {
        await rows.end();
      }

      const readBack = await startApi(env);
      try {
        for (const [i, id] of ids.entries()) {
          expect((await api(readBack.url, `/api/v1/contexts/${id}`)).json.content).toEqual(contents[i]);
        }
      } finally {
        await readBack.stop();
      }
    } finally {
      await destination.drop();
      await rm(dir, { recursive: true, force: true });
    }
  }, 240_000);
});
