/** The master key service (AWS KMS) could not be reached or refused the call: a dependency failing, not the data. */
export class KeyServiceError extends Error {
  override name = 'KeyServiceError';
}
