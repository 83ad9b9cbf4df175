import { z } from 'zod';
import type { Format } from './format.ts';
import { aiSdkModelMessageSchema, normalizeAiSdkModel } from './formats/ai-sdk-model.ts';
import { aiSdkUiMessageSchema, normalizeAiSdkUi } from './formats/ai-sdk-ui.ts';
import { anthropicMessageSchema, normalizeAnthropic } from './formats/anthropic-messages.ts';
import { ctxvaultItemSchema, normalizeCtxvault } from './formats/ctxvault.ts';
import { geminiContentSchema, normalizeGemini } from './formats/gemini.ts';
import { langchainMessageSchema, normalizeLangChain } from './formats/langchain.ts';
import { normalizeOpenAIAgents, openaiAgentsItemSchema } from './formats/openai-agents.ts';
import { normalizeOpenAIChat, openaiChatItemSchema } from './formats/openai-chat.ts';
import { normalizeOpenAIResponses, openaiResponsesItemSchema } from './formats/openai-responses.ts';
import { itemIssues } from './issues.ts';
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
  'openai.agents': define(openaiAgentsItemSchema, normalizeOpenAIAgents),
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

/** An item as validation passes it on: the value as sent, with nothing stripped or added. */
export type FormatItem = Record<string, unknown>;

const validators = new Map<Format, z.ZodType<FormatItem>>();

/**
 * A schema that checks a value against `format`'s item shape and passes the value on unchanged
 * (stored as sent: no field the provider allows is stripped), its issues resolved to the deepest
 * path (`content.0.tool_use_id`, not "no union member matched").
 */
export function validItemSchema(format: Format): z.ZodType<FormatItem> {
  let schema = validators.get(format);
  if (!schema) {
    const shape = DEFINITIONS[format].schema;
    schema = z.record(z.string(), z.unknown()).superRefine((value, ctx) => {
      const result = shape.safeParse(value);
      if (result.success) return;
      for (const issue of itemIssues(result.error))
        ctx.addIssue({ code: 'custom', path: issue.path, message: issue.message });
    });
    validators.set(format, schema);
  }
  return schema;
}
