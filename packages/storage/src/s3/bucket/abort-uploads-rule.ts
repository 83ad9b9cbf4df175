import {
  GetBucketLifecycleConfigurationCommand,
  type LifecycleRule,
  PutBucketLifecycleConfigurationCommand,
  type TransitionDefaultMinimumObjectSize,
} from '@aws-sdk/client-s3';
import { mapS3Error } from '../map-s3-error.ts';
import { type BucketSettings, errorContext, errorName, type S3Sender } from './bucket-settings.ts';

/** The id of the bucket lifecycle rule ctxvault owns; other rules of the bucket are left as they are. */
export const ABORT_UPLOADS_RULE_ID = 'ctxvault-abort-incomplete-multipart-uploads';

export interface AbortUploadsRule {
  /** Keys the rule applies to ('' for the whole bucket). */
  prefix: string;
  /** S3 aborts a multipart upload this many days after it was started; at least 1. */
  days: number;
}

export type AbortUploadsOutcome =
  /** our rule was added beside `kept` other rules */
  | { change: 'added'; kept: number }
  /** our rule was there with other settings and was replaced */
  | { change: 'updated'; was: AbortUploadsRule }
  /** our rule was there as wanted */
  | { change: 'none' }
  /** another enabled rule already aborts these uploads as soon or sooner, so nothing was added */
  | { change: 'covered'; by: string };

/**
 * Puts `wanted` among the bucket's lifecycle rules without clobbering the others: a rule with our
 * id is replaced, an enabled rule that already aborts uploads under the prefix as soon is kept
 * instead, else ours is appended. Pure, so the merge is tested without a bucket.
 */
export function mergeAbortUploadsRule(
  rules: LifecycleRule[],
  wanted: AbortUploadsRule,
): { rules: LifecycleRule[]; outcome: AbortUploadsOutcome } {
  const ours: LifecycleRule = {
    ID: ABORT_UPLOADS_RULE_ID,
    Status: 'Enabled',
    Filter: { Prefix: wanted.prefix },
    AbortIncompleteMultipartUpload: { DaysAfterInitiation: wanted.days },
  };
  const index = rules.findIndex((rule) => rule.ID === ABORT_UPLOADS_RULE_ID);
  if (index >= 0) {
    const existing = rules[index]!;
    const was = {
      prefix: plainPrefix(existing) ?? '',
      days: existing.AbortIncompleteMultipartUpload?.DaysAfterInitiation ?? 0,
    };
    if (existing.Status === 'Enabled' && plainPrefix(existing) === wanted.prefix && was.days === wanted.days) {
      return { rules, outcome: { change: 'none' } };
    }
    return { rules: rules.with(index, ours), outcome: { change: 'updated', was } };
  }
  const covering = rules.find((rule) => covers(rule, wanted));
  if (covering) return { rules, outcome: { change: 'covered', by: covering.ID ?? '(a rule without an id)' } };
  return { rules: [...rules, ours], outcome: { change: 'added', kept: rules.length } };
}

/** Reads the bucket's lifecycle rules, merges ours in and writes them back when that changed anything. */
export async function ensureAbortUploadsRule(
  client: S3Sender,
  settings: BucketSettings,
  wanted: AbortUploadsRule,
): Promise<AbortUploadsOutcome> {
  const context = errorContext(settings);
  let current: LifecycleRule[] = [];
  let transitionDefault: TransitionDefaultMinimumObjectSize | undefined;
  try {
    const out = await client.send(new GetBucketLifecycleConfigurationCommand({ Bucket: settings.bucket }));
    current = out.Rules ?? [];
    transitionDefault = out.TransitionDefaultMinimumObjectSize;
  } catch (err) {
    if (errorName(err) !== 'NoSuchLifecycleConfiguration') throw mapS3Error(err, context);
  }
  const { rules, outcome } = mergeAbortUploadsRule(current, wanted);
  if (outcome.change === 'added' || outcome.change === 'updated') {
    try {
      await client.send(
        new PutBucketLifecycleConfigurationCommand({
          Bucket: settings.bucket,
          LifecycleConfiguration: { Rules: rules },
          TransitionDefaultMinimumObjectSize: transitionDefault,
        }),
      );
    } catch (err) {
      throw mapS3Error(err, context);
    }
  }
  return outcome;
}

/** The prefix a rule filters on, or undefined when it also filters on tags or sizes. */
function plainPrefix(rule: LifecycleRule): string | undefined {
  const filter = rule.Filter;
  if (!filter) return rule.Prefix ?? '';
  if (filter.And || filter.Tag || filter.ObjectSizeGreaterThan !== undefined || filter.ObjectSizeLessThan !== undefined)
    return undefined;
  return filter.Prefix ?? '';
}

function covers(rule: LifecycleRule, wanted: AbortUploadsRule): boolean {
  const days = rule.AbortIncompleteMultipartUpload?.DaysAfterInitiation;
  const prefix = plainPrefix(rule);
  return (
    rule.Status === 'Enabled' &&
    days !== undefined &&
    days <= wanted.days &&
    prefix !== undefined &&
    wanted.prefix.startsWith(prefix)
  );
}
