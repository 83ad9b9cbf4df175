// The production build (`tsc -b tsconfig.build.json`, incremental: a second run with nothing changed
// takes about a second), which the end-to-end suites run: they start `node apps/cli/dist/main.js`,
// what ships, not the sources.
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
/** the built `ctxvault` CLI */
export const CLI_MAIN = path.join(ROOT, 'apps/cli/dist/main.js');

export function buildDist(): void {
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  execFileSync(process.execPath, [tsc, '-b', 'tsconfig.build.json'], { cwd: ROOT, stdio: 'inherit' });
}
