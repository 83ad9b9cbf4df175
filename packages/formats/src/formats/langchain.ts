// LangChain.js serialized messages: the `StoredMessage`s (`{type, data}`) that `BaseMessage.toDict()`
// and `mapChatMessagesToStoredMessages` produce and chat-history stores persist.
import { z } from 'zod';
import { mediaFromData, mediaFromUrl, mediaKindOf } from '../media-url.ts';
import { argumentsText, type NormalizedItem, type NormalRole, normalized, type Part } from '../normalized.ts';

const contentBlock = z.looseObject({ type: z.string() });
const toolCall = z.looseObject({
  id: z.string().optional(),
  name: z.string(),
  args: z.record(z.string(), z.unknown()),
});
const data = z.looseObject({
  content: z.union([z.string(), z.array(contentBlock)]),
  role: z.string().optional(),
  name: z.string().optional(),
  tool_call_id: z.string().optional(),
  tool_calls: z.array(toolCall).optional(),
  additional_kwargs: z.record(z.string(), z.unknown()).optional(),
  response_metadata: z.record(z.string(), z.unknown()).optional(),
  id: z.string().optional(),
});

export const langchainMessageSchema = z.discriminatedUnion('type', [
  z.object({ type: z.enum(['human', 'ai', 'system']), data }),
  z.object({ type: z.literal('tool'), data: data.extend({ tool_call_id: z.string() }) }),
  z.object({ type: z.literal('function'), data: data.extend({ name: z.string() }) }),
  z.object({ type: z.literal('generic'), data: data.extend({ role: z.string() }) }),
]);
export type LangChainMessage = z.output<typeof langchainMessageSchema>;

const ROLES: Record<string, NormalRole> = {
  human: 'user',
  ai: 'assistant',
  system: 'system',
  user: 'user',
  assistant: 'assistant',
};

export function normalizeLangChain(item: LangChainMessage): NormalizedItem {
  const content = contentParts(item.data.content, 'data.content');
  if (item.type === 'tool' || item.type === 'function') {
    const id = item.type === 'tool' ? item.data.tool_call_id : '';
    return normalized('tool', [
      {
        type: 'tool-result',
        path: 'data.content',
        id,
        ...(item.data.name && { name: item.data.name }),
        parts: content,
      },
    ]);
  }
  const role = item.type === 'generic' ? (ROLES[item.data.role] ?? 'user') : (ROLES[item.type] as NormalRole);
  const calls = (item.data.tool_calls ?? []).map(
    (call, i): Part => ({
      type: 'tool-call',
      path: `data.tool_calls[${i}]`,
      id: call.id ?? '',
      name: call.name,
      arguments: argumentsText(call.args),
    }),
  );
  return normalized(role, [...content, ...calls]);
}

function contentParts(content: string | z.output<typeof contentBlock>[], path: string): Part[] {
  if (typeof content === 'string') return content === '' ? [] : [{ type: 'text', path, text: content }];
  return content.map((block, i) => blockPart(block, `${path}[${i}]`));
}

/**
 * Content blocks: `text`; OpenAI-style `image_url`; LangChain's standard blocks (`image`, `file`,
 * `audio` with `url`, `data` or `source_type`); Anthropic-style `thinking`. Others count as JSON.
 */
function blockPart(block: z.output<typeof contentBlock>, path: string): Part {
  const str = (key: string) => (typeof block[key] === 'string' ? (block[key] as string) : undefined);
  if (block.type === 'text' && str('text') !== undefined) return { type: 'text', path, text: str('text') as string };
  if (
    (block.type === 'thinking' || block.type === 'reasoning') &&
    (str('thinking') ?? str('reasoning')) !== undefined
  ) {
    return { type: 'reasoning', path, text: (str('thinking') ?? str('reasoning')) as string };
  }
  if (block.type === 'image_url') {
    const value = block.image_url;
    const url = typeof value === 'string' ? value : (value as { url?: unknown } | undefined)?.url;
    if (typeof url === 'string') return mediaFromUrl(url, 'image', path);
  }
  if (block.type === 'image' || block.type === 'file' || block.type === 'audio') {
    const mediaType = str('mimeType') ?? str('mime_type');
    const media = block.type === 'file' ? mediaKindOf(mediaType) : block.type;
    const inline = str('data') ?? (block.source_type === 'base64' ? str('data') : undefined);
    if (inline !== undefined) return mediaFromData(inline, media, path, mediaType);
    if (str('url') !== undefined) return mediaFromUrl(str('url') as string, media, path);
    return { type: 'media', path, media, ...(mediaType && { mediaType }), ...(str('id') && { fileId: str('id') }) };
  }
  return { type: 'other', path, label: block.type, value: block };
}
