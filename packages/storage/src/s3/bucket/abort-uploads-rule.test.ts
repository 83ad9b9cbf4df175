import type { LifecycleRule } from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { ABORT_UPLOADS_RULE_ID, mergeAbortUploadsRule } from './abort-uploads-rule.ts';

const wanted = { prefix: 'contexts/', days: 7 };
const ours: LifecycleRule = {
  ID: ABORT_UPLOADS_RULE_ID,
  Status: 'Enabled',
  Filter: { Prefix: 'contexts/' },
  AbortIncompleteMultipartUpload: { DaysAfterInitiation: 7 },
};
const expireLogs: LifecycleRule = {
  ID: 'expire-logs',
  Status: 'Enabled',
  Filter: { Prefix: 'logs/' },
  Expiration: { Days: 30 },
};

describe('mergeAbortUploadsRule', () => {
  it('appends our rule after the rules already there', () => {
    expect(mergeAbortUploadsRule([], wanted)).toEqual({ rules: [ours], outcome: { change: 'added', kept: 0 } });
    expect(mergeAbortUploadsRule([expireLogs], wanted)).toEqual({
      rules: [expireLogs, ours],
      outcome: { change: 'added', kept: 1 },
    });
  });

  it('leaves our rule alone when it is as wanted', () => {
    const rules = [expireLogs, ours];
    expect(mergeAbortUploadsRule(rules, wanted)).toEqual({ rules, outcome: { change: 'none' } });
  });

  it('replaces our rule in place when its days, prefix or status differ', () => {
    for (const stale of [
      { ...ours, AbortIncompleteMultipartUpload: { DaysAfterInitiation: 3 } },
      { ...ours, Filter: { Prefix: 'old/' } },
      { ...ours, Status: 'Disabled' as const },
    ]) {
      const { rules, outcome } = mergeAbortUploadsRule([stale, expireLogs], wanted);
      expect(rules).toEqual([ours, expireLogs]);
      expect(outcome.change).toBe('updated');
    }
    expect(
      mergeAbortUploadsRule([{ ...ours, AbortIncompleteMultipartUpload: { DaysAfterInitiation: 3 } }], wanted).outcome,
    ).toEqual({
      change: 'updated',
      was: { prefix: 'contexts/', days: 3 },
    });
  });

  it('adds nothing when another enabled rule already aborts these uploads as soon', () => {
    const bucketWide: LifecycleRule = {
      ID: 'abort-all',
      Status: 'Enabled',
      Filter: {},
      AbortIncompleteMultipartUpload: { DaysAfterInitiation: 2 },
    };
    expect(mergeAbortUploadsRule([bucketWide], wanted)).toEqual({
      rules: [bucketWide],
      outcome: { change: 'covered', by: 'abort-all' },
    });
  });

  it('still adds ours when the other rule is later, disabled, elsewhere or filtered by tags', () => {
    const base: LifecycleRule = {
      ID: 'other',
      Status: 'Enabled',
      Filter: { Prefix: '' },
      AbortIncompleteMultipartUpload: { DaysAfterInitiation: 7 },
    };
    for (const other of [
      { ...base, AbortIncompleteMultipartUpload: { DaysAfterInitiation: 30 } },
      { ...base, Status: 'Disabled' as const },
      { ...base, Filter: { Prefix: 'elsewhere/' } },
      { ...base, Filter: { And: { Prefix: '', Tags: [{ Key: 'k', Value: 'v' }] } } },
    ]) {
      expect(mergeAbortUploadsRule([other], wanted)).toEqual({
        rules: [other, ours],
        outcome: { change: 'added', kept: 1 },
      });
    }
  });
});
