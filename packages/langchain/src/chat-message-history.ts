// A LangChain.js chat message history kept in a ctxvault context of format `langchain`: one context
// per (agent, session), found by listing, created on the first message, appended to after.
import { type CtxvaultClient, SessionContext } from '@ctxvault/client';
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
  private readonly context: SessionContext;

  constructor({ client, agentId, sessionId, modelId }: CtxvaultChatMessageHistoryOptions) {
    super();
    this.client = client;
    this.context = new SessionContext(client, { agentId, sessionId, modelId, format: 'langchain' });
  }

  async getMessages(): Promise<BaseMessage[]> {
    const id = await this.context.find();
    if (!id) return [];
    const { content } = await this.client.get(id);
    return mapStoredMessagesToChatMessages(content as unknown as StoredMessage[]);
  }

  async addMessage(message: BaseMessage): Promise<void> {
    await this.addMessages([message]);
  }

  override async addMessages(messages: BaseMessage[]): Promise<void> {
    await this.context.add(
      mapChatMessagesToStoredMessages(messages).map((stored) => JSON.parse(JSON.stringify(stored))),
    );
  }

  override async clear(): Promise<void> {
    await this.context.clear();
  }
}
