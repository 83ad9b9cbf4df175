// The token count of one stored item, from its format's normalized view: text and tool arguments are
// tokenized, media parts counted by formula or estimate (never tokenized as text: a base64 image is
// megabytes of meaningless tokens).

import { type Format, type NormalizedItem, normalizeItem, type Part } from '@ctxvault/formats';
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
  /** the role it plays (an Anthropic `tool_result` turn is `tool`, Gemini's `model` is `assistant`) */
  role: string;
  /** true when some part (an image, a file, audio, inline base64) was estimated rather than tokenized */
  estimated: boolean;
  /** where in the item the estimated parts are (`content[1]`, `parts[0]`) */
  estimated_parts: string[];
}

interface Tally {
  tokens: number;
  estimated: boolean;
  parts: string[];
}

/** Marks the part at `path` as estimated. */
function estimate(tally: Tally, path: string): void {
  tally.estimated = true;
  if (!tally.parts.includes(path)) tally.parts.push(path);
}

/** Strings at least this long that are all base64 are taken as inline media, not text. */
const LONG_BASE64 = 1024;
/**
 * Runs of base64 this long inside text (a pasted data URL, an encoded blob) are estimated, not
 * tokenized: tokenizing random base64 runs at a fraction of a MiB/s, and it costs about this many
 * characters per token (measured on random base64: o200k_base 1.47, cl100k_base 1.40).
 */
