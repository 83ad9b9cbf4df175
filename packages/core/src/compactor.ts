import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { type ContextRow, type NewSegment, newContextId, type RoleTally, type Segment } from '@ctxvault/db';
import type { Format } from '@ctxvault/formats';
import { f64s, readF64s, tallyOf } from './item-index.ts';
import { indexMerged } from './search-index.ts';
import { segmentCounts } from './segment-counting.ts';
import { type SegmentTrailer, trailerLine } from './segment-format.ts';
import { inlineStorage, putSegmentObject } from './segment-objects.ts';
import { SegmentReader } from './segment-reader.ts';
import { listOf, type WorkerDeps } from './version-uploader.ts';
import { envelopeOf } from './views.ts';

export type CompactOutcome = 'compacted' | 'nothing' | 'superseded' | 'gone';

/**
 * Merges a run of a context's segments into one (an object, or one inline segment for the
 * `database` provider) and swaps it in atomically: readers and writers never wait for it, and a
 * swap that finds the version changed under it gives up and removes what it wrote.
 *
 * Which run: the segments after the first (the base, usually the large one a create or replace
 * wrote), so that a long run of small appends never rewrites the base; all of them once the
 * tail has grown as large as the base. Segments still staged are left for a later pass.
 */
export class Compactor {
  private readonly reader: SegmentReader;

  constructor(private readonly deps: WorkerDeps) {
    this.reader = new SegmentReader(deps.segments, deps.staging, deps.blobs, undefined, deps.keyring);
  }

  async compact(contextId: string): Promise<CompactOutcome> {
    const { contexts, segments } = this.deps;
    const row = await contexts.findAny(contextId);
    if (!row || row.status === 'deleting') return 'gone';
    const current = await segments.segmentsOf(contextId, row.version);
    const run = compactionRun(current, this.deps.settings.compaction);
    if (!run) return 'nothing';
    const id = newContextId();
    // the version's list once the swap is made: what a rebuild from the bucket starts from
    const after = [...current.slice(0, run.from - 1), { id }, ...current.slice(run.from - 1 + run.segments.length)];
    const recovery = { context: envelopeOf(row), list: listOf(row.version, after) };
    const segment = await this.merge(id, row.version, run.segments, row, recovery);
    const swapped = await segments.swapCompacted(
      segment,
      run.from,
      run.segments.map((s) => s.id),
      this.deps.blobs.kind,
    );
    if (!swapped) {
      if (segment.object_key) await this.deps.blobs.delete(segment.object_key);
      return 'superseded';
    }
    // the merged segments stay until the lifecycle pass retires them: their entries are copied
    await indexMerged(segments, this.reader, segment, run.segments, row.format as Format);
    return 'compacted';
  }

