const BYTES_PER_UNIT: Record<string, number> = {
  B: 1,
  KB: 1e3,
  MB: 1e6,
  GB: 1e9,
  TB: 1e12,
  KiB: 2 ** 10,
  MiB: 2 ** 20,
  GiB: 2 ** 30,
  TiB: 2 ** 40,
};

const SIZE = /^(\d+(?:\.\d+)?)\s*(B|[KMGT]i?B)?$/;

/** Bytes in `text` ("5242880", "512KiB", "5MiB", "1GiB", "10MB"), or undefined. */
export function sizeToBytes(text: string): number | undefined {
  const match = SIZE.exec(text.trim());
  if (!match) return undefined;
  const [, amount, unit = 'B'] = match;
  return Math.round(Number(amount) * BYTES_PER_UNIT[unit]!);
}

/** Parses a size such as "5MiB" or "5242880" into bytes; throws a RangeError on anything else. */
export function parseSize(text: string): number {
  const bytes = sizeToBytes(text);
  if (bytes === undefined) {
    throw new RangeError(`not a size: ${JSON.stringify(text)} (expected e.g. "5242880", "512KiB", "5MiB", "1GiB")`);
  }
  return bytes;
}

const BINARY_UNITS = ['TiB', 'GiB', 'MiB', 'KiB'] as const;

/** In the largest binary unit that keeps it to two decimals: 5242880 → "5 MiB", 1536 → "1.5 KiB", 1000 → "1000 B". */
export function formatBytes(bytes: number): string {
  for (const unit of BINARY_UNITS) {
    const amount = bytes / BYTES_PER_UNIT[unit]!;
    if (amount >= 1 && Number.isInteger(amount * 100)) return `${amount} ${unit}`;
  }
  return `${bytes} B`;
}
