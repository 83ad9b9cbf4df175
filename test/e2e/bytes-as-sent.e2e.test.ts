// Items are stored and returned as the client sent them, through every path a body takes: inline
// in Postgres, staged, and uploaded to S3; JSON and NDJSON bodies; whole and partial reads.

import { describe, expect, it } from 'vitest';
import { api, waitUntilSettled } from '../helpers/contexts.ts';
import { useSuite } from '../helpers/suite.ts';

// a low threshold: the small create stays inline, the larger append is staged and uploaded
const suite = useSuite({ env: { MCP_STORAGE_INLINE_THRESHOLD: '2KiB' } });

/** Item texts a JSON.parse + JSON.stringify round trip would change. */
const tricky = [
  '{"role":"user","content":"precise","metadata":{"id":12345678901234567890,"big":1e400,"tiny":1.0e-400}}',
  '{"content":"keys in my order","role":"assistant","metadata":{"z":1,"a":2,"0":3}}',
  '{"role":"user","content":"h\\u00e9llo \\u2713 \u00e9 \u2713 \ud83d\ude00 \\ud83d\\ude00 \\"quoted\\""}',
  '{ "role" : "tool" ,  "content" : [ { "type" : "text" , "text" : "spaced out" } ] , "tokens" : 7 }',
];

/** The item texts of a read's `content`, as they appear in the answer's bytes. */
function contentTexts(answer: string): string[] {
  const start = answer.indexOf('"content":[\n') + '"content":[\n'.length;
  const end = answer.lastIndexOf('\n]}');
  if (end < start) return [];
  return answer.slice(start, end).split(',\n');
}

describe('bytes kept as sent', () => {
  it('returns JSON and NDJSON items byte for byte, inline, staged and from S3, whole and partial', async () => {
    const createBody = `{"agent_id":"bytes","content":[${tricky.slice(0, 2).join(',')}]}`;
    const created = await api(suite.app.url, '/api/v1/contexts', {
      method: 'POST',
      body: createBody,
      headers: { 'content-type': 'application/json' },
    });
    expect(created.status).toBe(201);
    const id = created.json.id;

    // an NDJSON append large enough to be staged and uploaded as an object
    const filler = `{"role":"assistant","content":"${'y'.repeat(3000)}","metadata":{"n":98765432109876543210}}`;
    const lines = [tricky[2]!, filler, tricky[3]!];
    const appended = await api(suite.app.url, `/api/v1/contexts/${id}/items`, {
      method: 'POST',
      body: `${lines.join('\n')}\n`,
      headers: { 'content-type': 'application/x-ndjson' },
    });
    expect(appended.status).toBe(202);
    // readable from staging before the worker stores it
    const early = await api(suite.app.url, `/api/v1/contexts/${id}`);
    expect(contentTexts(early.text)).toEqual([tricky[0], tricky[1], ...lines]);

    expect((await waitUntilSettled(suite.app.url, id)).at(-1).status).toBe('stored');
    const read = await api(suite.app.url, `/api/v1/contexts/${id}`);
    expect(read.json).toMatchObject({ status: 'stored', message_count: 5, segments: 2 });
    expect(read.json.storage.key).toMatch(/\.json$/);
    expect(contentTexts(read.text)).toEqual([tricky[0], tricky[1], ...lines]);
    // and it is valid JSON, with the unicode as sent
    expect(read.json.content[2].content).toBe('héllo ✓ é ✓ 😀 😀 "quoted"');

    const tail = await api(suite.app.url, `/api/v1/contexts/${id}?last=2`);
    expect(contentTexts(tail.text)).toEqual([filler, tricky[3]]);
    expect(tail.json.window).toMatchObject({ returned: 2, dropped: 3 });
    const budget = await api(suite.app.url, `/api/v1/contexts/${id}?max_tokens=1000`);
    expect(budget.json.window.dropped).toBeGreaterThan(0);
    for (const text of contentTexts(budget.text)) expect([...tricky, filler]).toContain(text);
  });

  it('keeps a replace as sent, and never adds tokens to an item', async () => {
    const created = await api(suite.app.url, '/api/v1/contexts', {
      method: 'POST',
      json: { agent_id: 'bytes', content: [{ role: 'user', content: 'first' }] },
    });
    const id = created.json.id;
    expect(created.json.current_tokens).toBeGreaterThan(0);
    const replaced = await api(suite.app.url, `/api/v1/contexts/${id}`, {
      method: 'PUT',
      body: `{"content":[${tricky[0]},${tricky[1]}]}`,
      headers: { 'content-type': 'application/json' },
    });
    expect(replaced.status).toBe(200);
    const read = await api(suite.app.url, `/api/v1/contexts/${id}`);
    expect(contentTexts(read.text)).toEqual([tricky[0], tricky[1]]);
    expect(read.json.content[0]).not.toHaveProperty('tokens');
  });
});