  /**
   * Writes the merged segment (its object first, when it has one) and returns its row. It belongs
   * to `row`, the context compacted: a fork merging segments it shares with its source writes its
   * own object and never touches the source's.
   */
  private async merge(
    id: string,
    version: number,
    run: Segment[],
    row: ContextRow,
    recovery: Pick<SegmentTrailer, 'context' | 'list'>,
  ): Promise<NewSegment> {
    const { settings, segments, keyring } = this.deps;
    const modelId = row.model_id ?? null;
    const format = row.format as Format;
    const contextId = row.id;
    // the merged segment is sealed when new writes are: with the context's data key
    const dataKey = keyring?.sealing ? await keyring.forContext(row.tenant_id, contextId) : null;
    const first = run[0]!.first_item;
    const itemCount = run.reduce((sum, s) => sum + s.item_count, 0);
    const size = run.reduce((sum, s) => sum + s.size_bytes, 0);
    const hash = createHash('sha256');
    const index = await segments.loadIndex(run.map((s) => s.id));

    // offsets and roles from the runs' indexes (shifted), tokens too when every count is final
    const offsets: number[] = [];
    const roleBytes: Buffer[] = [];
    let shift = 0;
    let indexed = true;
    for (const seg of run) {
      const own = index.get(seg.id);
      if (seg.format !== 'lines' || !own?.item_offsets || !own.item_roles) {
        indexed = false;
        break;
      }
      for (const offset of readF64s(own.item_offsets)) offsets.push(offset + shift);
      roleBytes.push(own.item_roles);
      shift += seg.size_bytes;
    }
    if (!indexed) throw new Error(`segments of ${contextId} without an item index cannot be compacted`);
    const allFinal = run.every((s) => s.tokens_final && index.get(s.id)?.item_tokens);
    const counts = allFinal
      ? {
          token_count: run.reduce((sum, s) => sum + s.token_count, 0),
          roles: sumRoles(run),
          tokens_final: true,
          item_tokens: Buffer.concat(run.map((s) => index.get(s.id)!.item_tokens!)),
        }
      : await segmentCounts(this.reader.lines(run), this.deps.tokenCounter, modelId, format);

    const reader = this.reader;
    const common = {
      id,
      context_id: contextId,
      version,
      kind: 'compacted' as const,
      first_item: first,
      item_count: itemCount,
      size_bytes: size,
      item_offsets: f64s(offsets),
      item_roles: Buffer.concat(roleBytes),
      first_timestamp: run.find((s) => s.first_timestamp)?.first_timestamp ?? null,
      last_timestamp: run.findLast((s) => s.last_timestamp)?.last_timestamp ?? null,
      data_key_id: dataKey?.id ?? null,
      has_calls: run.some((s) => s.has_calls) ? true : run.every((s) => s.has_calls === false) ? false : null,
      ...counts,
    };

    if (settings.provider === 'database') {
      const chunks: Buffer[] = [];
      for await (const chunk of reader.lines(run)) {
        hash.update(chunk);
        chunks.push(chunk);
      }
      return {
        ...common,
        ...(await inlineStorage(id, Buffer.concat(chunks), dataKey)),
        sha256: hash.digest('hex'),
      };
    }

    let trailerSha = '';
    const body = Readable.from(
      (async function* () {
        for await (const chunk of reader.lines(run)) {
          hash.update(chunk);
          yield chunk;
        }
        trailerSha = hash.digest('hex');
        yield trailerLine({
          context_id: contextId,
          segment_id: id,
          version,
          first_item: first,
          item_count: itemCount,
          size_bytes: size,
          sha256: trailerSha,
          kind: 'compacted',
          written_at: new Date().toISOString(),
          merged: run.map((s) => s.id),
          ...recovery,
        });
      })(),
    );
    // the sha256 is only known once the items have streamed: it is in the trailer, and in the row
    const placement = await putSegmentObject(this.deps, { ...common, sha256: '' }, body);
    return { ...common, state: 'stored', body: null, ...placement, sha256: trailerSha };
  }
}

/**
 * The run of segments to merge (1-based position of its first), or null when there is nothing
 * worth merging. The whole version once its tail is as large as its base; otherwise the newest
 * segments of the tail, and before them each older one no larger than all the newer ones of the
 * run together (size-tiered, like a log-structured merge): a segment is merged again only when
 * as much was appended after it, so an item is rewritten (and its search entries copied)
 * O(log n) times over a long session, not at every compaction of a tail that keeps growing. The
 * run takes the whole tail when what it would leave is more than half of `maxSegments`, and the
 * base too once the tail holds more than `maxBytes` (the setting that enqueued it: merging only the
 * tail would leave it as large, and every later append would enqueue a rewrite of it again).
 */
export function compactionRun(
  segs: readonly Segment[],
  { maxSegments, maxBytes }: { maxSegments: number; maxBytes: number },
): { from: number; segments: Segment[] } | null {
  // staged segments are not merged yet: the run ends before the first of them
  const firstStaged = segs.findIndex((s) => s.state === 'staged');
  const settled = firstStaged === -1 ? [...segs] : segs.slice(0, firstStaged);
  if (settled.length < 2) return null;
  const [base, ...tail] = settled as [Segment, ...Segment[]];
  const tailBytes = tail.reduce((sum, s) => sum + s.size_bytes, 0);
  // a base of the layout before segments has no item index: it stays as it is, only the tail merges
  const wholeRun =
    base.format === 'lines' && (tailBytes >= base.size_bytes || tailBytes > maxBytes || base.state !== 'stored');
  if (wholeRun) return { from: 1, segments: settled };
  if (tail.length < 2) return null;
  let start = tail.length - 2;
  let newer = tail[start]!.size_bytes + tail[start + 1]!.size_bytes;
  while (start > 0 && tail[start - 1]!.size_bytes <= newer) {
    start--;
    newer += tail[start]!.size_bytes;
  }
  // segments left beside the merged one: the base, the older tail, the merged one, the staged ones
  const left = 1 + start + 1 + (segs.length - settled.length);
  if (left > maxSegments / 2) start = 0;
  return { from: start + 2, segments: tail.slice(start) };
}

function sumRoles(run: readonly Segment[]): Record<string, RoleTally> {
  const roles: Record<string, RoleTally> = {};
  for (const seg of run) {
    for (const [role, tally] of Object.entries(seg.roles)) {
      const sum = tallyOf(roles, role);
      sum.items += tally.items;
      sum.tokens += tally.tokens;
    }
  }
  return roles;
}
