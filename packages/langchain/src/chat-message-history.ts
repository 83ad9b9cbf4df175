// A LangChain.js chat message history kept in a ctxvault context of format `langchain`: one context
// per (agent, session), found by listing, created on the first message, appended to after.
import type { CtxvaultClient } from '@ctxvault/client';
import { BaseListChatMessageHistory } from '@langchain/core/chat_history';
import {
  type BaseMessage,
  mapChatMessagesToStoredMessages,
  mapStoredMessagesToChatMessages,
  type StoredMessage,
} from '@langchain/core/messages';

export interface CtxvaultChatMessageHistoryOptions {
  client: CtxvaultClient;
  /** the agent the context belongs to */
  agentId: string;
  /** the conversation: one context per agent and session */
  sessionId: string;
  /** the model, so that tokens are counted with its tokenizer */
  modelId?: string;
}

export class CtxvaultChatMessageHistory extends BaseListChatMessageHistory {
  lc_namespace = ['ctxvault', 'langchain', 'stores', 'message'];

  private readonly client: CtxvaultClient;
  private readonly agentId: string;
  private readonly sessionId: string;
  private readonly modelId: string | undefined;
  /** the context's id once found or created */
  private contextId: string | null = null;

  constructor({ client, agentId, sessionId, modelId }: CtxvaultChatMessageHistoryOptions) {
    super();
    this.client = client;
    this.agentId = agentId;
    this.sessionId = sessionId;
    this.modelId = modelId;
  }

  async getMessages(): Promise<BaseMessage[]> {
    const id = await this.findContext();
    if (!id) return [];
    const { content } = await this.client.get(id);
    return mapStoredMessagesToChatMessages(content as unknown as StoredMessage[]);
  }

  async addMessage(message: BaseMessage): Promise<void> {
    await this.addMessages([message]);
  }

  override async addMessages(messages: BaseMessage[]): Promise<void> {
    const items = mapChatMessagesToStoredMessages(messages).map((stored) => JSON.parse(JSON.stringify(stored)));
    const id = await this.findContext();
    if (id) {
      await this.client.append(id, { items });
      return;
    }
    const created = await this.client.create({
      agent_id: this.agentId,
      session_id: this.sessionId,
      ...(this.modelId && { model_id: this.modelId }),
      format: 'langchain',
      content: items,
    });
    this.contextId = created.state === 'stored' ? created.context.id : created.id;
  }

  override async clear(): Promise<void> {
    const id = await this.findContext();
    if (id) await this.client.delete(id);
    this.contextId = null;
  }

  /** The session's context: remembered, else the newest `langchain` context of this agent and session. */
  private async findContext(): Promise<string | null> {
    if (this.contextId) return this.contextId;
    const { items } = await this.client.list({
      agent_id: this.agentId,
      session_id: this.sessionId,
      format: 'langchain',
      limit: 1,
    });
    this.contextId = items[0]?.id ?? null;
    return this.contextId;
  }
}
