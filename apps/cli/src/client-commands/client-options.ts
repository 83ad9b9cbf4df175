import { type ParseArgsOptionsConfig, parseArgs } from 'node:util';
import { CtxvaultClient } from '@ctxvault/client';
import type { Config } from '@ctxvault/config';

/** Flags every client command accepts: `--url`, `--tenant`, `--api-key` override client.url / client.tenant / client.api_key. */
const COMMON = {
  url: { type: 'string' },
  tenant: { type: 'string' },
  'api-key': { type: 'string' },
} as const satisfies ParseArgsOptionsConfig;

type CommonValues = { url?: unknown; tenant?: unknown; 'api-key'?: unknown };

/** Parses the arguments after a client command's name (strictly: an unknown flag is an error). */
export function parseCommand<T extends ParseArgsOptionsConfig>(args: string[], options: T) {
  return parseArgs({ args, allowPositionals: true, strict: true, options: { ...COMMON, ...options } });
}

/** Where the client commands send requests: the flags, else the settings. */
export function serverOf(config: Config, values: CommonValues): { url: string; tenant: string; apiKey: string } {
  return {
    url: typeof values.url === 'string' ? values.url : config.client.url,
    tenant: typeof values.tenant === 'string' ? values.tenant : config.client.tenant,
    apiKey: typeof values['api-key'] === 'string' ? values['api-key'] : config.client.api_key,
  };
}

/** The credential headers: the API key as a bearer token, else (auth.mode "none") the tenant. */
export function credentialHeaders({ tenant, apiKey }: { tenant: string; apiKey: string }): Record<string, string> {
  return apiKey ? { authorization: `Bearer ${apiKey}` } : { 'x-tenant-id': tenant };
}

export function clientOf(config: Config, values: CommonValues): CtxvaultClient {
  return new CtxvaultClient(serverOf(config, values));
}

/** The one positional argument a command needs (`ctxvault get ID`). */
export function operand(positionals: string[], what: string, usage: string): string {
  const value = positionals[0];
  if (!value || positionals.length > 1) throw new UsageError(`expected one ${what}\nusage: ${usage}`);
  return value;
}

export function positiveInteger(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value) || Number(value) < 1)
    throw new UsageError(`--${flag} must be a positive integer; got "${value}"`);
  return Number(value);
}

/** A mistake in how a command was called: exit code 2. */
export class UsageError extends Error {}

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}
