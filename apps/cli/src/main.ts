#!/usr/bin/env node
// `ctxvault <command>`: the one entry point that reads settings (and process.env) and starts things.
import { parseArgs } from 'node:util';
import { ConfigError, loadConfig, type Config } from '@ctxvault/config';
import { runStart } from './commands/start.ts';
import { runApi } from './commands/api.ts';
import { runWorker } from './commands/worker.ts';
import { runMigrate } from './commands/migrate.ts';
import { runLifecyclePass } from './commands/lifecycle-pass.ts';

const USAGE = `usage: ctxvault <command> [--config FILE]

commands:
  start     API and worker in one process (embedded PGlite + local disk when database.url is unset)
  api       the HTTP API only (scale by starting more)
  worker    the queue workers only (scale by starting more)
  migrate   apply database migrations
  lifecycle --once   one housekeeping pass (expiry, deletes, orphans, stale uploads); prints its counts

settings: config.yaml (or --config / MCP_CONFIG), overridden by MCP_* variables; see config.example.yaml`;

/** Each command gets the settings and the arguments after its name. */
const commands: Record<string, (config: Config, args: string[]) => Promise<void>> = {
  start: runStart,
  api: runApi,
  worker: runWorker,
  migrate: runMigrate,
  lifecycle: runLifecyclePass,
};

async function main(): Promise<void> {
  // strict: false lets each command read its own flags from the arguments after its name
  const { positionals, values, tokens } = parseArgs({
    allowPositionals: true,
    strict: false,
    tokens: true,
    options: { config: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
  });
  const [name] = positionals;
  const commandAt = tokens.find((t) => t.kind === 'positional')?.index ?? 0;
  const args = process.argv.slice(2 + commandAt + 1).filter((arg, i, all) => arg !== '--config' && all[i - 1] !== '--config');
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
    config = loadConfig({ configPath: typeof values.config === 'string' ? values.config : undefined });
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
