import { CtxvaultError } from '../errors/ctxvault-error.ts';

/** The archive is not one this version can read, or is damaged: where (its line) and why. */
export class ArchiveFormatError extends CtxvaultError {
  constructor(message: string, line: number, report?: unknown) {
    super('invalid_archive', 400, `archive line ${line}: ${message}`, {
      line,
      ...(report !== undefined && { report }),
    });
  }
}
