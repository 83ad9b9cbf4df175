// OpenAI Responses API input items (`ResponseInputItem` of the `openai` SDK): messages, function and
// custom tool calls with their outputs, reasoning items, item references, and the items of hosted
// and built-in tools (web search, file search, computer, image generation, code interpreter, shells,
// apply_patch, MCP, tool search, programs, compaction), and the developer's mid-conversation items
// (additional tools, configuration updates). A hosted tool's call and the item answering it (by
// call id) are paired like function calls; none of them converts to another format.
import type { ResponseToolSearchOutputItemParam, Tool } from 'openai/resources/responses/responses';
import { z } from 'zod';
import { mediaFromUrl } from '../media-url.ts';
import { argumentsText, type NormalizedItem, normalized, type Part } from '../normalized.ts';

const cacheBreakpoint = z.object({ mode: z.literal('explicit'), ttl: z.enum(['30m', '12h']).optional() }).optional();
const inputText = z.object({
  type: z.literal('input_text'),
  text: z.string(),
  prompt_cache_breakpoint: cacheBreakpoint,
});
const inputImage = z.object({
  type: z.literal('input_image'),
  detail: z.enum(['low', 'high', 'auto', 'original']),
  file_id: z.string().nullable().optional(),
  image_url: z.string().nullable().optional(),
  prompt_cache_breakpoint: cacheBreakpoint,
});
const inputFile = z.object({
  type: z.literal('input_file'),
  detail: z.enum(['auto', 'low', 'high']).optional(),
  file_data: z.string().optional(),
  file_id: z.string().nullable().optional(),
  file_url: z.string().optional(),
  filename: z.string().optional(),
  prompt_cache_breakpoint: cacheBreakpoint,
});
const inputContent = z.discriminatedUnion('type', [inputText, inputImage, inputFile]);
/** One input content part, also recognised inside `ctxvault` items. */
export const openaiResponsesContentSchema = inputContent;
const annotation = z.discriminatedUnion('type', [
  z.object({ type: z.literal('file_citation'), file_id: z.string(), filename: z.string(), index: z.number() }),
  z.object({
    type: z.literal('url_citation'),
    url: z.string(),
    title: z.string(),
    start_index: z.number(),
    end_index: z.number(),
  }),
  z.object({
    type: z.literal('container_file_citation'),
    container_id: z.string(),
    file_id: z.string(),
    filename: z.string(),
    start_index: z.number(),
    end_index: z.number(),
  }),
  z.object({ type: z.literal('file_path'), file_id: z.string(), index: z.number() }),
]);
const outputContent = z.discriminatedUnion('type', [
  z.object({ type: z.literal('output_text'), text: z.string(), annotations: z.array(annotation) }),
  z.object({ type: z.literal('refusal'), refusal: z.string() }),
]);
const status = z.enum(['in_progress', 'completed', 'incomplete']);

const easyMessage = z.object({
  type: z.literal('message').optional(),
  role: z.enum(['user', 'assistant', 'system', 'developer']),
  content: z.union([z.string(), z.array(inputContent)]),
  phase: z.enum(['commentary', 'final_answer']).nullable().optional(),
});
const outputMessage = z.object({
  type: z.literal('message'),
  id: z.string(),
  role: z.literal('assistant'),
  status,
  content: z.array(outputContent),
  phase: z.enum(['commentary', 'final_answer']).nullable().optional(),
});
const functionCall = z.object({
  type: z.literal('function_call'),
  call_id: z.string(),
  name: z.string(),
  arguments: z.string(),
  id: z.string().optional(),
  status: status.optional(),
});
const functionCallOutput = z.object({
  type: z.literal('function_call_output'),
  call_id: z.string(),
  output: z.union([z.string(), z.array(inputContent)]),
  id: z.string().nullable().optional(),
  status: status.nullable().optional(),
});
const customToolCall = z.object({
  type: z.literal('custom_tool_call'),
  call_id: z.string(),
  name: z.string(),
  input: z.string(),
  id: z.string().optional(),
});
const customToolCallOutput = z.object({
  type: z.literal('custom_tool_call_output'),
  call_id: z.string(),
  output: z.union([z.string(), z.array(inputContent)]),
  id: z.string().optional(),
});
const reasoning = z.object({
  type: z.literal('reasoning'),
  id: z.string(),
  summary: z.array(z.object({ type: z.literal('summary_text'), text: z.string() })),
  content: z.array(z.object({ type: z.literal('reasoning_text'), text: z.string() })).optional(),
  encrypted_content: z.string().nullable().optional(),
  status: status.optional(),
});
const itemReference = z.object({ type: z.literal('item_reference'), id: z.string() });
/** the SDK lets an item reference leave its `type` out (or null): then it is its `id` alone */
const untypedItemReference = z.strictObject({ id: z.string(), type: z.null().optional() });

