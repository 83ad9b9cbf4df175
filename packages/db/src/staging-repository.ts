import { Readable } from 'node:stream';
import type { MikroORM } from '@mikro-orm/postgresql';
import type { Pool, QueryResult, QueryResultRow } from 'pg';
import { to as copyTo } from 'pg-copy-streams';
import { ConcurrencySlots } from './concurrency-slots.ts';
import { StagingBusyError } from './errors/staging-busy-error.ts';
import { StagingConflictError } from './errors/staging-conflict-error.ts';

export interface StagingOptions {
  /** bytes per staged chunk (staging.chunk_size) */
  chunkSize: number;
  /** stagings this process runs at once; beyond, `write` throws StagingBusyError (limits.max_concurrent_stagings) */
  maxConcurrent: number;
  /** the longest a request body may take to arrive (limits.body_timeout): an incomplete stage older than this is abandoned */
  bodyTimeoutMs: number;
}

/**
 * Chunk inserts one staging keeps in flight: several backends write the WAL and the TOAST pages of
 * their chunks at once, while this process reads and checks the next lines of the body.
 */
const INSERTS_IN_FLIGHT = 4;

/**
 * The first chunk of a body is at most this large, each next one twice the one before up to
 * `staging.chunk_size`: the first inserts go in while the API still reads and checks the rest of a
 * small body, where a first chunk of the whole size would wait for all of it.
 */
const FIRST_CHUNK_BYTES = 128 * 1024;

/** Staged chunks one read fetches at once: the one being consumed and the next ones. */
const READS_IN_FLIGHT = 3;

/** How long a client is told to wait (Retry-After) when every staging slot is taken. */
const RETRY_AFTER_SECONDS = 1;

/**
 * A CTE that makes its statement's transaction commit without waiting for the WAL flush
 * (`set_config(…, true)` holds for that transaction only); the statement must refer to it.
 */
const ASYNC_COMMIT = `async_commit as (select set_config('synchronous_commit', 'off', true))`;

/**
 * Staged bodies, kept in Postgres as ordered chunks: durable before the API answers 202, readable
 * by workers on any host (nothing is local to one process) and served to readers while pending.
 *
 * No transaction stays open while a client sends: each chunk is its own short transaction on a
 * pooled connection, taken only while that chunk is written, and the body becomes readable with
 * its completion mark in `staged_bodies`. Bytes cross the wire as they are: chunks go in as binary
 * parameters and come out through `COPY … TO STDOUT (FORMAT binary)`, never as hex text.
 */
export class StagingRepository {
  private readonly slots: ConcurrencySlots;
  private readonly buffers: ChunkBuffers;
  /** chunk inserts in flight in this process, over every staging */
  private inserts = 0;

  constructor(
    private readonly orm: MikroORM,
    private readonly options: StagingOptions,
  ) {
    this.slots = new ConcurrencySlots(options.maxConcurrent);
    // enough for one staging's inserts in flight and the chunk it fills meanwhile
    this.buffers = new ChunkBuffers(options.chunkSize, INSERTS_IN_FLIGHT + 1);
  }

  /** Stagings in progress in this process. */
  get active(): number {
    return this.slots.taken;
  }

  /**
   * Takes one of this process's staging slots, or throws StagingBusyError when none is free: a
   * write that sends its body straight to the blob store holds one as a staging does (and hands
   * it to `write` when it stages after all). Its release is idempotent.
   */
  takeSlot(): StagingSlot {
    if (!this.slots.tryTake()) throw new StagingBusyError(this.options.maxConcurrent, RETRY_AFTER_SECONDS);
    let held = true;
    return {
      release: () => {
        if (held) this.slots.release();
        held = false;
      },
    };
  }

