// What the format suites share: one more item of each format, and the validity a truncated transcript keeps.
import { expect } from 'vitest';
import { FIXTURES } from '../../packages/formats/src/fixtures/transcripts.ts';
import { callIds, type Format, normalizeItem, resultIds } from '../../packages/formats/src/index.ts';

export const FORMATS = Object.keys(FIXTURES) as Format[];

/** Items as JSON carries them (the LangChain fixture has `undefined` fields JSON leaves out). */
export const asSent = (items: readonly unknown[]) => JSON.parse(JSON.stringify(items));

/** One more item of each format, holding the word the searches look for. */
export const MORE: Record<Format, unknown> = {
  ctxvault: { role: 'user', content: 'one more zebra question' },
  'openai.chat': { role: 'user', content: 'one more zebra question' },
  'openai.responses': { role: 'user', content: [{ type: 'input_text', text: 'one more zebra question' }] },
  'openai.agents': { role: 'user', content: [{ type: 'input_text', text: 'one more zebra question' }] },
  'anthropic.messages': { role: 'user', content: [{ type: 'text', text: 'one more zebra question' }] },
  'ai-sdk.ui': { id: 'u9', role: 'user', parts: [{ type: 'text', text: 'one more zebra question' }] },
  'ai-sdk.model': { role: 'user', content: 'one more zebra question' },
  langchain: { type: 'human', data: { content: 'one more zebra question' } },
  gemini: { role: 'user', parts: [{ text: 'one more zebra question' }] },
};

/** No tool result without its call or call without its result; Anthropic and Gemini start with a user turn. */
export function expectValid(format: Format, items: unknown[]): void {
  const views = items.map((item) => normalizeItem(format, item));
  const calls = new Set(views.flatMap(callIds));
  const results = new Set(views.flatMap(resultIds));
  for (const id of results) if (id !== '') expect(calls).toContain(id);
  for (const id of calls) expect(results).toContain(id);
  const first = views.find((v) => v.kind !== 'instruction');
  if (first && (format === 'anthropic.messages' || format === 'gemini')) expect(first.kind).toBe('user');
}