const keys = { keys: z.array(z.string()).nullable().optional() };
const point = { x: z.number(), y: z.number() };
const computerAction = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('click'),
    button: z.enum(['left', 'right', 'wheel', 'back', 'forward']),
    ...point,
    ...keys,
  }),
  z.object({ type: z.literal('double_click'), ...point, keys: z.array(z.string()).nullable() }),
  z.object({ type: z.literal('drag'), path: z.array(z.object(point)), ...keys }),
  z.object({ type: z.literal('keypress'), keys: z.array(z.string()) }),
  z.object({ type: z.literal('move'), ...point, ...keys }),
  z.object({ type: z.literal('screenshot') }),
  z.object({ type: z.literal('scroll'), ...point, scroll_x: z.number(), scroll_y: z.number(), ...keys }),
  z.object({ type: z.literal('type'), text: z.string() }),
  z.object({ type: z.literal('wait') }),
]);
const safetyCheck = z.object({
  id: z.string(),
  code: z.string().nullable().optional(),
  message: z.string().nullable().optional(),
});
const computerCall = z.object({
  type: z.literal('computer_call'),
  id: z.string(),
  call_id: z.string(),
  pending_safety_checks: z.array(safetyCheck),
  status,
  action: computerAction.optional(),
  actions: z.array(computerAction).optional(),
});
const computerCallOutput = z.object({
  type: z.literal('computer_call_output'),
  call_id: z.string(),
  output: z.object({
    type: z.literal('computer_screenshot'),
    file_id: z.string().optional(),
    image_url: z.string().optional(),
  }),
  id: z.string().nullable().optional(),
  acknowledged_safety_checks: z.array(safetyCheck).nullable().optional(),
  status: status.nullable().optional(),
});
const webSearchCall = z.object({
  type: z.literal('web_search_call'),
  id: z.string(),
  action: z.discriminatedUnion('type', [
    z.object({
      type: z.literal('search'),
      queries: z.array(z.string()).optional(),
      query: z.string().optional(),
      sources: z.array(z.object({ type: z.literal('url'), url: z.string() })).optional(),
    }),
    z.object({ type: z.literal('open_page'), url: z.string().nullable().optional() }),
    z.object({ type: z.literal('find_in_page'), pattern: z.string(), url: z.string() }),
  ]),
  status: z.enum(['in_progress', 'searching', 'completed', 'failed', 'incomplete']),
});
const fileSearchCall = z.object({
  type: z.literal('file_search_call'),
  id: z.string(),
  queries: z.array(z.string()),
  status: z.enum(['in_progress', 'searching', 'completed', 'incomplete', 'failed']),
  results: z
    .array(
      z.object({
        attributes: z
          .record(z.string(), z.union([z.string(), z.number(), z.boolean()]))
          .nullable()
          .optional(),
        file_id: z.string().optional(),
        filename: z.string().optional(),
        score: z.number().optional(),
        text: z.string().optional(),
      }),
    )
    .nullable()
    .optional(),
});
const imageGenerationCall = z.object({
  type: z.literal('image_generation_call'),
  id: z.string(),
  /** the generated image, base64 */
  result: z.string().nullable(),
  status: z.enum(['in_progress', 'completed', 'generating', 'failed']),
  action: z.enum(['generate', 'edit', 'auto']).nullable().optional(),
  background: z.enum(['transparent', 'opaque', 'auto']).nullable().optional(),
  output_format: z.enum(['png', 'webp', 'jpeg', 'gif', 'svg']).nullable().optional(),
  quality: z.enum(['low', 'medium', 'high', 'xhigh', 'max', 'auto']).nullable().optional(),
  revised_prompt: z.string().nullable().optional(),
  size: z.string().nullable().optional(),
});
const codeInterpreterCall = z.object({
  type: z.literal('code_interpreter_call'),
  id: z.string(),
  code: z.string().nullable(),
  container_id: z.string(),
  outputs: z
    .array(
      z.discriminatedUnion('type', [
        z.object({ type: z.literal('logs'), logs: z.string() }),
        z.object({ type: z.literal('image'), url: z.string() }),
      ]),
    )
    .nullable(),
  status: z.enum(['in_progress', 'completed', 'incomplete', 'interpreting', 'failed']),
});
const localShellCall = z.object({
  type: z.literal('local_shell_call'),
  id: z.string(),
  call_id: z.string(),
  action: z.object({
    type: z.literal('exec'),
    command: z.array(z.string()),
    env: z.record(z.string(), z.string()),
    timeout_ms: z.number().nullable().optional(),
    user: z.string().nullable().optional(),
    working_directory: z.string().nullable().optional(),
  }),
  status,
});
const localShellCallOutput = z.object({
  type: z.literal('local_shell_call_output'),
  /** the id of the local_shell_call it answers */
  id: z.string(),
  output: z.string(),
  status: status.nullable().optional(),
});
const caller = z
  .discriminatedUnion('type', [
    z.object({ type: z.literal('direct') }),
    z.object({ type: z.literal('program'), caller_id: z.string() }),
  ])
  .nullable()
  .optional();
