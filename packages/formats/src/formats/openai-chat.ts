// OpenAI Chat Completions messages (`ChatCompletionMessageParam` of the `openai` SDK).
import { z } from 'zod';
import { mediaFromUrl } from '../media-url.ts';
import { type NormalizedItem, normalized, type Part } from '../normalized.ts';

const cacheBreakpoint = z.object({ mode: z.literal('explicit'), ttl: z.enum(['30m', '12h']).optional() }).optional();
const textPart = z.object({ type: z.literal('text'), text: z.string(), prompt_cache_breakpoint: cacheBreakpoint });
const imagePart = z.object({
  type: z.literal('image_url'),
  image_url: z.object({ url: z.string(), detail: z.enum(['auto', 'low', 'high', 'original']).optional() }),
  prompt_cache_breakpoint: cacheBreakpoint,
});
const audioPart = z.object({
  type: z.literal('input_audio'),
  input_audio: z.object({ data: z.string(), format: z.enum(['wav', 'mp3']) }),
  prompt_cache_breakpoint: cacheBreakpoint,
});
const filePart = z.object({
  type: z.literal('file'),
  file: z.object({ file_data: z.string().optional(), file_id: z.string().optional(), filename: z.string().optional() }),
  prompt_cache_breakpoint: cacheBreakpoint,
});
const refusalPart = z.object({ type: z.literal('refusal'), refusal: z.string() });
const texts = z.union([z.string(), z.array(textPart)]);

const userPart = z.discriminatedUnion('type', [textPart, imagePart, audioPart, filePart]);
/** One part of a user message, also recognised inside `ctxvault` items. */
export const openaiChatPartSchema = userPart;

const functionToolCall = z.object({
  id: z.string(),
  type: z.literal('function'),
  function: z.object({ name: z.string(), arguments: z.string() }),
});
const customToolCall = z.object({
  id: z.string(),
  type: z.literal('custom'),
  custom: z.object({ name: z.string(), input: z.string() }),
});

export const openaiChatItemSchema = z.discriminatedUnion('role', [
  z.object({ role: z.literal('developer'), content: texts, name: z.string().optional() }),
  z.object({ role: z.literal('system'), content: texts, name: z.string().optional() }),
  z.object({
    role: z.literal('user'),
    content: z.union([z.string(), z.array(userPart)]),
    name: z.string().optional(),
  }),
  z.object({
    role: z.literal('assistant'),
    content: z
      .union([z.string(), z.array(z.discriminatedUnion('type', [textPart, refusalPart]))])
      .nullable()
      .optional(),
    refusal: z.string().nullable().optional(),
    name: z.string().optional(),
    audio: z.object({ id: z.string() }).nullable().optional(),
    tool_calls: z.array(z.discriminatedUnion('type', [functionToolCall, customToolCall])).optional(),
    function_call: z.object({ name: z.string(), arguments: z.string() }).nullable().optional(),
  }),
  z.object({ role: z.literal('tool'), content: texts, tool_call_id: z.string() }),
  z.object({ role: z.literal('function'), content: z.string().nullable(), name: z.string() }),
]);
export type OpenAIChatItem = z.output<typeof openaiChatItemSchema>;

export function normalizeOpenAIChat(item: OpenAIChatItem): NormalizedItem {
  switch (item.role) {
    case 'developer':
    case 'system':
      return normalized('system', textParts(item.content, 'content'));
    case 'user':
      return normalized('user', userParts(item.content));
    case 'assistant':
      return normalized('assistant', assistantParts(item));
    case 'tool':
      return normalized('tool', [
        { type: 'tool-result', path: 'content', id: item.tool_call_id, parts: textParts(item.content, 'content') },
      ]);
    case 'function':
      // the deprecated function-calling turn: answers the previous `function_call`, which has no id
      return normalized('tool', [
        {
          type: 'tool-result',
          path: 'content',
          id: '',
          name: item.name,
          parts: item.content === null ? [] : [{ type: 'text', path: 'content', text: item.content }],
        },
      ]);
  }
}

function textParts(content: string | { text: string }[], path: string): Part[] {
  if (typeof content === 'string') return [{ type: 'text', path, text: content }];
  return content.map((part, i) => ({ type: 'text', path: `${path}[${i}]`, text: part.text }));
}

function userParts(content: Extract<OpenAIChatItem, { role: 'user' }>['content']): Part[] {
  if (typeof content === 'string') return [{ type: 'text', path: 'content', text: content }];
  return content.map((part, i) => openaiChatPart(part, `content[${i}]`));
}

export function openaiChatPart(part: z.output<typeof userPart>, path: string): Part {
  switch (part.type) {
    case 'text':
      return { type: 'text', path, text: part.text };
    case 'image_url':
      return mediaFromUrl(part.image_url.url, 'image', path, part.image_url.detail);
    case 'input_audio':
      return {
        type: 'media',
        path,
        media: 'audio',
        mediaType: `audio/${part.input_audio.format}`,
        base64: part.input_audio.data,
      };
    case 'file': {
      const { file_data: data, file_id: fileId } = part.file;
      if (data !== undefined) return { ...mediaFromUrl(data, 'file', path) };
      return { type: 'media', path, media: 'file', ...(fileId !== undefined && { fileId }) };
    }
  }
}

function assistantParts(item: Extract<OpenAIChatItem, { role: 'assistant' }>): Part[] {
  const parts: Part[] = [];
  const { content } = item;
  if (typeof content === 'string') parts.push({ type: 'text', path: 'content', text: content });
  else if (Array.isArray(content)) {
    for (const [i, part] of content.entries()) {
      const path = `content[${i}]`;
      parts.push(
        part.type === 'text' ? { type: 'text', path, text: part.text } : { type: 'refusal', path, text: part.refusal },
      );
    }
  }
  if (typeof item.refusal === 'string') parts.push({ type: 'refusal', path: 'refusal', text: item.refusal });
  for (const [i, call] of (item.tool_calls ?? []).entries()) {
    const path = `tool_calls[${i}]`;
    parts.push(
      call.type === 'function'
        ? { type: 'tool-call', path, id: call.id, name: call.function.name, arguments: call.function.arguments }
        : {
            type: 'tool-call',
            path,
            id: call.id,
            name: call.custom.name,
            arguments: JSON.stringify(call.custom.input),
          },
    );
  }
  if (item.function_call) {
    const { name, arguments: args } = item.function_call;
    parts.push({ type: 'tool-call', path: 'function_call', id: '', name, arguments: args });
  }
  if (item.audio) parts.push({ type: 'other', path: 'audio', label: 'audio reference', value: item.audio });
  return parts;
}
