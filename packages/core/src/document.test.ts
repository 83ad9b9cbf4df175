import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { describe, expect, it } from 'vitest';
import { type DocumentEnvelope, lines, openingLine } from './document.ts';
import { documentBody } from './segment-format.ts';

const envelope: DocumentEnvelope = {
  id: '0190a0b0-0000-7000-8000-000000000001',
  version: 2,
  tenant_id: 'default',
  agent_id: 'a',
  model_id: null,
  session_id: 's',
  name: null,
  metadata: { k: 'v\nwith newline' },
  max_tokens: null,
  format: 'ctxvault',
  system: null,
  created_at: '2026-11-23T00:00:00.000Z',
  expires_at: null,
};

async function* from(...parts: string[]): AsyncGenerator<Buffer> {
  for (const part of parts) yield Buffer.from(part);
}

describe('document layout', () => {
  it('is valid JSON holding the fields and the item lines as they are', async () => {
    const items = ['{"role":"system","content":"be brief"}', '{"content":"x","role":"user","tokens":4}'];
    const doc = await buffer(Readable.from(documentBody(openingLine(envelope), from(`${items.join('\n')}\n`))));
    expect(JSON.parse(doc.toString())).toEqual({ ...envelope, content: items.map((i) => JSON.parse(i)) });
    expect(doc.toString()).toContain(`[\n${items[0]},\n${items[1]}\n]}\n`);
  });

  it('holds an empty content array when there are no items', async () => {
    const doc = await buffer(Readable.from(documentBody(openingLine({}), from())));
    expect(JSON.parse(doc.toString())).toEqual({ content: [] });
  });

  it('fails before its first chunk when the first segment cannot be opened', async () => {
    const broken: AsyncIterable<Buffer> = {
      [Symbol.asyncIterator]: () => ({ next: () => Promise.reject(new Error('S3 is down')) }),
    };
    await expect(documentBody(openingLine(envelope), broken).next()).rejects.toThrow('S3 is down');
  });

  it('splits UTF-8 into lines, even split mid-character', async () => {
    const bytes = Buffer.from('é\nline two ✓\n');
    const out: string[] = [];
    for await (const line of lines(Readable.from([bytes.subarray(0, 1), bytes.subarray(1)]))) out.push(line);
    expect(out).toEqual(['é', 'line two ✓']);
  });
});

describe('lines with a cap', () => {
  it('refuses a line over the cap as soon as it is over, before the rest of it is read', async () => {
    let read = 0;
    async function* body() {
      yield Buffer.from('short\n');
      for (;;) {
        read++;
        yield Buffer.alloc(1024, 0x61);
      }
    }
    const seen: string[] = [];
    const err = await (async () => {
      for await (const line of lines(body(), 4096)) seen.push(line);
    })().catch((e: unknown) => e);
    expect(seen).toEqual(['short']);
    expect(err).toMatchObject({ status: 413, code: 'payload_too_large' });
    expect(read).toBe(5);
  });

  it('counts bytes, not characters, and passes lines at the cap', async () => {
    const line = 'é'.repeat(10); // 20 bytes
    expect(await Array.fromAsync(lines(Readable.from([Buffer.from(`${line}\n${line}`)]), 20))).toEqual([line, line]);
    await expect(Array.fromAsync(lines(Readable.from([Buffer.from(`${line}x\n`)]), 20))).rejects.toMatchObject({
      status: 413,
    });
  });
});
