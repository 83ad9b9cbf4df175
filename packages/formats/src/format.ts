/** The item shapes a context can hold: ctxvault's own, or a provider's message format, stored as sent. */
export const FORMATS = [
  'ctxvault',
  'openai.chat',
  'openai.responses',
  'openai.agents',
  'anthropic.messages',
  'ai-sdk.ui',
  'ai-sdk.model',
  'langchain',
  'gemini',
] as const;
export type Format = (typeof FORMATS)[number];

/** The formats a context can be read as (`?as=`): the common subset converts into these. */
export const TARGET_FORMATS = ['openai.chat', 'anthropic.messages', 'ai-sdk.model'] as const;
export type TargetFormat = (typeof TARGET_FORMATS)[number];
