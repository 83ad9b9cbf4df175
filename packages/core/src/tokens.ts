import type { Format } from '@ctxvault/formats';
import { type EncodingName, modelToEncodingMap } from 'gpt-tokenizer/mapping';
import { countItemTokens } from './counting/item-tokens.ts';
import { mediaPricingFor } from './counting/media-tokens.ts';
import { loadPieceCounter } from './counting/piece-counter.ts';
import type { ContextItem } from './schemas.ts';

export interface TokenSettings {
  /** "auto": the encoding of the context's model, else `defaultEncoding`; or always this encoding */
  encoding: 'auto' | EncodingName;
  defaultEncoding: EncodingName;
}

/** Counts the tokens of one item's content. */
export type ItemTokenCounter = (item: ContextItem) => number;

type CountTokens = (text: string) => number;

/**
 * Token counts of gpt-tokenizer's encodings (counting/piece-counter.ts: its BPE with a cache of pieces,
 * exactly its counts). Each encoding's tables are loaded on first use and kept. Structured parts
 * count their `text`; images are counted by the provider's formula and other
 * media estimated (see counting/media-tokens.ts); other parts count their JSON. Chat-format overhead
 * (role markers) is not included, so a count is what the content itself costs.
 */
export class Tokenizer {
  private readonly loaded = new Map<EncodingName, Promise<CountTokens>>();

  constructor(private readonly settings: TokenSettings) {}

  encodingFor(modelId: string | null): EncodingName {
    if (this.settings.encoding !== 'auto') return this.settings.encoding;
    const known = modelId ? (modelToEncodingMap as Record<string, EncodingName | undefined>)[modelId] : undefined;
    return known ?? this.settings.defaultEncoding;
  }

  /** The counter for a context of `modelId` in `format`: a `ctxvault` item's own `tokens` when given, else a real count. */
  async forModel(modelId: string | null, format: Format = 'ctxvault'): Promise<ItemTokenCounter> {
    const countText = await this.textCounter(modelId);
    const pricing = mediaPricingFor(modelId);
    return (item) => countItemTokens(item, format, countText, pricing).tokens;
  }

  /** The plain text counter of the encoding for `modelId`. */
  textCounter(modelId: string | null): Promise<CountTokens> {
    return this.load(this.encodingFor(modelId));
  }

  private load(name: EncodingName): Promise<CountTokens> {
    let loading = this.loaded.get(name);
    if (!loading) {
      loading = loadPieceCounter(name).then((counter) => counter.count);
      this.loaded.set(name, loading);
    }
    return loading;
  }
}
