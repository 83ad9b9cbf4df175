import type { RoleTally } from '@ctxvault/db';

// The per-item index of a segment, kept beside its items: byte offsets (float64 little-endian),
// token counts (u32 little-endian) and role codes (one byte, segment-format.ts).

export function u32s(values: readonly number[]): Buffer {
  const out = Buffer.allocUnsafe(values.length * 4);
  for (const [i, v] of values.entries()) out.writeUInt32LE(Math.min(v, 0xffffffff), i * 4);
  return out;
}

export function f64s(values: readonly number[]): Buffer {
  const out = Buffer.allocUnsafe(values.length * 8);
  for (const [i, v] of values.entries()) out.writeDoubleLE(v, i * 8);
  return out;
}

export function readU32s(buf: Buffer): number[] {
  const out: number[] = [];
  for (let i = 0; i + 4 <= buf.length; i += 4) out.push(buf.readUInt32LE(i));
  return out;
}

export function readF64s(buf: Buffer): number[] {
  const out: number[] = [];
  for (let i = 0; i + 8 <= buf.length; i += 8) out.push(buf.readDoubleLE(i));
  return out;
}

/** The tally of `role`, started at zero when it is the first of its role. */
export function tallyOf(roles: Record<string, RoleTally>, role: string): RoleTally {
  let tally = roles[role];
  if (!tally) {
    tally = { items: 0, tokens: 0 };
    roles[role] = tally;
  }
  return tally;
}
