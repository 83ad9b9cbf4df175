import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { describe, expect, it } from 'vitest';
import {
  CorruptDocumentError,
  contentSection,
  type DocumentEnvelope,
  lines,
  openingLine,
  readItems,
  serializeDocument,
} from './document.ts';
import type { ContextItem } from './schemas.ts';

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

async function serialize(items: ContextItem[]): Promise<Buffer> {
  return buffer(Readable.from(serializeDocument(envelope, items)));
}

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

describe('document layout', () => {
  const items: ContextItem[] = [
    { role: 'system', content: 'be brief' },
    { role: 'user', content: 'line one\nline two', tokens: 4 },
    { role: 'tool', content: [{ type: 'json', value: { a: [1, 2] } }] },
  ];

  it('is valid JSON holding the envelope and the items', async () => {
    const doc = JSON.parse((await serialize(items)).toString());
    expect(doc).toEqual({ ...envelope, content: items });
  });

  it('holds one item per line, so items stream back in order, even split mid-character', async () => {
    const bytes = await serialize([...items, { role: 'assistant', content: 'żółć 🚀' }]);
    const pieces = Array.from({ length: Math.ceil(bytes.length / 3) }, (_, i) => bytes.subarray(i * 3, i * 3 + 3));
    expect(await collect(readItems(Readable.from(pieces)))).toEqual([
      ...items,
      { role: 'assistant', content: 'żółć 🚀' },
    ]);
    expect(JSON.parse(`${bytes.toString().split('\n')[0]}]}`)).toEqual({ ...envelope, content: [] });
  });

  it('handles an empty content array', async () => {
    const bytes = await serialize([]);
    expect(JSON.parse(bytes.toString()).content).toEqual([]);
    expect(await collect(readItems(Readable.from([bytes])))).toEqual([]);
  });

  it('refuses a truncated body instead of returning fewer items', async () => {
    const bytes = await serialize(items);
    await expect(collect(readItems(Readable.from([bytes.subarray(0, bytes.length - 4)])))).rejects.toBeInstanceOf(
      CorruptDocumentError,
    );
  });

  it('splices the stored items under a new opening line without parsing them', async () => {
    const bytes = await serialize(items);
    const section = await buffer(
      Readable.from(contentSection(Readable.from([bytes.subarray(0, 10), bytes.subarray(10)]))),
    );
    const response = JSON.parse(openingLine({ id: 'x', status: 'stored' }) + section.toString());
    expect(response).toEqual({ id: 'x', status: 'stored', content: items });
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
