// OpenAI Agents SDK items (`AgentInputItem` of `@openai/agents`, its `protocol.ModelItem` zod schema):
// what a `Session` stores. They are not Responses input items: fields are camelCase (`callId`,
// `providerData`), tool results are `function_call_result` with the tool's name and a status, and
// hosted tools are one `hosted_tool_call` item. This schema follows the SDK's own, field for field.
import { z } from 'zod';
import { mediaFromData } from '../media-url.ts';
import { argumentsText, type NormalizedItem, normalized, type Part } from '../normalized.ts';

const shared = { providerData: z.record(z.string(), z.any()).optional() };
const item = { ...shared, id: z.string().optional() };
const cacheBreakpoint = z.object({ mode: z.literal('explicit') }).optional();
const status = z.enum(['in_progress', 'completed', 'incomplete']);
const fileId = z.object({ id: z.string() });

const inputText = z.object({
  ...shared,
  type: z.literal('input_text'),
  text: z.string(),
  promptCacheBreakpoint: cacheBreakpoint,
});
const inputImage = z.object({
  ...shared,
  type: z.literal('input_image'),
  image: z.union([z.string(), fileId]).optional(),
  detail: z.string().optional(),
  promptCacheBreakpoint: cacheBreakpoint,
});
const inputFile = z.object({
  ...shared,
  type: z.literal('input_file'),
  file: z.union([z.string(), fileId, z.object({ url: z.string() })]).optional(),
  filename: z.string().optional(),
  promptCacheBreakpoint: cacheBreakpoint,
});
const audio = z.object({
  ...shared,
  type: z.literal('audio'),
  audio: z.union([z.string(), fileId]),
  format: z.string().nullable().optional(),
  transcript: z.string().nullable().optional(),
  promptCacheBreakpoint: cacheBreakpoint,
});
const userContent = z.discriminatedUnion('type', [inputText, inputImage, inputFile, audio]);
const assistantContent = z.discriminatedUnion('type', [
  z.object({ ...shared, type: z.literal('output_text'), text: z.string() }),
  z.object({ ...shared, type: z.literal('refusal'), refusal: z.string() }),
  audio,
  z.object({ ...shared, type: z.literal('image'), image: z.string() }),
]);
const message = { ...item, type: z.literal('message').optional() };
const userMessage = z.object({
  ...message,
  role: z.literal('user'),
  content: z.union([z.array(userContent), z.string()]),
});
const assistantMessage = z.object({
  ...message,
  role: z.literal('assistant'),
  phase: z.enum(['commentary', 'final_answer']).optional(),
  status,
  content: z.array(assistantContent),
});
const systemMessage = z.object({ ...message, role: z.literal('system'), content: z.string() });

const caller = z
  .discriminatedUnion('type', [
    z.object({ type: z.literal('direct') }),
    z.object({ type: z.literal('program'), callerId: z.string() }),
  ])
  .optional();
