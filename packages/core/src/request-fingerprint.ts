import { createHash, type Hash } from 'node:crypto';
import type { RawItem } from './schemas.ts';

type Items = Iterable<RawItem> | AsyncIterable<RawItem>;

/**
 * The SHA-256 of what a create asked for (its fields, then its items in order), taken while the
 * items stream by, so an NDJSON body is never held to compute it. A JSON and an NDJSON request with
 * the same fields and items have the same fingerprint.
 */
export class RequestFingerprint {
  private readonly hash: Hash;

  constructor(fields: object) {
    this.hash = createHash('sha256').update(JSON.stringify(fields)).update('\n');
  }

  /** The items, hashed as they are read: an array is hashed at once and returned as it is. */
  tap<T extends Items>(items: T): T {
    if (Array.isArray(items)) {
      for (const item of items) this.add(item);
      return items;
    }
    const add = (item: RawItem) => this.add(item);
    return (async function* hashed() {
      for await (const item of items as AsyncIterable<RawItem>) {
        add(item);
        yield item;
      }
    })() as unknown as T;
  }

  /** Reads what is left of the items, then gives the digest (hex). */
  async complete(items: Items): Promise<string> {
    for await (const _ of this.tap(items)) {
      // each item is hashed as it passes
    }
    return this.digest();
  }

  digest(): string {
    return this.hash.digest('hex');
  }

  private add({ item }: RawItem): void {
    this.hash.update(JSON.stringify(item)).update('\n');
  }
}
