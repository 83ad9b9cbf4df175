// Reading a context in another provider's format: the common subset (text, images, tool calls and
// results, system instructions) converts; anything else stops the conversion, naming the first part.

import type { TargetFormat } from './format.ts';
import type { AiSdkModelMessage } from './formats/ai-sdk-model.ts';
import type { AnthropicTurn as AnthropicMessage, AnthropicSystem } from './formats/anthropic-messages.ts';
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

type Source = Iterable<NormalizedItem> | AsyncIterable<NormalizedItem>;

/**
 * Converts `items` (normalized, in order) to `target`, one turn at a time: it yields the target's
 * messages and returns, for Anthropic, the `system` gathered from every instruction. `system` is an
 * Anthropic context's envelope instructions, placed first. Throws `UnconvertiblePartError` on the
 * first part outside the subset, so a caller that must not fail midway runs it once to check (and to
 * learn the system) before running it again to send.
 */
export async function* convertStream(
  items: Source,
  target: TargetFormat,
  system?: NormalizedItem,
): AsyncGenerator<unknown, AnthropicSystem | undefined> {
  const instructions: string[] = [];
  let pending: AnthropicMessage | null = null;
  for await (const turn of turnsOf(items, target, system)) {
    if (target === 'openai.chat') yield* toOpenAIChat(turn);
    else if (target === 'ai-sdk.model') yield toAiSdkModel(turn, target);
    else if (turn.role === 'system') instructions.push(textOf(turn.parts, target));
    else {
      const message = toAnthropic(turn, target);
      // tool results travel in the user turn after the call, before any text of that turn
      if (pending && pending.role === message.role && Array.isArray(pending.content)) {
        pending.content.push(...(message.content as Exclude<AnthropicMessage['content'], string>));
      } else {
        if (pending) yield pending;
        pending = message;
      }
    }
  }
  if (pending) yield pending;
  return instructions.length > 0 ? instructions.join('\n\n') : undefined;
}

/** `convertStream` collected: the whole converted transcript at once. */
export async function convertItems(items: Source, target: TargetFormat, system?: NormalizedItem): Promise<Converted> {
  const converted: unknown[] = [];
  const stream = convertStream(items, target, system);
  for (;;) {
    const next = await stream.next();
    if (next.done) return { items: converted, ...(next.value !== undefined && { system: next.value }) };
    converted.push(next.value);
  }
}

/** Turns of one role each, in order; tool results are `tool` turns. Holds only the turn being built. */
async function* turnsOf(items: Source, target: TargetFormat, system?: NormalizedItem): AsyncGenerator<Turn> {
  const calls = new Map<string, string>();
  const unanswered: { id: string; name: string }[] = [];
  let synthetic = 0;
  let turn: Turn | null = null;
  let index = system ? -1 : 0;
  async function* all(): AsyncGenerator<NormalizedItem> {
    if (system) yield system;
    yield* items;
  }
  for await (const item of all()) {
    const at = index++;
    for (const part of item.parts) {
      const role = part.type === 'tool-result' ? 'tool' : item.role === 'tool' ? 'user' : item.role;
      const located = supported(part, at, target);
      if (located.type === 'tool-call') {
        // Gemini and legacy OpenAI calls have no id: give one, matched by the result that follows
        if (located.id === '') located.id = `call_${++synthetic}`;
        calls.set(located.id, located.name);
        unanswered.push({ id: located.id, name: located.name });
      }
      if (located.type === 'tool-result') {
        const known = located.id !== '' && calls.has(located.id);
        const call = known
          ? { id: located.id, name: calls.get(located.id) as string }
          : unanswered.find((c) => located.name === undefined || c.name === located.name);
        if (call) {
          located.id = call.id;
          located.name ??= call.name;
          const open = unanswered.findIndex((c) => c.id === call.id);
          if (open >= 0) unanswered.splice(open, 1);
        }
      }
      if (turn && turn.role === role) turn.parts.push(located);
      else {
        if (turn) yield turn;
        turn = { role, parts: [located] };
      }
    }
  }
  if (turn) yield turn;
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
      if (part.hosted) throw fail(`a ${part.hosted} (a provider-run or built-in tool)`);
      return { ...part, item };
    case 'tool-result':
      if (part.hosted) throw fail(`a ${part.hosted} (a provider-run or built-in tool)`);
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

function toOpenAIChat(turn: Turn): OpenAIChatItem[] {
  if (turn.role === 'tool') {
    return (turn.parts as Result[]).map((p) => ({
      role: 'tool',
      tool_call_id: p.id,
      content: textOf(p.parts, 'openai.chat'),
    }));
  }
  if (turn.role === 'system') return [{ role: 'system', content: textOf(turn.parts, 'openai.chat') }];
  if (turn.role === 'assistant') {
    const calls = turn.parts.filter((p): p is Call => p.type === 'tool-call');
    const text = textOf(
      turn.parts.filter((p) => p.type !== 'tool-call'),
      'openai.chat',
    );
    return [
      {
        role: 'assistant',
        content: text === '' && calls.length > 0 ? null : text,
        ...(calls.length > 0 && {
          tool_calls: calls.map((c) => ({
            id: c.id,
            type: 'function' as const,
            function: { name: c.name, arguments: c.arguments },
          })),
        }),
      },
    ];
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
  return [{ role: 'user', content: only?.type === 'text' ? only.text : parts }];
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

function toAnthropic(turn: Turn, target: TargetFormat): AnthropicMessage {
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
  return { role: turn.role === 'assistant' ? 'assistant' : 'user', content: blocks };
}

function toAiSdkModel(turn: Turn, target: TargetFormat): AiSdkModelMessage {
  if (turn.role === 'system') return { role: 'system', content: textOf(turn.parts, target) };
  if (turn.role === 'tool') {
    return {
      role: 'tool',
      content: (turn.parts as Result[]).map((p) => ({
        type: 'tool-result' as const,
        toolCallId: p.id,
        toolName: p.name ?? '',
        output: { type: p.isError ? ('error-text' as const) : ('text' as const), value: textOf(p.parts, target) },
      })),
    };
  }
  if (turn.role === 'assistant') {
    return {
      role: 'assistant',
      content: turn.parts.map((p) => {
        if (p.type === 'text') return { type: 'text' as const, text: p.text };
        if (p.type === 'tool-call') {
          const input = parseObject(p.arguments);
          if (!input)
            throw new UnconvertiblePartError(p.item, p.path, 'tool call arguments that are not a JSON object', target);
          return { type: 'tool-call' as const, toolCallId: p.id, toolName: p.name, input };
        }
        throw new UnconvertiblePartError(p.item, p.path, `a ${p.type} in an assistant turn`, target);
      }),
    };
  }
  return {
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
  };
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
