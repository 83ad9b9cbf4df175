// Runs the test files longest first, so that the two workers end together: a long file that starts
// last would keep one worker busy alone while the other has nothing left. Vitest itself orders by
// the durations of the last run it remembers, which a fresh clone (CI) does not have; there
// `file-durations.json` (seconds per file, from a whole run on the 2-core machine) stands in.
// A file in neither runs first: nothing says it is short.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { BaseSequencer, type TestSpecification } from 'vitest/node';

/** Where the recorded durations are, from the root of the repository. */
const RECORDED_DURATIONS = 'test/setup/file-durations.json';

export class SlowestFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const { root } = this.ctx.config;
    const recorded: Record<string, number> = JSON.parse(readFileSync(path.join(root, RECORDED_DURATIONS), 'utf8'));
    const seconds = (spec: TestSpecification) => {
      const remembered = this.ctx.cache.getTestSpecificationResult(spec)?.duration;
      if (remembered !== undefined) return remembered / 1000;
      return recorded[path.relative(root, spec.moduleId)] ?? Number.POSITIVE_INFINITY;
    };
    return [...files].sort((a, b) => seconds(b) - seconds(a));
  }
}
