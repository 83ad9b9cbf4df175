// The token count of one pre-token, by gpt-tokenizer's byte pair merge (BytePairEncodingCore's
// `countNative` of a single piece) over a RankTable: the same lookups, the same merges in the same
// order, so the same count.

import type { RankTable } from './rank-table.ts';

/** No rank: the pair cannot merge. */
const NONE = 0x7fffffff;

/** A UTF-8 continuation byte (10xxxxxx): no character starts there. */
const isContinuation = (byte: number) => (byte & 0xc0) === 0x80;

export class BytePairCounter {
  private readonly table: RankTable;
  private readonly encoder = new TextEncoder();
  /** the piece's UTF-8 bytes, and the merge's parts: part i is bytes[starts[i], starts[i + 1]) */
  private bytes = new Uint8Array(256);
  private length = 0;
  private starts = new Int32Array(257);
  /** pairRanks[i]: the rank of parts i and i + 1 joined (NONE when they are not a token) */
  private pairRanks = new Int32Array(257);

  constructor(table: RankTable) {
    this.table = table;
  }

  /** The number of tokens `piece` (one pre-token of the split regex) encodes to. */
  count(piece: string): number {
    if (piece.length * 3 > this.bytes.length) this.grow(piece.length * 3);
    // TextEncoder's bytes, as the library's: a lone surrogate becomes U+FFFD
    this.length = this.encoder.encodeInto(piece, this.bytes).written;
    // the library looks the whole piece up as a string: a string with a lone surrogate is no token
    if (piece.isWellFormed() && this.table.rank(this.bytes, 0, this.length, true) >= 0) return 1;
    return this.merge(this.length);
  }

  /** Merges the lowest-ranked adjacent pair (the leftmost of equals) until none is a token: the parts left. */
  private merge(length: number): number {
    const { starts, pairRanks } = this;
    for (let i = 0; i <= length; i++) {
      starts[i] = i;
      pairRanks[i] = i < length - 1 ? this.pairRank(i, i + 2) : NONE;
    }
    let parts = length;
    while (parts > 1) {
      let lowest = NONE;
      let at = -1;
      for (let i = 0; i < parts - 1; i++) {
        if (pairRanks[i]! < lowest) {
          lowest = pairRanks[i]!;
          at = i;
        }
      }
      if (at < 0) break;
      // part at + 1 joins part at
      starts.copyWithin(at + 1, at + 2, parts + 1);
      pairRanks.copyWithin(at, at + 1, parts + 1);
      parts--;
      pairRanks[at] = at + 2 <= parts ? this.pairRank(starts[at]!, starts[at + 2]!) : NONE;
      if (at > 0) pairRanks[at - 1] = this.pairRank(starts[at - 1]!, starts[at + 1]!);
    }
    return parts;
  }

  /**
   * The rank of bytes[start, end) as the library finds it: when the bytes are UTF-8 (whole characters
   * of the piece's UTF-8) it decodes them, dropping a leading byte order mark, and looks the string up
   * among the text sequences; else it looks among the bytes ones.
   */
  private pairRank(start: number, end: number): number {
    const { bytes } = this;
    let rank: number;
    if (isContinuation(bytes[start]!) || (end < this.length && isContinuation(bytes[end]!))) {
      rank = this.table.rank(bytes, start, end, false);
    } else {
      const bom = end - start >= 3 && bytes[start] === 0xef && bytes[start + 1] === 0xbb && bytes[start + 2] === 0xbf;
      rank = this.table.rank(bytes, bom ? start + 3 : start, end, true);
    }
    return rank < 0 ? NONE : rank;
  }

  private grow(bytes: number): void {
    this.bytes = new Uint8Array(bytes);
    this.starts = new Int32Array(bytes + 1);
    this.pairRanks = new Int32Array(bytes + 1);
  }
}
