/** A value as an environment variable holds it: objects and arrays as JSON, null as empty. */
export function envValue(value: unknown): string {
  if (value === undefined || value === null) return "";
  if (typeof value === "string") return value;
  if (typeof value === "number" || typeof value === "boolean" || typeof value === "bigint") return String(value);
  return JSON.stringify(value) ?? "";
}

/**
 * A key used after a prefix (`<N>_PARAMS_<KEY>`, `<N>_POINTER_<KEY>`): characters outside
 * `[A-Za-z0-9_]` dropped, upper-cased; leading digits stay, since the prefix already starts the
 * name (shipctl.md "Environment"; shipctl's `to_key` looks for `<N>_PARAMS_1ST`). May be empty.
 */
export function envKey(key: string): string {
  return key.replace(/[^A-Za-z0-9_]/g, "").toUpperCase();
}
