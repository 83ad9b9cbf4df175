// The MCP_* variables change what the real processes do: part size, key prefix, provider, limits.

import { HeadObjectCommand } from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { api, itemsOfSize, waitUntilSettled } from '../helpers/contexts.ts';
import { deploymentEnv, startDeployment } from '../helpers/deployment.ts';
import { freePort, spawnCtxvault } from '../helpers/processes.ts';
import { useSuite } from '../helpers/suite.ts';

const MiB = 1024 * 1024;
const suite = useSuite({ deploy: false });

describe('MCP_* variables', () => {
  it('MCP_STORAGE_S3_UPLOAD_PART_SIZE and MCP_STORAGE_CONTEXT_STORAGE_S3_PATH_PREFIX set the parts and the key', async () => {
    const app = await startDeployment(suite.services, {
      MCP_STORAGE_S3_UPLOAD_PART_SIZE: String(6 * MiB),
      MCP_STORAGE_CONTEXT_STORAGE_S3_PATH_PREFIX: 'tenants/alt',
      MCP_STORAGE_S3_SERVER_SIDE_ENCRYPTION: '',
    });
    try {
      const created = await api(app.url, '/api/v1/contexts', {
        method: 'POST',
        json: { agent_id: 'parts', content: itemsOfSize(20 * MiB) },
      });
      // larger than a part: written by the API straight to its object, in parts of that size
      expect(created.status).toBe(201);
      await waitUntilSettled(app.url, created.json.id);
      const read = await api(app.url, `/api/v1/contexts/${created.json.id}`);
      const { key, size_bytes } = read.json.storage;
      expect(key).toMatch(new RegExp(`^tenants/alt/[0-9a-f]{2}/${created.json.id}/1\\.[0-9a-f-]{36}\\.json$`));
      const head = await suite.bucket.client.send(new HeadObjectCommand({ Bucket: suite.bucket.name, Key: key }));
      expect(head.ETag?.replaceAll('"', '')).toMatch(new RegExp(`-${Math.ceil(size_bytes / (6 * MiB))}$`));
      expect(head.ServerSideEncryption).toBeUndefined();
    } finally {
      await app.stop();
    }
  }, 120_000);

  it('MCP_STORAGE_CONTEXT_STORAGE_PROVIDER=database keeps even large bodies inline (201, no object)', async () => {
    const app = await startDeployment(suite.services, { MCP_STORAGE_CONTEXT_STORAGE_PROVIDER: 'database' });
    try {
      const before = await suite.bucket.keys();
      const content = itemsOfSize(2 * MiB);
      const created = await api(app.url, '/api/v1/contexts', { method: 'POST', json: { agent_id: 'inline', content } });
      expect(created.status).toBe(201);
      expect(created.json.storage).toMatchObject({ provider: 'database', key: null });
      expect((await api(app.url, `/api/v1/contexts/${created.json.id}`)).json.content).toEqual(content);
      expect(await suite.bucket.keys()).toEqual(before);
    } finally {
      await app.stop();
    }
  }, 120_000);

  it('MCP_LIMITS_MAX_BODY_BYTES caps the JSON body with a 413 naming the limit', async () => {
    const app = await startDeployment(suite.services, { MCP_LIMITS_MAX_BODY_BYTES: String(MiB) });
    try {
      const res = await api(app.url, '/api/v1/contexts', {
        method: 'POST',
        json: { agent_id: 'big', content: itemsOfSize(2 * MiB) },
      });
      expect(res.status).toBe(413);
      expect(res.json.error.code).toBe('payload_too_large');
      expect(res.json.error.message).toContain(`${MiB} bytes`);
      expect((await api(app.url, '/api/v1/contexts?agent_id=big')).json.items).toEqual([]);
    } finally {
      await app.stop();
    }
  }, 120_000);

  it('a bad value stops start-up with the key, the variable and what is allowed', async () => {
    const env = deploymentEnv(suite.services, { MCP_STORAGE_S3_UPLOAD_PART_SIZE: '1048576', MCP_STORAGE_TYPE: 'ftp' });
    const proc = await spawnCtxvault('api', env);
    expect(proc.child.exitCode).not.toBe(0);
    expect(proc.output()).toContain(
      'storage.s3.upload_part_size (MCP_STORAGE_S3_UPLOAD_PART_SIZE): must be at least 5242880 bytes',
    );
    expect(proc.output()).toMatch(/storage\.type \(MCP_STORAGE_TYPE\): must be one of .*local.*s3/);
  });

  it('an empty bucket or region with storage.type "s3" stops start-up with exit 78, naming key and variable', async () => {
    const env = deploymentEnv(suite.services, { MCP_STORAGE_S3_BUCKET: '', MCP_STORAGE_S3_REGION: ' ' });
    const proc = await spawnCtxvault('api', env);
    expect(proc.child.exitCode).toBe(78);
    expect(proc.output()).toContain('storage.s3.bucket (MCP_STORAGE_S3_BUCKET): must be set when storage.type is "s3"');
    expect(proc.output()).toContain('storage.s3.region (MCP_STORAGE_S3_REGION): must be set when storage.type is "s3"');
  });

  it('auth.mode "none" on a non-loopback host stops start-up with exit 78, unless auth.allow_insecure; then it warns loudly', async () => {
    const open = deploymentEnv(suite.services, { MCP_AUTH_MODE: 'none', MCP_SERVER_HOST: '0.0.0.0' });
    const refused = await spawnCtxvault('api', open);
    expect(refused.child.exitCode).toBe(78);
    expect(refused.output()).toContain(
      'auth.mode (MCP_AUTH_MODE): is "none" (no authentication) on the non-loopback host',
    );

    const port = await freePort();
    const insecure = await spawnCtxvault(
      'api',
      { ...open, MCP_AUTH_ALLOW_INSECURE: 'true', MCP_SERVER_PORT: String(port) },
      { readyLine: /API listening/ },
    );
    try {
      expect(insecure.output()).toContain('NO AUTHENTICATION');
      const res = await api(`http://127.0.0.1:${port}`, '/api/v1/contexts', { headers: { 'x-tenant-id': 'anyone' } });
      expect(res.status).toBe(200);
    } finally {
      await insecure.stop();
    }
  });
});
