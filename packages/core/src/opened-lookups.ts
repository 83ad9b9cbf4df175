import type { OpenedVersion } from '@ctxvault/db';
import type { SegmentLookups } from './ports.ts';

/**
 * The lookups of one read: the inline bodies and item indexes its version came with (one round
 * trip, SegmentRepository.openLive), and the store for any other segment.
 */
export function openedLookups(store: SegmentLookups, opened: Pick<OpenedVersion, 'bodies' | 'index'>): SegmentLookups {
  return {
    loadBodies: (ids) => fromEither(ids, opened.bodies, (missing) => store.loadBodies(missing)),
    loadIndex: (ids) => fromEither(ids, opened.index, (missing) => store.loadIndex(missing)),
    findSegment: (id) => store.findSegment(id),
  };
}

async function fromEither<T>(
  ids: readonly string[],
  known: ReadonlyMap<string, T>,
  load: (ids: readonly string[]) => Promise<Map<string, T>>,
): Promise<Map<string, T>> {
  const found = new Map<string, T>();
  const missing: string[] = [];
  for (const id of ids) {
    const value = known.get(id);
    if (value === undefined) missing.push(id);
    else found.set(id, value);
  }
  if (missing.length > 0) for (const [id, value] of await load(missing)) found.set(id, value);
  return found;
}
