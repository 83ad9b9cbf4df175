import type { ForkRequest, VersionView, WriteResult } from '@ctxvault/client';
import type { Config } from '@ctxvault/config';
import { clientOf, operand, parseCommand, positiveInteger, printJson, UsageError } from './client-options.ts';
import { printPage } from './page-output.ts';

const VERSIONS_USAGE = 'ctxvault versions ID [--limit N] [--cursor C] [--json]';
const RESTORE_USAGE = 'ctxvault restore ID --version N [--if-version N] [--idempotency-key KEY]';
const FORK_USAGE =
  'ctxvault fork ID [--version N] [--agent-id ID] [--session-id ID] [--name NAME] [--idempotency-key KEY]';

/**
 * `ctxvault versions ID`: a context's versions, newest first (a table, or the page as JSON with
 * `--json`); the table ends with the cursor of the next page, if any.
 */
export async function runVersions(config: Config, args: string[]): Promise<void> {
  const { values, positionals } = parseCommand(args, {
    limit: { type: 'string' },
    cursor: { type: 'string' },
    json: { type: 'boolean' },
  });
  const id = operand(positionals, 'context ID', VERSIONS_USAGE);
  const page = await clientOf(config, values).versions(id, {
    limit: positiveInteger(values.limit, 'limit'),
    cursor: values.cursor,
  });
  printPage(page, values.json, ['VERSION', 'KIND', 'STATE', 'ITEMS', 'TOKENS', 'BYTES', 'CREATED', 'FROM'], row);
}

function row(version: VersionView): string[] {
  const state = version.current ? 'current' : version.state;
  const from = version.source ? `${version.source.context_id}@${version.source.version}` : '-';
  return [
    String(version.version),
    version.kind,
    version.collected_at ? `${state} ${version.collected_at}` : state,
    String(version.message_count),
    String(version.token_count),
    String(version.size_bytes),
    version.created_at,
    from,
  ];
}

/** `ctxvault restore ID --version N`: makes a kept old version current again, as a new version. */
export async function runRestore(config: Config, args: string[]): Promise<void> {
  const { values, positionals } = parseCommand(args, {
    version: { type: 'string' },
    'if-version': { type: 'string' },
    'idempotency-key': { type: 'string' },
  });
  const id = operand(positionals, 'context ID', RESTORE_USAGE);
  const version = positiveInteger(values.version, 'version');
  if (version === undefined) throw new UsageError(`--version is required\nusage: ${RESTORE_USAGE}`);
  const result = await clientOf(config, values).restore(id, version, {
    ifVersion: positiveInteger(values['if-version'], 'if-version'),
    idempotencyKey: values['idempotency-key'],
  });
  printJson(answer(result));
}

/** `ctxvault fork ID`: a new context sharing the items of a version of this one; prints it. */
export async function runFork(config: Config, args: string[]): Promise<void> {
  const { values, positionals } = parseCommand(args, {
    version: { type: 'string' },
    'agent-id': { type: 'string' },
    'session-id': { type: 'string' },
    name: { type: 'string' },
    'idempotency-key': { type: 'string' },
  });
  const id = operand(positionals, 'context ID', FORK_USAGE);
  const input: ForkRequest = {
    version: positiveInteger(values.version, 'version'),
    agent_id: values['agent-id'],
    session_id: values['session-id'],
    name: values.name,
  };
  printJson(await clientOf(config, values).fork(id, input, { idempotencyKey: values['idempotency-key'] }));
}

function answer(result: WriteResult) {
  return result.state === 'stored'
    ? result.context
    : { id: result.id, version: result.version, status: 'pending', job_id: result.job_id };
}
