// The token count of one stored item, from its JSON: text is tokenized, media parts are counted by
// formula or estimate (never tokenized as text: a base64 image is megabytes of meaningless tokens).

import { readBase64ImageSize } from './image-size.ts';
import {
  AUDIO_BYTES_PER_TOKEN,
  base64Bytes,
  FILE_BYTES_PER_TOKEN,
  imageTokens,
  type MediaPricing,
  REFERENCED_MEDIA_TOKENS,
  UNKNOWN_IMAGE_SIZE,
} from './media-tokens.ts';

export type CountText = (text: string) => number;

/** The token count of one stored item. */
export interface ItemCount {
  tokens: number;
  role: string;
  /** true when some part (an image, a file, audio) was estimated rather than tokenized */
  estimated: boolean;
}

/** A media part as found in any of the supported item shapes. */
interface Media {
  kind: 'image' | 'file' | 'audio';
  /** the inline bytes as base64, when the part carries them */
  base64?: string;
  /** OpenAI's `detail` of an image */
  detail?: string;
}

type Json = Record<string, unknown>;

/** Strings at least this long that are all base64 are taken as inline media, not text. */
const LONG_BASE64 = 1024;
/**
 * Runs of base64 this long inside text (a pasted data URL, an encoded blob) are estimated, not
 * tokenized: tokenizing random base64 runs at a fraction of a MiB/s, and it costs about this many
 * characters per token (measured on random base64: o200k_base 1.47, cl100k_base 1.40).
 */
const BASE64_RUN = /[A-Za-z0-9+/]{256,}={0,2}/g;
const BASE64_CHARS_PER_TOKEN = 1.45;
const BASE64 = /^[A-Za-z0-9+/=\r\n]+$/;
const DATA_URL = /^data:([^;,]*)(;[^,]*)?,/;

/**
 * Counts one item (its parsed JSON): the item's own `tokens` when it gives one; else its `content`
 * (a string, or parts), or Gemini's `parts`, or — for items without either (tool calls and results
 * in some formats) — the item's JSON without its role.
 */
export function countItemTokens(item: unknown, countText: CountText, pricing: MediaPricing): ItemCount {
  const fields = (item !== null && typeof item === 'object' ? item : {}) as Json;
  const role =
    typeof fields.role === 'string' ? fields.role : typeof fields.type === 'string' ? fields.type : 'unknown';
  if (typeof fields.tokens === 'number') return { tokens: fields.tokens, role, estimated: false };
  const tally = { tokens: 0, estimated: false };
  const content = fields.content ?? fields.parts;
  if (typeof content === 'string') tally.tokens += textTokens(content, countText, tally);
  else if (Array.isArray(content)) for (const part of content) countPart(part, countText, pricing, tally);
  else if (content === undefined) {
    const { role: _role, ...rest } = fields;
    countPart(rest, countText, pricing, tally);
  } else countPart(content, countText, pricing, tally);
  return { tokens: tally.tokens, role, estimated: tally.estimated };
}

function countPart(
  part: unknown,
  countText: CountText,
  pricing: MediaPricing,
  tally: { tokens: number; estimated: boolean },
): void {
  if (typeof part === 'string') {
    tally.tokens += textTokens(part, countText, tally);
    return;
  }
  if (part === null || typeof part !== 'object') return;
  const fields = part as Json;
  if (typeof fields.text === 'string') {
    tally.tokens += textTokens(fields.text, countText, tally);
    return;
  }
  const media = mediaOf(fields);
  if (media) {
    const counted = mediaTokens(media, pricing);
    tally.tokens += counted.tokens;
    tally.estimated ||= counted.estimated;
    return;
  }
  // any other part counts as its JSON, with inline media found anywhere inside it estimated apart
  const json = JSON.stringify(part, (_key, value: unknown) => {
    if (typeof value !== 'string' || !looksLikeInlineMedia(value)) return value;
    tally.tokens += Math.ceil(inlineBytes(value) / FILE_BYTES_PER_TOKEN);
    tally.estimated = true;
    return '';
  });
  tally.tokens += textTokens(json, countText, tally);
}

/** Tokens of a text, with its long base64 runs estimated (and the tally marked so) rather than tokenized. */
function textTokens(text: string, countText: CountText, tally: { estimated: boolean }): number {
  if (text.length < 256) return countText(text);
  let tokens = 0;
  let from = 0;
  for (const run of text.matchAll(BASE64_RUN)) {
    tokens += countText(text.slice(from, run.index)) + Math.ceil(run[0].length / BASE64_CHARS_PER_TOKEN);
    from = run.index + run[0].length;
    tally.estimated = true;
  }
  return from === 0 ? countText(text) : tokens + countText(text.slice(from));
}

