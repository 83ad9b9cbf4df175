import { PreconditionFailedError, ValidationError } from '@ctxvault/core';

/** An entity tag (RFC 9110 §8.8.3): its opaque string, without the quotes, and whether it is weak (`W/`). */
export interface EntityTag {
  weak: boolean;
  opaque: string;
}

/** What an `If-Match` or `If-None-Match` field names: any current representation (`*`) or these tags. */
export type TagCondition = '*' | EntityTag[];

type ConditionalField = 'if-match' | 'if-none-match';

/**
 * One list member: a quoted tag, optionally weak, or (leniently, as this API always accepted) a
 * bare version number such as `3`. The quoted form allows any visible character but `"`.
 */
const MEMBER = /(?:(W\/)?"([\x21\x23-\x7e\x80-\xff]*)"|(\d{1,15}))[ \t]*(?:,|$)/y;
const SEPARATORS = /[ \t,]*/y;

/** The condition a field states, or null when it is not `*` or a list of at least one entity tag. */
export function parseTagCondition(field: string): TagCondition | null {
  if (field.trim() === '*') return '*';
  const tags: EntityTag[] = [];
  let at = 0;
  for (;;) {
    SEPARATORS.lastIndex = at;
    SEPARATORS.exec(field);
    at = SEPARATORS.lastIndex;
    if (at === field.length) break;
    MEMBER.lastIndex = at;
    const member = MEMBER.exec(field);
    if (!member) return null;
    const [, weak, quoted, bare] = member;
    tags.push({ weak: weak !== undefined, opaque: quoted ?? bare! });
    at = MEMBER.lastIndex;
  }
  return tags.length > 0 ? tags : null;
}

/**
 * Whether a condition names the current tag. Strong comparison (If-Match) needs both tags strong
 * and equal, so a `W/` tag never matches; weak comparison (If-None-Match) only compares the opaque strings.
 */
export function conditionMatches(condition: TagCondition, current: EntityTag, comparison: 'strong' | 'weak'): boolean {
  if (condition === '*') return true;
  return condition.some(
    (tag) => tag.opaque === current.opaque && (comparison === 'weak' || (!tag.weak && !current.weak)),
  );
}

/** The ETag of a context is its version, a strong tag: each version's body never changes. */
export function versionTag(version: number): string {
  return `"${version}"`;
}

function currentTag(version: number): EntityTag {
  return { weak: false, opaque: String(version) };
}

/** The condition of a request's field, undefined when absent; an unreadable field is a 400. */
export function readCondition(field: ConditionalField, value: string | undefined): TagCondition | undefined {
  if (value === undefined) return undefined;
  const condition = parseTagCondition(value);
  if (condition) return condition;
  const name = field === 'if-match' ? 'If-Match' : 'If-None-Match';
  throw new ValidationError(`${name} must be "*" or a list of entity tags such as "3", W/"3"`, [
    { path: `header:${field}`, message: 'not an entity tag list' },
  ]);
}

/** `If-None-Match` on a read (RFC 9110 §13.1.2): true when the client's copy is current, to be answered 304. */
export function isNotModified(condition: TagCondition | undefined, version: number): boolean {
  return condition !== undefined && conditionMatches(condition, currentTag(version), 'weak');
}

/** `If-Match` on a write (RFC 9110 §13.1.1): throws 412 unless the condition names the current version. */
export function requireMatch(condition: TagCondition, version: number): void {
  if (conditionMatches(condition, currentTag(version), 'strong')) return;
  throw new PreconditionFailedError(
    `If-Match does not name the current version ${version} (as the strong tag "${version}")`,
    {
      current_version: version,
    },
  );
}
