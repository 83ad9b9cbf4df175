import { describe, expect, it } from 'vitest';
import {
  byteWindow,
  documentBody,
  documentBytes,
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

async function* each(chunks: Buffer[]): AsyncGenerator<Buffer> {
  yield* chunks;
}

describe('segment format', () => {
  it('joins item lines into a content section, across chunk boundaries', async () => {
    expect(await collect(documentBody('', from('{"a":1}\n{"b"', ':2}\n', '{"c":3}\n')))).toBe(
      '{"a":1},\n{"b":2},\n{"c":3}\n]}\n',
    );
    expect(await collect(documentBody('', from('{"a":1}\n', '\n', '{"b":2}')))).toBe('{"a":1},\n,\n{"b":2}]}\n');
    expect(await collect(documentBody('', from()))).toBe(']}\n');
  });

  it('sends a document in pieces of the same size, byte for byte whatever the chunks it is read in', async () => {
    const items = Array.from({ length: 3000 }, (_, i) => `{"i":${i},"t":"${'x'.repeat(i % 97)}é"}`);
    const stored = Buffer.from(`${items.join('\n')}\n`);
    const expected = `{"f":1,"content":[\n${items.join(',\n')}\n]}\n`;
    for (const chunkBytes of [1, 7, 1000, 70_000, stored.length]) {
      const chunks = Array.from({ length: Math.ceil(stored.length / chunkBytes) }, (_, i) =>
        stored.subarray(i * chunkBytes, (i + 1) * chunkBytes),
      );
      const pieces: Buffer[] = [];
      for await (const piece of documentBody('{"f":1,"content":[\n', each(chunks), { pieceBytes: 4096 }))
        pieces.push(piece);
      expect(Buffer.concat(pieces).toString(), `chunks of ${chunkBytes}`).toBe(expected);
      expect(pieces.length).toBe(Math.ceil(Buffer.byteLength(expected) / 4096));
      expect(pieces.slice(0, -1).every((piece) => piece.length === 4096)).toBe(true);
    }
  });

  it('holds a small document in a buffer near its size, grown piece after piece or sized by documentBytes', async () => {
    const items = Array.from({ length: 2000 }, (_, i) => `{"i":${i},"t":"${'y'.repeat(i % 61)}"}`);
    const stored = Buffer.from(`${items.join('\n')}\n`);
    const opening = '{"f":1,"content":[\n';
    const expected = `${opening}${items.join(',\n')}\n]}\n`;
    const size = Buffer.byteLength(expected);
    const hint = documentBytes(opening, [{ size_bytes: stored.length, item_count: items.length }]);
    expect(hint).toBeGreaterThanOrEqual(size);
    expect(hint - size).toBeLessThanOrEqual(1);
    for (const expectedBytes of [undefined, hint]) {
      const pieces: Buffer[] = [];
      for await (const piece of documentBody(opening, each([stored]), { pieceBytes: 256 * 1024, expectedBytes }))
        pieces.push(piece);
      expect(pieces.length).toBe(1);
      expect(pieces[0]!.toString()).toBe(expected);
      expect(pieces[0]!.buffer.byteLength).toBeLessThanOrEqual(expectedBytes ?? 2 * size);
    }
    // grown pieces still go out whole, each of the piece size
    const pieces: Buffer[] = [];
    for await (const piece of documentBody(opening, each([stored, stored]), { pieceBytes: 50_000 })) pieces.push(piece);
    expect(pieces.slice(0, -1).every((piece) => piece.length === 50_000)).toBe(true);
    expect(Buffer.concat(pieces).toString()).toBe(`${opening}${[...items, ...items].join(',\n')}\n]}\n`);
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
