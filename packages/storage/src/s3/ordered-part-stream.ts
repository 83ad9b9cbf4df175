import { Readable } from 'node:stream';

/** The chunks of part `index` (0-based), in order; must stop when `signal` aborts. */
export type OpenPart = (index: number, signal: AbortSignal) => AsyncIterable<Uint8Array>;

/**
 * Emits `partCount` parts in order while fetching up to `concurrency` of them at once. The part in
 * front is passed on chunk by chunk as it arrives (the first byte does not wait for a whole part);
 * the parts behind it are held as their chunks arrive, without being copied into one buffer. A part
 * is started only when the one in front starts being emitted, so a slow consumer stops the
 * fetching and memory stays near `concurrency` parts. A failed part destroys the stream;
 * destroying the stream aborts every fetch in flight.
 */
export class OrderedPartStream extends Readable {
  readonly #partCount: number;
  readonly #openPart: OpenPart;
  readonly #concurrency: number;
  readonly #abort = new AbortController();
  readonly #inFlight: PartChunks[] = [];
  #nextToFetch = 0;
  #pumping = false;
  /** the consumer asked for more since the last push */
  #demanded = false;
  /** resolves the pump's wait for the consumer to ask for more */
  #wanted: (() => void) | undefined;

  constructor(partCount: number, openPart: OpenPart, concurrency: number) {
    super();
    this.#partCount = partCount;
    this.#openPart = openPart;
    this.#concurrency = concurrency;
  }

  override _read(): void {
    this.#demanded = true;
    const wanted = this.#wanted;
    this.#wanted = undefined;
    wanted?.();
    if (this.#pumping) return;
    this.#pumping = true;
    this.#pump().then(
      () => this.push(null),
      (err: unknown) => this.destroy(err instanceof Error ? err : new Error(String(err))),
    );
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.#abort.abort(error ?? new Error('the stream was destroyed'));
    this.#wanted?.();
    callback(error);
  }

  async #pump(): Promise<void> {
    while (this.#nextToFetch < this.#partCount || this.#inFlight.length > 0) {
      this.#fetchAhead();
      const head = this.#inFlight.shift()!;
      for await (const chunk of head.chunks()) {
        if (this.destroyed) return;
        this.#demanded = false;
        // push may ask for more at once (the consumer read it synchronously): then there is no wait
        if (!this.push(chunk) && !this.#demanded) await new Promise<void>((resolve) => (this.#wanted = resolve));
        if (this.destroyed) return;
      }
    }
  }

  #fetchAhead(): void {
    while (this.#inFlight.length < this.#concurrency && this.#nextToFetch < this.#partCount) {
      // fail fast on any part, not only when the reader reaches it
      const part = new PartChunks(this.#openPart(this.#nextToFetch, this.#abort.signal), (err) =>
        this.destroy(err instanceof Error ? err : new Error(String(err))),
      );
      this.#inFlight.push(part);
      this.#nextToFetch += 1;
    }
  }
}

/** A part read from the moment it is created, whose chunks can be taken while it still arrives. */
class PartChunks {
  readonly #held: Uint8Array[] = [];
  #ended = false;
  #error: unknown;
  #arrived: (() => void) | undefined;

  /** `onError`: reading the part failed (its consumer, if any, sees the error too) */
  constructor(source: AsyncIterable<Uint8Array>, onError: (err: unknown) => void) {
    this.#fill(source).catch(onError);
  }

  async *chunks(): AsyncGenerator<Uint8Array> {
    for (;;) {
      if (this.#held.length > 0) yield* this.#held.splice(0);
      else if (this.#error !== undefined) throw this.#error;
      else if (this.#ended) return;
      else await new Promise<void>((resolve) => (this.#arrived = resolve));
    }
  }

  async #fill(source: AsyncIterable<Uint8Array>): Promise<void> {
    try {
      for await (const chunk of source) {
        this.#held.push(chunk);
        this.#wake();
      }
      this.#ended = true;
    } catch (err) {
      this.#error = err ?? new Error('reading a part failed');
      throw err;
    } finally {
      this.#wake();
    }
  }

  #wake(): void {
    const arrived = this.#arrived;
    this.#arrived = undefined;
    arrived?.();
  }
}
