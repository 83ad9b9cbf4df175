export { CtxvaultError } from './ctxvault-error.ts';
export { NotFoundError } from './not-found-error.ts';
export { PayloadTooLargeError } from './payload-too-large-error.ts';
export { PreconditionFailedError } from './precondition-failed-error.ts';
export { UnauthorizedError } from './unauthorized-error.ts';
export { UnsupportedMediaTypeError } from './unsupported-media-type-error.ts';
export { ValidationError } from './validation-error.ts';
export { VersionConflictError } from './version-conflict-error.ts';
