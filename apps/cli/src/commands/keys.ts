import { parseArgs } from 'node:util';
import type { Config } from '@ctxvault/config';
import { parseDuration } from '@ctxvault/config';
import { ApiKeys } from '@ctxvault/core';
import { API_KEY_SCOPES, ApiKeyRepository, type ApiKeyScope, createOrm, type MikroORM } from '@ctxvault/db';
import { printJson, UsageError } from '../client-commands/client-options.ts';
import { ProgressBar } from '../client-commands/progress-bar.ts';
import { openKeyring } from '../keyring.ts';
import { createLogger } from '../logger.ts';

const USAGE = `usage: ctxvault keys create --tenant T --scope read|write|admin [--scope …] [--name N] [--expires 30d|ISO-TIME]
       ctxvault keys ls [--tenant T] [--json]
       ctxvault keys revoke ID|PREFIX
       ctxvault keys rotate-master`;

/**
 * `ctxvault keys …`: API keys, straight in the database (database.url); the admin API does the same
 * over HTTP. `keys rotate-master` re-wraps the data keys of envelope encryption.
 */
export async function runKeys(config: Config, args: string[]): Promise<void> {
  const [action, ...rest] = args;
  if (!config.database.url) {
    throw new Error(
      'database.url (MCP_DATABASE_URL) is empty: with the embedded database, manage keys through the admin API (POST /api/v1/admin/keys with the admin token)',
    );
  }
  const orm = await createOrm({ url: config.database.url, poolMax: 1 });
  if (action === 'rotate-master') {
    try {
      return await rotateMaster(config, orm, rest);
    } finally {
      await orm.close();
    }
  }
  const keys = new ApiKeys(new ApiKeyRepository(orm), createLogger(config, 'ctxvault-keys'));
  try {
    if (action === 'create') await create(keys, rest);
    else if (action === 'ls') await list(keys, rest);
    else if (action === 'revoke') await revoke(keys, rest);
    else throw new UsageError(USAGE);
  } finally {
    await orm.close();
  }
}

async function create(keys: ApiKeys, args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    strict: true,
    options: {
      tenant: { type: 'string' },
      scope: { type: 'string', multiple: true },
      name: { type: 'string' },
      expires: { type: 'string' },
    },
  });
  if (!values.tenant || !/^[A-Za-z0-9._-]{1,128}$/.test(values.tenant))
    throw new UsageError(`--tenant is required: 1-128 letters, digits, ".", "_" or "-"\n${USAGE}`);
  const scopes = (values.scope ?? []).flatMap((scope) => scope.split(','));
  if (scopes.length === 0 || !scopes.every((scope) => (API_KEY_SCOPES as readonly string[]).includes(scope)))
    throw new UsageError(`--scope must be read, write or admin (repeatable)\n${USAGE}`);
  const created = await keys.create({
    tenantId: values.tenant,
    scopes: scopes as ApiKeyScope[],
    name: values.name ?? null,
    expiresAt: values.expires ? expiryOf(values.expires) : null,
  });
  console.error(
    `API key ${created.prefix} for tenant ${created.tenant_id} (${created.scopes.join(', ')}): shown once, store it now`,
  );
  process.stdout.write(`${created.key}\n`);
}

async function list(keys: ApiKeys, args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    strict: true,
    options: { tenant: { type: 'string' }, json: { type: 'boolean' } },
  });
  const listed = await keys.list(values.tenant);
  if (values.json) return printJson(listed);
  for (const key of listed) {
    const state = key.revoked_at
      ? 'revoked'
      : key.expires_at && Date.parse(key.expires_at) <= Date.now()
        ? 'expired'
        : 'active';
    console.log(
      [
        key.prefix,
        key.tenant_id,
        key.scopes.join(','),
        state,
        `expires ${key.expires_at ?? 'never'}`,
        `last used ${key.last_used_at ?? 'never'}`,
        key.name ?? '',
      ].join('\t'),
    );
  }
}

async function revoke(keys: ApiKeys, args: string[]): Promise<void> {
  const { positionals } = parseArgs({ args, strict: true, allowPositionals: true, options: {} });
  if (positionals.length !== 1) throw new UsageError(USAGE);
  const revoked = await keys.revoke(positionals[0]!);
  if (!revoked) throw Object.assign(new Error(`no API key ${positionals[0]}`), { code: 'not_found' });
  console.log(`revoked ${revoked.prefix} (tenant ${revoked.tenant_id})`);
}

/**
 * Re-wraps every context's data key that an earlier master key wraps under the current one
 * (encryption.master_key, or encryption.kms.key_id), with progress; bodies are not rewritten. Prints
 * the counts as JSON; run it again after an interruption, it carries on.
 */
async function rotateMaster(config: Config, orm: MikroORM, args: string[]): Promise<void> {
  parseArgs({ args, strict: true, options: {} });
  const envelope = openKeyring(config, orm);
  if (!envelope) {
    throw new Error(
      'no master key is configured: set encryption.master_key (MCP_ENCRYPTION_MASTER_KEY) or encryption.kms.key_id (MCP_ENCRYPTION_KMS_KEY_ID) to the new master',
    );
  }
  try {
    const bar = new ProgressBar('re-wrapping', process.stderr, 'keys');
    const report = await envelope.keyring.rotate((done, total) => bar.update(done, total));
    console.log(JSON.stringify(report, null, 2));
  } finally {
    envelope.close();
  }
}

/** `30d` (from now) or an ISO time. */
function expiryOf(value: string): Date {
  const ms = /^\d/.test(value) && !value.includes('-') ? parseDuration(value) : undefined;
  const date = ms !== undefined ? new Date(Date.now() + ms) : new Date(value);
  if (Number.isNaN(date.getTime()) || date.getTime() <= Date.now())
    throw new UsageError(`--expires must be a duration like 30d or a future ISO time; got "${value}"`);
  return date;
}