const functionCall = z.object({
  ...item,
  type: z.literal('function_call'),
  callId: z.string(),
  name: z.string(),
  namespace: z.string().optional(),
  status: status.optional(),
  arguments: z.string(),
  caller,
});
const toolOutput = z.discriminatedUnion('type', [
  z.object({ ...shared, type: z.literal('text'), text: z.string() }),
  z.object({
    ...shared,
    type: z.literal('image'),
    image: z
      .union([
        z.string(),
        // the SDK also takes raw bytes (a Uint8Array), which never reach JSON
        z.object({ data: z.string(), mediaType: z.string().optional() }),
        z.object({ url: z.string() }),
        z.object({ fileId: z.string() }),
      ])
      .optional(),
    detail: z.string().optional(),
  }),
  z.object({
    ...shared,
    type: z.literal('file'),
    file: z.union([
      z.string(),
      z.object({ data: z.string(), mediaType: z.string(), filename: z.string() }),
      z.object({ url: z.string(), filename: z.string().optional() }),
      z.object({ id: z.string(), filename: z.string().optional() }),
    ]),
  }),
]);
const functionCallResult = z.object({
  ...item,
  type: z.literal('function_call_result'),
  name: z.string(),
  namespace: z.string().optional(),
  callId: z.string(),
  status,
  caller,
  output: z.union([z.string(), toolOutput, z.array(z.discriminatedUnion('type', [inputText, inputImage, inputFile]))]),
});
const hostedToolCall = z.object({
  ...item,
  type: z.literal('hosted_tool_call'),
  name: z.string(),
  arguments: z.string().optional(),
  status: z.string().optional(),
  output: z.string().optional(),
  caller,
});
const point = { x: z.number(), y: z.number() };
const computerAction = z.discriminatedUnion('type', [
  z.object({ type: z.literal('screenshot') }),
  z.object({ type: z.literal('click'), ...point, button: z.enum(['left', 'right', 'wheel', 'back', 'forward']) }),
  z.object({ type: z.literal('double_click'), ...point }),
  z.object({ type: z.literal('scroll'), ...point, scroll_x: z.number(), scroll_y: z.number() }),
  z.object({ type: z.literal('type'), text: z.string() }),
  z.object({ type: z.literal('wait') }),
  z.object({ type: z.literal('move'), ...point }),
  z.object({ type: z.literal('keypress'), keys: z.array(z.string()) }),
  z.object({ type: z.literal('drag'), path: z.array(z.object(point)) }),
]);
const computerCall = z
  .object({
    ...item,
    type: z.literal('computer_call'),
    callId: z.string(),
    status,
    action: computerAction.optional(),
    actions: z.array(computerAction).min(1).optional(),
  })
  .refine((value) => value.action !== undefined || (value.actions?.length ?? 0) > 0, {
    message: 'computer_call items must include action or actions',
    path: ['action'],
  });
const computerCallResult = z.object({
  ...item,
  type: z.literal('computer_call_result'),
  callId: z.string(),
  output: z.object({ ...shared, type: z.literal('computer_screenshot'), data: z.string() }),
});
const shellCall = z.object({
  ...item,
  type: z.literal('shell_call'),
  callId: z.string(),
  status: status.optional(),
  action: z.object({
    commands: z.array(z.string()),
    timeoutMs: z.number().int().min(0).optional(),
    maxOutputLength: z.number().int().min(0).optional(),
  }),
  caller,
});
const shellCallOutput = z.object({
  ...item,
  type: z.literal('shell_call_output'),
  callId: z.string(),
  status: status.optional(),
  maxOutputLength: z.number().optional(),
  output: z.array(
    z.looseObject({
      stdout: z.string(),
      stderr: z.string(),
      outcome: z.discriminatedUnion('type', [
        z.object({ type: z.literal('timeout') }),
        z.object({ type: z.literal('exit'), exitCode: z.number().int().nullable() }),
      ]),
    }),
  ),
  caller,
});
const applyPatchCall = z.object({
  ...item,
  type: z.literal('apply_patch_call'),
  callId: z.string(),
  status: z.enum(['in_progress', 'completed']),
  operation: z.discriminatedUnion('type', [
    z.object({ type: z.literal('create_file'), path: z.string(), diff: z.string() }),
    z.object({
      type: z.literal('update_file'),
      path: z.string(),
      diff: z.string(),
      moveTo: z.string().min(1).optional(),
    }),
    z.object({ type: z.literal('delete_file'), path: z.string() }),
  ]),
  caller,
});
const applyPatchCallOutput = z.object({
  ...item,
  type: z.literal('apply_patch_call_output'),
  callId: z.string(),
  status: z.enum(['completed', 'failed']),
  output: z.string().optional(),
  caller,
});
const programCall = z.object({
  ...item,
  type: z.literal('program'),
  callId: z.string(),
  code: z.string(),
  fingerprint: z.string(),
});
const programOutput = z.object({
  ...item,
  type: z.literal('program_output'),
  callId: z.string(),
  output: z.string(),
  status: z.enum(['completed', 'incomplete']),
});
const toolSearch = {
  ...item,
  call_id: z.string().nullable().optional(),
  callId: z.string().nullable().optional(),
  execution: z.enum(['client', 'server']).optional(),
  status: z.string().optional(),
};
const toolSearchCall = z.object({ ...toolSearch, type: z.literal('tool_search_call'), arguments: z.unknown() });
const toolSearchOutput = z.object({
  ...toolSearch,
  type: z.literal('tool_search_output'),
  toolSearchAgentName: z.string().optional(),
  toolSearchMcpToolNames: z.array(z.string()).optional(),
  tools: z.array(z.record(z.string(), z.any())),
});
const reasoning = z.object({
  ...shared,
  id: z.string().optional(),
  type: z.literal('reasoning'),
  content: z.array(inputText),
  rawContent: z.array(z.object({ ...shared, type: z.literal('reasoning_text'), text: z.string() })).optional(),
});
const compaction = z.object({
  ...item,
  type: z.literal('compaction'),
  encrypted_content: z.string(),
  created_by: z.string().optional(),
});
const unknownItem = z.object({ ...item, type: z.literal('unknown') });

