import { printJson } from './client-options.ts';

/**
 * A page of a list command (`ls`, `versions`): as JSON with `--json`, else a table of `header` and
 * one `row` an item, columns padded to their widest cell, ending with the cursor of the next page.
 */
export function printPage<T>(
  page: { items: T[]; next_cursor: string | null },
  json: boolean | undefined,
  header: string[],
  row: (item: T) => string[],
): void {
  if (json) {
    printJson(page);
    return;
  }
  const rows = page.items.map(row);
  const widths = header.map((title, i) => Math.max(title.length, ...rows.map((r) => r[i]!.length)));
  for (const cells of [header, ...rows])
    process.stdout.write(
      `${cells
        .map((cell, i) => cell.padEnd(widths[i]!))
        .join('  ')
        .trimEnd()}\n`,
    );
  if (page.next_cursor) process.stdout.write(`next page: --cursor ${page.next_cursor}\n`);
}
