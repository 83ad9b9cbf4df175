// What the service reads of items through their format's normalized view: roles, search text, and
// reads converted to another format.
import {
  type ConversionEnd,
  convertStream,
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
 * A read's items converted to `target` (a context already in `target` is served as stored), streamed
 * one turn at a time. The window is read twice: once to check that every part converts (a 422 before
 * anything is sent, never a response cut midway) and to gather Anthropic's `system`, then to send.
 */
export async function convertedRead(
  readOnce: () => Promise<WindowedRead>,
  target: TargetFormat,
): Promise<WindowedRead> {
  const first = await readOnce();
  const { context } = first;
  if (context.format === target) return first;
  const system = context.system === null ? undefined : normalizeAnthropicSystem(context.system);
  const converted = (lines: AsyncIterable<Buffer>) =>
    convertStream(viewsOf(context.format, lines, target), target, system);
  let end: ConversionEnd | undefined;
  try {
    const check = converted(first.lines);
    for (let next = await check.next(); ; next = await check.next()) {
      if (next.done) {
        end = next.value;
        break;
      }
    }
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
  const second = await readOnce();
  return {
    context: { ...context, format: target, system: end?.system ?? null },
    lines: (async function* () {
      for await (const item of converted(second.lines)) yield Buffer.from(`${JSON.stringify(item)}\n`);
    })(),
    // the inserted user turn is an item the context does not hold: the window says so
    window: end?.insertedUserTurn ? { ...first.window, inserted_user_turn: true } : first.window,
  };
}

/** The stored lines as normalized items; an item its format does not accept stops the conversion. */
async function* viewsOf(
  format: Format,
  lines: AsyncIterable<Buffer>,
  target: TargetFormat,
): AsyncGenerator<NormalizedItem> {
  let index = 0;
  for await (const line of splitLines(lines)) {
    const view = normalizedOrNull(format, parseRawItem(line).item);
    if (!view) throw new UnconvertiblePartError(index, '', `an item that is not a valid ${format} item`, target);
    index++;
    yield view;
  }
}
