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

/**
 * A new, empty set of environment variables. A run's variables are mostly named after its jobs
 * and resources (`<NAME>_PATH`, `<NAME>_VERSIONNUMBER`), so every run of a line brings property
 * names no object had before. An ordinary object makes a new hidden class for each such name it
 * is given (V8), and a line's runs keep making them; an object without a prototype is kept as a
 * hash table from the start and makes none. Measured on the 4,000-job DAG (`dag 4000` of
 * bench/): the server's peak memory 262–273 MB before, 225–226 MB after (docs/performance.md).
 */
export function envVars(): Record<string, string> {
  return Object.create(null) as Record<string, string>;
}