  /**
   * Stages the body and marks it complete; returns the number of bytes staged. Its statements
   * commit without waiting for the WAL flush: the body is durable with the next synchronous commit
   * of this process's database, which the caller makes before it answers (the commit of the row
   * that names the body flushes the WAL up to it, the body's records included). A failed or
   * abandoned write removes what it wrote (and, if this process dies, the lifecycle pass does).
   * Throws StagingBusyError when this process already runs `maxConcurrent` stagings (unless given
   * the `slot` it takes, released at the end), and StagingConflictError when another write is
   * staging the same version.
   */
  async write(contextId: string, version: number, body: AsyncIterable<Buffer>, slot?: StagingSlot): Promise<number> {
    const held = slot ?? this.takeSlot();
    try {
      // the claim's round trip overlaps the reading of the first chunk; no chunk goes in before it
      const claimed = this.claim(contextId, version);
      claimed.catch(() => {});
      try {
        return await this.writeChunks(contextId, version, body, () => claimed);
      } catch (err) {
        // once the claim has settled: a failed claim wrote nothing (the stage may be another write's)
        await claimed.then(
          () => this.remove(contextId, version).catch(() => {}),
          () => {},
        );
        throw err;
      }
    } finally {
      held.release();
    }
  }

  /**
   * Chunks go in while the next ones fill: up to INSERTS_IN_FLIGHT inserts at once (each on its
   * own pooled connection), so the client, this process and Postgres overlap. The process never
   * holds more connections for inserts than `maxConcurrent`: a second insert waits while it would.
   */
  private async writeChunks(
    contextId: string,
    version: number,
    body: AsyncIterable<Buffer>,
    claimed: () => Promise<void>,
  ): Promise<number> {
    const pool = await this.pool();
    const driverError = this.driverError;
    let seq = 0;
    let total = 0;
    // the first failed insert, if any (set from a callback, read in the loop)
    const failed: unknown[] = [];
    const inFlight = new Set<Promise<void>>();
    try {
      for await (const chunk of rechunk(body, this.options.chunkSize, this.buffers, FIRST_CHUNK_BYTES)) {
        if (seq === 0) await claimed();
        while (inFlight.size >= INSERTS_IN_FLIGHT || (inFlight.size > 0 && this.inserts >= this.options.maxConcurrent))
          await Promise.race(inFlight);
        if (failed.length) throw failed[0];
        total += chunk.length;
        // the rejection is caught at once: the next chunk may take long to arrive from a slow client
        const insert: Promise<void> = insertChunk(pool, driverError, contextId, version, seq++, chunk)
          .catch((err: unknown) => {
            failed.push(err);
          })
          .finally(() => {
            inFlight.delete(insert);
            this.inserts--;
            // the insert has ended: pg copied the bytes into its message long before
            this.buffers.give(chunk);
          });
        inFlight.add(insert);
        this.inserts++;
      }
    } finally {
      // however the body ends, every insert lands before anyone removes what was written
      await Promise.all(inFlight);
    }
    if (seq === 0) await claimed();
    if (failed.length) throw failed[0];
    await this.query(
      `with ${ASYNC_COMMIT}
       update staged_bodies set completed_at = now(), bytes = $3, chunks = $4 from async_commit
        where context_id = $1 and version = $2`,
      [contextId, version, total, seq],
    );
    return total;
  }

  /** Takes the (context, version) for this write, collecting an abandoned stage that held it. */
  private async claim(contextId: string, version: number): Promise<void> {
    for (let attempt = 0; attempt < 2; attempt++) {
      // one round trip: the mark, and once it is ours, the removal of chunks without a mark (leftovers
      // of a writer that died between removing its mark and its chunks)
      const claimed = await this.query<{ claimed: boolean }>(
        `with ${ASYNC_COMMIT},
         mark as (
           insert into staged_bodies (context_id, version, started_at) values ($1, $2, now())
           on conflict do nothing returning 1),
         leftovers as (
           delete from staged_chunks where context_id = $1 and version = $2 and exists (select 1 from mark))
         select exists (select 1 from mark) as claimed from async_commit`,
        [contextId, version],
      );
      if (claimed.rows[0]?.claimed) return;
      // a complete stage no row waits for a body timeout after its completion is a leftover, never a live write
      const held = await this.query(
        `select 1 from staged_bodies b where b.context_id = $1 and b.version = $2 and ${orphaned('b', '$3', '$4')}`,
        [contextId, version, this.options.bodyTimeoutMs, this.options.bodyTimeoutMs],
      );
      if (held.rowCount === 0) break;
      await this.remove(contextId, version);
    }
    throw new StagingConflictError(contextId, version);
  }

