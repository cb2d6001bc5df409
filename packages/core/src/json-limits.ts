/**
 * How deep a JSON value may nest where it comes from outside (an API body, a file a job wrote).
 * Deeper values are refused before anything recursive (a schema check, `JSON.stringify`, a
 * canonical form) walks them and runs out of stack.
 */
export const MAX_JSON_DEPTH = 64;

/**
 * Whether `value` nests deeper than `max` arrays and objects. Iterative, and stops at the first
 * branch past the limit, so a value nested 100,000 deep costs no stack and little time.
 */
export function exceedsJsonDepth(value: unknown, max: number = MAX_JSON_DEPTH): boolean {
  const stack: [unknown, number][] = [[value, 0]];
  for (let item = stack.pop(); item !== undefined; item = stack.pop()) {
    const [node, depth] = item;
    if (node === null || typeof node !== "object") continue;
    if (depth + 1 > max) return true;
    for (const child of Array.isArray(node) ? node : Object.values(node)) stack.push([child, depth + 1]);
  }
  return false;
}