function mediaTokens(media: Media, pricing: MediaPricing): { tokens: number; estimated: boolean } {
  if (media.kind === 'image') {
    const size = media.base64 === undefined ? null : readBase64ImageSize(media.base64);
    return { tokens: imageTokens(size ?? UNKNOWN_IMAGE_SIZE, pricing, media.detail), estimated: size === null };
  }
  if (media.base64 === undefined) return { tokens: REFERENCED_MEDIA_TOKENS, estimated: true };
  const perToken = media.kind === 'audio' ? AUDIO_BYTES_PER_TOKEN : FILE_BYTES_PER_TOKEN;
  return { tokens: Math.max(1, Math.ceil(base64Bytes(media.base64) / perToken)), estimated: true };
}

const IMAGE_TYPES = new Set(['image', 'image_url', 'input_image']);
const FILE_TYPES = new Set(['document', 'file', 'input_file']);
const AUDIO_TYPES = new Set(['audio', 'input_audio']);

/**
 * Recognises media parts of the supported shapes: Anthropic `{type:"image"|"document", source:{type:
 * "base64", data}|{type:"url"}}`; OpenAI `{type:"image_url", image_url:{url, detail}}`, `{type:
 * "input_image", image_url, detail}`, `{type:"input_audio", input_audio:{data}}`, `{type:"file"|
 * "input_file", file_data|file:{file_data}}`; Vercel AI SDK `{type:"image", image}`, `{type:"file",
 * data, mediaType}`; Gemini `{inlineData|inline_data:{mimeType, data}}`, `{fileData}`.
 */
function mediaOf(part: Json): Media | null {
  const type = typeof part.type === 'string' ? part.type : '';
  const gemini = (part.inlineData ?? part.inline_data) as Json | undefined;
  if (gemini && typeof gemini === 'object') {
    const mime = String(gemini.mimeType ?? gemini.mime_type ?? '');
    return { kind: kindOfMime(mime), ...inline(gemini.data) };
  }
  if (part.fileData && typeof part.fileData === 'object') {
    return { kind: kindOfMime(String((part.fileData as Json).mimeType ?? '')) };
  }
  let kind: Media['kind'] | null = IMAGE_TYPES.has(type)
    ? 'image'
    : FILE_TYPES.has(type)
      ? 'file'
      : AUDIO_TYPES.has(type)
        ? 'audio'
        : null;
  if (!kind) return null;
  const source = part.source as Json | undefined;
  if (source && typeof source === 'object') return { kind, ...inline(source.type === 'base64' ? source.data : null) };
  const imageUrl = part.image_url;
  if (imageUrl !== undefined) {
    const url = typeof imageUrl === 'object' && imageUrl ? (imageUrl as Json).url : imageUrl;
    const detail = typeof imageUrl === 'object' && imageUrl ? (imageUrl as Json).detail : part.detail;
    return { kind, ...inline(url), ...(typeof detail === 'string' && { detail }) };
  }
  const nested = (part.input_audio ?? part.file) as Json | undefined;
  const data = part.image ?? part.data ?? part.file_data ?? nested?.data ?? nested?.file_data;
  // a file part may carry an image: count it as one
  const mime = String(part.mediaType ?? part.mimeType ?? part.media_type ?? '');
  if (kind === 'file' && mime.startsWith('image/')) kind = 'image';
  return { kind, ...inline(data) };
}

function kindOfMime(mime: string): Media['kind'] {
  if (mime.startsWith('image/')) return 'image';
  if (mime.startsWith('audio/')) return 'audio';
  return 'file';
}

/** The base64 payload of a data URL or bare base64 string; nothing for a URL, a file id or a missing value. */
function inline(value: unknown): { base64?: string } {
  if (typeof value !== 'string') return {};
  const dataUrl = DATA_URL.exec(value);
  if (dataUrl) return dataUrl[2]?.includes('base64') ? { base64: value.slice(dataUrl[0].length) } : {};
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(value)) return {};
  return { base64: value };
}

function looksLikeInlineMedia(value: string): boolean {
  if (DATA_URL.test(value)) return value.length >= LONG_BASE64;
  return value.length >= LONG_BASE64 && BASE64.test(value.slice(0, 4096)) && BASE64.test(value.slice(-64));
}

function inlineBytes(value: string): number {
  const dataUrl = DATA_URL.exec(value);
  return base64Bytes(dataUrl ? value.slice(dataUrl[0].length) : value);
}
