import { describe, expect, it } from 'vitest';
import { formatBytes, parseSize } from './size.ts';

describe('parseSize', () => {
  it.each([
    ['5242880', 5_242_880],
    ['512KiB', 524_288],
    ['5MiB', 5_242_880],
    ['64MiB', 67_108_864],
    ['1GiB', 1_073_741_824],
    ['10MB', 10_000_000],
    ['1.5 KiB', 1_536],
    ['100B', 100],
  ])('reads %j as %d bytes', (text, bytes) => {
    expect(parseSize(text)).toBe(bytes);
  });

  it.each(['', 'big', '5 megs', '-1', '5mib', '1e6'])('refuses %j', (text) => {
    expect(() => parseSize(text)).toThrow(RangeError);
  });
});

describe('formatBytes', () => {
  it.each([
    [5_242_880, '5 MiB'],
    [5 * 2 ** 30, '5 GiB'],
    [65_536, '64 KiB'],
    [1_536, '1.5 KiB'],
    [1_000, '1000 B'],
    [0, '0 B'],
  ])('writes %d as %j', (bytes, text) => {
    expect(formatBytes(bytes)).toBe(text);
  });
});
