import type { ContextItem, CreateContextRequest } from '@ctxvault/core';
import type { CtxvaultClient } from './client.ts';

/** Which context a conversation of a framework adapter lives in: one per agent, session and format. */
export interface SessionContextOptions {
  agentId: string;
  sessionId: string;
  format: NonNullable<CreateContextRequest['format']>;
  /** the model, so that tokens are counted with its tokenizer */
  modelId?: string;
}

/**
 * The context of one conversation, as the framework adapters (LangChain, OpenAI Agents, AI SDK)
 * keep it: found by listing (the newest of its agent, session and format), created on the first
 * items, appended to after; its id remembered once known.
 */
export class SessionContext {
  private id: string | null = null;

  constructor(
    private readonly client: CtxvaultClient,
    private readonly options: SessionContextOptions,
  ) {}

  /** The context's id: remembered, else the newest context of this agent, session and format; null if none. */
  async find(): Promise<string | null> {
    if (this.id) return this.id;
    const { agentId, sessionId, format } = this.options;
    const { items } = await this.client.list({ agent_id: agentId, session_id: sessionId, format, limit: 1 });
    this.id = items[0]?.id ?? null;
    return this.id;
  }

  /** Appends the items, or creates the context with them (and `metadata`) when there is none yet. */
  async add(items: ContextItem[], metadata?: Record<string, unknown>): Promise<void> {
    const id = await this.find();
    if (id) {
      await this.client.append(id, { items });
      return;
    }
    const { agentId, sessionId, format, modelId } = this.options;
    const created = await this.client.create({
      agent_id: agentId,
      session_id: sessionId,
      ...(modelId && { model_id: modelId }),
      format,
      content: items,
      ...(metadata && { metadata }),
    });
    this.id = created.state === 'stored' ? created.context.id : created.id;
  }

  /** Deletes the context, if there is one; the next items start a new one. */
  async clear(): Promise<void> {
    const id = await this.find();
    if (id) await this.client.delete(id);
    this.id = null;
  }
}
