// Anthropic Messages (`MessageParam` of `@anthropic-ai/sdk`); the top-level `system` stays in the envelope.
// Server tools (web search and fetch, code execution, tool search) put their `server_tool_use` and its
// result block in the same assistant turn: a pair inside one item, counted, never converted.
import { z } from 'zod';
import { argumentsText, type NormalizedItem, normalized, type Part } from '../normalized.ts';

const cacheControl = z
  .object({ type: z.literal('ephemeral'), ttl: z.enum(['5m', '1h']).optional() })
  .nullable()
  .optional();
const documentCitation = { cited_text: z.string(), document_index: z.number(), document_title: z.string().nullable() };
const citation = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('char_location'),
    ...documentCitation,
    start_char_index: z.number(),
    end_char_index: z.number(),
  }),
  z.object({
    type: z.literal('page_location'),
    ...documentCitation,
    start_page_number: z.number(),
    end_page_number: z.number(),
  }),
  z.object({
    type: z.literal('content_block_location'),
    ...documentCitation,
    start_block_index: z.number(),
    end_block_index: z.number(),
  }),
  z.object({
    type: z.literal('web_search_result_location'),
    cited_text: z.string(),
    encrypted_index: z.string(),
    title: z.string().nullable(),
    url: z.string(),
  }),
  z.object({
    type: z.literal('search_result_location'),
    cited_text: z.string(),
    search_result_index: z.number(),
    source: z.string(),
    title: z.string().nullable(),
    start_block_index: z.number(),
    end_block_index: z.number(),
  }),
]);
const textBlock = z.object({
  type: z.literal('text'),
  text: z.string(),
  cache_control: cacheControl,
  citations: z.array(citation).nullable().optional(),
});
const imageBlock = z.object({
  type: z.literal('image'),
  source: z.discriminatedUnion('type', [
    z.object({
      type: z.literal('base64'),
      media_type: z.enum(['image/jpeg', 'image/png', 'image/gif', 'image/webp']),
      data: z.string(),
    }),
    z.object({ type: z.literal('url'), url: z.string() }),
    z.object({ type: z.literal('file'), file_id: z.string() }),
  ]),
  cache_control: cacheControl,
});
const documentBlock = z.object({
  type: z.literal('document'),
  source: z.discriminatedUnion('type', [
    z.object({ type: z.literal('base64'), media_type: z.literal('application/pdf'), data: z.string() }),
    z.object({ type: z.literal('text'), media_type: z.literal('text/plain'), data: z.string() }),
    z.object({
      type: z.literal('content'),
      content: z.union([z.string(), z.array(z.discriminatedUnion('type', [textBlock, imageBlock]))]),
    }),
    z.object({ type: z.literal('url'), url: z.string() }),
    z.object({ type: z.literal('file'), file_id: z.string() }),
  ]),
  cache_control: cacheControl,
  citations: z.object({ enabled: z.boolean().optional() }).nullable().optional(),
  context: z.string().nullable().optional(),
  title: z.string().nullable().optional(),
});
const searchResultBlock = z.object({
  type: z.literal('search_result'),
  source: z.string(),
  title: z.string(),
  content: z.array(textBlock),
  cache_control: cacheControl,
});
const thinkingBlock = z.object({ type: z.literal('thinking'), thinking: z.string(), signature: z.string() });
const redactedThinkingBlock = z.object({ type: z.literal('redacted_thinking'), data: z.string() });
const toolUseBlock = z.object({
  type: z.literal('tool_use'),
  id: z.string(),
  name: z.string(),
  input: z.record(z.string(), z.unknown()),
  cache_control: cacheControl,
});
const toolResultBlock = z.object({
  type: z.literal('tool_result'),
  tool_use_id: z.string(),
  content: z
    .union([
      z.string(),
      z.array(z.discriminatedUnion('type', [textBlock, imageBlock, searchResultBlock, documentBlock])),
    ])
    .optional(),
  is_error: z.boolean().optional(),
  cache_control: cacheControl,
});