const BASE64_RUN_CHARS = 256;
const BASE64_CHARS_PER_TOKEN = 1.45;
const EQUALS = 0x3d;
/** 1 for the characters of base64's alphabet (A–Z, a–z, 0–9, + and /), by char code */
const BASE64_ALPHABET = new Uint8Array(128);
for (const c of 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/')
  BASE64_ALPHABET[c.charCodeAt(0)] = 1;
const BASE64 = /^[A-Za-z0-9+/=\r\n]+$/;
const DATA_URL = /^data:([^;,]*)(;[^,]*)?,/;

/**
 * Counts one item (its parsed JSON) of a context in `format`: a `ctxvault` item's own `tokens` when
 * it gives one, else the parts of its normalized view. An item its format does not accept (stored
 * before validation was stricter) counts as its JSON text.
 */
export function countItemTokens(item: unknown, format: Format, countText: CountText, pricing: MediaPricing): ItemCount {
  const given =
    format === 'ctxvault' && item !== null && typeof item === 'object'
      ? (item as { tokens?: unknown }).tokens
      : undefined;
  let view: NormalizedItem;
  try {
    view = normalizeItem(format, item);
  } catch {
    const tally: Tally = { tokens: 0, estimated: false, parts: [] };
    countOther(item, '', countText, tally);
    return { tokens: tally.tokens, role: 'unknown', estimated: tally.estimated, estimated_parts: tally.parts };
  }
  if (typeof given === 'number') return { tokens: given, role: view.role, estimated: false, estimated_parts: [] };
  const tally: Tally = { tokens: 0, estimated: false, parts: [] };
  for (const part of view.parts) countPart(part, countText, pricing, tally);
  return { tokens: tally.tokens, role: view.role, estimated: tally.estimated, estimated_parts: tally.parts };
}

function countPart(part: Part, countText: CountText, pricing: MediaPricing, tally: Tally): void {
  switch (part.type) {
    case 'text':
    case 'reasoning':
    case 'refusal':
      tally.tokens += textTokens(part.text, part.path, countText, tally);
      return;
    case 'tool-call':
      tally.tokens += countText(part.name) + textTokens(part.arguments, part.path, countText, tally);
      return;
    case 'tool-result':
      for (const inner of part.parts) countPart(inner, countText, pricing, tally);
      return;
    case 'media': {
      const counted = mediaTokens(part, pricing);
      tally.tokens += counted.tokens;
      if (counted.estimated) estimate(tally, part.path);
      return;
    }
    case 'other':
      countOther(part.value, part.path, countText, tally);
  }
}

/** Any other part counts as its JSON, with inline media found anywhere inside it estimated apart. */
function countOther(value: unknown, path: string, countText: CountText, tally: Tally): void {
  const json = JSON.stringify(value, (_key, inner: unknown) => {
    if (typeof inner !== 'string' || !looksLikeInlineMedia(inner)) return inner;
    tally.tokens += Math.ceil(inlineBytes(inner) / FILE_BYTES_PER_TOKEN);
    estimate(tally, path);
    return '';
  });
  if (json !== undefined) tally.tokens += textTokens(json, path, countText, tally);
}

/** Tokens of a text, with its long base64 runs estimated (and the tally marked so) rather than tokenized. */
function textTokens(text: string, path: string, countText: CountText, tally: Tally): number {
  if (text.length < BASE64_RUN_CHARS) return countText(text);
  let tokens = 0;
  let from = 0;
  for (const [start, end] of base64Runs(text)) {
    tokens += countText(text.slice(from, start)) + Math.ceil((end - start) / BASE64_CHARS_PER_TOKEN);
    from = end;
    estimate(tally, path);
  }
  return from === 0 ? countText(text) : tokens + countText(text.slice(from));
}

/**
 * The runs of at least BASE64_RUN_CHARS characters of base64's alphabet in `text`, each with up to
 * two `=` after it, as [start, end): what /[A-Za-z0-9+\/]{256,}={0,2}/g matches. Such a run holds one
 * of every BASE64_RUN_CHARS-th position, so only those are looked at, and the run around one grown
 * both ways: prose costs a word per 256 characters (a scan of every character was 10 % of counting).
 */
export function base64Runs(text: string): [start: number, end: number][] {
  const runs: [number, number][] = [];
  for (let at = BASE64_RUN_CHARS - 1; at < text.length; at += BASE64_RUN_CHARS) {
    if (!isBase64At(text, at)) continue;
    let start = at;
    while (start > 0 && isBase64At(text, start - 1)) start--;
    let end = at + 1;
    while (end < text.length && isBase64At(text, end)) end++;
    if (end - start < BASE64_RUN_CHARS) continue;
    const last = end;
    while (end < text.length && end - last < 2 && text.charCodeAt(end) === EQUALS) end++;
    runs.push([start, end]);
    // on from the first looked-at position at or after `end`
    at = end + ((2 * BASE64_RUN_CHARS - 1 - (end % BASE64_RUN_CHARS)) % BASE64_RUN_CHARS) - BASE64_RUN_CHARS;
  }
  return runs;
}

function isBase64At(text: string, i: number): boolean {
  const c = text.charCodeAt(i);
  return c < 128 && BASE64_ALPHABET[c] === 1;
}

function mediaTokens(
  media: Extract<Part, { type: 'media' }>,
  pricing: MediaPricing,
): { tokens: number; estimated: boolean } {
  if (media.media === 'image') {
    const size = media.base64 === undefined ? null : readBase64ImageSize(media.base64);
    return { tokens: imageTokens(size ?? UNKNOWN_IMAGE_SIZE, pricing, media.detail), estimated: size === null };
  }
  if (media.base64 === undefined) return { tokens: REFERENCED_MEDIA_TOKENS, estimated: true };
  const perToken = media.media === 'audio' ? AUDIO_BYTES_PER_TOKEN : FILE_BYTES_PER_TOKEN;
  return { tokens: Math.max(1, Math.ceil(base64Bytes(media.base64) / perToken)), estimated: true };
}

function looksLikeInlineMedia(value: string): boolean {
  if (DATA_URL.test(value)) return value.length >= LONG_BASE64;
  return value.length >= LONG_BASE64 && BASE64.test(value.slice(0, 4096)) && BASE64.test(value.slice(-64));
}

function inlineBytes(value: string): number {
  const dataUrl = DATA_URL.exec(value);
  return base64Bytes(dataUrl ? value.slice(dataUrl[0].length) : value);
}
