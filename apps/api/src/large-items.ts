import { randomUUID } from 'node:crypto';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { type LongString, skipSpace } from './json-items.ts';

/** Escaped long strings are decoded this many characters at a time, the event loop served between. */
const DECODE_PIECE = 1024 * 1024;

/**
 * Parses one item's JSON text. Without long strings it is one JSON.parse. With them (a base64 image,
 * a long document), the item is parsed with each long string replaced by a placeholder, and the
 * strings are put back afterwards: one without escapes is its own text (no pass over it), one with
 * escapes is decoded in pieces between which the event loop runs. The placeholders carry a random
 * nonce, so no text a client sends can be taken for one.
 */
export async function parseItem(text: string, longStrings: readonly LongString[]): Promise<unknown> {
  // a long string followed by `:` is a key, parsed as it is
  const values = longStrings.filter(({ end }) => text.charCodeAt(skipSpace(text, end)) !== 0x3a);
  if (values.length === 0) return JSON.parse(text);
  const nonce = `\u0000${randomUUID()}:`;
  const reduced: string[] = [];
  let from = 0;
  for (const [k, { start, end }] of values.entries()) {
    reduced.push(text.slice(from, start), JSON.stringify(`${nonce}${k}`));
    from = end;
  }
  reduced.push(text.slice(from));
  const parsed = JSON.parse(reduced.join('')) as unknown;
  const decoded: string[] = [];
  for (const long of values) decoded.push(await decodeString(text, long));
  let placed = 0;
  const place = (node: unknown): unknown => {
    if (typeof node === 'string') {
      if (!node.startsWith(nonce)) return node;
      placed++;
      return decoded[Number(node.slice(nonce.length))];
    }
    if (typeof node === 'object' && node !== null) {
      const record = node as Record<string, unknown>;
      for (const key of Object.keys(record)) record[key] = place(record[key]);
    }
    return node;
  };
  const item = place(parsed);
  if (placed !== values.length) throw new Error(`placed ${placed} of ${values.length} long strings`);
  return item;
}

/** The value of the string literal at `start`..`end` (quotes included) of `text`. */
async function decodeString(text: string, { start, end, escaped }: LongString): Promise<string> {
  if (!escaped) return text.slice(start + 1, end - 1);
  const parts: string[] = [];
  let from = start + 1;
  const stop = end - 1;
  while (from < stop) {
    let to = Math.min(stop, from + DECODE_PIECE);
    if (to < stop) to = escapeBoundary(text, from, to);
    // a surrogate pair escaped as two \u sequences may fall apart here: its halves join again below
    parts.push(JSON.parse(`"${text.slice(from, to)}"`) as string);
    from = to;
    if (from < stop) await nextTurn();
  }
  return parts.join('');
}

/** `to`, moved back (not before `from`) so that no escape sequence is cut in two. */
function escapeBoundary(text: string, from: number, to: number): number {
  // the longest escape is \uXXXX: an escape that `to` cuts began at most 5 characters before it
  for (let at = to - 1; at >= Math.max(from, to - 5); at--) {
    if (text.charCodeAt(at) !== 0x5c || !startsEscape(text, from, at)) continue;
    const length = text.charCodeAt(at + 1) === 0x75 ? 6 : 2;
    return at + length > to ? at : to;
  }
  return to;
}

/** Whether the backslash at `at` begins an escape (an even number of backslashes before it). */
function startsEscape(text: string, from: number, at: number): boolean {
  let before = 0;
  while (at - before - 1 >= from && text.charCodeAt(at - before - 1) === 0x5c) before++;
  return before % 2 === 0;
}
