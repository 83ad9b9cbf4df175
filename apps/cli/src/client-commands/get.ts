import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Config } from '@ctxvault/config';
import { TARGET_FORMATS, type TargetFormat, TRUNCATION_STRATEGIES, type TruncationStrategy } from '@ctxvault/core';
import { clientOf, operand, parseCommand, positiveInteger, UsageError } from './client-options.ts';

const USAGE =
  'ctxvault get ID [--version N] [--last N] [--max-tokens N] [--strategy oldest_first|preserving_user] [--as openai.chat|anthropic.messages|ai-sdk.model] [--url URL] [--tenant ID]';

/** `ctxvault get ID`: the context (or a kept old `--version`) as JSON on stdout, streamed; optionally only the last N items or a token budget, or in another format. */
export async function runGet(config: Config, args: string[]): Promise<void> {
  const { values, positionals } = parseCommand(args, {
    last: { type: 'string' },
    'max-tokens': { type: 'string' },
    strategy: { type: 'string' },
    as: { type: 'string' },
    version: { type: 'string' },
  });
  const id = operand(positionals, 'context ID', USAGE);
  const strategy = values.strategy;
  if (strategy !== undefined && !(TRUNCATION_STRATEGIES as readonly string[]).includes(strategy)) {
    throw new UsageError(`--strategy must be one of ${TRUNCATION_STRATEGIES.join(', ')}; got "${strategy}"`);
  }
  const as = values.as;
  if (as !== undefined && !(TARGET_FORMATS as readonly string[]).includes(as)) {
    throw new UsageError(`--as must be one of ${TARGET_FORMATS.join(', ')}; got "${as}"`);
  }
  const body = await clientOf(config, values).download(id, {
    last: positiveInteger(values.last, 'last'),
    max_tokens: positiveInteger(values['max-tokens'], 'max-tokens'),
    strategy: strategy as TruncationStrategy | undefined,
    as: as as TargetFormat | undefined,
    version: positiveInteger(values.version, 'version'),
  });
  await pipeline(Readable.from(body), process.stdout, { end: false });
  process.stdout.write('\n');
}
