// The error a piece of work fails with, for tests that look at what exactly was thrown.

/** Runs `work` and returns what it threw; throws when it did not fail. */
export async function failureOf(work: () => Promise<unknown>): Promise<unknown> {
  try {
    await work();
  } catch (err) {
    return err;
  }
  throw new Error('expected a failure');
}
