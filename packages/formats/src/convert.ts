// Reading a context in another provider's format: the common subset (text, images, tool calls and
// results, system instructions) converts; anything else stops the conversion, naming the first part.

import type { Format, TargetFormat } from './format.ts';
import type { AiSdkModelMessage } from './formats/ai-sdk-model.ts';
import type { AnthropicMessage, AnthropicSystem } from './formats/anthropic-messages.ts';
import type { OpenAIChatItem } from './formats/openai-chat.ts';
import { dataUrl } from './media-url.ts';
import type { NormalizedItem, Part } from './normalized.ts';

/** A part of item `item` (at `path` inside it) that `target` cannot express. */
export class UnconvertiblePartError extends Error {
  // plain fields, no parameter properties: this package also runs in the counting threads, type-stripped
  readonly item: number;
  readonly path: string;
  readonly part: string;
  readonly target: TargetFormat;

  constructor(item: number, path: string, part: string, target: TargetFormat) {
    super(`item ${item}${path ? ` at ${path}` : ''}: ${part} cannot be converted to ${target}`);
    this.name = 'UnconvertiblePartError';
    this.item = item;
    this.path = path;
    this.part = part;
    this.target = target;
  }
}

/** A converted transcript: the items, and for Anthropic the instructions that go in `system`. */
export interface Converted {
  items: unknown[];
  system?: AnthropicSystem;
}

type Located<P> = P & { item: number };
type Text = Located<Extract<Part, { type: 'text' }>>;
type Image = Located<Extract<Part, { type: 'media' }>>;
type Call = Located<Extract<Part, { type: 'tool-call' }>>;
type Result = Located<Omit<Extract<Part, { type: 'tool-result' }>, 'parts'>> & { parts: Convertible[] };
type Convertible = Text | Image | Call | Result;

/** A run of parts of one role, in order: what each target assembles its messages from. */
interface Turn {
  role: 'system' | 'user' | 'assistant' | 'tool';
  parts: (Text | Image | Call | Result)[];
}

/**
 * Converts `items` (normalized, in order) to `target`. `system` is an Anthropic context's envelope
 * instructions, placed first. Throws `UnconvertiblePartError` on the first part outside the subset.
 */
export function convertItems(
  items: readonly NormalizedItem[],
  target: TargetFormat,
  system?: NormalizedItem,
): Converted {
  const all = system ? [system, ...items] : [...items];
  const offset = system ? 1 : 0;
  const turns = turnsOf(all, target, offset);
  if (target === 'openai.chat') return { items: toOpenAIChat(turns) };
  if (target === 'anthropic.messages') return toAnthropic(turns, target);
  return { items: toAiSdkModel(turns, target) };
}

/** Whether reading `from` as `to` needs a conversion (a context read in its own format is served as stored). */
export function needsConversion(from: Format, to: TargetFormat | undefined): to is TargetFormat {
  return to !== undefined && to !== from;
}

function turnsOf(items: readonly NormalizedItem[], target: TargetFormat, offset: number): Turn[] {
  const turns: Turn[] = [];
  const calls = new Map<string, Call>();
  const unanswered: Call[] = [];
  let synthetic = 0;
  for (const [index, item] of items.entries()) {
    const at = index - offset;
    for (const part of item.parts) {
      const role = part.type === 'tool-result' ? 'tool' : item.role === 'tool' ? 'user' : item.role;
      const located = supported(part, at, target);
      if (located.type === 'tool-call') {
        // Gemini and legacy OpenAI calls have no id: give one, matched by the result that follows
        if (located.id === '') located.id = `call_${++synthetic}`;
        calls.set(located.id, located);
        unanswered.push(located);
      }
      if (located.type === 'tool-result') {
        const call =
          (located.id !== '' && calls.get(located.id)) ||
          unanswered.find((c) => located.name === undefined || c.name === located.name);
        if (call) {
          located.id = call.id;
          located.name ??= call.name;
          unanswered.splice(unanswered.indexOf(call), 1);
        }
      }
      const last = turns.at(-1);
      if (last && last.role === role) last.parts.push(located);
      else turns.push({ role, parts: [located] });
    }
  }
  return turns;
}

