// Starts the real services the suites need that are not already running: a moto S3 server on a
// free port (unless CTXVAULT_TEST_S3_ENDPOINT points at one). Postgres and Redis are expected on
// their usual local ports (CTXVAULT_TEST_DATABASE_URL / CTXVAULT_TEST_REDIS_URL override them).
import { spawn, type ChildProcess } from 'node:child_process';
import type { TestProject } from 'vitest/node';
import { freePort } from '../helpers/processes.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    s3Endpoint: string;
    databaseUrl: string;
    redisUrl: string;
  }
}

async function waitForHttp(url: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await fetch(url);
      return;
    } catch (err) {
      if (Date.now() > deadline) throw new Error(`moto_server did not answer at ${url}: ${String(err)}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}

let moto: ChildProcess | undefined;

export async function setup(project: TestProject): Promise<void> {
  let endpoint = process.env.CTXVAULT_TEST_S3_ENDPOINT;
  if (!endpoint) {
    const port = await freePort();
    moto = spawn('/usr/bin/moto_server', ['-H', '127.0.0.1', '-p', String(port)], { stdio: 'ignore' });
    endpoint = `http://127.0.0.1:${port}`;
    await waitForHttp(endpoint, 30_000);
  }
  project.provide('s3Endpoint', endpoint);
  project.provide('databaseUrl', process.env.CTXVAULT_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres');
  project.provide('redisUrl', process.env.CTXVAULT_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379');
}

export async function teardown(): Promise<void> {
  moto?.kill('SIGTERM');
}
