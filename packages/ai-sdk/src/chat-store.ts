// Persistence of AI SDK `useChat` conversations in ctxvault: each chat is a context of format
// `ai-sdk.ui` (its id the context's session), loaded before a request and saved from `onFinish`.
import { type CtxvaultClient, SessionContext } from '@ctxvault/client';
import type { UIMessage } from 'ai';

export interface CtxvaultChatStoreOptions {
  client: CtxvaultClient;
  /** the agent (app) the chats belong to */
  agentId: string;
  /** the model, so that tokens are counted with its tokenizer */
  modelId?: string;
}

export class CtxvaultChatStore {
  private readonly client: CtxvaultClient;
  private readonly agentId: string;
  private readonly modelId: string | undefined;

  constructor({ client, agentId, modelId }: CtxvaultChatStoreOptions) {
    this.client = client;
    this.agentId = agentId;
    this.modelId = modelId;
  }

  /** The chat's messages, oldest first; none for a chat never saved. */
  async loadChat<M extends UIMessage = UIMessage>(chatId: string): Promise<M[]> {
    const id = await this.contextOf(chatId);
    if (!id) return [];
    return (await this.client.get(id)).content as unknown as M[];
  }

  /**
   * Saves the chat's whole list of messages (what `onFinish` gives): only the new ones are appended
   * when the stored messages are a prefix of it (the usual turn), else the list replaces them (a
   * regenerated or edited message).
   */
  async saveChat({ chatId, messages }: { chatId: string; messages: readonly UIMessage[] }): Promise<void> {
    const items = messages.map((message) => JSON.parse(JSON.stringify(message)) as Record<string, unknown>);
    const id = await this.contextOf(chatId);
    if (!id) {
      await this.client.create({
        agent_id: this.agentId,
        session_id: chatId,
        ...(this.modelId && { model_id: this.modelId }),
        format: 'ai-sdk.ui',
        content: items,
      });
      return;
    }
    const { content: stored, version } = await this.client.get(id);
    const prefix =
      stored.length <= items.length && stored.every((m, i) => JSON.stringify(m) === JSON.stringify(items[i]));
    // If-Match: a concurrent save of the same chat fails rather than interleaving
    if (!prefix) await this.client.replace(id, { content: items }, { ifVersion: version });
    else if (items.length > stored.length)
      await this.client.append(id, { items: items.slice(stored.length) }, { ifVersion: version });
  }

  /** The chat's context: the newest `ai-sdk.ui` context of this agent with the chat id as session. */
  private contextOf(chatId: string): Promise<string | null> {
    return new SessionContext(this.client, { agentId: this.agentId, sessionId: chatId, format: 'ai-sdk.ui' }).find();
  }
}
