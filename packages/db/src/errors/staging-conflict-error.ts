/** Another write is staging the same version of the same context right now (two racing writes). */
export class StagingConflictError extends Error {
  constructor(
    readonly contextId: string,
    readonly version: number,
  ) {
    super(`version ${version} of context ${contextId} is being written by another request`);
    this.name = 'StagingConflictError';
  }
}
