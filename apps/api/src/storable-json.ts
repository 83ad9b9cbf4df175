/** How deep request JSON may nest; the metadata and content parts of real agents stay far below it. */
export const MAX_JSON_DEPTH = 64;

export interface UnstorableValue {
  /** dot-separated, as in ValidationError details */
  path: string;
  message: string;
}

/**
 * The first place in a parsed request value that PostgreSQL (text, jsonb) cannot hold, or that
 * would overflow the stack of a recursive serializer: a string or key with NUL (U+0000) or a lone
 * surrogate, or nesting deeper than MAX_JSON_DEPTH. Null when there is none.
 */
export function findUnstorable(value: unknown): UnstorableValue | null {
  const path: string[] = [];
  const visit = (node: unknown, depth: number): UnstorableValue | null => {
    if (typeof node === 'string') return textProblem(node, path, 'text');
    if (typeof node !== 'object' || node === null) return null;
    if (depth >= MAX_JSON_DEPTH)
      return { path: path.join('.'), message: `is nested deeper than ${MAX_JSON_DEPTH} levels` };
    for (const [key, child] of Object.entries(node)) {
      path.push(key);
      const found = (!Array.isArray(node) && textProblem(key, path, 'key')) || visit(child, depth + 1);
      if (found) return found;
      path.pop();
    }
    return null;
  };
  return visit(value, 0);
}

function textProblem(text: string, path: string[], what: 'text' | 'key'): UnstorableValue | null {
  if (text.includes('\u0000'))
    return { path: path.join('.'), message: `${what} contains NUL (U+0000), which cannot be stored` };
  if (!text.isWellFormed())
    return { path: path.join('.'), message: `${what} is not well-formed Unicode (it has a lone surrogate)` };
  return null;
}
