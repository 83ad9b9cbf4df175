import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ConfigError } from './config-error.ts';
import { loadConfig } from './load-config.ts';

const dir = mkdtempSync(join(tmpdir(), 'ctxvault-config-'));
let fileCount = 0;

function yamlFile(text: string): string {
  const path = join(dir, `config-${++fileCount}.yaml`);
  writeFileSync(path, text);
  return path;
}

function configErrorOf(options: Parameters<typeof loadConfig>[0]): ConfigError {
  try {
    loadConfig(options);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error('loadConfig accepted the settings');
}

function problemsOf(options: Parameters<typeof loadConfig>[0]): string {
  return configErrorOf(options).message;
}

afterAll(() => rmSync(dir, { recursive: true, force: true }));
// an empty working directory, so that no ./config.yaml is found unless a test writes one
beforeEach(() => vi.spyOn(process, 'cwd').mockReturnValue(dir));
afterEach(() => vi.restoreAllMocks());

describe('loadConfig', () => {
  it('returns the defaults when there is no file and no variable', () => {
    expect(loadConfig({ env: {} })).toEqual({
      server: { host: '127.0.0.1', port: 8080, allowed_hosts: '', allowed_origins: '' },
      auth: {
        mode: 'none',
        allow_insecure: false,
        key_cache_ttl: 5000,
        jwt: { issuer: '', audience: '', jwks_url: '', tenant_claim: 'tenant_id', scopes_claim: 'scope' },
        resource_url: '',
      },
      database: { url: '', embedded_dir: '.data/pglite' },
      redis: { url: 'redis://127.0.0.1:6379', cluster: false },
      queue: {
        backend: 'postgres',
        concurrency: 4,
        attempts: 5,
        backoff: 1_000,
        lock_duration: 30_000,
        prefix: 'ctxvault',
      },
      admin: { token: '' },
      metrics: { worker_port: 0, token: '' },
      logging: { level: 'info' },
      storage: {
        type: 'local',
        local: { path: '.data/blobs' },
        s3: {
          region: 'us-east-1',
          bucket: 'mcp-contexts',
          endpoint: '',
          force_path_style: false,
          server_side_encryption: '',
          kms_key_id: '',
          upload_part_size: 5_242_880,
          download_part_size: 5_242_880,
          concurrency: 5,
          request_timeout: 30_000,
          max_attempts: 5,
          direct_writes: true,
        },
        replica: {
          bucket: '',
          region: 'us-east-1',
          endpoint: '',
          force_path_style: false,
          server_side_encryption: '',
          kms_key_id: '',
          access_key_id: '',
          secret_access_key: '',
        },
        read_fallback: 'none',
        context_storage: { provider: 's3', s3_path_prefix: 'contexts' },
        compression: 'none',
        compression_level: 0,
        inline_threshold: 262_144,
        compaction: { max_segments: 32, max_bytes: 67_108_864 },
      },
      encryption: {
        mode: 'none',
        provider: 'local',
        master_key: '',
        previous_master_keys: '',
        kms: { key_id: '', region: '', endpoint: '' },
        key_cache_size: 10_000,
      },
      limits: {
        max_body_bytes: 67_108_864,
        max_context_bytes: 1_073_741_824,
        body_timeout: 300_000,
        max_concurrent_stagings: 8,
        max_item_bytes: 67_108_864,
        max_decompression_ratio: 100,
        max_batch_messages: 16,
      },
      quotas: { requests_per_second: 100, max_contexts: 0, max_stored_bytes: 0, max_staged_bytes: 2_147_483_648 },
      cache: { max_bytes: 268_435_456, max_item_bytes: 16_777_216, redis_max_item_bytes: 0, redis_ttl: 600_000 },
      lifecycle: {
        interval: 300_000,
        keep_versions: 0,
        keep_for: 0,
        object_grace: 600_000,
        multipart_grace: 3_600_000,
        staging_grace: 3_600_000,
        pending_grace: 60_000,
      },
      staging: { chunk_size: 1_048_576 },
      tokens: { encoding: 'auto', default_encoding: 'o200k_base', inline_count_bytes: 65_536, counting_threads: 0 },
      client: { url: 'http://127.0.0.1:8080', tenant: 'default', api_key: '' },
    });
  });

  it('lets the file override defaults, converting durations and sizes', () => {
    const configPath = yamlFile(`
storage:
  type: s3
  s3:
    region: us-west-2
    force_path_style: true
    upload_part_size: 8MiB
    request_timeout: 2m
  inline_threshold: 512KiB
queue:
  backoff: 500ms
`);
    const config = loadConfig({ configPath, env: {} });
    expect(config.storage.type).toBe('s3');
    expect(config.storage.s3.region).toBe('us-west-2');
    expect(config.storage.s3.force_path_style).toBe(true);
    expect(config.storage.s3.upload_part_size).toBe(8 * 2 ** 20);
    expect(config.storage.s3.request_timeout).toBe(120_000);
    expect(config.storage.s3.bucket).toBe('mcp-contexts');
    expect(config.storage.inline_threshold).toBe(524_288);
    expect(config.queue.backoff).toBe(500);
  });

  it('lets variables override the file', () => {
    const configPath = yamlFile('server:\n  port: 9000\n  host: 0.0.0.0\n');
    const config = loadConfig({ configPath, env: { MCP_SERVER_PORT: '9100' } });
    expect(config.server).toMatchObject({ host: '0.0.0.0', port: 9100 });
  });

  it('reads the file named by MCP_CONFIG', () => {
    const configPath = yamlFile('logging:\n  level: debug\n');
    expect(loadConfig({ env: { MCP_CONFIG: configPath } }).logging.level).toBe('debug');
  });

  it('prefers the configPath option to MCP_CONFIG', () => {
    const configPath = yamlFile('logging:\n  level: warn\n');
    const other = yamlFile('logging:\n  level: debug\n');
    expect(loadConfig({ configPath, env: { MCP_CONFIG: other } }).logging.level).toBe('warn');
  });

  it('reads ./config.yaml when no file is named', () => {
    const cwd = mkdtempSync(join(dir, 'cwd-'));
    writeFileSync(join(cwd, 'config.yaml'), 'admin:\n  token: from-default-file\n');
    vi.spyOn(process, 'cwd').mockReturnValue(cwd);
    expect(loadConfig({ env: {} }).admin.token).toBe('from-default-file');
  });

  it('refuses a named file that does not exist', () => {
    const configPath = join(dir, 'missing.yaml');
    expect(problemsOf({ configPath, env: {} })).toContain(`${configPath}: cannot read config file: no such file`);
    expect(problemsOf({ env: { MCP_CONFIG: configPath } })).toContain(configPath);
  });

  it('keeps defaults for keys and sections written without a value', () => {
    const configPath = yamlFile('server:\n  port:\nstorage:\n');
    expect(loadConfig({ configPath, env: {} }).server.port).toBe(8080);
  });

  it('returns deeply frozen settings', () => {
    const config = loadConfig({ env: {} });
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.storage.s3)).toBe(true);
    expect(() => {
      (config.storage.s3 as { bucket: string }).bucket = 'other';
    }).toThrow(TypeError);
  });
});

