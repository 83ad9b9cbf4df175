import { BytePairEncodingCore } from 'gpt-tokenizer/BytePairEncodingCore';
import { type EncodingName, encodingNames } from 'gpt-tokenizer/mapping';
import { getEncodingParams } from 'gpt-tokenizer/modelParams';
import { resolveEncodingAsync } from 'gpt-tokenizer/resolveEncodingAsync';
import { describe, expect, it } from 'vitest';
import { ndjsonCorpus } from '../../../../test/bench/corpus.ts';
import { loadPieceCounter } from './piece-counter.ts';

/** mulberry32, seeded: the same fuzz on every run, and a failure names its seed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// what the split patterns tell apart: ASCII classes, contractions, newlines and slashes, letters of
// every category (Lu Ll Lt Lm Lo and marks), non-ASCII digits and whitespace, emoji, lone surrogates
const ATOMS = [
  ...'abcxyzABCXYZ0123456789',
  ...' \t\n\r\v\f',
  ...'!"#$%&()*+,-./:;<=>?@[\\]^_`{|}~',
  "'",
  "'s",
  "'S",
  "'t",
  "'ll",
  "'LL",
  "'ve",
  "'Re",
  "'d",
  "'m",
  "'x",
  '\r\n',
  '  ',
  '\n\n',
  ' /',
  '\n/',
  'é',
  'É',
  'ß',
  'ǅ',
  'ʰ',
  '中文',
  '\u0301',
  'ñ',
  '²',
  '٣',
  'Ⅷ',
  '\u00a0',
  '\u2028',
  '\u3000',
  '\ufeff',
  '\u0085',
  '—',
  '…',
  '😀',
  '\ud800',
  '\udc00',
  '\u0000',
  '\u001f',
  '\u007f',
  'the',
  'The',
  'HTML',
  'camelCase',
  '<|endoftext|>',
];

/** ASCII only: the pieces the hand-rolled scanner cuts without the regex */
const ASCII_ATOMS = ATOMS.filter((atom) => [...atom].every((c) => c.charCodeAt(0) < 128));

function fuzzText(rand: () => number, atoms: number, from = ATOMS): string {
  let text = '';
  for (let i = 0; i < atoms; i++) text += from[Math.floor(rand() * from.length)];
  return text;
}

/** Texts of the bench corpus's items (prose, code, JSON, base64), as the counting threads see them. */
function corpusTexts(bytes: number): string[] {
  return ndjsonCorpus(bytes, { agent_id: 'piece-counter' }, 7, { tokens: false })
    .toString('utf8')
    .split('\n')
    .slice(1)
    .filter(Boolean)
    .map((line) => {
      const { content } = JSON.parse(line) as { content: unknown };
      return typeof content === 'string' ? content : JSON.stringify(content);
    });
}

/** gpt-tokenizer's own count: its split regex over the whole text, special tokens as ordinary text. */
async function libraryCounter(name: EncodingName): Promise<(text: string) => number> {
  const ranks = await resolveEncodingAsync(name);
  const params = getEncodingParams(name, () => ranks);
  const core = new BytePairEncodingCore(params);
  const { countTokens } = (await import(`gpt-tokenizer/encoding/${name}`)) as {
    countTokens(text: string, options?: { disallowedSpecial: Set<string> }): number;
  };
  return (text) => {
    const ordinary = countTokens(text, { disallowedSpecial: new Set() });
    // and the core's count, which needs no options: the same, as a check of the reference itself
    expect(core.countNative(text)).toBe(ordinary);
    return ordinary;
  };
}

const corpus = corpusTexts(256 * 1024);
const rand = prng(20261126);
const fuzz = Array.from({ length: 4000 }, (_, i) => fuzzText(rand, 1 + (i % 40), i % 2 ? ATOMS : ASCII_ATOMS));

describe('PieceCounter', () => {
  for (const name of ['o200k_base', 'cl100k_base'] as const) {
    it(`cuts ${name} text into exactly the pieces of its split regex`, async () => {
      const counter = await loadPieceCounter(name);
      const regex = getEncodingParams(name, () => []).tokenSplitRegex;
      for (const text of [...fuzz, ...corpus]) {
        const expected = [...text.matchAll(regex)].map((m) => m[0]);
        expect(counter.pieces(text), JSON.stringify(text)).toEqual(expected);
      }
    });
  }

  for (const name of encodingNames) {
    it(`counts exactly as gpt-tokenizer does with ${name}`, { timeout: 120_000 }, async () => {
      const counter = await loadPieceCounter(name);
      const reference = await libraryCounter(name);
      // twice: the second pass answers from the cache of pieces
      for (let pass = 0; pass < 2; pass++)
        for (const text of [...fuzz, ...corpus])
          expect(counter.count(text), JSON.stringify(text)).toBe(reference(text));
    });
  }

  it('counts a special token as ordinary text instead of throwing', async () => {
    const counter = await loadPieceCounter('o200k_base');
    const { countTokens } = await import('gpt-tokenizer/encoding/o200k_base');
    expect(() => countTokens('a <|endoftext|> b')).toThrow(/special token/);
    expect(counter.count('a <|endoftext|> b')).toBe(countTokens('a <|endoftext|> b', { disallowedSpecial: new Set() }));
    expect(counter.count('a <|endoftext|> b')).toBeGreaterThan(3);
  });
});
