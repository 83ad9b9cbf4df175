import {
  appendItemsSchema,
  type ContextService,
  contextIdSchema,
  contextListSchema,
  contextSummarySchema,
  createContextSchema,
  deletingSchema,
  forkSchema,
  idempotencyKeySchema,
  listQuerySchema,
  parseRawItem,
  rawItems,
  readOptionsSchema,
  replaceContextSchema,
  restoreSchema,
  searchResultSchema,
  searchSchema,
  splitLines,
  statusViewSchema,
  versionListSchema,
  versionsQuerySchema,
  type WriteResult,
} from '@ctxvault/core';
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';
import { readResultSchema, writeResultSchema } from './output-schemas.ts';
import { type ToolCaller, toolResult } from './tool-result.ts';

const target = { id: contextIdSchema.describe('the context id (a UUID)') };
const conditional = {
  if_version: z
    .number()
    .int()
    .positive()
    .optional()
    .describe('only if this is still the current version (like If-Match)'),
};
const idempotent = {
  idempotency_key: idempotencyKeySchema
    .optional()
    .describe(
      'like the Idempotency-Key header: a retry with the same key answers as the first call did, writing nothing more',
    ),
};

/** The context tools: each validates its arguments with the REST API's schemas and calls the core service. */
export function registerContextTools(server: McpServer, service: ContextService, caller: ToolCaller): void {
  const tenantId = caller.principal.tenantId;
  server.registerTool(
    'context_create',
    {
      description:
        'Store a new context window. "format" says the items\' shape: ctxvault (default: {role, content}), ' +
        'openai.chat, openai.responses, openai.agents (OpenAI Agents SDK items), anthropic.messages (with "system"), ai-sdk.ui, ai-sdk.model, langchain or ' +
        'gemini; items are validated against it and stored as sent. Most are stored at once (status "stored"); ' +
        'others are accepted (status "pending") and uploaded in the background: poll context_status until ' +
        '"stored". Tokens are counted with the tokenizer of model_id; "truncate" drops items to fit max_tokens, ' +
        'keeping tool calls with their results.',
      inputSchema: createContextSchema,
      outputSchema: writeResultSchema,
    },
    (input) =>
      toolResult(caller, 'write', async () =>
        writeAnswer(await service.create(tenantId, { ...input, content: rawItems(input.content) })),
      ),
  );

  server.registerTool(
    'context_get',
    {
      description:
        'Read a context with its items; optionally only the last N items and/or only what fits in max_tokens ' +
        '(strategy oldest_first, or preserving_user: keeps the system prompt and user turns), moved to the nearest ' +
        'point where the transcript stays valid for its provider. "window" says what was left out. "as" converts ' +
        'the items to openai.chat, anthropic.messages or ai-sdk.model (text, images, tool calls and results, system). ' +
        '"version" reads an old version while it is kept (see context_versions); a collected one is an error.',
      inputSchema: readOptionsSchema.extend(target),
      outputSchema: readResultSchema,
    },
    ({ id, ...options }) =>
      toolResult(caller, 'read', async () => {
        const { context, lines, window } = await service.read(tenantId, id, options);
        const items = await Array.fromAsync(splitLines(lines), (line) => parseRawItem(line).item);
        return { ...context, content: items, window };
      }),
  );

  server.registerTool(
    'context_append',
    {
      description:
        'Append items to a context as a new version; "truncate" then drops items to fit the context\'s max_tokens.',
      inputSchema: appendItemsSchema.extend({ ...target, ...conditional }),
      outputSchema: writeResultSchema,
    },
    ({ id, if_version, ...input }) =>
      toolResult(caller, 'write', async () =>
        writeAnswer(await service.append(tenantId, id, { ...input, items: rawItems(input.items) }, if_version)),
      ),
  );

  server.registerTool(
    'context_replace',
    {
      description:
        'Replace the items (and optionally metadata, name, model, max_tokens, expiry) of a context as a new version.',
      inputSchema: replaceContextSchema.extend({ ...target, ...conditional }),
      outputSchema: writeResultSchema,
    },
    ({ id, if_version, ...input }) =>
      toolResult(caller, 'write', async () =>
        writeAnswer(await service.replace(tenantId, id, { ...input, content: rawItems(input.content) }, if_version)),
      ),
  );

  server.registerTool(
    'context_delete',
    {
      description: 'Delete a context and every stored version of it (removed in the background).',
      inputSchema: z.strictObject({ ...target, ...conditional }),
      outputSchema: deletingSchema,
      annotations: { destructiveHint: true },
    },
    ({ id, if_version }) => toolResult(caller, 'write', () => service.delete(tenantId, id, if_version)),
  );

  server.registerTool(
    'context_list',
    {
      description:
        'List contexts (without their items), newest first, filtered by agent, session, model, format, status and creation time; page with next_cursor.',
      inputSchema: listQuerySchema,
      outputSchema: contextListSchema,
      annotations: { readOnlyHint: true },
    },
    (query) => toolResult(caller, 'read', () => service.list(tenantId, query)),
  );

  server.registerTool(
    'context_search',
    {
      description: 'Find the items of a context whose content contains a text, optionally only of some roles.',
      inputSchema: searchSchema.extend(target),
      outputSchema: searchResultSchema,
      annotations: { readOnlyHint: true },
    },
    ({ id, ...input }) => toolResult(caller, 'read', () => service.search(tenantId, id, input)),
  );

  server.registerTool(
    'context_status',
    {
      description:
        'Where a context is: pending (uploading, with job progress in bytes), stored, failed (with the reason) or deleting.',
      inputSchema: z.strictObject(target),
      outputSchema: statusViewSchema,
      annotations: { readOnlyHint: true },
    },
    ({ id }) => toolResult(caller, 'read', () => service.status(tenantId, id)),
  );

  server.registerTool(
    'context_versions',
    {
      description:
        'The versions of a context, newest first: number, time, which write made it (create, append, replace, ' +
        "restore, fork), items, tokens and size, and whether it is still kept (readable with context_get's " +
        '"version", restorable, forkable) or was collected; page with next_cursor.',
      inputSchema: versionsQuerySchema.extend(target),
      outputSchema: versionListSchema,
      annotations: { readOnlyHint: true },
    },
    ({ id, ...query }) => toolResult(caller, 'read', () => service.versions(tenantId, id, query)),
  );

  server.registerTool(
    'context_restore',
    {
      description:
        'Make a kept old version of a context current again, as a new version (its items and metadata as they were).',
      inputSchema: restoreSchema.extend({ ...target, ...conditional, ...idempotent }),
      outputSchema: writeResultSchema,
    },
    ({ id, version, if_version, idempotency_key }) =>
      toolResult(caller, 'write', async () => {
        // a retry answers as the first restore did, whatever its if_version says by now
        const replayed = idempotency_key ? await service.replayedRestore(tenantId, id, version, idempotency_key) : null;
        return writeAnswer(
          replayed ?? (await service.restore(tenantId, id, version, if_version, undefined, idempotency_key)),
        );
      }),
  );

  server.registerTool(
    'context_fork',
    {
      description:
        'Branch a context: a new context (new id) sharing its items up to "version" (default: the current one) ' +
        'without copying them, for retries, sub-agents or what-ifs; appends to either never touch the other. ' +
        "agent_id, session_id, name, metadata and expiry may differ from the source's.",
      inputSchema: forkSchema.extend({ ...target, ...idempotent }),
      outputSchema: writeResultSchema,
    },
    ({ id, idempotency_key, ...input }) =>
      toolResult(caller, 'write', async () =>
        writeAnswer(await service.fork(tenantId, id, input, undefined, idempotency_key)),
      ),
  );

  server.registerTool(
    'context_summary',
    {
      description:
        'Counts and tokens per role, token budget, size and compression of a context, without its items; ' +
        '"estimates": true also lists the items whose count holds estimated parts (files, documents, audio, ' +
        'images given only by URL or file id) with the paths of those parts (reads the items).',
      inputSchema: z.strictObject({
        ...target,
        estimates: z.boolean().optional().describe('also list the items holding estimated parts (reads the items)'),
      }),
      outputSchema: contextSummarySchema,
      annotations: { readOnlyHint: true },
    },
    ({ id, estimates }) => toolResult(caller, 'read', () => service.summary(tenantId, id, { estimates })),
  );
}

function writeAnswer(result: WriteResult) {
  return result.state === 'stored'
    ? {
        id: result.context.id,
        version: result.context.version,
        status: 'stored' as const,
        job_id: null,
        context: result.context,
      }
    : { id: result.id, version: result.version, status: 'pending' as const, job_id: result.job_id, context: null };
}
