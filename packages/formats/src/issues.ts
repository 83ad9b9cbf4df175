import type { z } from 'zod';

export interface ItemIssue {
  path: (string | number)[];
  message: string;
}

/**
 * The issues of a failed item parse, with unions resolved to the branch that matched furthest: an
 * Anthropic `tool_result` block without `tool_use_id` is reported at `content.0.tool_use_id`, not as
 * "content matches no type"; a branch whose `type` matched wins over deeper ones that did not.
 */
export function itemIssues(error: z.ZodError): ItemIssue[] {
  return error.issues.flatMap((issue) => resolved(issue as Issue, []));
}

interface Issue {
  code: string;
  path: PropertyKey[];
  message: string;
  errors?: Issue[][];
}

function resolved(issue: Issue, base: (string | number)[]): ItemIssue[] {
  const path = [...base, ...issue.path.map((key) => (typeof key === 'number' ? key : String(key)))];
  if (issue.code !== 'invalid_union' || !issue.errors?.length) return [{ path, message: issue.message }];
  const depth = (branch: Issue[]) =>
    Math.max(...branch.map((i) => i.path.length + (i.code === 'invalid_union' ? 1 : 0)));
  // a branch whose `type` matched is the item's kind: its issues say what is wrong, however shallow
  const typed = issue.errors.filter((branch) => !branch.some((i) => i.path.length === 1 && i.path[0] === 'type'));
  const best = (typed.length > 0 ? typed : issue.errors).reduce((a, b) => (depth(b) > depth(a) ? b : a));
  if (depth(best) === 0) return [{ path, message: issue.message }];
  return best.flatMap((inner) => resolved(inner, path));
}
