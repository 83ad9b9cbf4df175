import { type ArchiveRecord, archiveRecordSchema } from './archive-format.ts';
import { ArchiveFormatError } from './archive-format-error.ts';

/** Reads an archive's lines as records, with one record of look-ahead, and a segment's item lines in between. */
export class RecordReader {
  private readonly lines: AsyncIterator<Buffer>;
  private peeked: ArchiveRecord | null | undefined;
  private lineNumber = 0;

  constructor(lines: AsyncIterable<Buffer>) {
    this.lines = lines[Symbol.asyncIterator]();
  }

  get line(): number {
    return this.lineNumber;
  }

  /** The next record without taking it; null at the end of the input. */
  async peek(): Promise<ArchiveRecord | null> {
    if (this.peeked === undefined) this.peeked = await this.read();
    return this.peeked;
  }

  async take(): Promise<ArchiveRecord | null> {
    const record = await this.peek();
    this.peeked = undefined;
    return record;
  }

  /** The next `count` lines, as they are: a segment's items. */
  async *items(count: number): AsyncGenerator<Buffer> {
    for (let i = 0; i < count; i++) {
      const next = await this.lines.next();
      this.lineNumber++;
      if (next.done)
        throw new ArchiveFormatError(`the archive ends inside a segment (${count - i} items missing)`, this.lineNumber);
      yield next.value;
    }
  }

  private async read(): Promise<ArchiveRecord | null> {
    const next = await this.lines.next();
    if (next.done) return null;
    this.lineNumber++;
    let value: unknown;
    try {
      value = JSON.parse(next.value.toString('utf8'));
    } catch {
      throw new ArchiveFormatError('not a JSON record', this.lineNumber);
    }
    const parsed = archiveRecordSchema.safeParse(value);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new ArchiveFormatError(
        `not an archive record (${issue?.path.join('.') || 'record'}: ${issue?.message ?? 'invalid'})`,
        this.lineNumber,
      );
    }
    return parsed.data;
  }
}
