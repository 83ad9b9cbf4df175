import { describe, expect, it } from 'vitest';
import { EDGE_BYTES, type Line, LineSplitter } from './line-splitter.ts';

const texts = (lines: Line[]) => lines.map((line) => (line.kind === 'line' ? line.text : `<${line.bytes} bytes>`));

describe('LineSplitter', () => {
  it('splits many lines in one chunk, keeping the unfinished end for later', () => {
    const lines = new LineSplitter(1024);
    expect(texts(lines.push(Buffer.from('{"a":1}\n{"b":2}\n\n{"c":')))).toEqual(['{"a":1}', '{"b":2}', '']);
    expect(texts(lines.push(Buffer.from('3}\n')))).toEqual(['{"c":3}']);
  });

  it('drops the \\r of a CRLF line end, and only that one', () => {
    const lines = new LineSplitter(1024);
    expect(texts(lines.push(Buffer.from('one\r\ntwo\r\r\nthree\r')))).toEqual(['one', 'two\r']);
    // the \r and its \n in different chunks
    expect(texts(lines.push(Buffer.from('\n')))).toEqual(['three']);
  });

  it('decodes a multi-byte UTF-8 character split across chunks', () => {
    const bytes = Buffer.from('é€😀\n');
    // every way to cut it in two, and byte by byte
    for (let cut = 1; cut < bytes.length; cut++) {
      const lines = new LineSplitter(1024);
      expect([...lines.push(bytes.subarray(0, cut)), ...lines.push(bytes.subarray(cut))]).toEqual([
        { kind: 'line', text: 'é€😀' },
      ]);
    }
    const lines = new LineSplitter(1024);
    expect(texts([...bytes].flatMap((byte) => lines.push(Buffer.from([byte]))))).toEqual(['é€😀']);
  });

  it('joins a line sent across many chunks', () => {
    const line = JSON.stringify({ text: 'ü'.repeat(100_000) });
    const bytes = Buffer.from(`${line}\n`);
    const lines = new LineSplitter(1024 * 1024);
    const found: Line[] = [];
    for (let at = 0; at < bytes.length; at += 997) found.push(...lines.push(bytes.subarray(at, at + 997)));
    expect(found).toEqual([{ kind: 'line', text: line }]);
  });

  it('accepts a line of exactly the limit, and reports a longer one by its size and ends without holding it', () => {
    const lines = new LineSplitter(300);
    expect(texts(lines.push(Buffer.from(`${'x'.repeat(300)}\n`)))).toEqual(['x'.repeat(300)]);
    const long = `{"jsonrpc":"2.0","id":7,"pad":"${'y'.repeat(1000)}","end":"${'z'.repeat(300)}"}`;
    const found: Line[] = [];
    for (let at = 0; at < long.length; at += 100) found.push(...lines.push(Buffer.from(long.slice(at, at + 100))));
    found.push(...lines.push(Buffer.from('\r\nnext\n')));
    expect(found).toEqual([
      {
        kind: 'too_long',
        bytes: long.length + 1,
        head: long.slice(0, EDGE_BYTES),
        tail: `${long}\r`.slice(-EDGE_BYTES),
      },
      { kind: 'line', text: 'next' },
    ]);
  });

  it('joins a 16 MiB line from 64 KiB chunks', () => {
    // 16 MiB in 64 KiB chunks, as a pipe delivers them: the SDK's ReadBuffer takes seconds for this
    const chunk = Buffer.alloc(64 * 1024, 'a');
    const lines = new LineSplitter(32 * 1024 * 1024);
    for (let i = 0; i < 256; i++) expect(lines.push(chunk)).toEqual([]);
    const [line] = lines.push(Buffer.from('\n'));
    expect(line?.kind === 'line' && line.text.length).toBe(16 * 1024 * 1024);
  });
});
