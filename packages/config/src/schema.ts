import type { z } from 'zod';
import {
  byteSize,
  describeValue,
  duration,
  flag,
  integer,
  keyPrefix,
  oneOf,
  section,
  text,
  url,
  urlList,
} from './leaves.ts';

const KiB = 2 ** 10;
const MiB = 2 ** 20;
const GiB = 2 ** 30;

/** Base64 of 32 bytes (an AES-256 key), or with `list` several of them comma-separated; empty allowed. */
function masterKey({ list }: { list: boolean }) {
  return text().refine(
    (value) =>
      value === '' ||
      (list ? value.split(',') : [value]).every((one) => {
        const key = one.trim();
        return /^[A-Za-z0-9+/]+={0,2}$/.test(key) && Buffer.from(key, 'base64').length === 32;
      }),
    { message: `must be base64 of 32 bytes${list ? ' (comma-separated)' : ''}, e.g. from \`openssl rand -base64 32\`` },
  );
}

const s3PartSize = byteSize({
  min: { bytes: 5 * MiB, reason: "S3's minimum part size" },
  max: { bytes: 5 * GiB, reason: "S3's maximum part size" },
});

/** The tokenizer encodings of gpt-tokenizer that token counts can use. */
export const TOKEN_ENCODINGS = [
  'o200k_base',
  'o200k_harmony',
  'cl100k_base',
  'p50k_base',
  'p50k_edit',
  'r50k_base',
  'gpt2',
] as const;

/** Where a bucket is and how its objects are encrypted: the same keys for storage.s3 and storage.replica. */
function bucketLocation(defaultBucket: string) {
  return {
    region: text().default('us-east-1'),
    bucket: text().default(defaultBucket),
    endpoint: url(['http:', 'https:'], { allowEmpty: true }).default(''),
    force_path_style: flag().default(false),
    server_side_encryption: oneOf(['', 'AES256', 'aws:kms']).default(''),
    kms_key_id: text().default(''),
  };
}

/** aws:kms needs a key id; reported also when other keys are bad, so one run reports every problem. */
function requireKmsKey(section: string) {
  return (settings: { server_side_encryption: string; kms_key_id: string }, ctx: z.RefinementCtx) => {
    if (settings.server_side_encryption !== 'aws:kms' || settings.kms_key_id !== '') return;
    ctx.addIssue({
      code: 'custom',
      path: ['kms_key_id'],
      message: `must be set when ${section}.server_side_encryption is "aws:kms"; got ""`,
    });
  };
}

const s3 = section({
  ...bucketLocation('mcp-contexts'),
  upload_part_size: s3PartSize.default(5 * MiB),
  download_part_size: s3PartSize.default(5 * MiB),
  concurrency: integer(1, 64).default(5),
  request_timeout: duration({ min: 1 }).prefault('30s'),
  max_attempts: integer(1, 20).default(5),
  // a create's or replace's body of more than a part goes straight to its object, not through staging
  direct_writes: flag().default(true),
}).superRefine(requireKmsKey('storage.s3'), { when: () => true });

/** A second S3 bucket (another endpoint, region or account) that the workers copy every object to. */
const replica = section({
  // bucket empty: no replica
  ...bucketLocation(''),
  // the replica's own credentials; both empty: the AWS SDK's default chain, as for storage.s3
  access_key_id: text().default(''),
  secret_access_key: text().default(''),
}).superRefine(
  (settings, ctx) => {
    requireKmsKey('storage.replica')(settings, ctx);
    if ((settings.access_key_id === '') !== (settings.secret_access_key === '')) {
      const missing = settings.access_key_id === '' ? 'access_key_id' : 'secret_access_key';
      ctx.addIssue({
        code: 'custom',
        path: [missing],
        message: 'must be set together with the other of storage.replica.access_key_id and secret_access_key; got ""',
      });
    }
  },
  { when: () => true },
);

/** Whether raw (unparsed) storage settings choose S3, and carry an s3 section to check. */
function isS3Storage(value: unknown): boolean {
  const storage = value as { type?: unknown; s3?: unknown } | null;
  return storage?.type === 's3' && typeof storage.s3 === 'object' && storage.s3 !== null;
}

