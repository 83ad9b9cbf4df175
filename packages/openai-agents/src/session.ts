// An OpenAI Agents SDK (JS) `Session` kept in a ctxvault context of format `openai.agents`: one
// context per agent and session id, found by listing, created on the first items, appended to after.
import { createHash } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import { ConflictError, type ContextItem, type CtxvaultClient, SessionContext } from '@ctxvault/client';
import {
  type AgentInputItem,
  applySessionHistoryMutations,
  type SessionHistoryRewriteArgs,
  type SessionHistoryRewriteAwareSession,
  type SessionHistoryTransactionArgs,
  type SessionHistoryTransactionAwareSession,
  UserError,
} from '@openai/agents';

export interface CtxvaultSessionOptions {
  client: CtxvaultClient;
  /** the agent the context belongs to */
  agentId: string;
  /** the conversation: one context per agent and session (default: a new UUID) */
  sessionId?: string;
  /** the model, so that tokens are counted with its tokenizer */
  modelId?: string;
}

/** How often a rewrite retries when another writer changed the session between its read and its write. */
const REWRITE_ATTEMPTS = 5;

/**
 * The context's metadata key under which `applyHistoryTransaction` records the operations it applied
 * (operation id → SHA-256 of the transaction), written in the same version as the change.
 */
export const HISTORY_OPERATIONS_KEY = 'openai_agents_history_operations';
/** how many applied operations are remembered (the oldest are forgotten first) */
export const HISTORY_OPERATIONS_KEPT = 100;

/**
 * The SDK's `Session`, with its optional history rewrites: `applyHistoryMutations`,
 * `applyHistoryTransaction` and `replaceHistoryWithCompaction` each write one new version of the
 * context (the history before stays readable as an older version while the lifecycle keeps it).
 */
export class CtxvaultSession implements SessionHistoryRewriteAwareSession, SessionHistoryTransactionAwareSession {
  private readonly client: CtxvaultClient;
  private readonly sessionId: string;
  private readonly context: SessionContext;

  constructor({ client, agentId, sessionId, modelId }: CtxvaultSessionOptions) {
    this.client = client;
    this.sessionId = sessionId ?? crypto.randomUUID();
    this.context = new SessionContext(client, { agentId, sessionId: this.sessionId, modelId, format: 'openai.agents' });
  }

  async getSessionId(): Promise<string> {
    return this.sessionId;
  }

  /**
   * The session's items, oldest first; with `limit`, at most the `limit` most recent, starting where
   * no tool result is returned without the call it answers (ctxvault's `last=N` boundary).
   */
  async getItems(limit?: number): Promise<AgentInputItem[]> {
    if (limit !== undefined && limit <= 0) return [];
    const id = await this.context.find();
    if (!id) return [];
    if (limit === undefined) return (await this.client.get(id)).content as unknown as AgentInputItem[];
    const { content, window } = await this.client.get(id, { last: limit });
    // `last` keeps the system items before the window too, and moves the window's start past a call
    // whose result it would cut (boundary_dropped): the session answers only the window
    const total = content.length + (window?.dropped ?? 0);
    const tail = Math.min(limit, total) - (window?.boundary_dropped ?? 0);
    return (tail > 0 ? content.slice(-tail) : []) as unknown as AgentInputItem[];
  }

  async addItems(items: AgentInputItem[]): Promise<void> {
    if (items.length > 0) await this.context.add(items.map(storable));
  }

  /** Removes the newest item (a new version without it, written only if no one wrote in between). */
  async popItem(): Promise<AgentInputItem | undefined> {
    return this.rewrite((items) => {
      const last = items.at(-1);
      return last === undefined ? undefined : { items: items.slice(0, -1), answer: last };
    });
  }

  /** Applies the runner's mutations (a function call replaced by call id) as the SDK's own helper does. */
  async applyHistoryMutations({ mutations }: SessionHistoryRewriteArgs): Promise<void> {
    if (mutations.length === 0) return;
    await this.rewrite((items) => ({ items: applySessionHistoryMutations(items, mutations), answer: undefined }));
  }

