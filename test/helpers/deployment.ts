// One ctxvault deployment for end-to-end tests: an `api` and a `worker` process on real Postgres,
// Redis and S3, each deployment isolated by its own database, bucket and queue prefix.
import { randomBytes } from 'node:crypto';
import { bearer, createApiKey, useCredentials } from './credentials.ts';
import { type CtxvaultProcess, freePort, spawnCtxvault } from './processes.ts';

export interface DeploymentServices {
  databaseUrl: string;
  redisUrl: string;
  /** redisUrl lists the seed nodes of a Redis Cluster */
  redisCluster?: boolean;
  s3Endpoint: string;
  bucket: string;
}

export interface Deployment {
  url: string;
  env: Record<string, string>;
  /** with auth.mode "api_key" (the default): an admin-scoped key of tenant "default", which `api()` sends */
  key: string;
  /** the credential headers `api()` sends to this deployment (none with auth.mode "none" or "jwt") */
  headers: Record<string, string>;
  api: CtxvaultProcess;
  /** replaceable, so a test can kill the worker and start another */
  worker: CtxvaultProcess;
  stop(): Promise<void>;
}

export function deploymentEnv(
  services: DeploymentServices,
  extra: Record<string, string> = {},
): Record<string, string> {
  return {
    MCP_DATABASE_URL: services.databaseUrl,
    MCP_REDIS_URL: services.redisUrl,
    MCP_REDIS_CLUSTER: String(services.redisCluster ?? false),
    MCP_QUEUE_PREFIX: `e2e-${randomBytes(4).toString('hex')}`,
    MCP_QUEUE_BACKOFF: '200ms',
    MCP_STORAGE_TYPE: 's3',
    MCP_STORAGE_S3_ENDPOINT: services.s3Endpoint,
    MCP_STORAGE_S3_BUCKET: services.bucket,
    MCP_STORAGE_S3_FORCE_PATH_STYLE: 'true',
    MCP_STORAGE_S3_SERVER_SIDE_ENCRYPTION: 'AES256',
    MCP_STORAGE_S3_REGION: 'us-east-1',
    MCP_LOGGING_LEVEL: 'info',
    // the rate limit has its own suite; elsewhere it would only make timings flaky
    MCP_QUOTAS_REQUESTS_PER_SECOND: '0',
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
    ...extra,
  };
}

export async function startDeployment(
  services: DeploymentServices,
  extra: Record<string, string> = {},
): Promise<Deployment> {
  const port = await freePort();
  const env = deploymentEnv(services, { MCP_SERVER_PORT: String(port), MCP_SERVER_HOST: '127.0.0.1', ...extra });
  const [api, worker] = await Promise.all([
    spawnCtxvault('api', env, { readyLine: /API listening/ }),
    spawnCtxvault('worker', env, { readyLine: /worker running/ }),
  ]);
  const url = `http://127.0.0.1:${port}`;
  const mode = env.MCP_AUTH_MODE ?? 'api_key';
  const key = mode === 'api_key' ? await createApiKey(services.databaseUrl, 'default') : '';
  const headers = key ? bearer(key) : {};
  useCredentials(url, headers);
  const deployment: Deployment = {
    url,
    env,
    key,
    headers,
    api,
    worker,
    stop: async () => {
      await Promise.all([deployment.api.stop(), deployment.worker.stop()]);
    },
  };
  return deployment;
}