export const openaiAgentsItemSchema = z.union([
  userMessage,
  assistantMessage,
  systemMessage,
  toolSearchCall,
  toolSearchOutput,
  hostedToolCall,
  programCall,
  programOutput,
  functionCall,
  computerCall,
  shellCall,
  applyPatchCall,
  functionCallResult,
  computerCallResult,
  shellCallOutput,
  applyPatchCallOutput,
  reasoning,
  compaction,
  unknownItem,
]);
export type OpenAIAgentsItem = z.output<typeof openaiAgentsItemSchema>;

export function normalizeOpenAIAgents(value: OpenAIAgentsItem): NormalizedItem {
  if (value.type === undefined || value.type === 'message') {
    const m = value as z.output<typeof userMessage | typeof assistantMessage | typeof systemMessage>;
    if (typeof m.content === 'string') return normalized(m.role, [{ type: 'text', path: 'content', text: m.content }]);
    return normalized(
      m.role,
      m.content.map((c, i) => contentPart(c, `content[${i}]`)),
    );
  }
  const hosted = (label: string, id: string, args: unknown): NormalizedItem =>
    normalized('assistant', [
      { type: 'tool-call', path: '', id, name: label, arguments: argumentsText(args), hosted: label },
    ]);
  const hostedResult = (label: string, id: string, parts: Part[]): NormalizedItem =>
    normalized('tool', [{ type: 'tool-result', path: 'output', id, parts, hosted: label }]);
  const text = (t: string, path = 'output'): Part[] => [{ type: 'text', path, text: t }];
  switch (value.type) {
    case 'function_call':
      return normalized('assistant', [
        { type: 'tool-call', path: '', id: value.callId, name: value.name, arguments: value.arguments },
      ]);
    case 'function_call_result':
      return normalized('tool', [
        { type: 'tool-result', path: 'output', id: value.callId, name: value.name, parts: outputParts(value.output) },
      ]);
    case 'computer_call':
      return hosted('computer_call', value.callId, value.actions ?? value.action);
    case 'computer_call_result':
      return hostedResult('computer_call_result', value.callId, [
        mediaFromData(value.output.data, 'image', 'output.data', 'image/png'),
      ]);
    case 'shell_call':
      return hosted('shell_call', value.callId, value.action);
    case 'shell_call_output':
      return hostedResult(
        'shell_call_output',
        value.callId,
        value.output.flatMap((o, i) => text(`${o.stdout}${o.stderr}`, `output[${i}]`)),
      );
    case 'apply_patch_call':
      return hosted('apply_patch_call', value.callId, value.operation);
    case 'apply_patch_call_output':
      return hostedResult('apply_patch_call_output', value.callId, text(value.output ?? ''));
    case 'program':
      return normalized('assistant', [
        {
          type: 'tool-call',
          path: 'code',
          id: value.callId,
          name: 'program',
          arguments: value.code,
          hosted: 'program',
        },
      ]);
    case 'program_output':
      return hostedResult('program_output', value.callId, text(value.output));
    case 'tool_search_call':
      return hosted('tool_search_call', value.callId ?? value.call_id ?? '', value.arguments);
    case 'tool_search_output':
      return hostedResult('tool_search_output', value.callId ?? value.call_id ?? '', [
        { type: 'other', path: 'tools', label: 'tool_search_output', value: value.tools },
      ]);
    case 'hosted_tool_call':
      // run by the provider: the call and its output are one item
      return normalized('assistant', [
        {
          type: 'other',
          path: '',
          label: `hosted_tool_call ${value.name}`,
          value: [value.name, value.arguments ?? '', value.output ?? ''],
        },
      ]);
    case 'reasoning':
      return normalized('assistant', [
        ...value.content.map((c, i): Part => ({ type: 'reasoning', path: `content[${i}]`, text: c.text })),
        ...(value.rawContent ?? []).map(
          (c, i): Part => ({ type: 'reasoning', path: `rawContent[${i}]`, text: c.text }),
        ),
      ]);
    case 'compaction':
      return normalized('assistant', [
        { type: 'other', path: 'encrypted_content', label: 'compaction', value: value.encrypted_content },
      ]);
    case 'unknown':
      return normalized('assistant', [{ type: 'other', path: '', label: 'unknown item', value }]);
  }
}

