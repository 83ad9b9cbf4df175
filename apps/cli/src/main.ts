#!/usr/bin/env node
// `ctxvault <command>`: the one entry point that reads settings (and process.env) and starts things.
import { type Config, ConfigError, loadConfig } from '@ctxvault/config';
import { UsageError } from './client-commands/client-options.ts';
import { splitCommandLine } from './command-line.ts';

const USAGE = `usage: ctxvault <command> [--config FILE]

server commands:
  start     API and worker in one process (embedded PGlite + local disk when database.url is unset)
  api       the HTTP API only (scale by starting more)
  worker    the queue workers only (scale by starting more)
  migrate   apply database migrations
  lifecycle --once   one housekeeping pass (expiry, deletes, orphans, stale uploads); prints its counts
  s3 setup  prepare the bucket: [--create-bucket] [--versioning] [--abort-after-days N] (default 7)
  s3 check  diagnose the S3 settings: endpoint, bucket, access, region, encryption
  keys create --tenant T --scope read|write|admin [--scope …] [--name N] [--expires 30d|ISO-TIME]
            create an API key (printed once; only its hash is stored)
  keys ls [--tenant T] [--json]   list API keys (prefix, tenant, scopes, state, expiry, last use)
  keys revoke ID|PREFIX           revoke an API key
  keys rotate-master              re-wrap the data keys of envelope encryption under the current master
                                  key (encryption.*), with progress; bodies are not rewritten
  replica verify [--repair]
            compare the primary store with storage.replica, with progress; --repair makes them agree
  export [--tenant T] [--agent-id A] [--since TIME] [--versions current|all] [--zstd] > FILE
            write an archive of the contexts (docs/archive-format.md), with progress on stderr
  import FILE [--tenant T]
            write the contexts of an archive here (idempotent; conflicts reported, exit 1)
  rebuild --from-bucket
            recreate the references of every context from the bucket's objects (docs/disaster-recovery.md)

client commands (talk to the API at client.url, or --url URL, with the API key client.api_key, or --api-key KEY;
without a key, auth.mode "none": tenant client.tenant, or --tenant ID):
  put FILE [--format json|ndjson] [--wait] [--timeout SECONDS]
            create a context from a JSON or NDJSON file, with progress; --wait until stored
  get ID [--version N] [--last N] [--max-tokens N] [--strategy oldest_first|preserving_user]
            print a context (or a kept old version of it) as JSON
  versions ID [--limit N] [--cursor C] [--json]
            list a context's versions, newest first (kept and collected)
  restore ID --version N [--if-version N] [--idempotency-key KEY]
            make a kept old version current again, as a new version
  fork ID [--version N] [--agent-id ID] [--session-id ID] [--name NAME] [--idempotency-key KEY]
            a new context sharing the items of a version of this one (nothing copied)
  status ID print where a context is (pending with job progress, stored, failed)
  ls [--agent-id ID] [--session-id ID] [--model-id ID] [--status S] [--created-after T]
     [--created-before T] [--limit N] [--cursor C] [--json]
            list contexts, newest first
  mcp       MCP over stdio, relayed to the API's /mcp endpoint

settings: config.yaml (or --config / MCP_CONFIG), overridden by MCP_* variables; see config.example.yaml`;

type Command = (config: Config, args: string[]) => Promise<void>;

/**
 * Each command gets the settings and the arguments after its name, and parses its own flags. A
 * command's module is loaded when it runs, so that `api` does not load the embedded database or the
 * MCP client, nor `put` the ORM: start-up time and memory are only what the command needs.
 */
const commands: Record<string, () => Promise<Command>> = {
  start: async () => (await import('./commands/start.ts')).runStart,
  api: async () => (await import('./commands/api.ts')).runApi,
  worker: async () => (await import('./commands/worker.ts')).runWorker,
  migrate: async () => (await import('./commands/migrate.ts')).runMigrate,
  lifecycle: async () => (await import('./commands/lifecycle-pass.ts')).runLifecyclePass,
  's3 setup': async () => (await import('./commands/s3-setup.ts')).runS3Setup,
  keys: async () => (await import('./commands/keys.ts')).runKeys,
  's3 check': async () => {
    const { runS3Check } = await import('./commands/s3-check.ts');
    return (config) => runS3Check(config);
  },
  'replica verify': async () => (await import('./commands/replica-verify.ts')).runReplicaVerify,
  export: async () => (await import('./commands/archive.ts')).runExport,
  import: async () => (await import('./commands/archive.ts')).runImport,
  rebuild: async () => (await import('./commands/archive.ts')).runRebuild,
  put: async () => (await import('./client-commands/put.ts')).runPut,
  get: async () => (await import('./client-commands/get.ts')).runGet,
  status: async () => (await import('./client-commands/status.ts')).runStatus,
  ls: async () => (await import('./client-commands/ls.ts')).runLs,
  versions: async () => (await import('./client-commands/history.ts')).runVersions,
  restore: async () => (await import('./client-commands/history.ts')).runRestore,
  fork: async () => (await import('./client-commands/history.ts')).runFork,
  mcp: async () => (await import('./client-commands/mcp.ts')).runMcp,
};

async function main(): Promise<void> {
  const { name, args, configPath, help } = splitCommandLine(process.argv.slice(2), Object.keys(commands));
  if (help || !name) {
    console.log(USAGE);
    return;
  }
  const load = commands[name];
  if (!load) throw new UsageError(`unknown command "${name}"\n\n${USAGE}`);
  let config: Config;
  try {
    config = loadConfig({ configPath });
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(`ctxvault: invalid settings\n${err.message}`);
      process.exit(78); // EX_CONFIG
    }
    throw err;
  }
  await (await load())(config, args);
}

main().catch((err: unknown) => {
  const code = (err as { code?: unknown }).code;
  const message = err instanceof Error ? err.message : String(err);
  // an API error names its code (not_found, invalid_request, …) so scripts can tell failures apart
  console.error(`ctxvault: ${typeof code === 'string' && !code.startsWith('ERR_') ? `${code}: ` : ''}${message}`);
  // usage mistakes (unknown command or flag) exit 2; connections opened before a failure would keep the process alive
  process.exit(err instanceof UsageError || (typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS')) ? 2 : 1);
});
