import type { ObjectInfo, WrappedKey } from '@ctxvault/storage';
import type { DataKey, Keyring } from '../envelope/keyring.ts';
import { SEALED_OBJECT } from '../segment-objects.ts';

/** Whether an object's metadata says it is sealed (docs/storage-model.md, "Encryption at rest"). */
export function isSealed(head: ObjectInfo): boolean {
  return head.metadata.encryption === SEALED_OBJECT;
}

/** A context's data key recovered from its objects: in the clear, and as one object carried it. */
export interface FoundKey extends DataKey {
  found: WrappedKey;
}

/**
 * The data key of a context's sealed objects, unwrapped from the wrap one of them carries: first a
 * wrap by the current master key (objects written after a rotation), then the older ones (objects
 * keep the wrap of when they were written; `encryption.previous_master_keys` opens those). Throws
 * an Error saying why when none opens.
 */
export async function recoverDataKey(
  keyring: Keyring | undefined,
  contextId: string,
  sealed: readonly ObjectInfo[],
): Promise<FoundKey> {
  if (!keyring) {
    throw new Error('its objects are sealed (envelope encryption), but no master key is configured (encryption.*)');
  }
  const ids = new Set(sealed.map((h) => h.metadata['data-key-id']));
  if (ids.size !== 1 || !sealed[0]!.metadata['data-key-id']) {
    throw new Error(
      `its sealed objects name ${ids.size === 1 ? 'no' : 'different'} data keys (${[...ids].join(', ')})`,
    );
  }
  const id = sealed[0]!.metadata['data-key-id']!;
  const current = await keyring.master.currentId();
  const wraps = new Map<string, WrappedKey>();
  for (const head of sealed) {
    const masterKeyId = head.metadata['master-key-id'];
    const wrapped = head.metadata['wrapped-key'];
    if (masterKeyId && wrapped)
      wraps.set(`${masterKeyId} ${wrapped}`, { masterKeyId, wrapped: Buffer.from(wrapped, 'base64') });
  }
  const ordered = [...wraps.values()].sort(
    (a, b) => Number(b.masterKeyId === current) - Number(a.masterKeyId === current),
  );
  if (ordered.length === 0) throw new Error(`its sealed objects carry no wrapped data key (data key ${id})`);
  const reasons: string[] = [];
  for (const found of ordered) {
    try {
      return { id, key: await keyring.unwrapFound(contextId, found), found };
    } catch (err) {
      reasons.push(err instanceof Error ? err.message : String(err));
    }
  }
  throw new Error(`data key ${id} of its sealed objects does not open: ${[...new Set(reasons)].join('; ')}`);
}