type Content =
  | z.output<typeof userContent>
  | z.output<typeof assistantContent>
  | z.output<typeof inputText | typeof inputImage | typeof inputFile>;

function contentPart(c: Content, path: string): Part {
  switch (c.type) {
    case 'input_text':
    case 'output_text':
      return { type: 'text', path, text: c.text };
    case 'refusal':
      return { type: 'refusal', path, text: c.refusal };
    case 'input_image':
      if (typeof c.image === 'string') {
        const part = mediaFromData(c.image, 'image', path);
        return c.detail === undefined ? part : ({ ...part, detail: c.detail } as Part);
      }
      return { type: 'media', path, media: 'image', ...(c.image && { fileId: c.image.id }) };
    case 'image':
      return mediaFromData(c.image, 'image', path);
    case 'input_file':
      if (typeof c.file === 'string') return mediaFromData(c.file, 'file', path);
      if (c.file && 'url' in c.file) return { type: 'media', path, media: 'file', url: c.file.url };
      return { type: 'media', path, media: 'file', ...(c.file && { fileId: c.file.id }) };
    case 'audio':
      return typeof c.audio === 'string'
        ? { type: 'media', path, media: 'audio', base64: c.audio }
        : { type: 'media', path, media: 'audio', fileId: c.audio.id };
  }
}

function outputParts(output: z.output<typeof functionCallResult>['output']): Part[] {
  if (typeof output === 'string') return [{ type: 'text', path: 'output', text: output }];
  if (Array.isArray(output)) return output.map((c, i) => contentPart(c, `output[${i}]`));
  const path = 'output';
  if (output.type === 'text') return [{ type: 'text', path, text: output.text }];
  if (output.type === 'image') {
    const { image } = output;
    if (image === undefined) return [{ type: 'media', path, media: 'image' }];
    if (typeof image === 'string') return [mediaFromData(image, 'image', path)];
    if ('data' in image) return [mediaFromData(image.data, 'image', path, image.mediaType)];
    if ('url' in image) return [{ type: 'media', path, media: 'image', url: image.url }];
    return [{ type: 'media', path, media: 'image', fileId: image.fileId }];
  }
  const { file } = output;
  if (typeof file === 'string') return [mediaFromData(file, 'file', path)];
  if ('data' in file) return [mediaFromData(file.data, 'file', path, file.mediaType)];
  if ('url' in file) return [{ type: 'media', path, media: 'file', url: file.url }];
  return [{ type: 'media', path, media: 'file', fileId: file.id }];
}