describe('environment variables', () => {
  it.each([
    ['MCP_STORAGE_TYPE', 's3', ['storage', 'type'], 's3'],
    ['MCP_STORAGE_S3_REGION', 'eu-west-1', ['storage', 's3', 'region'], 'eu-west-1'],
    ['MCP_STORAGE_S3_BUCKET', 'my-bucket', ['storage', 's3', 'bucket'], 'my-bucket'],
    ['MCP_STORAGE_S3_ENDPOINT', 'http://localhost:4566', ['storage', 's3', 'endpoint'], 'http://localhost:4566'],
    ['MCP_STORAGE_S3_FORCE_PATH_STYLE', 'true', ['storage', 's3', 'force_path_style'], true],
    ['MCP_STORAGE_S3_FORCE_PATH_STYLE', 'yes', ['storage', 's3', 'force_path_style'], true],
    ['MCP_STORAGE_S3_FORCE_PATH_STYLE', '0', ['storage', 's3', 'force_path_style'], false],
    ['MCP_STORAGE_S3_SERVER_SIDE_ENCRYPTION', 'AES256', ['storage', 's3', 'server_side_encryption'], 'AES256'],
    ['MCP_STORAGE_S3_KMS_KEY_ID', 'alias/ctx', ['storage', 's3', 'kms_key_id'], 'alias/ctx'],
    ['MCP_STORAGE_S3_UPLOAD_PART_SIZE', '10485760', ['storage', 's3', 'upload_part_size'], 10_485_760],
    ['MCP_STORAGE_S3_UPLOAD_PART_SIZE', '16MiB', ['storage', 's3', 'upload_part_size'], 16_777_216],
    ['MCP_STORAGE_S3_DOWNLOAD_PART_SIZE', '8388608', ['storage', 's3', 'download_part_size'], 8_388_608],
    ['MCP_STORAGE_S3_CONCURRENCY', '12', ['storage', 's3', 'concurrency'], 12],
    ['MCP_STORAGE_S3_REQUEST_TIMEOUT', '30s', ['storage', 's3', 'request_timeout'], 30_000],
    ['MCP_STORAGE_S3_MAX_ATTEMPTS', '3', ['storage', 's3', 'max_attempts'], 3],
    ['MCP_STORAGE_CONTEXT_STORAGE_PROVIDER', 'database', ['storage', 'context_storage', 'provider'], 'database'],
    [
      'MCP_STORAGE_CONTEXT_STORAGE_S3_PATH_PREFIX',
      'tenants/prod',
      ['storage', 'context_storage', 's3_path_prefix'],
      'tenants/prod',
    ],
    ['MCP_STORAGE_LOCAL_PATH', '/var/lib/ctxvault', ['storage', 'local', 'path'], '/var/lib/ctxvault'],
    ['MCP_STORAGE_INLINE_THRESHOLD', '1MiB', ['storage', 'inline_threshold'], 1_048_576],
    ['MCP_SERVER_HOST', '0.0.0.0', ['server', 'host'], '0.0.0.0'],
    ['MCP_SERVER_PORT', '3000', ['server', 'port'], 3000],
    ['MCP_DATABASE_URL', 'postgres://u:p@db:5432/ctx', ['database', 'url'], 'postgres://u:p@db:5432/ctx'],
    ['MCP_DATABASE_EMBEDDED_DIR', '/tmp/pg', ['database', 'embedded_dir'], '/tmp/pg'],
    ['MCP_REDIS_URL', 'rediss://cache:6380', ['redis', 'url'], 'rediss://cache:6380'],
    ['MCP_REDIS_CLUSTER', 'true', ['redis', 'cluster'], true],
    ['MCP_QUEUE_BACKEND', 'redis', ['queue', 'backend'], 'redis'],
    ['MCP_QUEUE_CONCURRENCY', '16', ['queue', 'concurrency'], 16],
    ['MCP_QUEUE_ATTEMPTS', '2', ['queue', 'attempts'], 2],
    ['MCP_QUEUE_BACKOFF', '5s', ['queue', 'backoff'], 5_000],
    ['MCP_ADMIN_TOKEN', 's3cret', ['admin', 'token'], 's3cret'],
    ['MCP_LOGGING_LEVEL', 'debug', ['logging', 'level'], 'debug'],
    ['MCP_LIMITS_MAX_BODY_BYTES', '128MiB', ['limits', 'max_body_bytes'], 134_217_728],
    ['MCP_STAGING_CHUNK_SIZE', '8MiB', ['staging', 'chunk_size'], 8_388_608],
    ['MCP_LIMITS_BODY_TIMEOUT', '30s', ['limits', 'body_timeout'], 30_000],
    ['MCP_LIMITS_MAX_CONCURRENT_STAGINGS', '2', ['limits', 'max_concurrent_stagings'], 2],
    ['MCP_TOKENS_ENCODING', 'cl100k_base', ['tokens', 'encoding'], 'cl100k_base'],
    ['MCP_TOKENS_DEFAULT_ENCODING', 'p50k_base', ['tokens', 'default_encoding'], 'p50k_base'],
    ['MCP_CLIENT_URL', 'https://vault.example:8443', ['client', 'url'], 'https://vault.example:8443'],
    ['MCP_CLIENT_TENANT', 'team-a', ['client', 'tenant'], 'team-a'],
  ] as const)('%s=%j sets %j', (name, value, path, expected) => {
    const config: unknown = loadConfig({ env: { [name]: value } });
    expect(path.reduce<unknown>((node, key) => (node as Record<string, unknown>)[key], config)).toEqual(expected);
  });

  it('sets a string setting to "" when its variable is empty', () => {
    const configPath = yamlFile('admin:\n  token: from-file\n');
    expect(loadConfig({ configPath, env: { MCP_ADMIN_TOKEN: '' } }).admin.token).toBe('');
  });

  it('ignores unknown MCP_ variables', () => {
    expect(loadConfig({ env: { MCP_STORAGE_S3_BUKET: 'typo', MCP_WHATEVER: '1' } }).storage.s3.bucket).toBe(
      'mcp-contexts',
    );
  });
});