/** Every setting, as read from config.yaml and MCP_* variables, before derived defaults are filled in. */
export const settingsSchema = section({
  server: section({
    host: text().default('127.0.0.1'),
    port: integer(1, 65535).default(8080),
    // Host header values /mcp, the dashboard and admin writes answer (comma-separated, a port optional);
    // the loopback names always pass. Anything else is refused: DNS rebinding protection
    allowed_hosts: text().default(''),
    // browser origins (scheme://host[:port], comma-separated) allowed to call /mcp, the dashboard and admin writes
    allowed_origins: text().default(''),
  }).prefault({}),
  auth: section({
    // unset: "none" for the embedded `start` on a loopback host, else "api_key"
    mode: oneOf(['api_key', 'jwt', 'none']).optional(),
    // let "none" serve a non-loopback host (every caller then chooses its tenant): for trusted networks only
    allow_insecure: flag().default(false),
    // how long an API process trusts a key it verified before asking the database again: a key revoked
    // elsewhere (another process, `ctxvault keys revoke`) is refused within this time; 0: every request asks.
    // With auth.mode "jwt", also how long a verified access token is trusted without checking it again (never past its exp)
    key_cache_ttl: duration().prefault('5s'),
    jwt: section({
      issuer: text().default(''),
      audience: text().default(''),
      jwks_url: url(['http:', 'https:'], { allowEmpty: true }).default(''),
      // the claim naming the tenant, and the one with the scopes (a space-separated string or an array)
      tenant_claim: text().default('tenant_id'),
      scopes_claim: text().default('scope'),
    }).prefault({}),
    // this server's URL as OAuth clients see it (the protected resource); empty: taken from the request
    resource_url: url(['http:', 'https:'], { allowEmpty: true }).default(''),
  })
    .superRefine(
      (auth, ctx) => {
        if (auth.mode !== 'jwt') return;
        for (const key of ['issuer', 'audience', 'jwks_url'] as const) {
          if (auth.jwt[key] !== '') continue;
          ctx.addIssue({ code: 'custom', path: ['jwt', key], message: 'must be set when auth.mode is "jwt"; got ""' });
        }
      },
      { when: (payload) => (payload.value as { mode?: unknown } | null)?.mode === 'jwt' },
    )
    .prefault({}),
  database: section({
    // empty: run on embedded PGlite
    url: url(['postgres:', 'postgresql:'], { allowEmpty: true }).default(''),
    embedded_dir: text().default('.data/pglite'),
  }).prefault({}),
  redis: section({
    // one node; with `cluster`, one or more comma-separated seed nodes of the cluster
    url: urlList(['redis:', 'rediss:']).default('redis://127.0.0.1:6379'),
    // a Redis Cluster: queue keys get the hash tag {queue.prefix}, so each queue's keys share a slot
    cluster: flag().default(false),
  })
    .superRefine((redis, ctx) => {
      if (!redis.cluster && redis.url.includes(',')) {
        ctx.addIssue({
          code: 'custom',
          path: ['url'],
          message: `must be one URL unless redis.cluster is true; got ${JSON.stringify(redis.url)}`,
        });
      }
    })
    .prefault({}),
  queue: section({
    // unset: "redis" beside an external database, "postgres" on the embedded one
    backend: oneOf(['redis', 'postgres']).optional(),
    concurrency: integer(1, 256).default(4),
    attempts: integer(1, 100).default(5),
    backoff: duration().prefault('1s'),
    // a job whose worker stops renewing its lock for this long (crashed, killed) goes to another worker
    lock_duration: duration({ min: 1000 }).prefault('30s'),
    // Redis key prefix, so several deployments (or test runs) can share one Redis
    prefix: keyPrefix().default('ctxvault'),
  }).prefault({}),
  admin: section({
    token: text().default(''),
  }).prefault({}),
  metrics: section({
    // a `ctxvault worker` serves its /metrics here; 0: off (the API serves /metrics on server.port)
    worker_port: integer(0, 65535).default(0),
    // when set, /metrics and /api/v1/cache need `Authorization: Bearer <token>` (the admin token works too)
    token: text().default(''),
  }).prefault({}),
  logging: section({
    level: oneOf(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  }).prefault({}),
  storage: section({
    type: oneOf(['local', 's3']).default('local'),
    local: section({
      path: text().default('.data/blobs'),
    }).prefault({}),
    s3: s3.prefault({}),
    replica: replica.prefault({}),
    // "replica": reads the primary store fails (down, refusing, object lost) are answered from storage.replica
    read_fallback: oneOf(['none', 'replica']).default('none'),
    context_storage: section({
      provider: oneOf(['database', 's3']).default('s3'),
      s3_path_prefix: keyPrefix().default('contexts'),
    }).prefault({}),
    // compression of bodies in the blob store; reads decode whatever a context was written with
    compression: oneOf(['none', 'gzip', 'zstd']).default('none'),
    // the codec's own scale (gzip 1-9, zstd 1-22); 0 means the codec's default
    compression_level: integer(0, 22).default(0),
    // bodies below this are kept inline in Postgres (a field holds at most 1 GiB - 1)
    inline_threshold: byteSize({ max: { bytes: GiB, reason: "PostgreSQL's largest field" } }).prefault('256KiB'),
    // a worker merges a context's segments (appends add one each) into one object once its current
    // version has more than max_segments segments, or more than max_bytes after its first (base) one
    compaction: section({
      max_segments: integer(2, 10_000).default(32),
      max_bytes: byteSize({ min: { bytes: 1 } }).prefault('64MiB'),
    }).prefault({}),
  })
    .superRefine(
      (storage, ctx) => {
        if (storage.type !== 's3') return;
        for (const key of ['bucket', 'region'] as const) {
          const value: unknown = storage.s3[key];
          if (typeof value !== 'string' || value.trim() !== '') continue;
          ctx.addIssue({ code: 'custom', path: ['s3', key], message: 'must be set when storage.type is "s3"; got ""' });
        }
      },
      // also when other storage keys are bad, so that one run reports every problem
      { when: (payload) => isS3Storage(payload.value) },
    )
    .superRefine(
      (storage, ctx) => {
        if (storage.read_fallback !== 'replica' || storage.replica?.bucket !== '') return;
        ctx.addIssue({
          code: 'custom',
          path: ['read_fallback'],
          message: 'is "replica" but storage.replica.bucket is empty: set the replica, or read_fallback: none',
        });
      },
      { when: () => true },
    )
    .prefault({}),
  encryption: section({
    // "envelope": every new body (object, inline, staged) sealed with AES-256-GCM under its context's
    // data key, wrapped by the master key; "none": new bodies in the clear (sealed ones still open
    // while the master key stays configured)
    mode: oneOf(['none', 'envelope']).default('none'),
    // where the master key is: "local" (master_key below) or "kms" (AWS KMS, kms.key_id)
    provider: oneOf(['local', 'kms']).default('local'),
    // base64 of 32 random bytes (`openssl rand -base64 32`); keep it out of config files: MCP_ENCRYPTION_MASTER_KEY
    master_key: masterKey({ list: false }).default(''),
    // comma-separated earlier master keys, still accepted to unwrap until `ctxvault keys rotate-master` re-wrapped their keys
    previous_master_keys: masterKey({ list: true }).default(''),
    kms: section({
      // id, ARN or alias of the KMS key that wraps data keys
      key_id: text().default(''),
      // empty: storage.s3.region
      region: text().default(''),
      // an AWS-compatible KMS endpoint (LocalStack, moto); empty: AWS
      endpoint: url(['http:', 'https:'], { allowEmpty: true }).default(''),
    }).prefault({}),
    // data keys kept unwrapped in memory per process (a KMS Decrypt, or a local unwrap, saved per hit)
    key_cache_size: integer(1, 1_000_000).default(10_000),
  })
    .superRefine(
      (encryption, ctx) => {
        if (encryption.provider === 'local' && encryption.master_key === '' && encryption.mode === 'envelope') {
          ctx.addIssue({
            code: 'custom',
            path: ['master_key'],
            message:
              'must be set when encryption.mode is "envelope" with provider "local" (base64 of 32 bytes); got ""',
          });
        }
        if (encryption.provider === 'kms' && encryption.kms.key_id === '' && encryption.mode === 'envelope') {
          ctx.addIssue({
            code: 'custom',
            path: ['kms', 'key_id'],
            message: 'must be set when encryption.mode is "envelope" with provider "kms"; got ""',
          });
        }
      },
      { when: () => true },
    )
    .prefault({}),
  limits: section({
    max_body_bytes: byteSize({ min: { bytes: 1 } }).prefault('64MiB'),
    // largest context accepted as a stream (application/x-ndjson), counted after decompression
    max_context_bytes: byteSize({ min: { bytes: 1 } }).prefault('1GiB'),
    // a request whose whole body has not arrived within this is cut off with 408 (its partial stage removed)
    body_timeout: duration({ min: 1000 }).prefault('5m'),
    // request bodies one API process stages at once; more are refused with 503 and Retry-After
    max_concurrent_stagings: integer(1, 1024).default(8),
    // largest single item (one NDJSON line, one element of content), refused with 413 while it streams
    max_item_bytes: byteSize({ min: { bytes: 1 } }).prefault('64MiB'),
    // a compressed body may decode to at most this many times its compressed size (413 beyond)
    max_decompression_ratio: integer(1, 100_000).default(100),
    // JSON-RPC messages in one batch on /mcp
    max_batch_messages: integer(1, 1000).default(16),
  }).prefault({}),
  quotas: section({
    // per tenant; 0: no limit. Requests per second are counted in Redis across API processes
    requests_per_second: integer(0, 1_000_000).default(100),
    // live contexts a tenant may have
    max_contexts: integer(0, 2 ** 31 - 1).default(0),
    // bytes of stored bodies a tenant may keep (size_bytes of its live contexts)
    max_stored_bytes: byteSize().prefault('0'),
    // request bodies a tenant may be sending to one API process at once
    max_staged_bytes: byteSize().prefault('2GiB'),
  }).prefault({}),
  cache: section({
    // in-process LRU of hot bodies, per API process; 0 turns it off
    max_bytes: byteSize().prefault('256MiB'),
    // larger bodies are streamed from storage every time
    max_item_bytes: byteSize().prefault('16MiB'),
    // above 0, bodies up to this size are also shared between API processes through Redis (redis.url)
    redis_max_item_bytes: byteSize().prefault('0'),
    // how long a body stays in the Redis tier
    redis_ttl: duration({ min: 1000 }).prefault('10m'),
  }).prefault({}),
  lifecycle: section({
    // how often the scheduled lifecycle job runs
    interval: duration({ min: 1000 }).prefault('5m'),
    // superseded versions kept (readable, restorable, forkable) besides the current one: the newest N
    keep_versions: integer(0, 1000).default(0),
    // and every version superseded less than this long ago (0: none by age); a version either rule keeps stays
    keep_for: duration().prefault('0s'),
    // objects younger than this are never collected: an upload may be about to flip its row
    object_grace: duration().prefault('10m'),
    // incomplete multipart uploads older than this are aborted
    multipart_grace: duration().prefault('1h'),
    // staged bodies whose context is gone are removed after this long
    staging_grace: duration().prefault('1h'),
    // pending rows untouched this long get their upload job enqueued again
    pending_grace: duration().prefault('1m'),
  }).prefault({}),
  staging: section({
    chunk_size: byteSize({ min: { bytes: 64 * KiB }, max: { bytes: 64 * MiB } }).prefault('1MiB'),
  }).prefault({}),
  tokens: section({
    // "auto": the encoding of the context's model_id, else default_encoding; or always this one
    encoding: oneOf(['auto', ...TOKEN_ENCODINGS]).default('auto'),
    default_encoding: oneOf(TOKEN_ENCODINGS).default('o200k_base'),
    // the API counts the tokens of at most this many item bytes per write (so a write is answered
    // without waiting for a tokenizer); workers count the rest, and views say tokens_final: false meanwhile
    inline_count_bytes: byteSize().prefault('64KiB'),
    // threads a worker process counts tokens on, each with its own tokenizer tables (~70 MB of RSS);
    // 0: one per core. The API always counts on one.
    counting_threads: integer(0, 256).default(0),
  }).prefault({}),
  client: section({
    // where `ctxvault put/get/status/ls/mcp` send their requests
    url: url(['http:', 'https:']).default('http://127.0.0.1:8080'),
    tenant: text().default('default'),
    // sent as `Authorization: Bearer` (an API key of `ctxvault keys create`, or a JWT)
    api_key: text().default(''),
  }).prefault({}),
});

type Settings = z.output<typeof settingsSchema>;

export const configSchema = settingsSchema
  .superRefine((settings, ctx) => {
    if (settings.storage.replica.bucket === '' || settings.database.url !== '') return;
    // PGlite serves the embedded mode's queue with few connections: no room for the replication consumer
    ctx.addIssue({
      code: 'custom',
      path: ['storage', 'replica', 'bucket'],
      message: 'needs database.url (MCP_DATABASE_URL): the embedded mode does not replicate',
    });
  })
  .transform((settings) => ({
    ...settings,
    queue: { ...settings.queue, backend: settings.queue.backend ?? defaultQueueBackend(settings) },
    auth: { ...settings.auth, mode: settings.auth.mode ?? defaultAuthMode(settings) },
  }))
  .superRefine((config, ctx) => {
    if (config.auth.mode !== 'none' || config.auth.allow_insecure || isLoopback(config.server.host)) return;
    ctx.addIssue({
      code: 'custom',
      path: ['auth', 'mode'],
      message: `is "none" (no authentication) on the non-loopback host ${describeValue(config.server.host)}: use "api_key" or "jwt", or set auth.allow_insecure (MCP_AUTH_ALLOW_INSECURE) on a trusted network`,
    });
  });

/** Open only to this machine: the loopback addresses and names. */
export function isLoopback(host: string): boolean {
  return ['localhost', '::1', '[::1]'].includes(host.toLowerCase()) || /^127(\.\d{1,3}){3}$/.test(host);
}

/** The embedded single-process mode on a loopback host needs no credential on its first run; everything else does. */
function defaultAuthMode(settings: Settings): 'api_key' | 'none' {
  return settings.database.url === '' && isLoopback(settings.server.host) ? 'none' : 'api_key';
}

function defaultQueueBackend(settings: Settings): 'redis' | 'postgres' {
  return settings.database.url === '' ? 'postgres' : 'redis';
}

/** The parsed settings; keys as in config.yaml, durations in ms, sizes in bytes. */
export type Config = z.output<typeof configSchema>;