  /** True once the body is completely staged. */
  async exists(contextId: string, version: number): Promise<boolean> {
    const rows = await this.query(
      'select 1 from staged_bodies where context_id = $1 and version = $2 and completed_at is not null',
      [contextId, version],
    );
    return (rows.rowCount ?? 0) > 0;
  }

  /** Bytes of every staged body, complete or not: what waits for an upload, was kept for a retry, or is arriving. */
  async totalBytes(): Promise<number> {
    const { rows } = await this.query<{ bytes: string | null }>(
      'select sum(octet_length(data)) as bytes from staged_chunks',
    );
    return Number(rows[0]?.bytes ?? 0);
  }

  /**
   * Streams a completely staged body chunk by chunk, fetching the next chunks while the current one
   * is consumed; each chunk is one COPY on a connection held only for that chunk. Fails (without
   * yielding anything) when the body is not completely staged.
   */
  read(contextId: string, version: number): Readable {
    const driverError = this.driverError;
    const load = async () => {
      const pool = await this.pool();
      const { rows } = await this.query<{ chunks: number | null }>(
        'select chunks from staged_bodies where context_id = $1 and version = $2 and completed_at is not null',
        [contextId, version],
      );
      const chunks = rows[0]?.chunks;
      if (chunks === undefined || chunks === null) {
        throw new Error(`no completely staged body for context ${contextId} version ${version}`);
      }
      return { pool, chunks };
    };
    async function* chunks(): AsyncGenerator<Buffer> {
      const { pool, chunks: count } = await load();
      const ahead: Promise<Buffer[]>[] = [];
      let requested = 0;
      const request = () => {
        const chunk = readChunk(pool, driverError, contextId, version, requested++);
        // a prefetch that fails while the consumer stops early must not become an unhandled rejection
        chunk.catch(() => {});
        ahead.push(chunk);
      };
      for (let seq = 0; seq < count; seq++) {
        while (requested < count && ahead.length < READS_IN_FLIGHT) request();
        // the chunk's bytes as the COPY delivered them: no copy into one buffer
        yield* await ahead.shift()!;
      }
    }
    return Readable.from(chunks(), { objectMode: false, highWaterMark: 1 });
  }

  /**
   * Staged bodies no row waits for any more (its context is gone, stored or moved on) and completed
   * longer ago than `olderThanMs`; bodies never completed whose writer cannot be alive any more
   * (started longer ago than `olderThanMs` plus the body timeout); and chunks without a mark.
   */
  async findOrphans(olderThanMs: number, limit: number): Promise<{ context_id: string; version: number }[]> {
    const { rows } = await this.query<{ context_id: string; version: number }>(
      `select b.context_id, b.version from staged_bodies b where ${orphaned('b', '$1', '$2')}
       union
       select s.context_id, s.version from staged_chunks s
        where s.created_at < now() - ($1::float8 * interval '1 millisecond')
          and not exists (select 1 from staged_bodies b where b.context_id = s.context_id and b.version = s.version)
       limit $3`,
      [olderThanMs, this.options.bodyTimeoutMs, limit],
    );
    return rows;
  }

  /**
   * Removes a staged body (every version when none is given), its mark and its chunks in one
   * statement, committed without waiting for the WAL flush: a removal a crash undoes leaves an
   * orphan that `findOrphans` finds again.
   */
  async remove(contextId: string, version?: number): Promise<void> {
    const where = version === undefined ? 'context_id = $1' : 'context_id = $1 and version = $2';
    const params = version === undefined ? [contextId] : [contextId, version];
    await this.query(
      `with ${ASYNC_COMMIT}, marks as (delete from staged_bodies where ${where})
       delete from staged_chunks using async_commit where ${where}`,
      params,
    );
  }

  private pool(): Promise<Pool> {
    return this.orm.em.getConnection().getNativeClient();
  }

  private async query<R extends QueryResultRow = QueryResultRow>(
    text: string,
    params?: unknown[],
  ): Promise<QueryResult<R>> {
    const pool = await this.pool();
    try {
      return await pool.query<R>(text, params);
    } catch (err) {
      throw this.driverError(err);
    }
  }