  /**
   * Applies the runner's history transaction (append items, or replace a suffix the history must
   * still end with) at most once per operation id, as the SDK's MemorySession does: the new history
   * and the operation id are one write (a version whose metadata records the operation under
   * {@link HISTORY_OPERATIONS_KEY}), made only if no one wrote in between. The same id again with
   * the same transaction does nothing; with another one, or a suffix that no longer matches, it
   * throws the SDK's `UserError` and changes nothing. The last {@link HISTORY_OPERATIONS_KEPT}
   * operations are remembered.
   */
  async applyHistoryTransaction({ operationId, transaction }: SessionHistoryTransactionArgs): Promise<void> {
    if (typeof operationId !== 'string' || !operationId.trim()) {
      throw new UserError('Session history transaction operationId must be a non-empty string.');
    }
    const stored = {
      ...transaction,
      ...('items' in transaction && { items: transaction.items.map(storable) }),
      ...('expectedSuffix' in transaction && {
        expectedSuffix: transaction.expectedSuffix.map(storable),
        replacement: transaction.replacement.map(storable),
      }),
    } as { type: string; items?: ContextItem[]; expectedSuffix?: ContextItem[]; replacement?: ContextItem[] };
    if (stored.type !== 'append_items' && stored.type !== 'replace_suffix') {
      throw new UserError('Unsupported session history transaction type.');
    }
    const digest = createHash('sha256').update(canonicalJson(stored)).digest('hex');
    const id = await this.context.find();
    if (!id) {
      if (stored.type === 'replace_suffix' && stored.expectedSuffix!.length > 0) throw suffixMismatch();
      const items = stored.items ?? stored.replacement!;
      await this.context.add(items, { [HISTORY_OPERATIONS_KEY]: { [operationId]: digest } });
      return;
    }
    for (let attempt = 1; ; attempt++) {
      const { content, version, metadata } = await this.client.get(id);
      const applied = operationsOf(metadata);
      if (applied[operationId] !== undefined) {
        if (applied[operationId] !== digest) {
          throw new UserError('Session history operation was already applied with a different transaction.');
        }
        return;
      }
      let items: ContextItem[];
      if (stored.type === 'append_items') {
        items = [...content, ...stored.items!];
      } else {
        const start = content.length - stored.expectedSuffix!.length;
        if (start < 0 || !isDeepStrictEqual(content.slice(start), stored.expectedSuffix)) throw suffixMismatch();
        items = [...content.slice(0, start), ...stored.replacement!];
      }
      const kept = Object.entries(applied).slice(-(HISTORY_OPERATIONS_KEPT - 1));
      const operations = Object.fromEntries([...kept, [operationId, digest]]);
      try {
        await this.client.replace(
          id,
          { content: items, metadata: { ...metadata, [HISTORY_OPERATIONS_KEY]: operations } },
          { ifVersion: version },
        );
        return;
      } catch (err) {
        if (!(err instanceof ConflictError) || attempt >= REWRITE_ATTEMPTS) throw err;
      }
    }
  }

  /**
   * Replaces the history with a compaction item and the items kept after it, in one write (no
   * clear-then-add window in which the session is empty).
   */
  async replaceHistoryWithCompaction(items: AgentInputItem[]): Promise<void> {
    const id = await this.context.find();
    if (!id) return this.addItems(items);
    await this.client.replace(id, { content: items.map(storable) });
  }

  /**
   * Reads the history, lets `change` say the new one (or nothing to do), and writes it only if no one
   * wrote in between, rereading on a conflict.
   */
  private async rewrite<T>(
    change: (items: AgentInputItem[]) => { items: AgentInputItem[]; answer: T } | undefined,
  ): Promise<T | undefined> {
    const id = await this.context.find();
    if (!id) return undefined;
    for (let attempt = 1; ; attempt++) {
      const { content, version } = await this.client.get(id);
      const changed = change(content as unknown as AgentInputItem[]);
      if (!changed) return undefined;
      try {
        await this.client.replace(id, { content: changed.items.map(storable) }, { ifVersion: version });
        return changed.answer;
      } catch (err) {
        if (!(err instanceof ConflictError) || attempt >= REWRITE_ATTEMPTS) throw err;
      }
    }
  }

  async clearSession(): Promise<void> {
    await this.context.clear();
  }
}

/** An item as JSON carries it: raw bytes the SDK allows (a Uint8Array image or file) become base64. */
function storable(item: AgentInputItem): ContextItem {
  return JSON.parse(
    JSON.stringify(item, (_key, value: unknown) =>
      value instanceof Uint8Array ? Buffer.from(value).toString('base64') : value,
    ),
  ) as ContextItem;
}

function suffixMismatch(): UserError {
  return new UserError('Session history suffix no longer matches the transaction precondition.');
}

/** the operations a version's metadata records as applied (operation id → digest of the transaction) */
function operationsOf(metadata: Record<string, unknown> | undefined): Record<string, string> {
  const recorded = metadata?.[HISTORY_OPERATIONS_KEY];
  return recorded && typeof recorded === 'object' && !Array.isArray(recorded)
    ? (recorded as Record<string, string>)
    : {};
}

/** JSON with each object's keys sorted, so equal transactions digest alike whatever their key order */
function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, inner: unknown) =>
    inner && typeof inner === 'object' && !Array.isArray(inner)
      ? Object.fromEntries(Object.entries(inner).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : inner,
  );
}
