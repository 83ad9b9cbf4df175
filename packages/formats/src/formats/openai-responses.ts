// OpenAI Responses API input items (`ResponseInputItem` of the `openai` SDK): messages, function and
// custom tool calls with their outputs, reasoning items and item references. Hosted-tool items (web
// search, file search, computer, code interpreter, MCP…) are not accepted yet.
import { z } from 'zod';
import { mediaFromUrl } from '../media-url.ts';
import { type NormalizedItem, normalized, type Part } from '../normalized.ts';

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

export const openaiResponsesItemSchema = z.union([
  outputMessage,
  easyMessage,
  functionCall,
  functionCallOutput,
  customToolCall,
  customToolCallOutput,
  reasoning,
  itemReference,
]);
export type OpenAIResponsesItem = z.output<typeof openaiResponsesItemSchema>;

export function normalizeOpenAIResponses(item: OpenAIResponsesItem): NormalizedItem {
  switch (item.type) {
    case undefined:
    case 'message': {
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
      return normalized('assistant', [{ type: 'other', path: '', label: 'item_reference', value: item }]);
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
