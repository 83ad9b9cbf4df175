// Anthropic Messages (`MessageParam` of `@anthropic-ai/sdk`); the top-level `system` stays in the envelope.
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

const block = z.discriminatedUnion('type', [
  textBlock,
  imageBlock,
  documentBlock,
  searchResultBlock,
  thinkingBlock,
  redactedThinkingBlock,
  toolUseBlock,
  toolResultBlock,
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
