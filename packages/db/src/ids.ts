import { randomFillSync } from 'node:crypto';
import { v7 as uuidv7 } from 'uuid';

/** Random bytes for this many ids are drawn at once (uuid's own draw is a call into the system per id). */
const IDS_PER_DRAW = 256;
let random = new Uint8Array(0);
let used = 0;
/** The millisecond and counter of the last id (uuid's monotonic state, kept here: it is uuid's only when it draws) */
const last = { msecs: Number.NEGATIVE_INFINITY, seq: 0 };

/**
 * Context ids are UUIDv7: time-ordered, so keyset pagination by id is pagination by creation. Ids
 * made in the same millisecond count up from a random start, as uuid's own `v7()` does.
 */
export function newContextId(): string {
  if (used === random.length) {
    random = randomFillSync(new Uint8Array(16 * IDS_PER_DRAW));
    used = 0;
  }
  const bytes = random.subarray(used, used + 16);
  used += 16;
  const now = Date.now();
  if (now > last.msecs) {
    last.msecs = now;
    last.seq = ((bytes[6]! & 0x7f) << 24) | (bytes[7]! << 16) | (bytes[8]! << 8) | bytes[9]!;
  } else {
    last.seq = (last.seq + 1) | 0;
    // the counter ran over: borrow the next millisecond
    if (last.seq === 0) last.msecs++;
  }
  return uuidv7({ random: bytes, msecs: last.msecs, seq: last.seq });
}
