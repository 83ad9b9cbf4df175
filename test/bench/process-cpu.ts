// CPU time of processes from /proc, for the one-off profiling scripts.
import { readdirSync, readFileSync } from 'node:fs';

const TICK = 100; // USER_HZ

/** CPU seconds of a process so far, user + system, or only the system part (0 once it is gone). */
export function cpuSecs(pid: number, only?: 'system'): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((only ? 0 : Number(fields[11])) + Number(fields[12])) / TICK;
  } catch {
    return 0;
  }
}

/** The processes whose command line (arguments joined with spaces) `match`es. */
export function pidsWhere(match: (cmdline: string) => boolean): number[] {
  return readdirSync('/proc')
    .filter((p) => /^\d+$/.test(p))
    .map(Number)
    .filter((pid) => {
      try {
        return match(readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' '));
      } catch {
        return false;
      }
    });
}
