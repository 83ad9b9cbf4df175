import type { AnthropicSystem, Format } from '@ctxvault/formats';

/**
 * The fields of a context version beside its items (its envelope). A response document is laid
 * out one item per line, so it can be streamed from the segments without parsing them:
 *
 *   {"id":…,"version":…,…,"content":[\n
 *   {item},\n
 *   {item}\n
 *   ]}\n
 */
export interface DocumentEnvelope {
  id: string;
  version: number;
  tenant_id: string;
  agent_id: string;
  model_id: string | null;
  session_id: string | null;
  name: string | null;
  metadata: Record<string, unknown>;
  max_tokens: number | null;
  /** the shape of the items */
  format: Format;
  /** an `anthropic.messages` context's top-level instructions */
  system: AnthropicSystem | null;
  created_at: string;
  expires_at: string | null;
}

/** The opening line of a document or response: the object's fields, then `"content":[`. */
export function openingLine(fields: object): string {
  const json = JSON.stringify(fields);
  return `${json.slice(0, -1)}${json.length > 2 ? ',' : ''}"content":[\n`;
}

/** Splits a byte stream of UTF-8 into lines (without the newline); invalid UTF-8 throws a TypeError. */
export async function* lines(body: AsyncIterable<Buffer>): AsyncGenerator<string> {
  // the unfinished line is kept in pieces: appending to one growing string would make a single
  // long line cost quadratic time
  let partial: string[] = [];
  const decoder = new TextDecoder('utf-8', { fatal: true });
  for await (const chunk of body) {
    const parts = decoder.decode(chunk, { stream: true }).split('\n');
    if (parts.length === 1) {
      partial.push(parts[0]!);
      continue;
    }
    partial.push(parts[0]!);
    yield partial.join('');
    for (let i = 1; i < parts.length - 1; i++) yield parts[i]!;
    partial = [parts.at(-1)!];
  }
  partial.push(decoder.decode());
  const last = partial.join('');
  if (last) yield last;
}
