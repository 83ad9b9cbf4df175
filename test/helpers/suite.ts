// The usual frame of an end-to-end suite: a fresh database and bucket for the file, optionally a
// running deployment on them, all removed after the file's tests.
import { afterAll, beforeAll, inject } from 'vitest';
import type { TestDatabase } from './database.ts';
import { type Deployment, type DeploymentServices, startDeployment } from './deployment.ts';
import { createFileDatabase } from './file-database.ts';
import { createTestBucket, type TestBucket } from './s3.ts';

export interface Suite {
  db: TestDatabase;
  bucket: TestBucket;
  /** the real services a deployment of this suite runs on */
  services: DeploymentServices;
  /** the deployment, when the suite asked for one */
  app: Deployment;
}

/**
 * Registers the hooks that create (and afterwards drop) the suite's database and bucket and, unless
 * `deploy` is false, start an api and a worker on them with `env` added to their settings (a
 * function: computed then, e.g. to pick a free port). `services` may reroute dependencies (e.g.
 * through a proxy) before the deployment starts. With `createBucket: false` the bucket has only its
 * name until `suite.bucket.create()`, so uploads fail on purpose until then.
 */
export function useSuite(
  options: {
    env?: Record<string, string> | (() => Promise<Record<string, string>>);
    deploy?: boolean;
    createBucket?: boolean;
    services?: (s: DeploymentServices) => Promise<DeploymentServices>;
  } = {},
): Suite {
  const suite = {} as Suite;
  beforeAll(async () => {
    suite.db = await createFileDatabase();
    suite.bucket = await createTestBucket(inject('s3Endpoint'), { create: options.createBucket ?? true });
    const direct = {
      databaseUrl: suite.db.url,
      redisUrl: inject('redisUrl'),
      redisCluster: inject('redisCluster'),
      s3Endpoint: inject('s3Endpoint'),
      bucket: suite.bucket.name,
    };
    suite.services = options.services ? await options.services(direct) : direct;
    const env = typeof options.env === 'function' ? await options.env() : (options.env ?? {});
    if (options.deploy ?? true) suite.app = await startDeployment(suite.services, env);
  });
  afterAll(async () => {
    await suite.app?.stop();
    await suite.bucket?.drop();
    await suite.db?.drop();
  });
  return suite;
}
