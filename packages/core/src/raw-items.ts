import type { ContextItem, RawItem } from './schemas.ts';

export type { RawItem, RawItems } from './schemas.ts';

/** Items that came without their text (MCP tool arguments, already parsed): their JSON is their text. */
export function rawItems(items: readonly ContextItem[], texts?: readonly string[]): RawItem[] {
  return items.map((item, i) => ({ item, text: texts?.[i] ?? JSON.stringify(item) }));
}

/** A stored item line back into an item. */
export function parseRawItem(line: Buffer): RawItem {
  const text = line.toString('utf8');
  return { item: JSON.parse(text) as ContextItem, text };
}