  /**
   * A failure of pg itself as the ORM reports it (MikroORM's DriverException), where it arises: pg
   * throws plain Errors when a connection is lost or none can be had in time, and the API tells a
   * database that cannot be used from other failures by class (see databaseUnavailableCause).
   */
  private readonly driverError: DriverError = (err) => this.orm.em.getDriver().convertException(err as Error);
}

type DriverError = (err: unknown) => Error;

/** One of a process's staging slots, held until released. */
export interface StagingSlot {
  release(): void;
}

/**
 * One chunk, one round trip: a statement of its own (its own transaction), committed without
 * waiting for the WAL flush, as every staging statement (see `write`).
 */
async function insertChunk(
  pool: Pool,
  driverError: DriverError,
  contextId: string,
  version: number,
  seq: number,
  data: Buffer,
): Promise<void> {
  try {
    // a Buffer parameter is sent in binary format: the bytes cross the wire as they are
    await pool.query(
      `with ${ASYNC_COMMIT}
       insert into staged_chunks (context_id, version, seq, data, created_at)
       select $1, $2, $3, $4, now() from async_commit`,
      [contextId, version, seq, data],
    );
  } catch (err) {
    throw driverError(err);
  }
}

// COPY's binary format: an 11-byte signature, 4 bytes of flags and 4 of header extension length,
// then per row a 2-byte field count and per field a 4-byte length and the bytes, then a 2-byte trailer
const COPY_HEADER_BYTES = 19;
const COPY_ROW_HEADER_BYTES = 2 + 4;

/**
 * One chunk's bytes through `COPY … TO STDOUT (FORMAT binary)`: no hex text on either side, and
 * the bytes are left in the pieces the connection delivered them in (no copy into one buffer).
 */
async function readChunk(
  pool: Pool,
  driverError: DriverError,
  contextId: string,
  version: number,
  seq: number,
): Promise<Buffer[]> {
  // COPY takes no parameters; the id is a UUID and the numbers integers, checked before they are inlined
  if (!UUID.test(contextId) || !Number.isSafeInteger(version) || !Number.isSafeInteger(seq)) {
    throw new Error(`invalid staged chunk address ${contextId}/${version}/${seq}`);
  }
  const out = new Pieces(
    await copyChunk(pool, contextId, version, seq).catch((err: unknown) => {
      throw driverError(err);
    }),
  );
  const fields = out.length >= COPY_HEADER_BYTES + COPY_ROW_HEADER_BYTES ? out.int16(COPY_HEADER_BYTES) : 0;
  if (fields !== 1) throw new Error(`staged chunk ${seq} of context ${contextId} version ${version} is missing`);
  const size = out.int32(COPY_HEADER_BYTES + 2);
  const start = COPY_HEADER_BYTES + COPY_ROW_HEADER_BYTES;
  return out.slice(start, start + size);
}

/** The COPY's whole output, in the pieces it arrived in, on a pooled connection held only for it. */
async function copyChunk(pool: Pool, contextId: string, version: number, seq: number): Promise<Buffer[]> {
  const client = await pool.connect();
  let broken: Error | undefined;
  try {
    const parts: Buffer[] = [];
    const copy = client.query(
      copyTo(
        `copy (select data from staged_chunks where context_id = '${contextId}' and version = ${version} and seq = ${seq}) to stdout (format binary)`,
      ),
    );
    for await (const part of copy) parts.push(part as Buffer);
    return parts;
  } catch (err) {
    broken = err as Error;
    throw err;
  } finally {
    client.release(broken);
  }
}

/** Bytes held as consecutive pieces, read without joining them. */
class Pieces {
  readonly length: number;

  constructor(private readonly parts: readonly Buffer[]) {
    this.length = parts.reduce((sum, part) => sum + part.length, 0);
  }

  int16(offset: number): number {
    return this.bytes(offset, 2).readInt16BE(0);
  }

  int32(offset: number): number {
    return this.bytes(offset, 4).readInt32BE(0);
  }

  private bytes(offset: number, length: number): Buffer {
    const pieces = this.slice(offset, offset + length);
    return pieces.length === 1 ? pieces[0]! : Buffer.concat(pieces);
  }

