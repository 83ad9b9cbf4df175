// Exact BPE token counts, fast: a text's count is the sum of the counts of its pre-tokens (the
// pieces the encoding's split regex cuts it into), and real text repeats its pieces, so each thread
// keeps piece → count and only runs the BPE of a piece it has not seen. The split itself is the
// encoding's regex, except for o200k's and cl100k's ASCII pieces, which a hand-rolled scanner cuts
// identically (tested against the regex) several times faster; it hands any piece that touches a
// non-ASCII character to the regex.

import type { EncodingName } from 'gpt-tokenizer/mapping';
import { getEncodingParams } from 'gpt-tokenizer/modelParams';
import { BytePairCounter } from './byte-pair-counter.ts';
import { loadRankTable } from './rank-table.ts';

/** The end of the piece starting at `start`, or -1 when the scanner leaves that piece to the regex. */
export type PieceEnd = (text: string, start: number) => number;

/** Pieces remembered per encoding and thread before the memory is cleared (about 10 MB when full). */
const CACHE_ENTRIES = 100_000;
/** Characters of the pieces remembered before the memory is cleared (long pieces are the dearest to count). */
const CACHE_CHARS = 2 * 1024 * 1024;

/**
 * Counts texts of one encoding, exactly as gpt-tokenizer's `countTokens(text, { disallowedSpecial:
 * new Set() })`: special-token strings (`<|endoftext|>`) are counted as ordinary text, where plain
 * `countTokens` would throw.
 */
export class PieceCounter {
  private readonly cache = new Map<string, number>();
  private cachedChars = 0;
  private readonly regex: RegExp;
  private readonly bpe: BytePairCounter;
  private readonly scan: PieceEnd | null;

  constructor(bpe: BytePairCounter, splitRegex: RegExp, scan: PieceEnd | null) {
    this.bpe = bpe;
    this.scan = scan;
    // sticky: matches exactly at lastIndex, as the global regex does there (its alternatives cover every character)
    this.regex = new RegExp(splitRegex.source, 'uy');
  }

  /** The token count of `text`. */
  readonly count = (text: string): number => {
    const { regex, scan } = this;
    let tokens = 0;
    for (let start = 0; start < text.length; ) {
      let end = scan ? scan(text, start) : -1;
      if (end < 0) {
        regex.lastIndex = start;
        if (!regex.test(text)) throw new Error(`the split regex matched nothing at ${start}`);
        end = regex.lastIndex;
      }
      tokens += this.piece(end - start === text.length ? text : text.slice(start, end));
      start = end;
    }
    return tokens;
  };

  /** The pieces of `text` (for tests). */
  pieces(text: string): string[] {
    const out: string[] = [];
    for (let start = 0; start < text.length; ) {
      let end = this.scan ? this.scan(text, start) : -1;
      if (end < 0) {
        this.regex.lastIndex = start;
        this.regex.test(text);
        end = this.regex.lastIndex;
      }
      out.push(text.slice(start, end));
      start = end;
    }
    return out;
  }

  private piece(piece: string): number {
    const known = this.cache.get(piece);
    if (known !== undefined) return known;
    const tokens = this.bpe.count(piece);
    if (this.cache.size >= CACHE_ENTRIES || this.cachedChars + piece.length > CACHE_CHARS) {
      this.cache.clear();
      this.cachedChars = 0;
    }
    this.cache.set(piece, tokens);
    this.cachedChars += piece.length;
    return tokens;
  }
}

/** A PieceCounter of `name`, with its rank table loaded (the only copy the thread holds). */
export async function loadPieceCounter(name: EncodingName): Promise<PieceCounter> {
  const bpe = new BytePairCounter(await loadRankTable(name));
  // the split pattern is all this takes of the library's parameters: no ranks given
  const { tokenSplitRegex } = getEncodingParams(name, () => []);
  const scan = name.startsWith('o200k') ? o200kPieceEnd : name === 'cl100k_base' ? cl100kPieceEnd : null;
  return new PieceCounter(bpe, tokenSplitRegex, scan);
}

// ASCII character classes of the split patterns
const LOWER = 1;
const UPPER = 2;
const DIGIT = 3;
/** whitespace other than \r and \n: \t \v \f and space */
const BLANK = 4;
/** \r and \n */
const NEWLINE = 5;
/** anything else below 128: punctuation, symbols, control characters */
const OTHER = 6;
const CLASS = new Uint8Array(128).fill(OTHER);
for (let c = 0x61; c <= 0x7a; c++) CLASS[c] = LOWER;
for (let c = 0x41; c <= 0x5a; c++) CLASS[c] = UPPER;
for (let c = 0x30; c <= 0x39; c++) CLASS[c] = DIGIT;
for (const c of [0x09, 0x0b, 0x0c, 0x20]) CLASS[c] = BLANK;
CLASS[0x0a] = NEWLINE;
CLASS[0x0d] = NEWLINE;
const APOSTROPHE = 0x27;
const SPACE = 0x20;
const SLASH = 0x2f;

/** The class of the character at `i` (0 past the end), or -1 for a non-ASCII character. */
function classAt(text: string, i: number): number {
  if (i >= text.length) return 0;
  const c = text.charCodeAt(i);
  return c < 128 ? CLASS[c]! : -1;
}

