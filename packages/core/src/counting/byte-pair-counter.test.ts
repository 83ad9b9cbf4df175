import { BytePairEncodingCore, type RawBytePairRanks } from 'gpt-tokenizer/BytePairEncodingCore';
import { describe, expect, it } from 'vitest';
import { BytePairCounter } from './byte-pair-counter.ts';
import { RankTable } from './rank-table.ts';

/** The `.tiktoken` text of ranks given as gpt-tokenizer has them. */
function tiktoken(ranks: RawBytePairRanks): Buffer {
  const lines = ranks.map((value, rank) => `${Buffer.from(value as string | number[]).toString('base64')} ${rank}`);
  return Buffer.from(`${lines.join('\n')}\n`);
}

describe('BytePairCounter', () => {
  it('finds ranks as the library does, down to its decoder dropping a byte order mark', () => {
    // text 'a'; single bytes of U+FEFF (EF BB BF); the byte pairs EF BB and BF 'a', which are not UTF-8
    const ranks: RawBytePairRanks = ['a', [0xef], [0xbb], [0xbf], [0xbf, 0x61], [0xef, 0xbb]];
    // the library decodes EF BB | BF 'a' to "a" (the mark dropped) and merges them into one token
    const library = new BytePairEncodingCore({
      bytePairRankDecoder: ranks,
      tokenSplitRegex: /[\s\S]+/gu,
      mergeCacheSize: 0,
    });
    const counter = new BytePairCounter(RankTable.parse(tiktoken(ranks)));
    expect(library.countNative('\ufeffa')).toBe(1);
    for (const piece of ['\ufeffa', '\ufeff', 'a', 'aa', 'a\ufeff', '\ufeff\ufeffa'])
      expect(counter.count(piece), JSON.stringify(piece)).toBe(library.countNative(piece));
  });
});
