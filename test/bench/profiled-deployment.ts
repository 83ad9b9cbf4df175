// The frame of the one-off profiling scripts: a deployment on its own moto, database and bucket,
// with --cpu-prof on its processes; the profiles are written when they are interrupted at the end.
import { sendCredentialsWithFetch } from '../helpers/credentials.ts';
import { adminQuery, createTestDatabase } from '../helpers/database.ts';
import { type Deployment, startDeployment } from '../helpers/deployment.ts';
import { startMoto } from '../helpers/moto.ts';
import { createTestBucket, type TestBucket } from '../helpers/s3.ts';

export async function withProfiledDeployment(
  dir: string,
  env: Record<string, string>,
  work: (deployment: Deployment, databaseUrl: string, bucket: TestBucket) => Promise<void>,
  profile = true,
  /** Postgres settings of the deployment's database (`alter database … set`), in place before it starts */
  databaseSettings: Record<string, string> = {},
): Promise<void> {
  sendCredentialsWithFetch();
  const moto = await startMoto();
  const adminUrl = 'postgres://postgres@127.0.0.1:5432/postgres';
  const db = await createTestDatabase(adminUrl);
  for (const [name, value] of Object.entries(databaseSettings))
    await adminQuery(adminUrl, `alter database "${db.name}" set ${name} = '${value}'`);
  const bucket = await createTestBucket(moto.endpoint);
  const deployment = await startDeployment(
    { databaseUrl: db.url, redisUrl: 'redis://127.0.0.1:6379', s3Endpoint: moto.endpoint, bucket: bucket.name },
    { ...(profile ? { NODE_OPTIONS: `--cpu-prof --cpu-prof-dir=${dir}` } : {}), ...env },
  );
  try {
    await work(deployment, db.url, bucket);
    if (profile) {
      // SIGINT makes node write its CPU profile on the way out
      for (const proc of [deployment.api, deployment.worker]) process.kill(proc.child.pid!, 'SIGINT');
      await new Promise((r) => setTimeout(r, 5000));
    }
  } finally {
    await deployment.stop();
    await bucket.drop();
    await db.drop();
    await moto.stop();
  }
}