const serverCaller = z
  .discriminatedUnion('type', [
    z.object({ type: z.literal('direct') }),
    z.object({ type: z.literal('code_execution_20250825'), tool_id: z.string() }),
    z.object({ type: z.literal('code_execution_20260120'), tool_id: z.string() }),
  ])
  .optional();
const serverToolUseBlock = z.object({
  type: z.literal('server_tool_use'),
  id: z.string(),
  name: z.enum([
    'web_search',
    'web_fetch',
    'code_execution',
    'bash_code_execution',
    'text_editor_code_execution',
    'tool_search_tool_regex',
    'tool_search_tool_bm25',
  ]),
  input: z.unknown(),
  cache_control: cacheControl,
  caller: serverCaller,
});
/** a server tool's result: `content` is its result or an error (`error_code`) */
const serverResult = <T extends string, C extends z.ZodType>(type: T, content: C) =>
  z.object({ type: z.literal(type), tool_use_id: z.string(), content, cache_control: cacheControl });
const toolError = <T extends string, const E extends readonly [string, ...string[]]>(type: T, codes: E) =>
  z.object({ type: z.literal(type), error_code: z.enum(codes), error_message: z.string().nullable().optional() });
const webSearchToolResultBlock = serverResult(
  'web_search_tool_result',
  z.union([
    z.array(
      z.object({
        type: z.literal('web_search_result'),
        encrypted_content: z.string(),
        title: z.string(),
        url: z.string(),
        page_age: z.string().nullable().optional(),
      }),
    ),
    z.object({
      type: z.literal('web_search_tool_result_error'),
      error_code: z.enum([
        'invalid_tool_input',
        'unavailable',
        'max_uses_exceeded',
        'too_many_requests',
        'query_too_long',
        'request_too_large',
      ]),
    }),
  ]),
).extend({ caller: serverCaller });
const webFetchToolResultBlock = serverResult(
  'web_fetch_tool_result',
  z.discriminatedUnion('type', [
    z.object({
      type: z.literal('web_fetch_tool_result_error'),
      error_code: z.enum([
        'invalid_tool_input',
        'url_too_long',
        'url_not_allowed',
        'url_not_in_prior_context',
        'url_not_accessible',
        'unsupported_content_type',
        'too_many_requests',
        'max_uses_exceeded',
        'unavailable',
        'content_too_large',
      ]),
    }),
    z.object({
      type: z.literal('web_fetch_result'),
      url: z.string(),
      content: documentBlock,
      retrieved_at: z.string().nullable().optional(),
    }),
  ]),
).extend({ caller: serverCaller });
const executionErrors = ['invalid_tool_input', 'unavailable', 'too_many_requests', 'execution_time_exceeded'] as const;
const outputFiles = <T extends string>(type: T) => z.array(z.object({ type: z.literal(type), file_id: z.string() }));
const run = { return_code: z.number(), stderr: z.string() };
const codeExecutionToolResultBlock = serverResult(
  'code_execution_tool_result',
  z.discriminatedUnion('type', [
    z.object({ type: z.literal('code_execution_tool_result_error'), error_code: z.enum(executionErrors) }),
    z.object({
      type: z.literal('code_execution_result'),
      content: outputFiles('code_execution_output'),
      stdout: z.string(),
      ...run,
    }),
    z.object({
      type: z.literal('encrypted_code_execution_result'),
      content: outputFiles('code_execution_output'),
      encrypted_stdout: z.string(),
      ...run,
    }),
  ]),
);
const bashCodeExecutionToolResultBlock = serverResult(
  'bash_code_execution_tool_result',
  z.discriminatedUnion('type', [
    z.object({
      type: z.literal('bash_code_execution_tool_result_error'),
      error_code: z.enum([...executionErrors, 'output_file_too_large']),
    }),
    z.object({
      type: z.literal('bash_code_execution_result'),
      content: outputFiles('bash_code_execution_output'),
      stdout: z.string(),
      ...run,
    }),
  ]),
);
const textEditorCodeExecutionToolResultBlock = serverResult(
  'text_editor_code_execution_tool_result',
  z.discriminatedUnion('type', [
    toolError('text_editor_code_execution_tool_result_error', [
      'invalid_tool_input',
      'unavailable',
      'too_many_requests',
      'execution_time_exceeded',
      'file_not_found',
    ]),
    z.object({
      type: z.literal('text_editor_code_execution_view_result'),
      content: z.string(),
      file_type: z.enum(['text', 'image', 'pdf']),
      num_lines: z.number().nullable().optional(),
      start_line: z.number().nullable().optional(),
      total_lines: z.number().nullable().optional(),
    }),
    z.object({ type: z.literal('text_editor_code_execution_create_result'), is_file_update: z.boolean() }),
    z.object({
      type: z.literal('text_editor_code_execution_str_replace_result'),
      lines: z.array(z.string()).nullable().optional(),
      new_lines: z.number().nullable().optional(),
      new_start: z.number().nullable().optional(),
      old_lines: z.number().nullable().optional(),
      old_start: z.number().nullable().optional(),
    }),
  ]),
);
const toolSearchToolResultBlock = serverResult(
  'tool_search_tool_result',
  z.discriminatedUnion('type', [
    toolError('tool_search_tool_result_error', executionErrors),
    z.object({
      type: z.literal('tool_search_tool_search_result'),
      tool_references: z.array(
        z.object({ type: z.literal('tool_reference'), tool_name: z.string(), cache_control: cacheControl }),
      ),
    }),
  ]),
);
const containerUploadBlock = z.object({
  type: z.literal('container_upload'),
  file_id: z.string(),
  cache_control: cacheControl,
});
const serverResultBlocks = [
  webSearchToolResultBlock,
  webFetchToolResultBlock,
  codeExecutionToolResultBlock,
  bashCodeExecutionToolResultBlock,
  textEditorCodeExecutionToolResultBlock,
  toolSearchToolResultBlock,
] as const;
type ServerResultBlock = z.output<(typeof serverResultBlocks)[number]>;

