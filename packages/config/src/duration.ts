const MS_PER_UNIT: Record<string, number> = {
  ms: 1,
  s: 1_000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
};

const DURATION = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?$/;

/** Milliseconds in `text` ("500ms", "30s", "5m", "1h", "2d"; a bare number is ms), or undefined. */
export function durationToMs(text: string): number | undefined {
  const match = DURATION.exec(text.trim());
  if (!match) return undefined;
  const [, amount, unit = 'ms'] = match;
  return Math.round(Number(amount) * MS_PER_UNIT[unit]!);
}

/** Parses a duration such as "30s" or "500ms" into milliseconds; throws a RangeError on anything else. */
export function parseDuration(text: string): number {
  const ms = durationToMs(text);
  if (ms === undefined) {
    throw new RangeError(`not a duration: ${JSON.stringify(text)} (expected e.g. "500ms", "30s", "5m", "1h", "2d")`);
  }
  return ms;
}
