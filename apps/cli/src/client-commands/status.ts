import type { Config } from '@ctxvault/config';
import { clientOf, operand, parseCommand, printJson } from './client-options.ts';

/** `ctxvault status ID`: where the context is (pending with job progress, stored, failed, deleting). */
export async function runStatus(config: Config, args: string[]): Promise<void> {
  const { values, positionals } = parseCommand(args, {});
  printJson(
    await clientOf(config, values).status(
      operand(positionals, 'context ID', 'ctxvault status ID [--url URL] [--tenant ID]'),
    ),
  );
}
