import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '@ctxvault/config';
import { pino } from 'pino';
import { afterAll, beforeAll, expect, inject, it } from 'vitest';
import type { TestDatabase } from '../../../test/helpers/database.ts';
import { createFileDatabase } from '../../../test/helpers/file-database.ts';
import { openRuntime } from './runtime.ts';

let db: TestDatabase;
let blobRoot: string;
beforeAll(async () => {
  db = await createFileDatabase();
  blobRoot = await mkdtemp(join(tmpdir(), 'ctxvault-runtime-'));
});
afterAll(async () => {
  await db?.drop();
  await rm(blobRoot, { recursive: true, force: true });
});

it('closes every resource once, however often close() is called', async () => {
  const config = loadConfig({
    env: {
      MCP_DATABASE_URL: db.url,
      MCP_REDIS_URL: inject('redisUrl'),
      MCP_QUEUE_PREFIX: `test-${randomBytes(4).toString('hex')}`,
      MCP_STORAGE_TYPE: 'local',
      MCP_STORAGE_LOCAL_PATH: blobRoot,
      MCP_CACHE_REDIS_MAX_ITEM_BYTES: '1MiB',
    },
  });
  const warnings: unknown[] = [];
  const logger = pino({ level: 'warn' }, { write: (line: string) => warnings.push(JSON.parse(line)) });
  const runtime = await openRuntime(config, logger);
  await runtime.readiness.database();
  await runtime.readiness.queue();

  const first = runtime.close();
  const second = runtime.close();
  expect(second).toBe(first);
  await Promise.all([first, second]);
  await runtime.close();
  expect(warnings).toEqual([]);
});
