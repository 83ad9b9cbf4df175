import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { UnsealError } from '../errors/unseal-error.ts';
import { LocalMasterKeys, localKeyId } from './local-master-keys.ts';

const context = { ctxvault_context_id: 'c1' };

describe('local master keys', () => {
  it('wraps a fresh data key that only the same master and context unwrap', async () => {
    const master = randomBytes(32);
    const keys = new LocalMasterKeys(master);
    const made = await keys.generate(context);
    expect(made.masterKeyId).toBe(localKeyId(master));
    expect(made.wrapped.includes(made.plaintext)).toBe(false);
    expect(await keys.unwrap(made, context)).toEqual(made.plaintext);
    await expect(keys.unwrap(made, { ctxvault_context_id: 'c2' })).rejects.toBeInstanceOf(UnsealError);
    const tampered = Buffer.from(made.wrapped);
    tampered[20]! ^= 1;
    await expect(keys.unwrap({ ...made, wrapped: tampered }, context)).rejects.toBeInstanceOf(UnsealError);
    await expect(new LocalMasterKeys(randomBytes(32)).unwrap(made, context)).rejects.toThrow(/previous_master_keys/);
  });

  it('unwraps with a previous master after a change, and re-wraps under the current one', async () => {
    const old = randomBytes(32);
    const made = await new LocalMasterKeys(old).generate(context);
    const rotated = new LocalMasterKeys(randomBytes(32), [old]);
    const plaintext = await rotated.unwrap(made, context);
    expect(plaintext).toEqual(made.plaintext);
    const rewrapped = await rotated.wrap(plaintext, context);
    expect(rewrapped.masterKeyId).toBe(await rotated.currentId());
    expect(rewrapped.masterKeyId).not.toBe(made.masterKeyId);
    expect(await rotated.unwrap(rewrapped, context)).toEqual(made.plaintext);
  });

  it('refuses a master key that is not 32 bytes', () => {
    expect(() => new LocalMasterKeys(randomBytes(16))).toThrow(/32 bytes/);
  });
});
