import { createHash } from 'node:crypto';
import { type DocumentEnvelope, serializeDocument } from './document.ts';
import type { StagingStore, StorageSettings } from './ports.ts';
import type { ContextItem } from './schemas.ts';
import { timeSlices } from './time-slices.ts';
import type { ItemTokenCounter, Tokenizer } from './tokens.ts';

export interface WrittenVersion {
  /** the whole document when it is kept inline, null when it was staged for upload */
  inlineBody: Buffer | null;
  size_bytes: number;
  sha256: string;
  message_count: number;
  token_count: number;
}

/**
 * Serializes one version and puts it where it belongs (every item carries its `tokens`, counted
 * with the context model's encoding when the client gave none, so `token_count` is always true): inline when the provider is `database` or
 * the document is under the inline threshold, otherwise durably into staging for a worker. The
 * decision is made while streaming: at most `inlineThreshold` bytes are held before staging starts.
 */
export class VersionWriter {
  constructor(
    private readonly staging: StagingStore,
    private readonly settings: StorageSettings,
    private readonly tokenizer: Tokenizer,
  ) {}

  async write(
    envelope: DocumentEnvelope,
    items: Iterable<ContextItem> | AsyncIterable<ContextItem>,
  ): Promise<WrittenVersion> {
    const hash = createHash('sha256');
    const counts = { message_count: 0, token_count: 0 };
    const countTokens = await this.tokenizer.forModel(envelope.model_id, envelope.format);
    // only ctxvault items carry their `tokens`: a provider's message is stored without fields it does not know
    const counted = countItems(items, countTokens, counts, envelope.format === 'ctxvault');
    const chunks = serializeDocument(envelope, counted)[Symbol.asyncIterator]();

    const head: Buffer[] = [];
    let headBytes = 0;
    let ended = false;
    const keepAllInline = this.settings.provider === 'database';
    while (keepAllInline || headBytes < this.settings.inlineThreshold) {
      const next = await chunks.next();
      if (next.done) {
        ended = true;
        break;
      }
      hash.update(next.value);
      head.push(next.value);
      headBytes += next.value.length;
    }

    if (ended && (keepAllInline || headBytes < this.settings.inlineThreshold)) {
      const body = Buffer.concat(head, headBytes);
      return { inlineBody: body, size_bytes: headBytes, sha256: hash.digest('hex'), ...counts };
    }

    async function* rest(): AsyncGenerator<Buffer> {
      yield* head;
      for (;;) {
        const next = await chunks.next();
        if (next.done) return;
        hash.update(next.value);
        yield next.value;
      }
    }
    const size = await this.staging.write(envelope.id, envelope.version, rest());
    return { inlineBody: null, size_bytes: size, sha256: hash.digest('hex'), ...counts };
  }
}

async function* countItems(
  items: Iterable<ContextItem> | AsyncIterable<ContextItem>,
  countTokens: ItemTokenCounter,
  counts: { message_count: number; token_count: number },
  annotate: boolean,
): AsyncGenerator<ContextItem> {
  const slices = timeSlices();
  for await (const item of items) {
    await slices.pause();
    const tokens = countTokens(item);
    counts.message_count++;
    counts.token_count += tokens;
    yield annotate && item.tokens === undefined ? { ...item, tokens } : item;
  }
}
