// How fast items are tokenized when clients give no `tokens`: `tsx test/bench/tokenize.bench.ts`.
// Counts 20 MiB of prose-like items and 2 MiB of random base64 (the worst case: no merge of the
// tokenizer's cache ever hits) with the default encoding, as the VersionWriter does on a write.
import { randomBytes } from 'node:crypto';
import { Tokenizer } from '@ctxvault/core';
import { type Item, proseItemsOfSize } from '../helpers/contexts.ts';

const MiB = 1024 * 1024;
const count = await new Tokenizer({ encoding: 'auto', defaultEncoding: 'o200k_base' }).forModel('gpt-4o');

function measure(name: string, items: Item[]): void {
  const bytes = items.reduce((sum, item) => sum + item.content.length, 0);
  const started = performance.now();
  let tokens = 0;
  for (const item of items) tokens += count(item);
  const seconds = (performance.now() - started) / 1000;
  console.log(
    `${name}: ${(bytes / MiB).toFixed(1)} MiB, ${tokens} tokens in ${seconds.toFixed(2)} s (${(bytes / MiB / seconds).toFixed(1)} MiB/s)`,
  );
}

measure('prose', proseItemsOfSize(20 * MiB));
const random: Item[] = [];
for (let i = 0; i < 128; i++) random.push({ role: 'tool', content: randomBytes(12 * 1024).toString('base64') });
measure('random base64', random);
