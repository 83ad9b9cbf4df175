// Starts the real services the suites need that are not already running: a moto S3 server on a
// free port (unless CTXVAULT_TEST_S3_ENDPOINT points at one). Postgres and Redis are expected on
// their usual local ports (CTXVAULT_TEST_DATABASE_URL / CTXVAULT_TEST_REDIS_URL override them);
// with CTXVAULT_TEST_REDIS_CLUSTER=1 the deployments run on a private Redis Cluster instead (three
// masters and three replicas on spare ports).
// Migrates one template database for the run, which each test file clones (test/helpers/database.ts).
// Builds dist/ first (incremental): the end-to-end suites start the built CLI.
import type { TestProject } from 'vitest/node';
import { buildDist } from '../helpers/build.ts';
import { createTemplateDatabase, type TestDatabase } from '../helpers/database.ts';
import { type MotoServer, startMoto } from '../helpers/moto.ts';
import { type RedisClusterUnderTest, startRedisCluster } from '../helpers/redis-cluster.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    s3Endpoint: string;
    databaseUrl: string;
    redisUrl: string;
    /** redisUrl lists the masters of a Redis Cluster (CTXVAULT_TEST_REDIS_CLUSTER=1) */
    redisCluster: boolean;
    /** the migrated database every test file clones its own from */
    templateDatabase: string;
  }
}

let moto: MotoServer | undefined;
let template: TestDatabase | undefined;
let cluster: RedisClusterUnderTest | undefined;

export async function setup(project: TestProject): Promise<void> {
  buildDist();
  let endpoint = process.env.CTXVAULT_TEST_S3_ENDPOINT;
  if (!endpoint) {
    moto = await startMoto();
    endpoint = moto.endpoint;
  }
  project.provide('s3Endpoint', endpoint);
  const databaseUrl = process.env.CTXVAULT_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
  project.provide('databaseUrl', databaseUrl);
  template = await createTemplateDatabase(databaseUrl);
  project.provide('templateDatabase', template.name);
  if (process.env.CTXVAULT_TEST_REDIS_CLUSTER === '1') cluster = await startRedisCluster();
  project.provide('redisUrl', cluster?.url ?? process.env.CTXVAULT_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379');
  project.provide('redisCluster', cluster !== undefined);
}

export async function teardown(): Promise<void> {
  await moto?.stop();
  await template?.drop();
  await cluster?.stop();
}
