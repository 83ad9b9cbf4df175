import { describe, expect, it } from 'vitest';
import {
  byteWindow,
  contentSection,
  documentItemLines,
  itemLine,
  itemLinePieces,
  LineBatches,
  splitLines,
} from './segment-format.ts';

async function collect(chunks: AsyncIterable<Buffer>): Promise<string> {
  const out: Buffer[] = [];
  for await (const chunk of chunks) out.push(chunk);
  return Buffer.concat(out).toString();
}

async function* from(...parts: string[]): AsyncGenerator<Buffer> {
  for (const part of parts) yield Buffer.from(part);
}

describe('segment format', () => {
  it('joins item lines into a content section, across chunk boundaries', async () => {
    expect(await collect(contentSection(from('{"a":1}\n{"b"', ':2}\n', '{"c":3}\n')))).toBe(
      '{"a":1},\n{"b":2},\n{"c":3}\n]}\n',
    );
    expect(await collect(contentSection(from()))).toBe(']}\n');
  });

  it('keeps an item on one line, spacing its line breaks', () => {
    expect(itemLine('{"a":\n1}').toString()).toBe('{"a": 1}\n');
    expect(itemLine('{"a":1}').toString()).toBe('{"a":1}\n');
  });

  it('turns a large item into the same line a piece at a time, never cutting a surrogate pair', () => {
    const text = '{"t":"a😀b\n\u00e9😀😀","x":\n1}';
    for (let chars = 1; chars <= text.length; chars++) {
      const pieces = [...itemLinePieces(text, chars)];
      expect(Buffer.concat(pieces).equals(itemLine(text)), `pieces of ${chars}`).toBe(true);
      for (const piece of pieces) expect(piece.toString().includes('\ufffd')).toBe(false);
    }
  });

  it('writes item lines into batches byte for byte, a line longer than a batch as a batch of its own', () => {
    const texts = [
      '{"a":1}',
      '{"t":"a😀b\n\u00e9😀😀","x":\n1}',
      'é'.repeat(9),
      'x'.repeat(40),
      '{"b":2}',
      '😀'.repeat(3),
      'y'.repeat(15),
    ];
    for (const [max, first] of [
      [16, 8],
      [24, 24],
      [64, 4],
      [1024, 16],
    ] as const) {
      const batches = new LineBatches(max, first);
      const out: Buffer[] = [];
      for (const text of texts) {
        const { bytes, full } = batches.add(text);
        expect(bytes, `${text} in batches of ${max}`).toBe(itemLine(text).length);
        out.push(...full);
      }
      const last = batches.take();
      if (last) out.push(last);
      expect(batches.take()).toBeNull();
      expect(Buffer.concat(out).equals(Buffer.concat(texts.map(itemLine))), `batches of ${max}`).toBe(true);
      for (const batch of out) if (batch.length > max) expect(batch.toString().split('\n').length).toBe(2);
    }
  });

  it('splits lines across chunks and windows bytes', async () => {
    const lines: string[] = [];
    for await (const line of splitLines(from('ab\ncd', 'e\n', 'f'))) lines.push(line.toString());
    expect(lines).toEqual(['ab', 'cde', 'f']);
    expect(await collect(byteWindow(from('0123', '4567', '89'), 3, 4))).toBe('3456');
  });

  it('reads the items of a document of the layout before segments, and refuses a cut one', async () => {
    expect(await collect(documentItemLines(from('{"id":1,"content":[\n{"a":1},\n{"b":2}\n]}\n')))).toBe(
      '{"a":1}\n{"b":2}\n',
    );
    await expect(collect(documentItemLines(from('{"id":1,"content":[\n{"a":1},\n')))).rejects.toThrow(/closing/);
  });
});
