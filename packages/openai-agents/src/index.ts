export {
  CtxvaultSession,
  type CtxvaultSessionOptions,
  HISTORY_OPERATIONS_KEPT,
  HISTORY_OPERATIONS_KEY,
} from './session.ts';
