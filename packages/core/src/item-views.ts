// What the service reads of items through their format's normalized view: roles, search text, and
// reads converted to another format.
import {
  convertItems,
  type Format,
  type NormalizedItem,
  normalizeAnthropicSystem,
  normalizeItem,
  type TargetFormat,
  textsOf,
  UnconvertiblePartError,
} from '@ctxvault/formats';
import type { z } from 'zod';
import { UnconvertibleError } from './errors/index.ts';
import { parseRawItem } from './raw-items.ts';
import type { ContextItem } from './schemas.ts';
import { splitLines } from './segment-format.ts';
import type { ContextView, readWindowSchema } from './views.ts';

/** A read: the items kept (their stored lines, as sent, each ending in a newline) and what was left out. */
export interface WindowedRead {
  context: ContextView;
  lines: AsyncIterable<Buffer>;
  window: z.infer<typeof readWindowSchema>;
}

/** The item's view, or null for an item its format does not accept (stored before validation was stricter). */
export function normalizedOrNull(format: Format, item: ContextItem): NormalizedItem | null {
  try {
    return normalizeItem(format, item);
  } catch {
    return null;
  }
}

/** The text search looks in: every text the item holds, and the JSON of parts of no known kind. */
export function searchText(view: NormalizedItem): string {
  const others = view.parts.flatMap((p) => (p.type === 'other' ? [JSON.stringify(p.value)] : []));
  return [...textsOf(view.parts), ...others].join('\n');
}

/**
 * A read's items converted to `target` (a context already in `target` is served as stored). The
 * window's items are held to convert them: tool results need the calls before them.
 */
export async function convertedRead(read: WindowedRead, target: TargetFormat): Promise<WindowedRead> {
  const { context } = read;
  if (context.format === target) return read;
  const views: NormalizedItem[] = [];
  for await (const line of splitLines(read.lines)) {
    const { item } = parseRawItem(line);
    const view = normalizedOrNull(context.format, item);
    if (!view)
      throw new UnconvertibleError(`item ${views.length} is not a valid ${context.format} item`, {
        item: views.length,
      });
    views.push(view);
  }
  const system = context.system === null ? undefined : normalizeAnthropicSystem(context.system);
  try {
    const converted = convertItems(views, target, system);
    return {
      context: { ...context, format: target, system: converted.system ?? null },
      lines: (async function* () {
        for (const item of converted.items as ContextItem[]) yield Buffer.from(`${JSON.stringify(item)}\n`);
      })(),
      window: read.window,
    };
  } catch (err) {
    if (!(err instanceof UnconvertiblePartError)) throw err;
    throw new UnconvertibleError(`cannot read this ${context.format} context as ${target}: ${err.message}`, {
      item: err.item,
      path: err.path,
      part: err.part,
      from: context.format,
      to: target,
    });
  }
}
