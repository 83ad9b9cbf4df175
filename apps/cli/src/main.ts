#!/usr/bin/env node
// `ctxvault <command>`: the one entry point that reads settings (and process.env) and starts things.
import { ConfigError, loadConfig, type Config } from '@ctxvault/config';
import { runStart } from './commands/start.ts';
import { runApi } from './commands/api.ts';
import { runWorker } from './commands/worker.ts';
import { runMigrate } from './commands/migrate.ts';
import { runLifecyclePass } from './commands/lifecycle-pass.ts';
import { runS3Check } from './commands/s3-check.ts';
import { runS3Setup } from './commands/s3-setup.ts';
import { splitCommandLine } from './command-line.ts';

const USAGE = `usage: ctxvault <command> [--config FILE]

commands:
  start     API and worker in one process (embedded PGlite + local disk when database.url is unset)
  api       the HTTP API only (scale by starting more)
  worker    the queue workers only (scale by starting more)
  migrate   apply database migrations
  lifecycle --once   one housekeeping pass (expiry, deletes, orphans, stale uploads); prints its counts
  s3 setup  prepare the bucket: [--create-bucket] [--versioning] [--abort-after-days N] (default 7)
  s3 check  diagnose the S3 settings: endpoint, bucket, access, region, encryption

settings: config.yaml (or --config / MCP_CONFIG), overridden by MCP_* variables; see config.example.yaml`;

/** Each command gets the settings and the arguments after its name, and parses its own flags. */
const commands: Record<string, (config: Config, args: string[]) => Promise<void>> = {
  start: runStart,
  api: runApi,
  worker: runWorker,
  migrate: runMigrate,
  lifecycle: runLifecyclePass,
  's3 setup': runS3Setup,
  's3 check': (config) => runS3Check(config),
};

async function main(): Promise<void> {
  const { name, args, configPath, help } = splitCommandLine(process.argv.slice(2), Object.keys(commands));
  if (help || !name) {
    console.log(USAGE);
    return;
  }
  const command = commands[name];
  if (!command) {
    console.error(`unknown command "${name}"\n\n${USAGE}`);
    process.exitCode = 2;
    return;
  }
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
  await command(config, args);
}

main().catch((err: unknown) => {
  console.error(`ctxvault: ${err instanceof Error ? err.message : String(err)}`);
  // connections opened before the failure would keep the process alive
  process.exit(1);
});
