import { Readable } from 'node:stream';

/** Fetches part `index` (0-based) completely; must stop when `signal` aborts. */
export type FetchPart = (index: number, signal: AbortSignal) => Promise<Uint8Array>;

/**
 * Emits `partCount` parts in order while fetching up to `concurrency` of them at once. A part is
 * fetched only when the consumer asks for more, so a slow consumer stops the fetching and memory
 * stays near `concurrency` parts. A failed part destroys the stream; destroying the stream aborts
 * every fetch in flight.
 */
export class OrderedPartStream extends Readable {
  readonly #partCount: number;
  readonly #fetchPart: FetchPart;
  readonly #concurrency: number;
  readonly #abort = new AbortController();
  readonly #inFlight: Array<Promise<Uint8Array>> = [];
  #nextToFetch = 0;
  #awaitingHead = false;

  constructor(partCount: number, fetchPart: FetchPart, concurrency: number) {
    super();
    this.#partCount = partCount;
    this.#fetchPart = fetchPart;
    this.#concurrency = concurrency;
  }

  override _read(): void {
    if (this.#awaitingHead) return;
    this.#fetchAhead();
    const head = this.#inFlight.shift();
    if (!head) {
      this.push(null);
      return;
    }
    this.#awaitingHead = true;
    head.then(
      (bytes) => {
        this.#awaitingHead = false;
        if (!this.destroyed) this.push(bytes);
      },
      () => {
        // Already handled where the fetch started.
      },
    );
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.#abort.abort(error ?? new Error('the stream was destroyed'));
    callback(error);
  }

  #fetchAhead(): void {
    while (this.#inFlight.length < this.#concurrency && this.#nextToFetch < this.#partCount) {
      const fetching = this.#fetchPart(this.#nextToFetch, this.#abort.signal);
      // Fail fast on any part, not only when the reader reaches it.
      fetching.catch((err: unknown) => this.destroy(err instanceof Error ? err : new Error(String(err))));
      this.#inFlight.push(fetching);
      this.#nextToFetch += 1;
    }
  }
}
