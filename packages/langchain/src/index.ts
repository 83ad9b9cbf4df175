export { CtxvaultChatMessageHistory, type CtxvaultChatMessageHistoryOptions } from './chat-message-history.ts';
