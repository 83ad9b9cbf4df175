// Starts the real services the suites need that are not already running: a moto S3 server on a
// free port (unless CTXVAULT_TEST_S3_ENDPOINT points at one). Postgres and Redis are expected on
// their usual local ports (CTXVAULT_TEST_DATABASE_URL / CTXVAULT_TEST_REDIS_URL override them).
import type { TestProject } from 'vitest/node';
import { type MotoServer, startMoto } from '../helpers/moto.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    s3Endpoint: string;
    databaseUrl: string;
    redisUrl: string;
  }
}

let moto: MotoServer | undefined;

export async function setup(project: TestProject): Promise<void> {
  let endpoint = process.env.CTXVAULT_TEST_S3_ENDPOINT;
  if (!endpoint) {
    moto = await startMoto();
    endpoint = moto.endpoint;
  }
  project.provide('s3Endpoint', endpoint);
  project.provide(
    'databaseUrl',
    process.env.CTXVAULT_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres',
  );
  project.provide('redisUrl', process.env.CTXVAULT_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379');
}

export async function teardown(): Promise<void> {
  await moto?.stop();
}
