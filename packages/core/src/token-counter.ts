import type { Format } from '@ctxvault/formats';
import { itemTexts } from './counting/item-lines.ts';
import { countItemTokens, type ItemCount } from './counting/item-tokens.ts';
import { mediaPricingFor } from './counting/media-tokens.ts';
import { Tokenizer, type TokenSettings } from './tokens.ts';

export type { ItemCount };

/**
 * Counts the tokens of items given as their stored JSON text (one string per item, as sent), items
 * of a context in `format` (default `ctxvault`).
 * The contract the workers count segments through; an implementation may run off the event loop.
 */
export interface TokenCounter {
  count(modelId: string | null, items: readonly string[], format?: Format): Promise<ItemCount[]>;
  /** The same for items given as bytes: whole item lines, each ending with a newline (decoded and split where counted). */
  countLines(modelId: string | null, lines: Uint8Array, format?: Format): Promise<ItemCount[]>;
  close(): Promise<void>;
}

/** The simplest counter: gpt-tokenizer on the calling thread (tests, tools); processes use `createTokenCounter`. */
export class InlineTokenCounter implements TokenCounter {
  private readonly tokenizer: Tokenizer;

  constructor(settings: TokenSettings) {
    this.tokenizer = new Tokenizer(settings);
  }

  async count(modelId: string | null, items: readonly string[], format: Format = 'ctxvault'): Promise<ItemCount[]> {
    const countText = await this.tokenizer.textCounter(modelId);
    const pricing = mediaPricingFor(modelId);
    return items.map((text) => countItemTokens(JSON.parse(text), format, countText, pricing));
  }

  countLines(modelId: string | null, lines: Uint8Array, format: Format = 'ctxvault'): Promise<ItemCount[]> {
    return this.count(modelId, [...itemTexts(lines)], format);
  }

  async close(): Promise<void> {}
}