const block = z.discriminatedUnion('type', [
  textBlock,
  imageBlock,
  documentBlock,
  searchResultBlock,
  thinkingBlock,
  redactedThinkingBlock,
  toolUseBlock,
  toolResultBlock,
  serverToolUseBlock,
  ...serverResultBlocks,
  containerUploadBlock,
]);
type Block = z.output<typeof block>;

/** One content block of a message, also recognised inside `ctxvault` items. */
export const anthropicBlockSchema = block;

const turnSchema = z.object({
  role: z.enum(['user', 'assistant']),
  content: z.union([z.string(), z.array(block)]),
});
/** A user or assistant turn: what a conversion to Anthropic produces. */
export type AnthropicTurn = z.output<typeof turnSchema>;

/** A turn, or a `system` message between them (instructions, text only). */
export const anthropicMessageSchema = z.discriminatedUnion('role', [
  turnSchema,
  z.object({ role: z.literal('system'), content: z.union([z.string(), z.array(textBlock)]) }),
]);
export type AnthropicMessage = z.output<typeof anthropicMessageSchema>;

/** The envelope's `system`: the instructions Anthropic takes beside the messages. */
export const anthropicSystemSchema = z.union([z.string(), z.array(textBlock)]);
export type AnthropicSystem = z.output<typeof anthropicSystemSchema>;

export function normalizeAnthropic(item: AnthropicMessage): NormalizedItem {
  if (typeof item.content === 'string')
    return normalized(item.role, [{ type: 'text', path: 'content', text: item.content }]);
  if (item.role === 'system') {
    return normalized(
      'system',
      item.content.map((b, i) => ({ type: 'text', path: `content[${i}]`, text: b.text })),
    );
  }
  return normalized(
    item.role,
    item.content.map((b, i) => anthropicBlockPart(b, `content[${i}]`)),
  );
}

