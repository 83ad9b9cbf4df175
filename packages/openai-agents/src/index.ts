export { CtxvaultSession, type CtxvaultSessionOptions } from './session.ts';
