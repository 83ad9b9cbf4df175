import { Readable } from 'node:stream';
import type { MikroORM } from '@mikro-orm/postgresql';

/**
 * Staged bodies, kept in Postgres as ordered chunks: durable before the API answers 202, readable
 * by workers on any host (nothing is local to one process) and served to readers while pending.
 */
export class StagingRepository {
  constructor(
    private readonly orm: MikroORM,
    private readonly chunkSize: number,
  ) {}

  /**
   * Writes the body in one transaction, so a failed or abandoned write leaves nothing behind.
   * Returns the number of bytes staged.
   */
  async write(contextId: string, version: number, body: AsyncIterable<Buffer>): Promise<number> {
    return this.orm.em.fork().transactional(async (em) => {
      await em.execute('delete from staged_chunks where context_id = ? and version = ?', [contextId, version]);
      let seq = 0;
      let total = 0;
      const flush = async (chunk: Buffer) => {
        await em.execute(
          'insert into staged_chunks (context_id, version, seq, data, created_at) values (?, ?, ?, ?, now())',
          [contextId, version, seq++, chunk],
        );
      };
      for await (const chunk of rechunk(body, this.chunkSize)) {
        total += chunk.length;
        await flush(chunk);
      }
      return total;
    });
  }

  async exists(contextId: string, version: number): Promise<boolean> {
    const rows = await this.orm.em
      .fork()
      .execute<{ n: number }[]>('select 1 as n from staged_chunks where context_id = ? and version = ? limit 1', [
        contextId,
        version,
      ]);
    return rows.length > 0;
  }

  /** Bytes of every staged body: what waits for an upload, or was kept for a retry. */
  async totalBytes(): Promise<number> {
    const [row] = await this.orm.em
      .fork()
      .execute<{ bytes: string | null }[]>('select sum(octet_length(data)) as bytes from staged_chunks');
    return Number(row?.bytes ?? 0);
  }

  /** Streams the staged body chunk by chunk, one query per chunk, so memory stays at one chunk. */
  read(contextId: string, version: number): Readable {
    const em = this.orm.em.fork();
    let seq = 0;
    return new Readable({
      highWaterMark: 1,
      objectMode: false,
      read: function () {
        em.execute<{ data: Buffer }[]>(
          'select data from staged_chunks where context_id = ? and version = ? and seq = ?',
          [contextId, version, seq++],
        ).then(
          (rows) => this.push(rows[0] ? rows[0].data : null),
          (err: Error) => this.destroy(err),
        );
      },
    });
  }

  /**
   * Staged bodies no row waits for any more (its context is gone, stored or moved on), staged
   * longer ago than `olderThanMs`.
   */
  async findOrphans(olderThanMs: number, limit: number): Promise<{ context_id: string; version: number }[]> {
    return this.orm.em.fork().execute(
      `select s.context_id, s.version from staged_chunks s
        where s.created_at < now() - (? * interval '1 millisecond')
          and not exists (select 1 from contexts c where c.id = s.context_id and c.version = s.version and c.status in ('pending', 'failed'))
        group by s.context_id, s.version limit ?`,
      [olderThanMs, limit],
    );
  }

  async remove(contextId: string, version?: number): Promise<void> {
    if (version === undefined) {
      await this.orm.em.fork().execute('delete from staged_chunks where context_id = ?', [contextId]);
    } else {
      await this.orm.em
        .fork()
        .execute('delete from staged_chunks where context_id = ? and version = ?', [contextId, version]);
    }
  }
}

/** Regroups an arbitrary byte stream into chunks of exactly `size` bytes (the last may be shorter). */
export async function* rechunk(source: AsyncIterable<Buffer>, size: number): AsyncGenerator<Buffer> {
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