const shellCall = z.object({
  type: z.literal('shell_call'),
  call_id: z.string(),
  action: z.object({
    commands: z.array(z.string()),
    max_output_length: z.number().nullable().optional(),
    timeout_ms: z.number().nullable().optional(),
  }),
  id: z.string().nullable().optional(),
  caller,
  status: status.nullable().optional(),
});
const shellCallOutput = z.object({
  type: z.literal('shell_call_output'),
  call_id: z.string(),
  output: z.array(
    z.object({
      stdout: z.string(),
      stderr: z.string(),
      outcome: z.discriminatedUnion('type', [
        z.object({ type: z.literal('timeout') }),
        z.object({ type: z.literal('exit'), exit_code: z.number() }),
      ]),
    }),
  ),
  id: z.string().nullable().optional(),
  caller,
  max_output_length: z.number().nullable().optional(),
  status: status.nullable().optional(),
});
const applyPatchCall = z.object({
  type: z.literal('apply_patch_call'),
  call_id: z.string(),
  operation: z.discriminatedUnion('type', [
    z.object({ type: z.literal('create_file'), path: z.string(), diff: z.string() }),
    z.object({ type: z.literal('delete_file'), path: z.string() }),
    z.object({ type: z.literal('update_file'), path: z.string(), diff: z.string() }),
  ]),
  status: z.enum(['in_progress', 'completed']),
  id: z.string().nullable().optional(),
  caller,
});
const applyPatchCallOutput = z.object({
  type: z.literal('apply_patch_call_output'),
  call_id: z.string(),
  status: z.enum(['completed', 'failed']),
  id: z.string().nullable().optional(),
  caller,
  output: z.string().nullable().optional(),
});
const mcpListTools = z.object({
  type: z.literal('mcp_list_tools'),
  id: z.string(),
  server_label: z.string(),
  tools: z.array(
    z.object({
      name: z.string(),
      input_schema: z.unknown(),
      annotations: z.unknown().optional(),
      description: z.string().nullable().optional(),
    }),
  ),
  error: z.string().nullable().optional(),
});
const mcpApprovalRequest = z.object({
  type: z.literal('mcp_approval_request'),
  id: z.string(),
  arguments: z.string(),
  name: z.string(),
  server_label: z.string(),
});
const mcpApprovalResponse = z.object({
  type: z.literal('mcp_approval_response'),
  approval_request_id: z.string(),
  approve: z.boolean(),
  id: z.string().nullable().optional(),
  reason: z.string().nullable().optional(),
});
const mcpCall = z.object({
  type: z.literal('mcp_call'),
  id: z.string(),
  arguments: z.string(),
  name: z.string(),
  server_label: z.string(),
  approval_request_id: z.string().nullable().optional(),
  output: z.string().nullable().optional(),
  status: z.enum(['in_progress', 'completed', 'incomplete', 'calling', 'failed']).optional(),
});
const compaction = z.object({
  type: z.literal('compaction'),
  encrypted_content: z.string(),
  id: z.string().nullable().optional(),
});

