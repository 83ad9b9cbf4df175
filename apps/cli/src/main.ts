#!/usr/bin/env node
// `ctxvault <command>`: the one entry point that reads settings (and process.env) and starts things.
import { parseArgs } from 'node:util';
import { ConfigError, loadConfig, type Config } from '@ctxvault/config';
import { runStart } from './commands/start.ts';
import { runApi } from './commands/api.ts';
import { runWorker } from './commands/worker.ts';
import { runMigrate } from './commands/migrate.ts';
import { runS3Check } from './commands/s3-check.ts';
import { runS3Setup, S3_SETUP_FLAGS, type S3SetupFlags } from './commands/s3-setup.ts';

const USAGE = `usage: ctxvault <command> [--config FILE]

commands:
  start     API and worker in one process (embedded PGlite + local disk when database.url is unset)
  api       the HTTP API only (scale by starting more)
  worker    the queue workers only (scale by starting more)
  migrate   apply database migrations
  s3 setup  prepare the bucket: [--create-bucket] [--versioning] [--abort-after-days N] (default 7)
  s3 check  diagnose the S3 settings: endpoint, bucket, access, region, encryption

settings: config.yaml (or --config / MCP_CONFIG), overridden by MCP_* variables; see config.example.yaml`;

const commands: Record<string, (config: Config, flags: S3SetupFlags) => Promise<void>> = {
  start: runStart,
  api: runApi,
  worker: runWorker,
  migrate: runMigrate,
  's3 setup': runS3Setup,
  's3 check': runS3Check,
};

async function main(): Promise<void> {
  const { positionals, values } = parseArgs({
    allowPositionals: true,
    options: { config: { type: 'string' }, help: { type: 'boolean', short: 'h' }, ...S3_SETUP_FLAGS },
  });
  const name = positionals.join(' ');
  if (values.help || !name) {
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
    config = loadConfig({ configPath: values.config });
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(`ctxvault: invalid settings\n${err.message}`);
      process.exit(78); // EX_CONFIG
    }
    throw err;
  }
  await command(config, values);
}

main().catch((err: unknown) => {
  console.error(`ctxvault: ${err instanceof Error ? err.message : String(err)}`);
  // connections opened before the failure would keep the process alive
  process.exit(1);
});
