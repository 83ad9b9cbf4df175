// Builders for the settings' leaf values. Each accepts the value as YAML gives it or as a string (which
// is how every environment variable arrives), and explains in its message what is allowed and what was given.
import { z } from 'zod';
import { durationToMs } from './duration.ts';
import { formatBytes, sizeToBytes } from './size.ts';

/** A given value as messages show it: JSON, so strings appear in quotes. */
export function describeValue(value: unknown): string {
  return JSON.stringify(value);
}

function given(input: unknown): string {
  return `got ${describeValue(input)}`;
}

export function text() {
  return z.string({ error: (issue) => `must be a string; ${given(issue.input)}` });
}

export function oneOf<const T extends readonly [string, ...string[]]>(values: T) {
  const allowed = values.map((value) => JSON.stringify(value)).join(', ');
  return z.enum(values, { error: (issue) => `must be one of ${allowed}; ${given(issue.input)}` });
}

export function integer(min: number, max: number) {
  return z.unknown().transform((input, ctx) => {
    const value = typeof input === 'string' && /^\s*-?\d+\s*$/.test(input) ? Number(input) : input;
    if (typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max) return value;
    ctx.addIssue({ code: 'custom', message: `must be an integer from ${min} to ${max}; ${given(value)}` });
    return z.NEVER;
  });
}

const FLAGS: Record<string, boolean> = { true: true, false: false, yes: true, no: false, '1': true, '0': false };

export function flag() {
  return z.unknown().transform((input, ctx) => {
    if (typeof input === 'boolean') return input;
    const value = typeof input === 'string' ? FLAGS[input.trim().toLowerCase()] : undefined;
    if (value !== undefined) return value;
    ctx.addIssue({ code: 'custom', message: `must be true or false (also yes/no, 1/0); ${given(input)}` });
    return z.NEVER;
  });
}

/** Milliseconds, from "500ms", "30s", "5m", "1h", "2d" or a bare number of ms. */
export function duration({ min = 0 } = {}) {
  return z.unknown().transform((input, ctx) => {
    const ms = typeof input === 'number' ? input : typeof input === 'string' ? durationToMs(input) : undefined;
    if (ms === undefined || !Number.isFinite(ms)) {
      ctx.addIssue({
        code: 'custom',
        message: `must be a duration like "500ms", "30s", "5m", "1h", "2d" or a number of ms; ${given(input)}`,
      });
      return z.NEVER;
    }
    if (ms < min) {
      ctx.addIssue({ code: 'custom', message: `must be at least ${min} ms; ${given(ms)}` });
      return z.NEVER;
    }
    return ms;
  });
}

export interface ByteBound {
  bytes: number;
  /** Why the bound exists, when that is not obvious. */
  reason?: string;
}

function describeBound(bound: ByteBound): string {
  const detail = [formatBytes(bound.bytes), bound.reason].filter(Boolean).join(', ');
  return `${bound.bytes} bytes (${detail})`;
}

/** Bytes, from an integer or a string like "512KiB", "5MiB", "1GiB", "10MB". */
export function byteSize({ min = { bytes: 0 }, max }: { min?: ByteBound; max?: ByteBound } = {}) {
  return z.unknown().transform((input, ctx) => {
    const bytes = typeof input === 'number' ? input : typeof input === 'string' ? sizeToBytes(input) : undefined;
    if (bytes === undefined || !Number.isSafeInteger(bytes)) {
      ctx.addIssue({ code: 'custom', message: `must be a size in bytes like 5242880 or "5MiB"; ${given(input)}` });
      return z.NEVER;
    }
    if (bytes < min.bytes) {
      ctx.addIssue({ code: 'custom', message: `must be at least ${describeBound(min)}; ${given(bytes)}` });
      return z.NEVER;
    }
    if (max && bytes > max.bytes) {
      ctx.addIssue({ code: 'custom', message: `must be at most ${describeBound(max)}; ${given(bytes)}` });
      return z.NEVER;
    }
    return bytes;
  });
}

/** A URL with one of `protocols` (e.g. "redis:"), or "" when `allowEmpty`. */
export function url(protocols: readonly string[], { allowEmpty = false } = {}) {
  const allowed = `a ${protocols.map((protocol) => `${protocol}//`).join(' or ')} URL${allowEmpty ? ' (or empty)' : ''}`;
  return text().superRefine((value, ctx) => {
    if (value === '' && allowEmpty) return;
    if (!protocols.includes(URL.parse(value)?.protocol ?? '')) {
      ctx.addIssue({ code: 'custom', message: `must be ${allowed}; ${given(value)}` });
    }
  });
}

/** One URL with one of `protocols`, or several separated by commas (seed nodes of a cluster). */
export function urlList(protocols: readonly string[]) {
  const allowed = `a ${protocols.map((protocol) => `${protocol}//`).join(' or ')} URL (or several, comma-separated)`;
  return text().superRefine((value, ctx) => {
    if (value.split(',').some((one) => !protocols.includes(URL.parse(one.trim())?.protocol ?? ''))) {
      ctx.addIssue({ code: 'custom', message: `must be ${allowed}; ${given(value)}` });
    }
  });
}

/** A relative key prefix such as "contexts" or "tenants/prod". */
export function keyPrefix() {
  return text().superRefine((value, ctx) => {
    if (!/^[A-Za-z0-9._/-]*$/.test(value) || value.startsWith('/') || value.endsWith('/') || value.includes('..')) {
      ctx.addIssue({
        code: 'custom',
        message: `must use only A-Z a-z 0-9 . _ / -, with no leading or trailing "/" and no ".."; ${given(value)}`,
      });
    }
  });
}

/** A group of settings; unknown keys in it are an error. */
export function section<T extends z.core.$ZodLooseShape>(shape: T) {
  return z.strictObject(shape, {
    error: (issue) =>
      issue.code === 'invalid_type' ? `must be a mapping of settings; ${given(issue.input)}` : undefined,
  });
}
