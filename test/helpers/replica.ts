// A replica for a suite: a second moto S3 server of its own (another endpoint, so two real
// servers), a bucket on it, the settings that point a deployment at it, and ways to compare.
import { afterAll, beforeAll } from 'vitest';
import { type MotoServer, startMoto } from './moto.ts';
import { createTestBucket, type TestBucket } from './s3.ts';

export interface ReplicaServer {
  moto: MotoServer;
  bucket: TestBucket;
  /** the storage.replica settings (own credentials included) and read_fallback: replica */
  env(): Record<string, string>;
}

/** Registers hooks that start the second S3 server and its bucket before the suite, and stop them after. */
export function useReplicaServer(): ReplicaServer {
  const replica = {} as ReplicaServer;
  replica.env = () => ({
    MCP_STORAGE_REPLICA_BUCKET: replica.bucket.name,
    MCP_STORAGE_REPLICA_ENDPOINT: replica.moto.endpoint,
    MCP_STORAGE_REPLICA_FORCE_PATH_STYLE: 'true',
    MCP_STORAGE_REPLICA_REGION: 'eu-west-1',
    MCP_STORAGE_REPLICA_ACCESS_KEY_ID: 'replica',
    MCP_STORAGE_REPLICA_SECRET_ACCESS_KEY: 'replica',
    MCP_STORAGE_READ_FALLBACK: 'replica',
  });
  beforeAll(async () => {
    replica.moto = await startMoto();
    replica.bucket = await createTestBucket(replica.moto.endpoint);
  });
  afterAll(async () => {
    await replica.bucket?.drop();
    await replica.moto?.stop();
  });
  return replica;
}

/** Waits until the replica holds exactly the primary's keys; returns them. */
export async function waitUntilMirrored(primary: TestBucket, replica: TestBucket, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const [source, copy] = await Promise.all([primary.keys(), replica.keys()]);
    if (source.length > 0 && JSON.stringify(source.sort()) === JSON.stringify(copy.sort())) return source;
    if (Date.now() > deadline) {
      throw new Error(`replica not in step after ${timeoutMs} ms: primary ${source.length}, replica ${copy.length}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}