const toolTypes = new Set([
  'function',
  'file_search',
  'computer',
  'computer_use_preview',
  'web_search',
  'web_search_2025_08_26',
  'web_search_preview',
  'web_search_preview_2025_03_11',
  'mcp',
  'code_interpreter',
  'programmatic_tool_calling',
  'image_generation',
  'local_shell',
  'shell',
  'custom',
  'namespace',
  'tool_search',
  'apply_patch',
]);
/**
 * A tool definition, as in the request's `tools`: an object whose `type` names one of the SDK's
 * tools. Its other fields are the API's to check (each tool type has its own) and are kept as sent.
 */
function toolDefinition<T extends { type: string }>() {
  return z.custom<T>(
    (value) => typeof value === 'object' && value !== null && toolTypes.has(String((value as { type?: unknown }).type)),
    { message: `a tool definition: an object whose type is one of ${[...toolTypes].join(', ')}` },
  );
}
const toolSearch = {
  id: z.string().nullable().optional(),
  /** null when the provider ran the search: the output then answers the nearest call before it */
  call_id: z.string().nullable().optional(),
  execution: z.enum(['server', 'client']).optional(),
  status: status.nullable().optional(),
};
const toolSearchCall = z.object({ ...toolSearch, type: z.literal('tool_search_call'), arguments: z.unknown() });
const toolSearchOutput = z.object({
  ...toolSearch,
  type: z.literal('tool_search_output'),
  tools: z.array(toolDefinition<ResponseToolSearchOutputItemParam['tools'][number]>()),
});
const additionalTools = z.object({
  type: z.literal('additional_tools'),
  role: z.literal('developer'),
  tools: z.array(toolDefinition<Tool>()),
  id: z.string().nullable().optional(),
});
const configurationUpdate = z.object({
  type: z.literal('configuration_update'),
  id: z.string().nullable().optional(),
  reasoning: z
    .object({ effort: z.enum(['none', 'minimal', 'low', 'medium', 'high', 'xhigh', 'max']).nullable().optional() })
    .optional(),
  text: z
    .object({
      format: z.discriminatedUnion('type', [
        z.object({ type: z.literal('text') }),
        z.object({
          type: z.literal('json_schema'),
          name: z.string(),
          schema: z.record(z.string(), z.unknown()),
          description: z.string().optional(),
          strict: z.boolean().nullable().optional(),
        }),
      ]),
    })
    .optional(),
});
const compactionTrigger = z.object({ type: z.literal('compaction_trigger'), id: z.string().nullable().optional() });
const program = z.object({
  type: z.literal('program'),
  id: z.string(),
  call_id: z.string(),
  code: z.string(),
  fingerprint: z.string(),
});
const programOutput = z.object({
  type: z.literal('program_output'),
  id: z.string(),
  call_id: z.string(),
  result: z.string(),
  status: z.enum(['completed', 'incomplete']),
});

export const openaiResponsesItemSchema = z.union([
  outputMessage,
  easyMessage,
  functionCall,
  functionCallOutput,
  customToolCall,
  customToolCallOutput,
  reasoning,
  itemReference,
  untypedItemReference,
  computerCall,
  computerCallOutput,
  webSearchCall,
  fileSearchCall,
  imageGenerationCall,
  codeInterpreterCall,
  localShellCall,
  localShellCallOutput,
  shellCall,
  shellCallOutput,
  applyPatchCall,
  applyPatchCallOutput,
  mcpListTools,
  mcpApprovalRequest,
  mcpApprovalResponse,
  mcpCall,
  compaction,
  toolSearchCall,
  toolSearchOutput,
  additionalTools,
  configurationUpdate,
  compactionTrigger,
  program,
  programOutput,
]);
export type OpenAIResponsesItem = z.output<typeof openaiResponsesItemSchema>;

