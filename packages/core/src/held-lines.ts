/**
 * The lines of a write on their way to an upload, the first ones held until `release` (the upload
 * has them for good): when the upload fails before, `rest` gives them again, then the lines not
 * read yet, so the write can go elsewhere (a streamed body cannot be read twice).
 */
export class HeldLines {
  private held: Buffer[];
  private holding = true;
  private ended = false;
  private stopped = false;
  /** the read of the source under way, if any: its line is held before anyone sees it */
  private reading: Promise<IteratorResult<Buffer>> | null = null;

  /** `head`: the lines read already; `source`: the rest, read only through this */
  constructor(
    head: Buffer[],
    private readonly source: AsyncIterator<Buffer>,
  ) {
    this.held = [...head];
  }

  /** Every line, then `end()` once the source has ended (called then, when what it says is known). */
  async *forUpload(end: () => Buffer): AsyncGenerator<Buffer> {
    yield* this.held.slice();
    while (!this.stopped) {
      const next = await this.read();
      if (next.done) {
        yield end();
        return;
      }
      yield next.value;
    }
  }

  /** The upload has the lines read so far: they are no longer held. */
  release(): void {
    this.holding = false;
    this.held = [];
  }

  /** The held lines, then the rest of the source; `forUpload` reads no more. Only before `release`. */
  async *rest(): AsyncGenerator<Buffer> {
    if (!this.holding) throw new Error('the lines were released: they cannot be given again');
    this.stopped = true;
    // a read under way holds its line before this goes on (or fails it with the source's error)
    await this.reading;
    yield* this.held;
    this.held = [];
    while (!this.ended) {
      const next = await this.source.next();
      if (next.done) return;
      yield next.value;
    }
  }

  private read(): Promise<IteratorResult<Buffer>> {
    this.reading = this.source.next().then((next) => {
      if (next.done) this.ended = true;
      else if (this.holding) this.held.push(next.value);
      return next;
    });
    return this.reading;
  }
}