  /** The bytes from `start` to `end` (clamped to the length), as subarrays of the pieces. */
  slice(start: number, end: number): Buffer[] {
    const out: Buffer[] = [];
    let at = 0;
    for (const part of this.parts) {
      const from = Math.max(start - at, 0);
      const to = Math.min(end - at, part.length);
      if (from < to) out.push(from === 0 && to === part.length ? part : part.subarray(from, to));
      at += part.length;
      if (at >= end) break;
    }
    return out;
  }
}

/**
 * The condition "the body of mark `b` is an orphan": complete, older than `grace` ms and waited for
 * by no segment (none still to upload or count from it); or never completed and started before `grace` + `timeout` ms ago (its writer is gone).
 */
function orphaned(b: string, grace: string, timeout: string): string {
  return `((${b}.completed_at is not null and ${b}.completed_at < now() - (${grace}::float8 * interval '1 millisecond')
            and not exists (select 1 from segments s where s.context_id = ${b}.context_id and s.version = ${b}.version
                              and s.kind = 'write' and s.retired_at is null and (s.state = 'staged' or not s.tokens_final)))
        or (${b}.completed_at is null and ${b}.started_at < now() - ((${grace}::float8 + ${timeout}::float8) * interval '1 millisecond')))`;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Buffers of one chunk's size, kept for the next chunks once their insert has ended: on this kind of
 * VM, copying into fresh memory costs its page faults (tens of ms a MiB), copying into memory
 * already touched does not.
 */
export class ChunkBuffers {
  private readonly free: ArrayBuffer[] = [];

  constructor(
    readonly size: number,
    private readonly keep: number,
  ) {}

  take(): Buffer {
    const kept = this.free.pop();
    return kept ? Buffer.from(kept, 0, this.size) : Buffer.allocUnsafeSlow(this.size);
  }

  /** Gives back the memory of a chunk `rechunk` made from these buffers, once nothing reads it any more. */
  give(chunk: Buffer): void {
    const memory = chunk.buffer;
    if (this.free.length < this.keep && memory instanceof ArrayBuffer && memory.byteLength === this.size) {
      this.free.push(memory);
    }
  }
}

/**
 * Regroups an arbitrary byte stream into chunks of exactly `size` bytes (the last may be shorter):
 * copied into buffers taken from `buffers` when given (the consumer gives each chunk back), else
 * into new ones. With buffers, the first chunk may be smaller (`firstSize`), each next one twice
 * the one before until they reach `size`.
 */
export async function* rechunk(
  source: AsyncIterable<Buffer>,
  size: number,
  buffers?: ChunkBuffers,
  firstSize = size,
): AsyncGenerator<Buffer> {
  if (buffers) {
    yield* rechunkInto(source, buffers, Math.min(firstSize, buffers.size));
    return;
  }
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  for await (const piece of source) {
    let offset = 0;
    while (offset < piece.length) {
      const take = Math.min(size - pendingBytes, piece.length - offset);
      pending.push(piece.subarray(offset, offset + take));
      pendingBytes += take;
      offset += take;
      if (pendingBytes === size) {
        yield Buffer.concat(pending, size);
        pending = [];
        pendingBytes = 0;
      }
    }
  }
  if (pendingBytes > 0) yield Buffer.concat(pending, pendingBytes);
}

async function* rechunkInto(
  source: AsyncIterable<Buffer>,
  buffers: ChunkBuffers,
  firstSize: number,
): AsyncGenerator<Buffer> {
  let size = firstSize;
  let chunk: Buffer | null = null;
  let filled = 0;
  for await (const piece of source) {
    let offset = 0;
    while (offset < piece.length) {
      chunk ??= buffers.take();
      const copied = piece.copy(chunk, filled, offset, Math.min(piece.length, offset + size - filled));
      filled += copied;
      offset += copied;
      if (filled === size) {
        const full = chunk.subarray(0, size);
        chunk = null;
        filled = 0;
        size = Math.min(size * 2, buffers.size);
        yield full;
      }
    }
  }
  if (chunk && filled > 0) yield chunk.subarray(0, filled);
}
