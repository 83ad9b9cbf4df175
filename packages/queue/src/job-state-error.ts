/** An admin action asked of a job in a state that does not allow it (retry a running job, remove an active one). */
export class JobStateError extends Error {
  override name = 'JobStateError';

  constructor(
    message: string,
    readonly state: string,
  ) {
    super(message);
  }
}