function supported(part: Part, item: number, target: TargetFormat): Text | Image | Call | Result {
  const fail = (what: string) => new UnconvertiblePartError(item, part.path, what, target);
  switch (part.type) {
    case 'text':
      return { ...part, item };
    case 'media':
      if (part.media !== 'image') throw fail(`a ${part.media} part`);
      if (part.base64 === undefined && part.url === undefined) throw fail('an image given by file id');
      return { ...part, item };
    case 'tool-call':
      return { ...part, item };
    case 'tool-result':
      return { ...part, parts: part.parts.map((inner) => supported(inner, item, target)), item };
    case 'reasoning':
      throw fail('a reasoning part');
    case 'refusal':
      if (target === 'openai.chat') return { type: 'text', path: part.path, text: part.text, item };
      throw fail('a refusal');
    case 'other':
      throw fail(`a ${part.label} part`);
  }
}

function textOf(parts: readonly (Text | Image | Call | Result)[], target: TargetFormat): string {
  return parts
    .map((p) => {
      if (p.type !== 'text')
        throw new UnconvertiblePartError(p.item, p.path, `a ${p.type} inside a tool result`, target);
      return p.text;
    })
    .join('\n');
}

function imageUrl(p: Image): string {
  return p.base64 !== undefined ? dataUrl(p.mediaType ?? 'image/png', p.base64) : (p.url as string);
}

function toOpenAIChat(turns: readonly Turn[]): OpenAIChatItem[] {
  const out: OpenAIChatItem[] = [];
  for (const turn of turns) {
    if (turn.role === 'tool') {
      for (const p of turn.parts as Result[])
        out.push({ role: 'tool', tool_call_id: p.id, content: textOf(p.parts, 'openai.chat') });
      continue;
    }
    if (turn.role === 'system') {
      out.push({ role: 'system', content: textOf(turn.parts, 'openai.chat') });
      continue;
    }
    if (turn.role === 'assistant') {
      const calls = turn.parts.filter((p): p is Call => p.type === 'tool-call');
      const text = textOf(
        turn.parts.filter((p) => p.type !== 'tool-call'),
        'openai.chat',
      );
      out.push({
        role: 'assistant',
        content: text === '' && calls.length > 0 ? null : text,
        ...(calls.length > 0 && {
          tool_calls: calls.map((c) => ({
            id: c.id,
            type: 'function' as const,
            function: { name: c.name, arguments: c.arguments },
          })),
        }),
      });
      continue;
    }
    type UserPart = Exclude<Extract<OpenAIChatItem, { role: 'user' }>['content'], string>[number];
    const parts = turn.parts.map((p): UserPart => {
      if (p.type === 'text') return { type: 'text' as const, text: p.text };
      if (p.type === 'media') {
        const detail = p.detail === 'low' || p.detail === 'high' || p.detail === 'auto' ? p.detail : undefined;
        return { type: 'image_url' as const, image_url: { url: imageUrl(p), ...(detail && { detail }) } };
      }
      throw new UnconvertiblePartError(p.item, p.path, `a ${p.type} in a user turn`, 'openai.chat');
    });
    const only = parts.length === 1 ? parts[0] : undefined;
    out.push({ role: 'user', content: only?.type === 'text' ? only.text : parts });
  }
  return out;
}

const ANTHROPIC_IMAGE_TYPES = ['image/jpeg', 'image/png', 'image/gif', 'image/webp'] as const;
type AnthropicImageType = (typeof ANTHROPIC_IMAGE_TYPES)[number];

function anthropicImage(p: Image, target: TargetFormat) {
  if (p.base64 === undefined) return { type: 'image' as const, source: { type: 'url' as const, url: p.url as string } };
  const mediaType = p.mediaType ?? 'image/png';
  if (!(ANTHROPIC_IMAGE_TYPES as readonly string[]).includes(mediaType)) {
    throw new UnconvertiblePartError(p.item, p.path, `an image of type ${mediaType}`, target);
  }
  return {
    type: 'image' as const,
    source: { type: 'base64' as const, media_type: mediaType as AnthropicImageType, data: p.base64 },
  };
}