export function normalizeOpenAIResponses(item: OpenAIResponsesItem): NormalizedItem {
  switch (item.type) {
    case undefined:
    case null:
    case 'message': {
      if (!('role' in item)) return itemReferenceOf(item);
      if ('id' in item) {
        return normalized(
          'assistant',
          item.content.map((c, i): Part => {
            const path = `content[${i}]`;
            return c.type === 'output_text'
              ? { type: 'text', path, text: c.text }
              : { type: 'refusal', path, text: c.refusal };
          }),
        );
      }
      const role = item.role === 'developer' ? 'system' : item.role;
      return normalized(role, contentParts(item.content, 'content'));
    }
    case 'function_call':
      return normalized('assistant', [
        { type: 'tool-call', path: '', id: item.call_id, name: item.name, arguments: item.arguments },
      ]);
    case 'custom_tool_call':
      return normalized('assistant', [
        { type: 'tool-call', path: '', id: item.call_id, name: item.name, arguments: JSON.stringify(item.input) },
      ]);
    case 'function_call_output':
    case 'custom_tool_call_output':
      return normalized('tool', [
        { type: 'tool-result', path: 'output', id: item.call_id, parts: contentParts(item.output, 'output') },
      ]);
    case 'reasoning':
      return normalized('assistant', [
        ...item.summary.map((s, i): Part => ({ type: 'reasoning', path: `summary[${i}]`, text: s.text })),
        ...(item.content ?? []).map((c, i): Part => ({ type: 'reasoning', path: `content[${i}]`, text: c.text })),
        ...(item.encrypted_content
          ? [{ type: 'other', path: 'encrypted_content', label: 'encrypted reasoning', value: '' } as const]
          : []),
      ]);
    case 'item_reference':
      return itemReferenceOf(item);
    default:
      return normalizeHosted(item);
  }
}

/** an item the provider keeps, named by its id: counted as its JSON, not convertible */
function itemReferenceOf(item: { id: string }): NormalizedItem {
  return normalized('assistant', [{ type: 'other', path: '', label: 'item_reference', value: item }]);
}

type HostedItem = Exclude<
  OpenAIResponsesItem,
  {
    type?:
      | null
      | 'message'
      | 'function_call'
      | 'function_call_output'
      | 'custom_tool_call'
      | 'custom_tool_call_output'
      | 'reasoning'
      | 'item_reference';
  }
>;

/**
 * A hosted or built-in tool's item: a call the client answers (computer, shells, apply_patch, MCP
 * approval, tool search, program) is a tool call paired with its output by id; a call the provider
 * ran and answered within the item (web and file search, code interpreter, image generation, MCP
 * calls) is one assistant item. Arguments and outputs count as text, screenshots and generated
 * images by their size; none of them converts.
 */
