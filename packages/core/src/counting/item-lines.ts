/** The items of whole item lines (each ended by a newline), as their text. */
export function itemTexts(lines: Uint8Array): string[] {
  const texts = Buffer.from(lines.buffer, lines.byteOffset, lines.byteLength).toString('utf8').split('\n');
  // the text after the last newline: empty for whole lines
  if (texts.at(-1) === '') texts.pop();
  return texts;
}
