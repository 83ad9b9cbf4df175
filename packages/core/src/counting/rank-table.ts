// An encoding's mergeable ranks (byte sequence → rank) in flat typed arrays, read from
// gpt-tokenizer's `.tiktoken` data file: about 5 MB for o200k_base, where gpt-tokenizer's own tables
// (its generated module of 200,000 strings and arrays, and the Map built from them) cost a thread
// 65–85 MB of RSS.

import { isUtf8 } from 'node:buffer';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import type { EncodingName } from 'gpt-tokenizer/mapping';

/** The data file of each encoding's ranks (the edit and harmony encodings share their base's). */
const RANKS_FILE: Record<EncodingName, string> = {
  gpt2: 'r50k_base',
  r50k_base: 'r50k_base',
  p50k_base: 'p50k_base',
  p50k_edit: 'p50k_base',
  cl100k_base: 'cl100k_base',
  o200k_base: 'o200k_base',
  o200k_harmony: 'o200k_base',
};

const SPACE = 0x20;
const NEWLINE = 0x0a;
const BOM = [0xef, 0xbb, 0xbf];

/**
 * Byte sequences and their ranks, looked up by an open-addressing hash of the bytes. As in
 * gpt-tokenizer, each sequence is either text (UTF-8 the library keeps as a string) or bytes (kept
 * as bytes: not UTF-8, or UTF-8 that starts with a byte order mark, which its decoder drops), and a
 * lookup names which of the two it looks among.
 */
export class RankTable {
  /** every sequence's bytes, one after the other */
  private readonly bytes: Uint8Array;
  /** sequence i is bytes[starts[i], starts[i + 1]) */
  private readonly starts: Uint32Array;
  private readonly ranks: Uint32Array;
  /** 1 where sequence i is text */
  private readonly texts: Uint8Array;
  /** slot → sequence index + 1 (0: empty); a power of two at least twice the sequences */
  private readonly slots: Int32Array;

  private constructor(bytes: Uint8Array, starts: Uint32Array, ranks: Uint32Array) {
    this.bytes = bytes;
    this.starts = starts;
    this.ranks = ranks;
    this.texts = new Uint8Array(ranks.length);
    for (let i = 0; i < ranks.length; i++) this.texts[i] = isText(bytes.subarray(starts[i], starts[i + 1])) ? 1 : 0;
    let size = 1;
    while (size < ranks.length * 2) size *= 2;
    this.slots = new Int32Array(size);
    for (let i = 0; i < ranks.length; i++) {
      const start = starts[i]!;
      const end = starts[i + 1]!;
      if (this.rank(bytes, start, end, this.texts[i] === 1) >= 0)
        throw new Error('the ranks file lists a byte sequence twice');
      let slot = hash(bytes, start, end) & (size - 1);
      while (this.slots[slot] !== 0) slot = (slot + 1) & (size - 1);
      this.slots[slot] = i + 1;
    }
  }

  /** The table of a `.tiktoken` file's text: lines of `<base64 bytes> <rank>`. */
  static parse(file: Uint8Array): RankTable {
    let lines = 0;
    for (let at = file.indexOf(NEWLINE); at >= 0; at = file.indexOf(NEWLINE, at + 1)) lines++;
    // decoded straight from the file's bytes: no string a line, so loading leaves no garbage behind
    // (base64 is longer than its bytes: the file's length bounds them)
    const bytes = new Uint8Array(file.length);
    const starts = new Uint32Array(lines + 2);
    const ranks = new Uint32Array(lines + 1);
    let count = 0;
    for (let line = 0; line < file.length; ) {
      let end = file.indexOf(NEWLINE, line);
      if (end < 0) end = file.length;
      if (end > line) {
        const space = file.indexOf(SPACE, line);
        if (space < 0 || space > end) throw new Error(`a ranks line without a rank at byte ${line}`);
        starts[count + 1] = decodeBase64(file, line, space, bytes, starts[count]!);
        ranks[count++] = decimal(file, space + 1, end);
      }
      line = end + 1;
    }
    return new RankTable(bytes.slice(0, starts[count]), starts.slice(0, count + 1), ranks.slice(0, count));
  }

  /** How many sequences the table holds. */
  get size(): number {
    return this.ranks.length;
  }

  /** The rank of `piece[start, end)` among the text sequences (`text`) or the bytes ones, or -1 when it has none there. */
  rank(piece: Uint8Array, start: number, end: number, text: boolean): number {
    const { slots, starts, bytes } = this;
    const mask = slots.length - 1;
    const length = end - start;
    for (let slot = hash(piece, start, end) & mask; ; slot = (slot + 1) & mask) {
      const entry = slots[slot]!;
      if (entry === 0) return -1;
      const at = starts[entry - 1]!;
      if (starts[entry]! - at !== length || this.texts[entry - 1] !== (text ? 1 : 0)) continue;
      let i = 0;
      while (i < length && bytes[at + i] === piece[start + i]) i++;
      if (i === length) return this.ranks[entry - 1]!;
    }
  }
}

const BASE64 = new Int8Array(256).fill(-1);
for (const [i, c] of [...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'].entries())
  BASE64[c.charCodeAt(0)] = i;
const PADDING = 0x3d;

/** Decodes the base64 of `text[start, end)` into `out` from `at`: where its bytes end. */
function decodeBase64(text: Uint8Array, start: number, end: number, out: Uint8Array, at: number): number {
  let bits = 0;
  let held = 0;
  for (let i = start; i < end && text[i] !== PADDING; i++) {
    const value = BASE64[text[i]!]!;
    if (value < 0) throw new Error(`not base64 at byte ${i} of the ranks file`);
    bits = ((bits << 6) | value) & 0xffff;
    held += 6;
    if (held >= 8) {
      held -= 8;
      out[at++] = (bits >> held) & 0xff;
    }
  }
  return at;
}

/** The decimal number `text[start, end)`. */
function decimal(text: Uint8Array, start: number, end: number): number {
  let n = 0;
  for (let i = start; i < end; i++) {
    const digit = text[i]! - 0x30;
    if (digit < 0 || digit > 9) throw new Error(`not a rank at byte ${i} of the ranks file`);
    n = n * 10 + digit;
  }
  if (end === start) throw new Error(`no rank at byte ${start} of the ranks file`);
  return n;
}

/** Whether gpt-tokenizer keeps `bytes` as a string: UTF-8 that a decoder gives back whole. */
function isText(bytes: Uint8Array): boolean {
  return isUtf8(bytes) && !BOM.every((b, i) => bytes[i] === b);
}

/** FNV-1a of `bytes[start, end)`. */
function hash(bytes: Uint8Array, start: number, end: number): number {
  let h = 0x811c9dc5;
  for (let i = start; i < end; i++) h = Math.imul(h ^ bytes[i]!, 0x01000193);
  return h >>> 0;
}

/** The rank table of `name`, read from gpt-tokenizer's data file. */
export async function loadRankTable(name: EncodingName): Promise<RankTable> {
  const path = createRequire(import.meta.url).resolve(`gpt-tokenizer/data/${RANKS_FILE[name]}.tiktoken`);
  return RankTable.parse(await readFile(path));
}
