import type { z } from 'zod';
import type { Format } from './format.ts';
import { aiSdkModelMessageSchema, normalizeAiSdkModel } from './formats/ai-sdk-model.ts';
import { aiSdkUiMessageSchema, normalizeAiSdkUi } from './formats/ai-sdk-ui.ts';
import { anthropicMessageSchema, normalizeAnthropic } from './formats/anthropic-messages.ts';
import { ctxvaultItemSchema, normalizeCtxvault } from './formats/ctxvault.ts';
import { geminiContentSchema, normalizeGemini } from './formats/gemini.ts';
import { langchainMessageSchema, normalizeLangChain } from './formats/langchain.ts';
import { normalizeOpenAIChat, openaiChatItemSchema } from './formats/openai-chat.ts';
import { normalizeOpenAIResponses, openaiResponsesItemSchema } from './formats/openai-responses.ts';
import type { NormalizedItem } from './normalized.ts';

interface FormatDefinition {
  /** the published shape of one item */
  schema: z.ZodType;
  /** the view of a valid item */
  normalize(item: unknown): NormalizedItem;
  /** the provider rejects a transcript whose first message (after instructions) is not a user turn */
  startsWithUser: boolean;
}

function define<S extends z.ZodType>(
  schema: S,
  normalize: (item: z.output<S>) => NormalizedItem,
  startsWithUser = false,
): FormatDefinition {
  return { schema, normalize: (item) => normalize(schema.parse(item)), startsWithUser };
}

const DEFINITIONS: Record<Format, FormatDefinition> = {
  ctxvault: define(ctxvaultItemSchema, normalizeCtxvault),
  'openai.chat': define(openaiChatItemSchema, normalizeOpenAIChat),
  'openai.responses': define(openaiResponsesItemSchema, normalizeOpenAIResponses),
  'anthropic.messages': define(anthropicMessageSchema, normalizeAnthropic, true),
  'ai-sdk.ui': define(aiSdkUiMessageSchema, normalizeAiSdkUi),
  'ai-sdk.model': define(aiSdkModelMessageSchema, normalizeAiSdkModel),
  langchain: define(langchainMessageSchema, normalizeLangChain),
  gemini: define(geminiContentSchema, normalizeGemini, true),
};

/** The zod schema of one item of `format`. */
export function itemSchemaOf(format: Format): z.ZodType {
  return DEFINITIONS[format].schema;
}

/** The normalized view of one item of `format` (validated first: a stored item always is). */
export function normalizeItem(format: Format, item: unknown): NormalizedItem {
  return DEFINITIONS[format].normalize(item);
}

export function startsWithUser(format: Format): boolean {
  return DEFINITIONS[format].startsWithUser;
}
