/**
 * JSON values compared as documents: two values are the same when they are equal with the keys of every object
 * sorted (arrays keep their order, as in a CloudFormation template or an IAM policy, where order is part of the
 * value). Domain layer: no imports.
 */

/** `value` with the keys of every object sorted (by `localeCompare`), recursively; other values as they are. */
export function sortedKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortedKeys);
  if (value && typeof value === "object") {
    return Object.fromEntries(
      Object.entries(value as Record<string, unknown>)
        .sort(([x], [y]) => x.localeCompare(y))
        .map(([k, v]) => [k, sortedKeys(v)]),
    );
  }
  return value;
}

/** Whether two JSON values are equal, ignoring the order of object keys. */
export function sameJson(a: unknown, b: unknown): boolean {
  return JSON.stringify(sortedKeys(a)) === JSON.stringify(sortedKeys(b));
}
