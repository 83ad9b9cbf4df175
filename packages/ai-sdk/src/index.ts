export { CtxvaultChatStore, type CtxvaultChatStoreOptions } from './chat-store.ts';