/** `'s 'd 'm 't 'll 've 're` (either case) at `at`: its end, else `at`. */
function contractionEnd(text: string, at: number): number {
  if (text.charCodeAt(at) !== APOSTROPHE) return at;
  // | 0x20 lower-cases ASCII letters; no other code unit lands on these letters
  const a = text.charCodeAt(at + 1) | 0x20;
  if (a === 0x73 || a === 0x64 || a === 0x6d || a === 0x74) return at + 2;
  const b = text.charCodeAt(at + 2) | 0x20;
  if ((a === 0x6c && b === 0x6c) || (a === 0x76 && b === 0x65) || (a === 0x72 && b === 0x65)) return at + 3;
  return at;
}

/** The end of the run of characters of class `cls` from `from`, or -1 when a non-ASCII character ends it. */
function runEnd(text: string, from: number, cls: number): number {
  let i = from;
  for (;;) {
    const k = classAt(text, i);
    if (k < 0) return -1;
    if (k !== cls) return i;
    i++;
  }
}

/** Whitespace from `start` (a \s run), for patterns that end with \s+(?!\S): -1 on a non-ASCII character. */
function whitespaceEnd(text: string, start: number): number {
  let q = start;
  for (;;) {
    const k = classAt(text, q);
    if (k < 0) return -1;
    if (k !== BLANK && k !== NEWLINE) return q;
    q++;
  }
}

/** The last \r or \n in [start, end), or -1. */
function lastNewline(text: string, start: number, end: number): number {
  for (let j = end - 1; j >= start; j--) if (CLASS[text.charCodeAt(j)] === NEWLINE) return j;
  return -1;
}

/** `\s+(?!\S)|\s+` (o200k) or `\s+(?!\S)|\s` (cl100k) on the whitespace run [start, q) with no newline. */
function blankEnd(text: string, start: number, q: number): number {
  if (q === text.length || q - start === 1) return q;
  return q - 1;
}

/**
 * o200k's pattern on ASCII:
 *   [^\r\n\p{L}\p{N}]?[\p{Lu}…]*[\p{Ll}…]+(contraction)? | [^\r\n\p{L}\p{N}]?[\p{Lu}…]+[\p{Ll}…]*(contraction)?
 *   | \p{N}{1,3} | ␠?[^\s\p{L}\p{N}]+[\r\n/]* | \s*[\r\n]+ | \s+(?!\S) | \s+
 * (on ASCII both letter alternatives take an upper-case run and the lower-case run after it).
 */
function o200kPieceEnd(text: string, start: number): number {
  const k = classAt(text, start);
  if (k < 0) return -1;
  if (k === LOWER || k === UPPER) return o200kLetters(text, start);
  if (k === DIGIT) return digitsEnd(text, start);
  if (k !== NEWLINE) {
    const next = classAt(text, start + 1);
    if (next < 0) return -1;
    if (next === LOWER || next === UPPER) return o200kLetters(text, start + 1);
    const others = k === OTHER ? start : text.charCodeAt(start) === SPACE && next === OTHER ? start + 1 : -1;
    if (others >= 0) {
      let end = runEnd(text, others, OTHER);
      if (end < 0) return -1;
      for (let c = text.charCodeAt(end); c === 0x0d || c === 0x0a || c === SLASH; c = text.charCodeAt(++end));
      return end;
    }
  }
  const q = whitespaceEnd(text, start);
  if (q < 0) return -1;
  const newline = lastNewline(text, start, q);
  return newline >= 0 ? newline + 1 : blankEnd(text, start, q);
}

/** `\p{N}{1,3}` from a digit at `start` (both encodings cut digit runs in threes). */
function digitsEnd(text: string, start: number): number {
  for (let i = start + 1; i < start + 3; i++) {
    const d = classAt(text, i);
    if (d < 0) return -1;
    if (d !== DIGIT) return i;
  }
  return start + 3;
}

function o200kLetters(text: string, from: number): number {
  const upper = runEnd(text, from, UPPER);
  if (upper < 0) return -1;
  const lower = runEnd(text, upper, LOWER);
  if (lower < 0) return -1;
  return contractionEnd(text, lower);
}

/**
 * cl100k's pattern (as gpt-tokenizer has it) on ASCII:
 *   (contraction) | [^\r\n\p{L}\p{N}]?\p{L}+ | \p{N}{1,3} | ␠?[^\s\p{L}\p{N}]+[\r\n]* | \s+$ | \s*[\r\n]
 *   | \s+(?!\S) | \s
 */
function cl100kPieceEnd(text: string, start: number): number {
  const k = classAt(text, start);
  if (k < 0) return -1;
  if (k === OTHER) {
    const contraction = contractionEnd(text, start);
    if (contraction > start) return contraction;
  }
  if (k === LOWER || k === UPPER) return cl100kLetters(text, start);
  if (k === DIGIT) return digitsEnd(text, start);
  if (k !== NEWLINE) {
    const next = classAt(text, start + 1);
    if (next < 0) return -1;
    if (next === LOWER || next === UPPER) return cl100kLetters(text, start + 1);
    const others = k === OTHER ? start : text.charCodeAt(start) === SPACE && next === OTHER ? start + 1 : -1;
    if (others >= 0) {
      let end = runEnd(text, others, OTHER);
      if (end < 0) return -1;
      for (let c = text.charCodeAt(end); c === 0x0d || c === 0x0a; c = text.charCodeAt(++end));
      return end;
    }
  }
  const q = whitespaceEnd(text, start);
  if (q < 0) return -1;
  if (q === text.length) return q;
  const newline = lastNewline(text, start, q);
  return newline >= 0 ? newline + 1 : blankEnd(text, start, q);
}

function cl100kLetters(text: string, from: number): number {
  let i = from;
  for (;;) {
    const k = classAt(text, i);
    if (k < 0) return -1;
    if (k !== LOWER && k !== UPPER) return i;
    i++;
  }
}
