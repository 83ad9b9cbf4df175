// Builders and HTTP helpers shared by the end-to-end suites.

import { createHash, randomBytes } from 'node:crypto';
import { withCredentials } from './credentials.ts';

/** A ctxvault item (a type, not an interface: it is assignable to the API's item records). */
export type Item = {
  role: 'system' | 'user' | 'assistant' | 'tool';
  content: string;
  tokens?: number;
};

const ROLES = ['user', 'assistant', 'tool'] as const;

/**
 * Items whose JSON adds up to about `bytes`, varied enough to look like a conversation. Each gives its
 * `tokens` (random base64 is slow to tokenize and not what contexts hold), so they read back unchanged.
 */
export function itemsOfSize(bytes: number, itemBytes = 16 * 1024): Item[] {
  const items: Item[] = [{ role: 'system', content: 'You are a careful assistant.', tokens: 6 }];
  let total = 0;
  for (let i = 0; total < bytes; i++) {
    const content = `turn ${i}: ${randomBytes(Math.floor(itemBytes * 0.75)).toString('base64')}`;
    items.push({ role: ROLES[i % 3]!, content, tokens: Math.ceil(content.length / 4) });
    total += content.length + 40;
  }
  return items;
}

export function sha256(text: string | Buffer): string {
  return createHash('sha256').update(text).digest('hex');
}

/** A call to a deployment, with its credential (see useCredentials) unless `init` gives one. */
export async function api(base: string, path: string, init: RequestInit & { json?: unknown } = {}) {
  const headers = withCredentials(base, new Headers(init.headers));
  let body = init.body;
  if (init.json !== undefined) {
    headers.set('content-type', 'application/json');
    body = JSON.stringify(init.json);
  }
  const res = await fetch(`${base}${path}`, { ...init, headers, body });
  const text = await res.text();
  return { status: res.status, headers: res.headers, text, json: parseAnswer(text) };
}

/**
 * A parsed JSON answer. Untyped on purpose: the suites read answers of every shape (views, errors,
 * admin pages, MCP results) and their assertions are what checks the shape.
 */
// biome-ignore lint/suspicious/noExplicitAny: the one untyped way answers enter the suites (see above)
export type JsonAnswer = any;

/** The answer's JSON, or null when it is not JSON. */
function parseAnswer(text: string): JsonAnswer {
  try {
    return text ? JSON.parse(text) : null;
  } catch {
    return null;
  }
}

/** Polls the status call until the context leaves `pending`; returns every status seen. `headers`: another tenant's credential. */
export async function waitUntilSettled(
  base: string,
  id: string,
  timeoutMs = 120_000,
  headers: Record<string, string> = {},
): Promise<JsonAnswer[]> {
  const seen: JsonAnswer[] = [];
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const res = await api(base, `/api/v1/contexts/${id}/status`, { headers });
    if (res.status !== 200) throw new Error(`status answered ${res.status}: ${res.text}`);
    seen.push(res.json);
    if (res.json.status !== 'pending') return seen;
    if (Date.now() > deadline) throw new Error(`context ${id} still pending after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const WORDS = (
  'the agent reads the bucket policy then retries the multipart upload with exponential backoff while ' +
  'the user asks why the context window keeps growing and the assistant proposes truncating older tool output'
).split(' ');

/** Readable items (no `tokens`: the server counts them) whose JSON adds up to about `bytes`. */
export function proseItemsOfSize(bytes: number, itemBytes = 16 * 1024): Item[] {
  const items: Item[] = [{ role: 'system', content: 'You are a careful assistant.' }];
  let total = 0;
  for (let i = 0; total < bytes; i++) {
    const words: string[] = [`turn ${i}:`];
    for (let length = 0; length < itemBytes; length += 8) words.push(WORDS[(i * 7 + length) % WORDS.length]!);
    const content = words.join(' ');
    items.push({ role: ROLES[i % 3]!, content });
    total += content.length + 40;
  }
  return items;
}