function toAnthropic(turns: readonly Turn[], target: TargetFormat): Converted {
  const system: string[] = [];
  const messages: AnthropicMessage[] = [];
  for (const turn of turns) {
    if (turn.role === 'system') {
      system.push(textOf(turn.parts, target));
      continue;
    }
    const role = turn.role === 'assistant' ? 'assistant' : 'user';
    type Block = Exclude<AnthropicMessage['content'], string>[number];
    const blocks = turn.parts.map((p): Block => {
      if (p.type === 'text') return { type: 'text', text: p.text };
      if (p.type === 'media') return anthropicImage(p, target);
      if (p.type === 'tool-call') {
        const input = parseObject(p.arguments);
        if (!input)
          throw new UnconvertiblePartError(p.item, p.path, 'tool call arguments that are not a JSON object', target);
        return { type: 'tool_use', id: p.id, name: p.name, input };
      }
      return {
        type: 'tool_result',
        tool_use_id: p.id,
        content: p.parts.map((inner) => {
          if (inner.type === 'text') return { type: 'text' as const, text: inner.text };
          if (inner.type === 'media') return anthropicImage(inner, target);
          throw new UnconvertiblePartError(inner.item, inner.path, `a ${inner.type} inside a tool result`, target);
        }),
        ...(p.isError && { is_error: true }),
      };
    });
    const last = messages.at(-1);
    // tool results travel in the user turn after the call, before any text of that turn
    if (last && last.role === role && Array.isArray(last.content)) last.content.push(...blocks);
    else messages.push({ role, content: blocks });
  }
  return { items: messages, ...(system.length > 0 && { system: system.join('\n\n') }) };
}

function toAiSdkModel(turns: readonly Turn[], target: TargetFormat): AiSdkModelMessage[] {
  const out: AiSdkModelMessage[] = [];
  for (const turn of turns) {
    if (turn.role === 'system') out.push({ role: 'system', content: textOf(turn.parts, target) });
    else if (turn.role === 'tool') {
      out.push({
        role: 'tool',
        content: (turn.parts as Result[]).map((p) => ({
          type: 'tool-result' as const,
          toolCallId: p.id,
          toolName: p.name ?? '',
          output: { type: p.isError ? ('error-text' as const) : ('text' as const), value: textOf(p.parts, target) },
        })),
      });
    } else if (turn.role === 'assistant') {
      out.push({
        role: 'assistant',
        content: turn.parts.map((p) => {
          if (p.type === 'text') return { type: 'text' as const, text: p.text };
          if (p.type === 'tool-call') {
            const input = parseObject(p.arguments);
            if (!input)
              throw new UnconvertiblePartError(
                p.item,
                p.path,
                'tool call arguments that are not a JSON object',
                target,
              );
            return { type: 'tool-call' as const, toolCallId: p.id, toolName: p.name, input };
          }
          throw new UnconvertiblePartError(p.item, p.path, `a ${p.type} in an assistant turn`, target);
        }),
      });
    } else {
      out.push({
        role: 'user',
        content: turn.parts.map((p) => {
          if (p.type === 'text') return { type: 'text' as const, text: p.text };
          if (p.type === 'media') {
            return {
              type: 'image' as const,
              image: p.base64 ?? (p.url as string),
              ...(p.mediaType && { mediaType: p.mediaType }),
            };
          }
          throw new UnconvertiblePartError(p.item, p.path, `a ${p.type} in a user turn`, target);
        }),
      });
    }
  }
  return out;
}

function parseObject(text: string): Record<string, unknown> | null {
  try {
    const value: unknown = JSON.parse(text);
    return value !== null && typeof value === 'object' && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : null;
  } catch {
    return null;
  }
}
