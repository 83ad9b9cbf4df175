// One view of an item whatever its format: what counting, truncation, search and conversion need.

/** The role an item plays, whatever its format calls it (Anthropic tool results are `tool`, Gemini's `model` is `assistant`). */
export type NormalRole = 'system' | 'user' | 'assistant' | 'tool';

/**
 * What an item is, for truncation: instructions are kept; a tool call and the items answering it
 * are kept or dropped together; Anthropic and Gemini transcripts start with a `user` item.
 */
export type ItemKind = 'instruction' | 'user' | 'assistant' | 'tool-call' | 'tool-result';

export type MediaKind = 'image' | 'file' | 'audio';

/** A part of an item; `path` locates it inside the item (`content[2]`), to name it in errors. */
export type Part =
  | { type: 'text'; path: string; text: string }
  | {
      type: 'media';
      path: string;
      media: MediaKind;
      mediaType?: string;
      /** the bytes, base64, when the part carries them inline */
      base64?: string;
      url?: string;
      fileId?: string;
      /** OpenAI's image `detail` */
      detail?: string;
    }
  | {
      type: 'tool-call';
      path: string;
      id: string;
      name: string;
      /** JSON text */
      arguments: string;
      /** a provider-run or built-in tool (computer, shell, web search…): paired, counted, never converted */
      hosted?: string;
    }
  | { type: 'tool-result'; path: string; id: string; name?: string; parts: Part[]; isError?: boolean; hosted?: string }
  /** model reasoning (thinking blocks, reasoning summaries): counted and searched, not converted */
  | { type: 'reasoning'; path: string; text: string }
  | { type: 'refusal'; path: string; text: string }
  /** anything else the format allows (documents as text, server tool blocks, data parts…): counted as its JSON */
  | { type: 'other'; path: string; label: string; value: unknown };

export interface NormalizedItem {
  role: NormalRole;
  kind: ItemKind;
  parts: Part[];
}

/** Builds an item's view, its kind derived from its role and its parts. */
export function normalized(role: NormalRole, parts: Part[]): NormalizedItem {
  const kind = kindOf(role, parts);
  return { role: kind === 'tool-result' ? 'tool' : role, kind, parts };
}

function kindOf(role: NormalRole, parts: readonly Part[]): ItemKind {
  if (role === 'system') return 'instruction';
  if (role === 'tool' || (role === 'user' && parts.some((p) => p.type === 'tool-result'))) return 'tool-result';
  if (role === 'assistant' && parts.some((p) => p.type === 'tool-call')) return 'tool-call';
  return role === 'user' ? 'user' : 'assistant';
}

/** The tool call ids an item issues. */
export function callIds(item: NormalizedItem): string[] {
  return item.parts.flatMap((p) => (p.type === 'tool-call' ? [p.id] : []));
}

/** The tool call ids an item answers. */
export function resultIds(item: NormalizedItem): string[] {
  return item.parts.flatMap((p) => (p.type === 'tool-result' ? [p.id] : []));
}

/** Every text an item holds (its text, reasoning, refusals, tool arguments and results), for search. */
export function textsOf(parts: readonly Part[]): string[] {
  return parts.flatMap((p): string[] => {
    if (p.type === 'text' || p.type === 'reasoning' || p.type === 'refusal') return [p.text];
    if (p.type === 'tool-call') return [p.name, p.arguments];
    if (p.type === 'tool-result') return textsOf(p.parts);
    return [];
  });
}

/** The JSON text of a tool call's arguments given as a value (Anthropic `input`, AI SDK `input`, Gemini `args`). */
export function argumentsText(value: unknown): string {
  return JSON.stringify(value ?? {});
}
