// The schemas' outputs are assignable to the SDKs' request types: a schema that accepts a shape the
// provider's SDK does not type fails this file's type check (`pnpm run typecheck`).
import type { MessageParam, TextBlockParam } from '@anthropic-ai/sdk/resources/messages';
import type { Content, Part } from '@google/genai';
import type { AgentInputItem } from '@openai/agents-core';
import type { ModelMessage, UIMessage } from 'ai';
import type { ChatCompletionMessageParam } from 'openai/resources/chat/completions';
import type { ResponseInputItem } from 'openai/resources/responses/responses';
import { describe, expect, it } from 'vitest';
import type { z } from 'zod';
import type { aiSdkModelMessageSchema } from './formats/ai-sdk-model.ts';
import type { aiSdkUiMessageSchema } from './formats/ai-sdk-ui.ts';
import type { anthropicMessageSchema, anthropicSystemSchema } from './formats/anthropic-messages.ts';
import type { GeminiPart, geminiContentSchema } from './formats/gemini.ts';
import type { openaiAgentsItemSchema } from './formats/openai-agents.ts';
import type { openaiChatItemSchema } from './formats/openai-chat.ts';
import type { openaiResponsesItemSchema } from './formats/openai-responses.ts';

type Out<S extends z.ZodType> = z.output<S>;
type CodeFields = 'executableCode' | 'codeExecutionResult';
type Assignable<From, To> = [From] extends [To] ? true : false;

// Each line fails to compile when the schema's output is not a request type of its SDK.
const checks = {
  openaiChat: true satisfies Assignable<Out<typeof openaiChatItemSchema>, ChatCompletionMessageParam>,
  openaiResponses: true satisfies Assignable<Out<typeof openaiResponsesItemSchema>, ResponseInputItem>,
  openaiAgents: true satisfies Assignable<Out<typeof openaiAgentsItemSchema>, AgentInputItem>,
  anthropic: true satisfies Assignable<Out<typeof anthropicMessageSchema>, MessageParam>,
  anthropicSystem: true satisfies Assignable<Out<typeof anthropicSystemSchema>, string | TextBlockParam[]>,
  aiSdkModel: true satisfies Assignable<Out<typeof aiSdkModelMessageSchema>, ModelMessage>,
  // the SDK types the code parts' `language` and `outcome` as TS enums, which no literal is assignable to
  gemini: true satisfies Assignable<Omit<Out<typeof geminiContentSchema>, 'parts'>, Omit<Content, 'parts'>>,
  geminiPart: true satisfies Assignable<Omit<GeminiPart, CodeFields>, Omit<Part, CodeFields>>,
  // a UI message's tool and data parts are typed by the app's tools; the message shape is checked
  aiSdkUi: true satisfies Assignable<Omit<Out<typeof aiSdkUiMessageSchema>, 'parts'>, Omit<UIMessage, 'parts'>>,
};

describe('schema outputs and SDK request types', () => {
  it('are checked at compile time', () => {
    expect(Object.values(checks).every(Boolean)).toBe(true);
  });
});