function normalizeHosted(item: HostedItem): NormalizedItem {
  const call = (id: string, args: unknown, path = ''): NormalizedItem =>
    normalized('assistant', [
      {
        type: 'tool-call',
        path,
        id,
        name: item.type,
        arguments: typeof args === 'string' ? args : argumentsText(args),
        hosted: item.type,
      },
    ]);
  const result = (id: string, parts: Part[]): NormalizedItem =>
    normalized('tool', [{ type: 'tool-result', path: 'output', id, parts, hosted: item.type }]);
  const ran = (parts: Part[]): NormalizedItem => normalized('assistant', parts);
  const other = (path: string, value: unknown): Part => ({ type: 'other', path, label: item.type, value });
  switch (item.type) {
    case 'computer_call':
      return call(item.call_id, item.actions ?? item.action ?? {});
    case 'computer_call_output': {
      const { image_url, file_id } = item.output;
      if (image_url) return result(item.call_id, [mediaFromUrl(image_url, 'image', 'output.image_url')]);
      return result(item.call_id, [
        { type: 'media', path: 'output', media: 'image', ...(file_id && { fileId: file_id }) },
      ]);
    }
    case 'local_shell_call':
      return call(item.call_id, item.action);
    case 'local_shell_call_output':
      return result(item.id, [{ type: 'text', path: 'output', text: item.output }]);
    case 'shell_call':
      return call(item.call_id, item.action);
    case 'shell_call_output':
      return result(
        item.call_id,
        item.output.map((o, i): Part => ({ type: 'text', path: `output[${i}]`, text: `${o.stdout}${o.stderr}` })),
      );
    case 'apply_patch_call':
      return call(item.call_id, item.operation);
    case 'apply_patch_call_output':
      return result(item.call_id, item.output ? [{ type: 'text', path: 'output', text: item.output }] : []);
    case 'mcp_approval_request':
      return call(item.id, item.arguments, 'arguments');
    case 'mcp_approval_response':
      return result(item.approval_request_id, item.reason ? [{ type: 'text', path: 'reason', text: item.reason }] : []);
    case 'web_search_call':
      return ran([other('action', item.action)]);
    case 'file_search_call':
      return ran([
        other('queries', item.queries),
        ...(item.results ?? []).map((r, i): Part => ({ type: 'text', path: `results[${i}]`, text: r.text ?? '' })),
      ]);
    case 'code_interpreter_call':
      return ran([
        ...(item.code ? [{ type: 'text', path: 'code', text: item.code } as const] : []),
        ...(item.outputs ?? []).map(
          (o, i): Part =>
            o.type === 'logs'
              ? { type: 'text', path: `outputs[${i}]`, text: o.logs }
              : mediaFromUrl(o.url, 'image', `outputs[${i}]`),
        ),
        other('', { container_id: item.container_id }),
      ]);
    case 'image_generation_call':
      return ran([
        item.result
          ? {
              type: 'media',
              path: 'result',
              media: 'image',
              mediaType: `image/${item.output_format ?? 'png'}`,
              base64: item.result,
            }
          : other('result', null),
        ...(item.revised_prompt ? [{ type: 'text', path: 'revised_prompt', text: item.revised_prompt } as const] : []),
      ]);
    case 'mcp_call':
      return ran([
        other('', { server_label: item.server_label, name: item.name }),
        { type: 'text', path: 'arguments', text: item.arguments },
        ...(item.output ? [{ type: 'text', path: 'output', text: item.output } as const] : []),
      ]);
    case 'mcp_list_tools':
      return ran([other('tools', item.tools)]);
    case 'compaction':
      return ran([other('encrypted_content', item.encrypted_content)]);
    case 'compaction_trigger':
      return ran([other('', item)]);
    case 'tool_search_call':
      return call(item.call_id ?? '', item.arguments, 'arguments');
    case 'tool_search_output':
      return result(item.call_id ?? '', [other('tools', item.tools)]);
    case 'program':
      return call(item.call_id, item.code, 'code');
    case 'program_output':
      return result(item.call_id, [{ type: 'text', path: 'result', text: item.result }]);
    // the developer's: kept like instructions, since what follows was run with them
    case 'additional_tools':
      return normalized('system', [other('tools', item.tools)]);
    case 'configuration_update':
      return normalized('system', [other('', { reasoning: item.reasoning, text: item.text })]);
  }
}

function contentParts(content: string | z.output<typeof inputContent>[], path: string): Part[] {
  if (typeof content === 'string') return [{ type: 'text', path, text: content }];
  return content.map((c, i) => openaiResponsesContentPart(c, `${path}[${i}]`));
}

export function openaiResponsesContentPart(c: z.output<typeof inputContent>, at: string): Part {
  if (c.type === 'input_text') return { type: 'text', path: at, text: c.text };
  if (c.type === 'input_image') {
    if (c.image_url) return mediaFromUrl(c.image_url, 'image', at, c.detail);
    return { type: 'media', path: at, media: 'image', detail: c.detail, ...(c.file_id && { fileId: c.file_id }) };
  }
  if (c.file_data !== undefined) return mediaFromUrl(c.file_data, 'file', at);
  if (c.file_url !== undefined) return { type: 'media', path: at, media: 'file', url: c.file_url };
  return { type: 'media', path: at, media: 'file', ...(c.file_id && { fileId: c.file_id }) };
}
