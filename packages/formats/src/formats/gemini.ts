// Google Gemini `Content`s (`@google/genai`): `role` `user` or `model`, and `parts`. Function calls and
// responses may carry no id: then a response answers the calls of the turn before it.
import { z } from 'zod';
import { mediaKindOf } from '../media-url.ts';
import { argumentsText, type NormalizedItem, normalized, type Part } from '../normalized.ts';

const part = z.object({
  text: z.string().optional(),
  thought: z.boolean().optional(),
  thoughtSignature: z.string().optional(),
  inlineData: z
    .object({ mimeType: z.string().optional(), data: z.string().optional(), displayName: z.string().optional() })
    .optional(),
  fileData: z
    .object({ mimeType: z.string().optional(), fileUri: z.string().optional(), displayName: z.string().optional() })
    .optional(),
  functionCall: z
    .object({
      id: z.string().optional(),
      name: z.string().optional(),
      args: z.record(z.string(), z.unknown()).optional(),
    })
    .optional(),
  functionResponse: z
    .object({
      id: z.string().optional(),
      name: z.string().optional(),
      response: z.record(z.string(), z.unknown()).optional(),
    })
    .optional(),
  executableCode: z
    .object({ code: z.string().optional(), language: z.enum(['LANGUAGE_UNSPECIFIED', 'PYTHON']).optional() })
    .optional(),
  codeExecutionResult: z
    .object({
      outcome: z.enum(['OUTCOME_UNSPECIFIED', 'OUTCOME_OK', 'OUTCOME_FAILED', 'OUTCOME_DEADLINE_EXCEEDED']).optional(),
      output: z.string().optional(),
    })
    .optional(),
});

export const geminiContentSchema = z.object({
  role: z.enum(['user', 'model']).optional(),
  parts: z.array(part).min(1),
});
export type GeminiContent = z.output<typeof geminiContentSchema>;
/** One part: its code fields use the SDK's enums' values. */
export type GeminiPart = z.output<typeof part>;
/** One part, also recognised inside `ctxvault` items (when it has one of Gemini's own fields). */
export const geminiPartSchema = part;

export function normalizeGemini(item: GeminiContent): NormalizedItem {
  const role = item.role === 'model' ? 'assistant' : 'user';
  return normalized(
    role,
    item.parts.map((p, i) => geminiPart(p, `parts[${i}]`)),
  );
}

export function geminiPart(p: GeminiPart, path: string): Part {
  if (p.text !== undefined)
    return p.thought ? { type: 'reasoning', path, text: p.text } : { type: 'text', path, text: p.text };
  if (p.inlineData) {
    const { mimeType, data } = p.inlineData;
    return {
      type: 'media',
      path,
      media: mediaKindOf(mimeType),
      ...(mimeType && { mediaType: mimeType }),
      ...(data !== undefined && { base64: data }),
    };
  }
  if (p.fileData) {
    const { mimeType, fileUri } = p.fileData;
    return {
      type: 'media',
      path,
      media: mediaKindOf(mimeType),
      ...(mimeType && { mediaType: mimeType }),
      ...(fileUri && { url: fileUri }),
    };
  }
  if (p.functionCall) {
    const { id, name, args } = p.functionCall;
    return { type: 'tool-call', path, id: id ?? '', name: name ?? '', arguments: argumentsText(args) };
  }
  if (p.functionResponse) {
    const { id, name, response } = p.functionResponse;
    return {
      type: 'tool-result',
      path,
      id: id ?? '',
      ...(name && { name }),
      parts: [{ type: 'text', path: `${path}.functionResponse.response`, text: JSON.stringify(response ?? {}) }],
    };
  }
  return {
    type: 'other',
    path,
    label: p.executableCode ? 'executableCode' : p.codeExecutionResult ? 'codeExecutionResult' : 'part',
    value: p,
  };
}
