export type PlainObject = Record<string, unknown>;

export function isPlainObject(value: unknown): value is PlainObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** `base` with `override` laid over it, key by key, recursing into objects both of them hold. */
export function mergeDeep(base: PlainObject, override: PlainObject): PlainObject {
  const merged: PlainObject = { ...base };
  for (const [key, value] of Object.entries(override)) {
    const under = merged[key];
    merged[key] = isPlainObject(under) && isPlainObject(value) ? mergeDeep(under, value) : value;
  }
  return merged;
}

export function hasValueAt(object: PlainObject, path: readonly PropertyKey[]): boolean {
  let node: unknown = object;
  for (const key of path) {
    if (!isPlainObject(node)) return false;
    node = node[String(key)];
  }
  return node !== undefined;
}

export function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}
