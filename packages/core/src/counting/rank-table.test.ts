import type { EncodingName } from 'gpt-tokenizer/mapping';
import { resolveEncodingAsync } from 'gpt-tokenizer/resolveEncodingAsync';
import { describe, expect, it } from 'vitest';
import { loadRankTable, RankTable } from './rank-table.ts';

const encoder = new TextEncoder();

describe('RankTable', () => {
  // each data file once; the edit and harmony encodings read their base's
  for (const name of ['r50k_base', 'p50k_base', 'cl100k_base', 'o200k_base'] satisfies EncodingName[]) {
    it(`finds every rank of gpt-tokenizer's ${name} tables by the bytes the library looks it up by`, async () => {
      const table = await loadRankTable(name);
      const ranks = await resolveEncodingAsync(name);
      let listed = 0;
      ranks.forEach((value, rank) => {
        listed++;
        if (typeof value === 'string') {
          // the library finds a string rank by the string: its UTF-8 bytes stand for it exactly when it is well formed
          expect(value.isWellFormed(), JSON.stringify(value)).toBe(true);
          const bytes = encoder.encode(value);
          expect(table.rank(bytes, 0, bytes.length, true), JSON.stringify(value)).toBe(rank);
        } else {
          // and a byte rank by its bytes
          const bytes = Uint8Array.from(value);
          expect(table.rank(bytes, 0, bytes.length, false), `rank ${rank}`).toBe(rank);
          expect(table.rank(bytes, 0, bytes.length, true), `rank ${rank}`).toBe(-1);
        }
      });
      expect(table.size).toBe(listed);
    });
  }

  it('has no rank for bytes it does not list, nor for part of a listed sequence, nor among the other kind', () => {
    // a, ab, bc (text) and the byte 0xff (bytes)
    const table = RankTable.parse(Buffer.from('YQ== 0\nYWI= 1\n\nYmM= 7\n/w== 9\n'));
    const bytes = Uint8Array.from([0x78, 0x61, 0x62, 0x63, 0xff]);
    expect(table.size).toBe(4);
    expect(table.rank(bytes, 1, 2, true)).toBe(0);
    expect(table.rank(bytes, 1, 3, true)).toBe(1);
    expect(table.rank(bytes, 2, 4, true)).toBe(7);
    expect(table.rank(bytes, 4, 5, false)).toBe(9);
    expect(table.rank(bytes, 1, 2, false)).toBe(-1);
    expect(table.rank(bytes, 4, 5, true)).toBe(-1);
    expect(table.rank(bytes, 0, 1, true)).toBe(-1);
    expect(table.rank(bytes, 1, 4, true)).toBe(-1);
    expect(table.rank(bytes, 2, 3, true)).toBe(-1);
  });

  it('refuses a file that lists a byte sequence twice', () => {
    expect(() => RankTable.parse(Buffer.from('YQ== 0\nYQ== 1\n'))).toThrow(/twice/);
  });
});
