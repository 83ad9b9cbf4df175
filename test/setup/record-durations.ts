// Writes test/setup/file-durations.json, the seconds per test file that the run order falls back on
// (test/setup/slowest-first.ts), from vitest's memory of its last run. Run it after a whole run on
// the 2-core machine: `pnpm exec tsx test/setup/record-durations.ts`.
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { ROOT } from '../helpers/build.ts';

interface VitestResults {
  projects: Record<string, { files: Record<string, { duration: number }> }>;
}

const cacheDir = path.join(ROOT, 'node_modules/.vite/vitest');
const seconds: Record<string, number> = {};
for (const dir of readdirSync(cacheDir)) {
  const results: VitestResults = JSON.parse(readFileSync(path.join(cacheDir, dir, 'results.json'), 'utf8'));
  for (const { files } of Object.values(results.projects)) {
    for (const [file, { duration }] of Object.entries(files)) seconds[file] = Math.round(duration / 100) / 10;
  }
}
const sorted = Object.fromEntries(Object.entries(seconds).sort(([a], [b]) => a.localeCompare(b)));
writeFileSync(path.join(ROOT, 'test/setup/file-durations.json'), `${JSON.stringify(sorted, null, 2)}\n`);
console.info(`${Object.keys(sorted).length} files recorded`);
