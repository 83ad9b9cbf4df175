export {
  type ConversionEnd,
  type Converted,
  convertItems,
  convertStream,
  LEADING_USER_TURN,
  UnconvertiblePartError,
} from './convert.ts';
export { FORMATS, type Format, TARGET_FORMATS, type TargetFormat } from './format.ts';
export { type AnthropicSystem, anthropicSystemSchema, normalizeAnthropicSystem } from './formats/anthropic-messages.ts';
export { CTXVAULT_ROLES, type CtxvaultItem, ctxvaultItemSchema } from './formats/ctxvault.ts';
export { type ItemIssue, itemIssues } from './issues.ts';
export {
  callIds,
  type ItemKind,
  type MediaKind,
  type NormalizedItem,
  type NormalRole,
  type Part,
  resultIds,
  textsOf,
} from './normalized.ts';
export { type FormatItem, itemSchemaOf, normalizeItem, startsWithUser, validItemSchema } from './registry.ts';
export {
  type ItemShape,
  planWindow,
  shapeOf,
  TRUNCATION_STRATEGIES,
  type TruncationPlan,
  type TruncationStrategy,
  type WindowRequest,
} from './truncation.ts';