/** The parts of the envelope's `system`, as one instruction item. */
export function normalizeAnthropicSystem(system: AnthropicSystem): NormalizedItem {
  if (typeof system === 'string') return normalized('system', [{ type: 'text', path: 'system', text: system }]);
  return normalized(
    'system',
    system.map((b, i) => ({ type: 'text', path: `system[${i}]`, text: b.text })),
  );
}

export function anthropicBlockPart(b: Block, path: string): Part {
  switch (b.type) {
    case 'server_tool_use':
      return { type: 'tool-call', path, id: b.id, name: b.name, arguments: argumentsText(b.input), hosted: b.type };
    case 'web_search_tool_result':
    case 'web_fetch_tool_result':
    case 'code_execution_tool_result':
    case 'bash_code_execution_tool_result':
    case 'text_editor_code_execution_tool_result':
    case 'tool_search_tool_result':
      return { type: 'tool-result', path, id: b.tool_use_id, parts: serverResultParts(b, path), hosted: b.type };
    case 'container_upload':
      return { type: 'media', path, media: 'file', fileId: b.file_id };
    case 'text':
      return { type: 'text', path, text: b.text };
    case 'image': {
      const { source } = b;
      if (source.type === 'base64')
        return { type: 'media', path, media: 'image', mediaType: source.media_type, base64: source.data };
      if (source.type === 'url') return { type: 'media', path, media: 'image', url: source.url };
      return { type: 'media', path, media: 'image', fileId: source.file_id };
    }
    case 'document': {
      const { source } = b;
      if (source.type === 'base64')
        return { type: 'media', path, media: 'file', mediaType: source.media_type, base64: source.data };
      if (source.type === 'url') return { type: 'media', path, media: 'file', url: source.url };
      if (source.type === 'file') return { type: 'media', path, media: 'file', fileId: source.file_id };
      return { type: 'other', path, label: 'document', value: source };
    }
    case 'thinking':
      return { type: 'reasoning', path, text: b.thinking };
    case 'redacted_thinking':
      return { type: 'other', path, label: 'redacted_thinking', value: '' };
    case 'search_result':
      return { type: 'other', path, label: 'search_result', value: b };
    case 'tool_use':
      return { type: 'tool-call', path, id: b.id, name: b.name, arguments: argumentsText(b.input) };
    case 'tool_result': {
      const { content } = b;
      const parts =
        content === undefined
          ? []
          : typeof content === 'string'
            ? [{ type: 'text', path: `${path}.content`, text: content } as const]
            : content.map((inner, i) => anthropicBlockPart(inner, `${path}.content[${i}]`));
      return {
        type: 'tool-result',
        path,
        id: b.tool_use_id,
        parts,
        ...(b.is_error !== undefined && { isError: b.is_error }),
      };
    }
  }
}

/** What a server tool returned: its text counted as text, documents and encrypted results as estimated. */
function serverResultParts(b: ServerResultBlock, path: string): Part[] {
  const at = `${path}.content`;
  const { content } = b;
  if (Array.isArray(content)) {
    return content.flatMap((r, i): Part[] => [
      { type: 'text', path: `${at}[${i}]`, text: `${r.title}\n${r.url}` },
      {
        type: 'other',
        path: `${at}[${i}].encrypted_content`,
        label: 'encrypted search result',
        value: r.encrypted_content,
      },
    ]);
  }
  switch (content.type) {
    case 'web_fetch_result':
      return [anthropicBlockPart(content.content, `${at}.content`)];
    case 'code_execution_result':
    case 'bash_code_execution_result':
      return [{ type: 'text', path: at, text: `${content.stdout}${content.stderr}` }];
    case 'encrypted_code_execution_result':
      return [
        { type: 'other', path: `${at}.encrypted_stdout`, label: 'encrypted output', value: content.encrypted_stdout },
        { type: 'text', path: at, text: content.stderr },
      ];
    case 'text_editor_code_execution_view_result':
      return [{ type: 'text', path: at, text: content.content }];
    default:
      return [{ type: 'other', path: at, label: content.type, value: content }];
  }
}
