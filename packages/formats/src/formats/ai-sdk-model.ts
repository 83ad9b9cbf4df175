// Vercel AI SDK `ModelMessage`s (the `ai` package), as JSON: binary data as base64 or URL strings.
import { z } from 'zod';
import { mediaFromData } from '../media-url.ts';
import { argumentsText, type NormalizedItem, normalized, type Part } from '../normalized.ts';

const providerOptions = z.record(z.string(), z.record(z.string(), z.json())).optional();
const textPart = z.object({ type: z.literal('text'), text: z.string(), providerOptions });
const imagePart = z.object({
  type: z.literal('image'),
  image: z.string(),
  mediaType: z.string().optional(),
  providerOptions,
});
const filePart = z.object({
  type: z.literal('file'),
  data: z.string(),
  mediaType: z.string(),
  filename: z.string().optional(),
  providerOptions,
});
const reasoningPart = z.object({ type: z.literal('reasoning'), text: z.string(), providerOptions });
const toolCallPart = z.object({
  type: z.literal('tool-call'),
  toolCallId: z.string(),
  toolName: z.string(),
  input: z.unknown(),
  providerExecuted: z.boolean().optional(),
  providerOptions,
});
const json = z.json();
const toolResultOutput = z.discriminatedUnion('type', [
  z.object({ type: z.literal('text'), value: z.string(), providerOptions }),
  z.object({ type: z.literal('json'), value: json, providerOptions }),
  z.object({ type: z.literal('execution-denied'), reason: z.string().optional(), providerOptions }),
  z.object({ type: z.literal('error-text'), value: z.string(), providerOptions }),
  z.object({ type: z.literal('error-json'), value: json, providerOptions }),
  z.object({
    type: z.literal('content'),
    value: z.array(
      z.discriminatedUnion('type', [
        z.object({ type: z.literal('text'), text: z.string(), providerOptions }),
        z.object({
          type: z.literal('file-data'),
          data: z.string(),
          mediaType: z.string(),
          filename: z.string().optional(),
          providerOptions,
        }),
      ]),
    ),
  }),
]);
const toolResultPart = z.object({
  type: z.literal('tool-result'),
  toolCallId: z.string(),
  toolName: z.string(),
  output: toolResultOutput,
  providerOptions,
});

/** One content part of a message, also recognised inside `ctxvault` items. */
export const aiSdkModelPartSchema = z.discriminatedUnion('type', [
  textPart,
  imagePart,
  filePart,
  reasoningPart,
  toolCallPart,
  toolResultPart,
]);

export const aiSdkModelMessageSchema = z.discriminatedUnion('role', [
  z.object({ role: z.literal('system'), content: z.string(), providerOptions }),
  z.object({
    role: z.literal('user'),
    content: z.union([z.string(), z.array(z.discriminatedUnion('type', [textPart, imagePart, filePart]))]),
    providerOptions,
  }),
  z.object({
    role: z.literal('assistant'),
    content: z.union([
      z.string(),
      z.array(z.discriminatedUnion('type', [textPart, filePart, reasoningPart, toolCallPart, toolResultPart])),
    ]),
    providerOptions,
  }),
  z.object({ role: z.literal('tool'), content: z.array(toolResultPart), providerOptions }),
]);
export type AiSdkModelMessage = z.output<typeof aiSdkModelMessageSchema>;
type ContentPart = Exclude<AiSdkModelMessage['content'], string>[number];

export function normalizeAiSdkModel(item: AiSdkModelMessage): NormalizedItem {
  if (typeof item.content === 'string')
    return normalized(item.role, [{ type: 'text', path: 'content', text: item.content }]);
  return normalized(
    item.role,
    item.content.map((part: ContentPart, i) => aiSdkModelPart(part, `content[${i}]`)),
  );
}

export function aiSdkModelPart(part: ContentPart, path: string): Part {
  switch (part.type) {
    case 'text':
      return { type: 'text', path, text: part.text };
    case 'image':
      return mediaFromData(part.image, 'image', path, part.mediaType);
    case 'file':
      return mediaFromData(part.data, part.mediaType.startsWith('image/') ? 'image' : 'file', path, part.mediaType);
    case 'reasoning':
      return { type: 'reasoning', path, text: part.text };
    case 'tool-call':
      return {
        type: 'tool-call',
        path,
        id: part.toolCallId,
        name: part.toolName,
        arguments: argumentsText(part.input),
      };
    case 'tool-result':
      return {
        type: 'tool-result',
        path,
        id: part.toolCallId,
        name: part.toolName,
        parts: outputParts(part.output, `${path}.output`),
        ...(part.output.type.startsWith('error') && { isError: true }),
      };
  }
}

function outputParts(output: z.output<typeof toolResultOutput>, path: string): Part[] {
  switch (output.type) {
    case 'text':
    case 'error-text':
      return [{ type: 'text', path: `${path}.value`, text: output.value }];
    case 'json':
    case 'error-json':
      return [{ type: 'text', path: `${path}.value`, text: JSON.stringify(output.value) }];
    case 'execution-denied':
      return [{ type: 'other', path, label: 'execution-denied', value: output }];
    case 'content':
      return output.value.map(
        (v, i): Part =>
          v.type === 'text'
            ? { type: 'text', path: `${path}.value[${i}]`, text: v.text }
            : mediaFromData(
                v.data,
                v.mediaType.startsWith('image/') ? 'image' : 'file',
                `${path}.value[${i}]`,
                v.mediaType,
              ),
      );
  }
}
