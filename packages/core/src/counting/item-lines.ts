const NEWLINE = 0x0a;

/**
 * The items of whole item lines (each ended by a newline), as their text, one at a time: a counting
 * thread holds one item's text, not a run's. A run decoded whole was one string of a megabyte or
 * more, which Node keeps outside the heap, and every item text a slice of it: about 50 MB a counting
 * thread, held until a full collection.
 */
export function* itemTexts(lines: Uint8Array): Generator<string> {
  const bytes = Buffer.from(lines.buffer, lines.byteOffset, lines.byteLength);
  for (let start = 0; start < bytes.length; ) {
    let end = bytes.indexOf(NEWLINE, start);
    if (end < 0) end = bytes.length;
    yield bytes.toString('utf8', start, end);
    start = end + 1;
  }
}
