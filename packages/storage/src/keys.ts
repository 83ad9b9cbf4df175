import { createHash } from 'node:crypto';
import { InvalidKeyError } from './errors/invalid-key-error.ts';
import { assertValidPrefix } from './key-rules.ts';

// Ids are UUIDs (v7 in practice); accepting nothing else keeps path tricks out of keys.
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const CODEC = /^[a-z0-9]+$/;
const OBJECT_KEY =
  /^(?:(.+)\/)?([0-9a-f]{2})\/([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\/(0|[1-9][0-9]*)(?:\.([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}))?\.json(?:\.([a-z0-9]+))?$/;

export interface ParsedObjectKey {
  prefix: string;
  id: string;
  version: number;
  /** the segment, for keys of segment objects (`segmentKey`) */
  segment?: string;
  codec?: string;
}

/** `<prefix>/<hh>/<id>/<version>.json[.<codec>]`, where hh spreads ids over S3 key partitions. */
export function objectKey(prefix: string, id: string, version: number, codec?: string): string {
  if (!Number.isSafeInteger(version) || version < 0) {
    throw new InvalidKeyError(String(version), 'a version is a non-negative integer');
  }
  if (codec !== undefined && !CODEC.test(codec)) {
    throw new InvalidKeyError(codec, 'a codec name is lower-case letters and digits');
  }
  return `${contextPrefix(prefix, id)}${version}.json${codec === undefined ? '' : `.${codec}`}`;
}

/** `<prefix>/<hh>/<id>/<version>.<segment id>.json[.<codec>]`: one segment of a context, written by that version's write or compaction. */
export function segmentKey(prefix: string, id: string, version: number, segmentId: string, codec?: string): string {
  if (!UUID.test(segmentId)) throw new InvalidKeyError(segmentId, 'a segment id is a UUID');
  return objectKey(prefix, id, version, codec).replace(/\.json/, `.${segmentId.toLowerCase()}.json`);
}

/** `<prefix>/<hh>/<id>/`: every version of one context lives below it. */
export function contextPrefix(prefix: string, id: string): string {
  assertValidPrefix(prefix);
  if (!UUID.test(id)) throw new InvalidKeyError(id, 'a context id is a UUID');
  const canonicalId = id.toLowerCase();
  const base = prefix.replace(/\/$/, '');
  return `${base === '' ? '' : `${base}/`}${shardOf(canonicalId)}/${canonicalId}/`;
}

/** The inverse of `objectKey`, or null for a key it did not make. */
export function parseObjectKey(key: string): ParsedObjectKey | null {
  const match = OBJECT_KEY.exec(key);
  if (!match) return null;
  const [, prefix = '', shard, id = '', versionText = '', segment, codec] = match;
  const version = Number(versionText);
  if (shard !== shardOf(id) || !Number.isSafeInteger(version)) return null;
  return { prefix, id, version, ...(segment !== undefined && { segment }), ...(codec !== undefined && { codec }) };
}

function shardOf(id: string): string {
  return createHash('sha256').update(id).digest('hex').slice(0, 2);
}