describe('queue.backend', () => {
  it('defaults to "postgres" on the embedded database', () => {
    expect(loadConfig({ env: {} }).queue.backend).toBe('postgres');
  });

  it('defaults to "redis" beside an external database', () => {
    expect(loadConfig({ env: { MCP_DATABASE_URL: 'postgresql://db/ctx' } }).queue.backend).toBe('redis');
  });

  it('keeps an explicit choice', () => {
    const env = { MCP_DATABASE_URL: 'postgres://db/ctx', MCP_QUEUE_BACKEND: 'postgres' };
    expect(loadConfig({ env }).queue.backend).toBe('postgres');
  });
});

describe('auth', () => {
  const PG = { MCP_DATABASE_URL: 'postgres://localhost/ctxvault' };

  it('needs no credential only for the embedded database on a loopback host; else API keys', () => {
    expect(loadConfig({ env: {} }).auth.mode).toBe('none');
    expect(loadConfig({ env: PG }).auth.mode).toBe('api_key');
    expect(loadConfig({ env: { MCP_SERVER_HOST: '0.0.0.0' } }).auth.mode).toBe('api_key');
    expect(loadConfig({ env: { ...PG, MCP_AUTH_MODE: 'none', MCP_SERVER_HOST: '::1' } }).auth.mode).toBe('none');
  });

  it('refuses mode "none" on a non-loopback host unless allow_insecure says so', () => {
    expect(problemsOf({ env: { MCP_AUTH_MODE: 'none', MCP_SERVER_HOST: '0.0.0.0' } })).toContain(
      'auth.mode (MCP_AUTH_MODE): is "none" (no authentication) on the non-loopback host "0.0.0.0"',
    );
    const insecure = { MCP_AUTH_MODE: 'none', MCP_SERVER_HOST: '0.0.0.0', MCP_AUTH_ALLOW_INSECURE: 'true' };
    expect(loadConfig({ env: insecure }).auth.mode).toBe('none');
  });

  it('needs issuer, audience and JWKS URL with mode "jwt"', () => {
    const problems = problemsOf({ env: { MCP_AUTH_MODE: 'jwt', MCP_AUTH_JWT_ISSUER: 'https://id.example' } });
    expect(problems).toContain('auth.jwt.audience (MCP_AUTH_JWT_AUDIENCE): must be set when auth.mode is "jwt"');
    expect(problems).toContain('auth.jwt.jwks_url (MCP_AUTH_JWT_JWKS_URL): must be set when auth.mode is "jwt"');
    expect(problems).not.toContain('auth.jwt.issuer');
  });
});

