// Vercel AI SDK `UIMessage`s (the `ai` package): what `useChat` holds and persists. A tool part
// carries its call and, once available, its result in the same assistant message.
import { z } from 'zod';
import { mediaFromData } from '../media-url.ts';
import { argumentsText, type NormalizedItem, normalized, type Part } from '../normalized.ts';

const providerMetadata = z.record(z.string(), z.record(z.string(), z.unknown())).optional();
const state = z.enum(['streaming', 'done']).optional();
const textPart = z.object({ type: z.literal('text'), text: z.string(), state, providerMetadata });
const reasoningPart = z.object({ type: z.literal('reasoning'), text: z.string(), state, providerMetadata });
const filePart = z.object({
  type: z.literal('file'),
  mediaType: z.string(),
  url: z.string(),
  filename: z.string().optional(),
  providerMetadata,
});
const sourceUrlPart = z.object({
  type: z.literal('source-url'),
  sourceId: z.string(),
  url: z.string(),
  title: z.string().optional(),
  providerMetadata,
});
const sourceDocumentPart = z.object({
  type: z.literal('source-document'),
  sourceId: z.string(),
  mediaType: z.string(),
  title: z.string(),
  filename: z.string().optional(),
  providerMetadata,
});
const stepStartPart = z.object({ type: z.literal('step-start') });
const TOOL_STATES = [
  'input-streaming',
  'input-available',
  'approval-requested',
  'approval-responded',
  'output-available',
  'output-error',
  'output-denied',
] as const;
/** `tool-<name>` (static tools) and `dynamic-tool` parts; `data-<name>` parts carry app data. */
const toolPart = z.object({
  type: z.union([z.templateLiteral(['tool-', z.string()]), z.literal('dynamic-tool')]),
  toolName: z.string().optional(),
  toolCallId: z.string(),
  state: z.enum(TOOL_STATES),
  input: z.unknown().optional(),
  output: z.unknown().optional(),
  errorText: z.string().optional(),
  providerExecuted: z.boolean().optional(),
});
const dataPart = z.object({
  type: z.templateLiteral(['data-', z.string()]),
  id: z.string().optional(),
  data: z.unknown(),
});

const uiPart = z.union([
  z.discriminatedUnion('type', [textPart, reasoningPart, filePart, sourceUrlPart, sourceDocumentPart, stepStartPart]),
  toolPart,
  dataPart,
]);

export const aiSdkUiMessageSchema = z.object({
  id: z.string(),
  role: z.enum(['system', 'user', 'assistant']),
  metadata: z.unknown().optional(),
  parts: z.array(uiPart),
});
export type AiSdkUiMessage = z.output<typeof aiSdkUiMessageSchema>;

export function normalizeAiSdkUi(item: AiSdkUiMessage): NormalizedItem {
  return normalized(
    item.role,
    item.parts.flatMap((part, i) => partsOf(part, `parts[${i}]`)),
  );
}

function partsOf(part: z.output<typeof uiPart>, path: string): Part[] {
  if (part.type === 'text') return [{ type: 'text', path, text: part.text }];
  if (part.type === 'reasoning') return [{ type: 'reasoning', path, text: part.text }];
  if (part.type === 'file')
    return [mediaFromData(part.url, part.mediaType.startsWith('image/') ? 'image' : 'file', path, part.mediaType)];
  if (part.type === 'step-start') return [];
  if ('toolCallId' in part) {
    const name = part.type === 'dynamic-tool' ? (part.toolName ?? '') : part.type.slice('tool-'.length);
    const call: Part = { type: 'tool-call', path, id: part.toolCallId, name, arguments: argumentsText(part.input) };
    if (part.state === 'output-available') {
      const text = typeof part.output === 'string' ? part.output : JSON.stringify(part.output ?? null);
      return [
        call,
        {
          type: 'tool-result',
          path: `${path}.output`,
          id: part.toolCallId,
          name,
          parts: [{ type: 'text', path: `${path}.output`, text }],
        },
      ];
    }
    if (part.state === 'output-error') {
      return [
        call,
        {
          type: 'tool-result',
          path: `${path}.errorText`,
          id: part.toolCallId,
          name,
          isError: true,
          parts: [{ type: 'text', path: `${path}.errorText`, text: part.errorText ?? '' }],
        },
      ];
    }
    return [call];
  }
  return [{ type: 'other', path, label: part.type, value: part }];
}
