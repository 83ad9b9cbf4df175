import type { ContextView, ListRequest } from '@ctxvault/client';
import type { Config } from '@ctxvault/config';
import { clientOf, parseCommand, positiveInteger, UsageError } from './client-options.ts';
import { printPage } from './page-output.ts';

/**
 * `ctxvault ls`: contexts newest first, with the list filters as flags (`--agent-id`, `--session-id`,
 * `--model-id`, `--status`, `--created-after`, `--created-before`, `--limit`, `--cursor`); a table,
 * or the page as JSON with `--json`. The table ends with the cursor of the next page, if any.
 */
export async function runLs(config: Config, args: string[]): Promise<void> {
  const { values, positionals } = parseCommand(args, {
    'agent-id': { type: 'string' },
    'session-id': { type: 'string' },
    'model-id': { type: 'string' },
    status: { type: 'string' },
    'created-after': { type: 'string' },
    'created-before': { type: 'string' },
    limit: { type: 'string' },
    cursor: { type: 'string' },
    json: { type: 'boolean' },
  });
  if (positionals.length > 0)
    throw new UsageError('ctxvault ls takes no arguments, only filters such as --agent-id ID');
  const filters: ListRequest = {
    agent_id: values['agent-id'],
    session_id: values['session-id'],
    model_id: values['model-id'],
    // the server validates the value and answers 400 naming the allowed ones
    status: values.status as ListRequest['status'],
    created_after: values['created-after'],
    created_before: values['created-before'],
    limit: positiveInteger(values.limit, 'limit'),
    cursor: values.cursor,
  };
  const page = await clientOf(config, values).list(filters);
  printPage(page, values.json, ['ID', 'STATUS', 'VERSION', 'ITEMS', 'TOKENS', 'AGENT', 'SESSION', 'CREATED'], row);
}

function row(context: ContextView): string[] {
  return [
    context.id,
    context.status,
    String(context.version),
    String(context.message_count),
    String(context.current_tokens),
    context.agent_id,
    context.session_id ?? '-',
    context.created_at,
  ];
}
