/** A tier shared by every API process (Redis), for small bodies. */
export interface SharedBodyCache {
  get(key: string): Promise<Buffer | null>;
  set(key: string, body: Buffer): Promise<void>;
}

export interface BodyCacheOptions {
  /** byte budget of the in-process tier; 0 turns the cache off */
  maxBytes: number;
  /** larger bodies are never cached in process (one huge context must not evict all the others) */
  maxItemBytes: number;
  /** the shared tier and the largest body it takes */
  shared?: { cache: SharedBodyCache; maxItemBytes: number };
}

/** A fetch this caller owns: `done` with the whole body (cached, and handed to waiters) or nothing (gave up). */
export interface BodyFetch {
  /** the first call counts; later ones are ignored */
  done(body: Buffer | undefined): Promise<void>;
}

export interface BodyCacheStats {
  memory_hits: number;
  shared_hits: number;
  misses: number;
  entries: number;
  bytes: number;
}

/**
 * Stored bodies of hot contexts, keyed by (id, version): a new version has a new key, so an update
 * can never be answered with stale data, and nothing needs invalidating. In-process LRU with a byte
 * budget, optionally backed by a shared tier for small bodies.
 */
export class BodyCache {
  private readonly entries = new Map<string, Buffer>();
  private bytes = 0;
  private readonly counts = { memory_hits: 0, shared_hits: 0, misses: 0 };
  /** bodies being fetched after a miss, so concurrent misses for one body share that fetch */
  private readonly fetching = new Map<string, Promise<Buffer | undefined>>();

  constructor(private readonly options: BodyCacheOptions) {}

  /** Whether a body of this size is worth teeing into the cache while it is read. */
  accepts(size: number): boolean {
    return size <= Math.max(this.inProcessLimit(), this.options.shared?.maxItemBytes ?? 0);
  }

  /** Whether this process holds the body (a hint: it may be evicted before it is asked for). */
  holds(id: string, version: number): boolean {
    return this.entries.has(cacheKey(id, version));
  }

  async get(id: string, version: number): Promise<Buffer | undefined> {
    const key = cacheKey(id, version);
    const hit = this.entries.get(key);
    if (hit) {
      // re-insert: Map order is recency order
      this.entries.delete(key);
      this.entries.set(key, hit);
      this.counts.memory_hits++;
      return hit;
    }
    const shared = await this.options.shared?.cache.get(key).catch(() => null);
    if (shared) {
      this.counts.shared_hits++;
      this.remember(key, shared);
      return shared;
    }
    this.counts.misses++;
    return undefined;
  }

  /**
   * The body when it is cached or another read is fetching it (then its result); otherwise the
   * caller fetches it and must settle the returned `fetch`, which releases the reads waiting on it.
   */
  async getOrClaim(id: string, version: number): Promise<{ body: Buffer } | { fetch: BodyFetch }> {
    const cached = await this.get(id, version);
    if (cached) return { body: cached };
    const key = cacheKey(id, version);
    const inFlight = this.fetching.get(key);
    const fetched = inFlight && (await inFlight);
    if (fetched) return { body: fetched };
    // a fetch may have finished while we looked in the shared tier: it left the body in memory
    const late = this.entries.get(key);
    if (late) return { body: late };
    let settle!: (body: Buffer | undefined) => void;
    this.fetching.set(key, new Promise((resolve) => (settle = resolve)));
    let settled = false;
    return {
      fetch: {
        done: async (body) => {
          if (settled) return;
          settled = true;
          this.fetching.delete(key);
          settle(body);
          if (body) await this.put(id, version, body);
        },
      },
    };
  }

  async put(id: string, version: number, body: Buffer): Promise<void> {
    const key = cacheKey(id, version);
    this.remember(key, body);
    const shared = this.options.shared;
    if (shared && body.length <= shared.maxItemBytes) await shared.cache.set(key, body).catch(() => {});
  }

  stats(): BodyCacheStats {
    return { ...this.counts, entries: this.entries.size, bytes: this.bytes };
  }

  private inProcessLimit(): number {
    return this.options.maxBytes > 0 ? this.options.maxItemBytes : 0;
  }

  private remember(key: string, body: Buffer): void {
    if (body.length > this.inProcessLimit() || this.entries.has(key)) return;
    this.entries.set(key, body);
    this.bytes += body.length;
    for (const [oldest, value] of this.entries) {
      if (this.bytes <= this.options.maxBytes) break;
      this.entries.delete(oldest);
      this.bytes -= value.length;
    }
  }
}

function cacheKey(id: string, version: number): string {
  return `${id}:${version}`;
}
