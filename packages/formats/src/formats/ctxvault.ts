// ctxvault's own items: a role and plain text or structured parts as the agent produced them. Parts
// in a provider's shape (Anthropic blocks, OpenAI content parts, AI SDK parts) are recognised as such.
import { z } from 'zod';
import { type NormalizedItem, normalized, type Part } from '../normalized.ts';
import { aiSdkModelPart, aiSdkModelPartSchema } from './ai-sdk-model.ts';
import { anthropicBlockPart, anthropicBlockSchema } from './anthropic-messages.ts';
import { geminiPart, geminiPartSchema } from './gemini.ts';
import { openaiChatPart, openaiChatPartSchema } from './openai-chat.ts';
import { openaiResponsesContentPart, openaiResponsesContentSchema } from './openai-responses.ts';

export const CTXVAULT_ROLES = ['system', 'user', 'assistant', 'tool'] as const;

export const ctxvaultItemSchema = z.strictObject({
  role: z.enum(CTXVAULT_ROLES),
  /** plain text, or structured parts (text, images, tool calls) as the agent produced them */
  content: z.union([z.string(), z.array(z.record(z.string(), z.unknown()))]),
  timestamp: z.iso.datetime({ offset: true }).optional(),
  tokens: z.number().int().nonnegative().optional(),
  metadata: z.record(z.string(), z.unknown()).optional(),
});
export type CtxvaultItem = z.output<typeof ctxvaultItemSchema>;

export function normalizeCtxvault(item: CtxvaultItem): NormalizedItem {
  if (typeof item.content === 'string')
    return normalized(item.role, [{ type: 'text', path: 'content', text: item.content }]);
  return normalized(
    item.role,
    item.content.map((part, i) => recognise(part, `content[${i}]`)),
  );
}

const GEMINI_FIELDS = ['inlineData', 'fileData', 'functionCall', 'functionResponse'];

function recognise(part: Record<string, unknown>, path: string): Part {
  const anthropic = anthropicBlockSchema.safeParse(part);
  if (anthropic.success) return anthropicBlockPart(anthropic.data, path);
  const openai = openaiChatPartSchema.safeParse(part);
  if (openai.success) return openaiChatPart(openai.data, path);
  const aiSdk = aiSdkModelPartSchema.safeParse(part);
  if (aiSdk.success) return aiSdkModelPart(aiSdk.data, path);
  const responses = openaiResponsesContentSchema.safeParse(part);
  if (responses.success) return openaiResponsesContentPart(responses.data, path);
  if (GEMINI_FIELDS.some((field) => field in part)) {
    const gemini = geminiPartSchema.safeParse(part);
    if (gemini.success) return geminiPart(gemini.data, path);
  }
  if (typeof part.text === 'string') return { type: 'text', path, text: part.text };
  return { type: 'other', path, label: typeof part.type === 'string' ? part.type : 'part', value: part };
}
