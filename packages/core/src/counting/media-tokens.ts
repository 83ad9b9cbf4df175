// What media parts cost, by the providers' published formulas where one exists. Images are counted
// from their own header (width × height); what cannot be measured is estimated, and says so.

import type { ImageSize } from './image-size.ts';

/** Whose formula counts a context's images: from its model id (`claude-*`, `gemini-*`, else OpenAI's). */
export type MediaPricing = 'openai' | 'openai-mini' | 'anthropic' | 'gemini';

export function mediaPricingFor(modelId: string | null): MediaPricing {
  const id = (modelId ?? '').toLowerCase();
  if (id.includes('claude')) return 'anthropic';
  if (id.includes('gemini')) return 'gemini';
  // gpt-4o-mini bills images at its own, higher rate
  if (id.includes('gpt-4o-mini')) return 'openai-mini';
  return 'openai';
}

/**
 * Tokens of an image of known size.
 * - OpenAI (GPT-4o, GPT-4.1, GPT-5, o-series and unknown models): `detail: "low"` is 85; otherwise
 *   the image is fitted into 2048×2048, then scaled so its short side is at most 768, and costs
 *   85 + 170 per 512-px tile (gpt-4o-mini: 2833 + 5667 per tile).
 * - Anthropic (claude-*): images with a long edge over 1568 px are scaled down to it, then w·h/750.
 * - Gemini (gemini-*): 258 when both sides are at most 384 px, else 258 per 768×768 tile.
 */
export function imageTokens(size: Pick<ImageSize, 'width' | 'height'>, pricing: MediaPricing, detail?: string): number {
  if (pricing === 'anthropic') {
    const scale = Math.min(1, 1568 / Math.max(size.width, size.height));
    return Math.ceil((Math.round(size.width * scale) * Math.round(size.height * scale)) / 750);
  }
  if (pricing === 'gemini') {
    if (size.width <= 384 && size.height <= 384) return 258;
    return Math.ceil(size.width / 768) * Math.ceil(size.height / 768) * 258;
  }
  const [base, perTile] = pricing === 'openai-mini' ? [2833, 5667] : [85, 170];
  if (detail === 'low') return base;
  let { width, height } = size;
  const fit = Math.min(1, 2048 / Math.max(width, height));
  width *= fit;
  height *= fit;
  const shrink = Math.min(1, 768 / Math.min(width, height));
  width *= shrink;
  height *= shrink;
  return base + perTile * Math.ceil(width / 512) * Math.ceil(height / 512);
}

/** An image only referenced by URL, or whose header cannot be read: counted as if it were 1024×1024. */
export const UNKNOWN_IMAGE_SIZE = { width: 1024, height: 1024 };

/** Documents and other files (PDF, …) given inline: one token per this many bytes (about 1,500 tokens a PDF page). */
export const FILE_BYTES_PER_TOKEN = 64;
/** Audio given inline: one token per this many bytes (about 10 tokens a second at 128 kbit/s). */
export const AUDIO_BYTES_PER_TOKEN = 1600;
/** A file, document or audio part only referenced (URL, file id): a flat estimate. */
export const REFERENCED_MEDIA_TOKENS = 1000;

/** Bytes a base64 text decodes to, without decoding it. */
export function base64Bytes(base64: string): number {
  let padding = 0;
  if (base64.endsWith('==')) padding = 2;
  else if (base64.endsWith('=')) padding = 1;
  return Math.max(0, Math.floor((base64.length * 3) / 4) - padding);
}
