// The production copy, as the Dockerfile makes it: the build (dist/), then `pnpm deploy --prod` of the
// CLI into an empty directory outside the workspace, and that copy's `migrate`, `api` and `worker`
// started with plain node on real Postgres, Redis and S3: a context goes in and is stored by S3.
import { execFile, execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { buildDist, ROOT } from '../helpers/build.ts';
import { api, proseItemsOfSize, waitUntilSettled } from '../helpers/contexts.ts';
import { bearer, useCredentials } from '../helpers/credentials.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/database.ts';
import { deploymentEnv } from '../helpers/deployment.ts';
import { healthcheckCommand, readDockerfile } from '../helpers/dockerfile.ts';
import { type CtxvaultProcess, freePort, runCtxvault, spawnCtxvault } from '../helpers/processes.ts';
import { createTestBucket, type TestBucket } from '../helpers/s3.ts';

let dir: string;
let db: TestDatabase;
let bucket: TestBucket;
let env: Record<string, string>;
let url: string;
const procs: CtxvaultProcess[] = [];

beforeAll(async () => {
  buildDist();
  dir = mkdtempSync(path.join(tmpdir(), 'ctxvault-deploy-'));
  // pnpm is on PATH wherever the suites run (`./ctxvault test` puts the project's first)
  execFileSync('pnpm', ['--filter', '@ctxvault/cli', 'deploy', '--prod', dir], { cwd: ROOT, stdio: 'pipe' });
  // an empty database: the copy's own `migrate` creates the schema
  db = await createTestDatabase(inject('databaseUrl'), { migrate: false });
  bucket = await createTestBucket(inject('s3Endpoint'));
  const port = await freePort();
  env = deploymentEnv(
    { databaseUrl: db.url, redisUrl: inject('redisUrl'), s3Endpoint: inject('s3Endpoint'), bucket: bucket.name },
    { MCP_SERVER_PORT: String(port), MCP_SERVER_HOST: '127.0.0.1', MCP_STORAGE_INLINE_THRESHOLD: '1024' },
  );
  url = `http://127.0.0.1:${port}`;
}, 300_000);

afterAll(async () => {
  await Promise.all(procs.map((p) => p.stop()));
  await bucket?.drop();
  await db?.drop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('the production copy (pnpm deploy --prod)', () => {
  it('holds the built CLI and the production dependencies only: no sources, no dev tools', () => {
    expect(JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')).bin).toEqual({
      ctxvault: './dist/main.js',
    });
    expect(existsSync(path.join(dir, 'dist/main.js'))).toBe(true);
    expect(existsSync(path.join(dir, 'src'))).toBe(false);
    for (const pkg of ['db', 'core', 'storage', 'queue', 'config', 'api', 'worker']) {
      const installed = path.join(dir, 'node_modules/@ctxvault', pkg);
      // the package itself is its dist/ and package.json (node_modules holds the links to its dependencies)
      expect(
        readdirSync(installed)
          .filter((name) => name !== 'node_modules')
          .sort(),
        pkg,
      ).toEqual(['dist', 'package.json']);
    }
    const store = readdirSync(path.join(dir, 'node_modules/.pnpm'));
    for (const dev of ['typescript@', 'tsx@', 'vitest@', '@biomejs+biome@', 'knip@', 'dependency-cruiser@']) {
      expect(
        store.filter((name) => name.startsWith(dev)),
        dev,
      ).toEqual([]);
    }
  });

  it('migrates, then its api and worker, started with plain node, store a context in S3', async () => {
    const migrated = await runCtxvault(['migrate'], env, { cli: path.join(dir, 'dist/main.js'), cwd: dir });
    expect(migrated.code, migrated.output).toBe(0);
    const cli = path.join(dir, 'dist/main.js');
    // authentication is on (API keys): the copy's own `keys create` makes the key the calls send
    const key = await runCtxvault(['keys', 'create', '--tenant', 'deploy', '--scope', 'write'], env, { cli, cwd: dir });
    expect(key.code, key.output).toBe(0);
    useCredentials(url, bearer(key.stdout.trim()));
    procs.push(
      ...(await Promise.all([
        spawnCtxvault('api', env, { readyLine: /API listening/, cli, cwd: dir }),
        spawnCtxvault('worker', env, { readyLine: /worker running/, cli, cwd: dir }),
      ])),
    );
    expect((await api(url, '/readyz')).status).toBe(200);
    const items = proseItemsOfSize(64 * 1024);
    const created = await api(url, '/api/v1/contexts', {
      method: 'POST',
      json: { agent_id: 'deploy', content: items },
    });
    expect(created.status, created.text).toBe(202);
    const seen = await waitUntilSettled(url, created.json.id);
    expect(seen.at(-1).status).toBe('stored');
    const read = await api(url, `/api/v1/contexts/${created.json.id}`);
    expect(read.json.content).toEqual(items);
    expect(read.json.storage.provider).toBe('s3');
  });

  it("the image's HEALTHCHECK command passes while the api answers and fails once it is gone", async () => {
    const [command, ...args] = healthcheckCommand(readDockerfile());
    const check = () =>
      new Promise<number>((resolve) =>
        execFile(
          command === 'node' ? process.execPath : command!,
          args,
          { env: { MCP_SERVER_PORT: new URL(url).port } },
          (err) => resolve(err ? Number(err.code ?? 1) : 0),
        ),
      );
    expect(await check()).toBe(0);
    await procs[0]!.stop();
    expect(await check()).toBe(1);
  });
});
