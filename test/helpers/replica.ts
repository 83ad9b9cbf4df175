// A replica for a suite: a second moto S3 server of its own (another endpoint, so two real
// servers) with authentication on, a user of its own whose keys only the replica settings carry
// (the deployment's AWS_ACCESS_KEY_ID is refused there), a bucket on it, and ways to compare.
import { request } from 'node:http';
import { afterAll, beforeAll } from 'vitest';
import { type MotoServer, startMoto } from './moto.ts';
import { createTestBucket, type TestBucket } from './s3.ts';

export interface ReplicaServer {
  moto: MotoServer;
  bucket: TestBucket;
  credentials: { accessKeyId: string; secretAccessKey: string };
  /** the storage.replica settings (its own credentials included) and read_fallback: replica */
  env(): Record<string, string>;
}

/**
 * Requests moto answers before it starts checking signatures: enough for its start-up probes and the
 * user's creation; the rest are used up at once, so that authentication is on when the suite runs.
 */
const UNSIGNED_SETUP_CALLS = 100;

/** Registers hooks that start the second S3 server and its bucket before the suite, and stop them after. */
export function useReplicaServer(): ReplicaServer {
  const replica = {} as ReplicaServer;
  replica.env = () => ({
    MCP_STORAGE_REPLICA_BUCKET: replica.bucket.name,
    MCP_STORAGE_REPLICA_ENDPOINT: replica.moto.endpoint,
    MCP_STORAGE_REPLICA_FORCE_PATH_STYLE: 'true',
    MCP_STORAGE_REPLICA_REGION: 'eu-west-1',
    MCP_STORAGE_REPLICA_ACCESS_KEY_ID: replica.credentials.accessKeyId,
    MCP_STORAGE_REPLICA_SECRET_ACCESS_KEY: replica.credentials.secretAccessKey,
    MCP_STORAGE_READ_FALLBACK: 'replica',
  });
  beforeAll(async () => {
    replica.moto = await startMoto({ env: { INITIAL_NO_AUTH_ACTION_COUNT: String(UNSIGNED_SETUP_CALLS) } });
    replica.credentials = await createS3User(replica.moto.port);
    await useUpUnsignedCalls(replica.moto.port);
    replica.bucket = await createTestBucket(replica.moto.endpoint, { credentials: replica.credentials });
  });
  afterAll(async () => {
    await replica.bucket?.drop();
    await replica.moto?.stop();
  });
  return replica;
}

/** A user allowed s3:* on moto's IAM, and its access key (moto routes by the Host header). */
async function createS3User(port: number): Promise<{ accessKeyId: string; secretAccessKey: string }> {
  const policy = JSON.stringify({
    Version: '2012-10-17',
    Statement: [{ Effect: 'Allow', Action: 's3:*', Resource: '*' }],
  });
  await iam(port, { Action: 'CreateUser', UserName: 'replica' });
  const keys = await iam(port, { Action: 'CreateAccessKey', UserName: 'replica' });
  await iam(port, { Action: 'PutUserPolicy', UserName: 'replica', PolicyName: 's3', PolicyDocument: policy });
  const field = (name: string) => {
    const value = new RegExp(`<${name}>([^<]+)</${name}>`).exec(keys)?.[1];
    if (!value) throw new Error(`moto's CreateAccessKey answer has no ${name}: ${keys}`);
    return value;
  };
  return { accessKeyId: field('AccessKeyId'), secretAccessKey: field('SecretAccessKey') };
}

async function useUpUnsignedCalls(port: number): Promise<void> {
  for (let n = 0; n < UNSIGNED_SETUP_CALLS; n++) {
    if (
      !(await iam(port, { Action: 'ListUsers' }).then(
        () => true,
        () => false,
      ))
    )
      return;
  }
  throw new Error('moto still answers unsigned requests');
}

function iam(port: number, params: Record<string, string>): Promise<string> {
  const body = new URLSearchParams({ ...params, Version: '2010-05-08' }).toString();
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        method: 'POST',
        path: '/',
        headers: {
          host: 'iam.amazonaws.com',
          'content-type': 'application/x-www-form-urlencoded',
          authorization:
            'AWS4-HMAC-SHA256 Credential=setup/20260101/us-east-1/iam/aws4_request, SignedHeaders=host, Signature=0',
        },
      },
      (res) => {
        let text = '';
        res.on('data', (chunk: Buffer) => (text += chunk.toString()));
        res.on('end', () =>
          res.statusCode === 200 ? resolve(text) : reject(new Error(`IAM ${params.Action}: ${res.statusCode} ${text}`)),
        );
      },
    );
    req.on('error', reject);
    req.end(body);
  });
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
