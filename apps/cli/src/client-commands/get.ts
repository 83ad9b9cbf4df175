import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Config } from '@ctxvault/config';
import { TRUNCATION_STRATEGIES, type TruncationStrategy } from '@ctxvault/core';
import { clientOf, operand, parseCommand, positiveInteger, UsageError } from './client-options.ts';

const USAGE =
  'ctxvault get ID [--last N] [--max-tokens N] [--strategy oldest_first|preserving_user] [--url URL] [--tenant ID]';

/** `ctxvault get ID`: the context as JSON on stdout, streamed; optionally only the last N items or a token budget. */
export async function runGet(config: Config, args: string[]): Promise<void> {
  const { values, positionals } = parseCommand(args, {
    last: { type: 'string' },
    'max-tokens': { type: 'string' },
    strategy: { type: 'string' },
  });
  const id = operand(positionals, 'context ID', USAGE);
  const strategy = values.strategy;
  if (strategy !== undefined && !(TRUNCATION_STRATEGIES as readonly string[]).includes(strategy)) {
    throw new UsageError(`--strategy must be one of ${TRUNCATION_STRATEGIES.join(', ')}; got "${strategy}"`);
  }
  const body = await clientOf(config, values).download(id, {
    last: positiveInteger(values.last, 'last'),
    max_tokens: positiveInteger(values['max-tokens'], 'max-tokens'),
    strategy: strategy as TruncationStrategy | undefined,
  });
  await pipeline(Readable.from(body), process.stdout, { end: false });
  process.stdout.write('\n');
}