describe('bad settings', () => {
  it("refuses part sizes below S3's 5 MiB minimum", () => {
    expect(problemsOf({ env: { MCP_STORAGE_S3_UPLOAD_PART_SIZE: '1048576' } })).toContain(
      "storage.s3.upload_part_size (MCP_STORAGE_S3_UPLOAD_PART_SIZE): must be at least 5242880 bytes (5 MiB, S3's minimum part size); got 1048576",
    );
    expect(problemsOf({ env: { MCP_STORAGE_S3_DOWNLOAD_PART_SIZE: '4MiB' } })).toContain(
      'storage.s3.download_part_size (MCP_STORAGE_S3_DOWNLOAD_PART_SIZE): must be at least 5242880 bytes',
    );
  });

  it('refuses part sizes above 5 GiB', () => {
    expect(problemsOf({ env: { MCP_STORAGE_S3_UPLOAD_PART_SIZE: '6GiB' } })).toContain(
      "must be at most 5368709120 bytes (5 GiB, S3's maximum part size); got 6442450944",
    );
  });

  it('names the file and line when the bad value came from the file', () => {
    const configPath = yamlFile('storage:\n  s3:\n    upload_part_size: 1MiB\n');
    expect(problemsOf({ configPath, env: {} })).toContain(
      `${configPath}:3: storage.s3.upload_part_size (MCP_STORAGE_S3_UPLOAD_PART_SIZE): must be at least 5242880 bytes`,
    );
  });

  it('refuses a value outside an enum, listing what is allowed', () => {
    expect(problemsOf({ env: { MCP_STORAGE_TYPE: 'gcs' } })).toContain(
      'storage.type (MCP_STORAGE_TYPE): must be one of "local", "s3"; got "gcs"',
    );
  });

  it('refuses an unknown tokenizer encoding, listing what is allowed', () => {
    expect(problemsOf({ env: { MCP_TOKENS_ENCODING: 'llama3' } })).toContain(
      'tokens.encoding (MCP_TOKENS_ENCODING): must be one of "auto", "o200k_base", "o200k_harmony", "cl100k_base", "p50k_base", "p50k_edit", "r50k_base", "gpt2"; got "llama3"',
    );
  });

  it('refuses a client.url that is not http(s)', () => {
    expect(problemsOf({ env: { MCP_CLIENT_URL: 'ftp://vault' } })).toContain(
      'client.url (MCP_CLIENT_URL): must be a http:// or https:// URL; got "ftp://vault"',
    );
  });

  it('refuses a bad duration', () => {
    expect(problemsOf({ env: { MCP_STORAGE_S3_REQUEST_TIMEOUT: 'soon' } })).toContain(
      'storage.s3.request_timeout (MCP_STORAGE_S3_REQUEST_TIMEOUT): must be a duration like "500ms", "30s", "5m", "1h", "2d" or a number of ms; got "soon"',
    );
  });

  it('refuses numbers, flags and URLs it cannot read', () => {
    const message = problemsOf({
      env: {
        MCP_SERVER_PORT: '70000',
        MCP_STORAGE_S3_FORCE_PATH_STYLE: 'maybe',
        MCP_DATABASE_URL: 'mysql://db',
        MCP_REDIS_URL: 'http://cache',
        MCP_STORAGE_S3_ENDPOINT: 'localhost:9000',
      },
    });
    expect(message).toContain('server.port (MCP_SERVER_PORT): must be an integer from 1 to 65535; got 70000');
    expect(message).toContain('storage.s3.force_path_style (MCP_STORAGE_S3_FORCE_PATH_STYLE): must be true or false');
    expect(message).toContain(
      'database.url (MCP_DATABASE_URL): must be a postgres:// or postgresql:// URL (or empty); got "mysql://db"',
    );
    expect(message).toContain(
      'redis.url (MCP_REDIS_URL): must be a redis:// or rediss:// URL (or several, comma-separated); got "http://cache"',
    );
    expect(message).toContain(
      'storage.s3.endpoint (MCP_STORAGE_S3_ENDPOINT): must be a http:// or https:// URL (or empty)',
    );
  });

  it.each(['/contexts', 'contexts/', 'a/../b', 'with space'])('refuses the key prefix %j', (prefix) => {
    expect(problemsOf({ env: { MCP_STORAGE_CONTEXT_STORAGE_S3_PATH_PREFIX: prefix } })).toContain(
      'storage.context_storage.s3_path_prefix (MCP_STORAGE_CONTEXT_STORAGE_S3_PATH_PREFIX): must use only',
    );
  });

  it('refuses a staging chunk size outside 64 KiB..64 MiB', () => {
    expect(problemsOf({ env: { MCP_STAGING_CHUNK_SIZE: '1KiB' } })).toContain(
      'must be at least 65536 bytes (64 KiB); got 1024',
    );
  });

  it('requires kms_key_id with aws:kms encryption', () => {
    expect(problemsOf({ env: { MCP_STORAGE_S3_SERVER_SIDE_ENCRYPTION: 'aws:kms' } })).toContain(
      'storage.s3.kms_key_id (MCP_STORAGE_S3_KMS_KEY_ID): must be set when storage.s3.server_side_encryption is "aws:kms"',
    );
    const env = { MCP_STORAGE_S3_SERVER_SIDE_ENCRYPTION: 'aws:kms', MCP_STORAGE_S3_KMS_KEY_ID: 'alias/ctx' };
    expect(loadConfig({ env }).storage.s3.kms_key_id).toBe('alias/ctx');
  });

  it('needs a master key with envelope encryption, and never echoes a bad one', () => {
    expect(problemsOf({ env: { MCP_ENCRYPTION_MODE: 'envelope' } })).toContain(
      'encryption.master_key (MCP_ENCRYPTION_MASTER_KEY): must be set when encryption.mode is "envelope" with provider "local"',
    );
    expect(problemsOf({ env: { MCP_ENCRYPTION_MODE: 'envelope', MCP_ENCRYPTION_PROVIDER: 'kms' } })).toContain(
      'encryption.kms.key_id (MCP_ENCRYPTION_KMS_KEY_ID): must be set when encryption.mode is "envelope" with provider "kms"',
    );
    const short = problemsOf({ env: { MCP_ENCRYPTION_MASTER_KEY: 'c2VjcmV0LXNob3J0' } });
    expect(short).toContain('encryption.master_key (MCP_ENCRYPTION_MASTER_KEY): must be base64 of 32 bytes');
    expect(short).not.toContain('c2VjcmV0LXNob3J0');
    const key = Buffer.alloc(32, 7).toString('base64');
    const env = {
      MCP_ENCRYPTION_MODE: 'envelope',
      MCP_ENCRYPTION_MASTER_KEY: key,
      MCP_ENCRYPTION_PREVIOUS_MASTER_KEYS: `${key},${key}`,
    };
    expect(loadConfig({ env }).encryption).toMatchObject({ mode: 'envelope', master_key: key });
    expect(problemsOf({ env: { ...env, MCP_ENCRYPTION_PREVIOUS_MASTER_KEYS: `${key},nope` } })).toContain(
      'encryption.previous_master_keys (MCP_ENCRYPTION_PREVIOUS_MASTER_KEYS): must be base64 of 32 bytes (comma-separated)',
    );
  });

  it('takes a replica with its own credentials, and read_fallback only with a replica', () => {
    expect(problemsOf({ env: { MCP_STORAGE_READ_FALLBACK: 'replica' } })).toContain(
      'storage.read_fallback (MCP_STORAGE_READ_FALLBACK): is "replica" but storage.replica.bucket is empty: set the replica, or read_fallback: none',
    );
    expect(problemsOf({ env: { MCP_STORAGE_REPLICA_ACCESS_KEY_ID: 'AKIA1' } })).toContain(
      'storage.replica.secret_access_key (MCP_STORAGE_REPLICA_SECRET_ACCESS_KEY): must be set together with the other of storage.replica.access_key_id and secret_access_key',
    );
    expect(problemsOf({ env: { MCP_STORAGE_REPLICA_BUCKET: 'ctx-dr' } })).toContain(
      'storage.replica.bucket (MCP_STORAGE_REPLICA_BUCKET): needs database.url (MCP_DATABASE_URL): the embedded mode does not replicate',
    );
    const env = {
      MCP_DATABASE_URL: 'postgres://127.0.0.1/ctxvault',
      MCP_STORAGE_REPLICA_BUCKET: 'ctx-dr',
      MCP_STORAGE_REPLICA_REGION: 'eu-west-1',
      MCP_STORAGE_REPLICA_ACCESS_KEY_ID: 'AKIA1',
      MCP_STORAGE_REPLICA_SECRET_ACCESS_KEY: 's3cret',
      MCP_STORAGE_READ_FALLBACK: 'replica',
    };
    const { storage } = loadConfig({ env });
    expect(storage.read_fallback).toBe('replica');
    expect(storage.replica).toMatchObject({ bucket: 'ctx-dr', region: 'eu-west-1', access_key_id: 'AKIA1' });
  });

  it('takes several Redis seed nodes only with redis.cluster', () => {
    const nodes = 'redis://10.0.0.1:7000,redis://10.0.0.2:7000';
    expect(problemsOf({ env: { MCP_REDIS_URL: nodes } })).toContain(
      `redis.url (MCP_REDIS_URL): must be one URL unless redis.cluster is true; got "${nodes}"`,
    );
    expect(loadConfig({ env: { MCP_REDIS_URL: nodes, MCP_REDIS_CLUSTER: 'yes' } }).redis).toEqual({
      url: nodes,
      cluster: true,
    });
    expect(problemsOf({ env: { MCP_REDIS_URL: `${nodes},http://x`, MCP_REDIS_CLUSTER: 'yes' } })).toContain(
      'redis.url (MCP_REDIS_URL): must be a redis:// or rediss:// URL (or several, comma-separated)',
    );
  });

  it.each(['bucket', 'region'])('refuses an empty storage.s3.%s when storage.type is "s3"', (key) => {
    const variable = `MCP_STORAGE_S3_${key.toUpperCase()}`;
    expect(problemsOf({ env: { MCP_STORAGE_TYPE: 's3', [variable]: '' } })).toContain(
      `storage.s3.${key} (${variable}): must be set when storage.type is "s3"; got ""`,
    );
    expect(loadConfig({ env: { MCP_STORAGE_TYPE: 'local', [variable]: '' } }).storage.s3[key as 'bucket']).toBe('');
  });

  it('refuses unknown keys in the file, naming them and what is known', () => {
    const configPath = yamlFile('storage:\n  s3:\n    buket: x\nservr:\n  port: 1\n');
    const message = problemsOf({ configPath, env: {} });
    expect(message).toContain(`${configPath}:3: storage.s3.buket: unknown key; known keys here: region, bucket,`);
    expect(message).toContain(`${configPath}:4: servr: unknown key; known keys here: server, auth, database,`);
  });

  it('refuses a section that is not a mapping', () => {
    const configPath = yamlFile('storage: s3\n');
    expect(problemsOf({ configPath, env: {} })).toContain(
      `${configPath}:1: storage: must be a mapping of settings; got "s3"`,
    );
  });

  it('refuses invalid YAML, naming the file and line', () => {
    const configPath = yamlFile('server:\n  port: 8080\n  host: [oops\n');
    expect(problemsOf({ configPath, env: {} })).toMatch(new RegExp(`${configPath}:\\d+:\\d+: invalid YAML: `));
  });

  it('refuses a file that is not a mapping', () => {
    const configPath = yamlFile('- a\n- b\n');
    expect(problemsOf({ configPath, env: {} })).toContain(
      `${configPath}: must be a mapping of settings; got ["a","b"]`,
    );
  });

  it('lists every problem at once', () => {
    const configPath = yamlFile('server:\n  port: 0\n');
    const env = {
      MCP_LOGGING_LEVEL: 'loud',
      MCP_STORAGE_S3_CONCURRENCY: '0',
      MCP_STORAGE_S3_SERVER_SIDE_ENCRYPTION: 'aws:kms',
    };
    expect(configErrorOf({ configPath, env }).problems).toHaveLength(4);
  });
});
