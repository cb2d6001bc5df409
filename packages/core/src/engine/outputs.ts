import { resourceKind } from "../kinds/index.js";
import type { Mapping } from "../language/model.js";

/** A version's data: what an OUT step computes and compares. */
export interface VersionData {
  readonly versionName: string;
  readonly propertyBag: Mapping;
}

/**
 * Parses `KEY=VALUE` lines written by shipctl (`$JOB_STATE/<name>.env`). Blank lines and lines
 * without a key before `=` are ignored; later lines win; values keep everything after the first `=`.
 */
export function parseEnvLines(text: string): [string, string][] {
  const out: [string, string][] = [];
  for (const raw of text.split("\n")) {
    const line = raw.endsWith("\r") ? raw.slice(0, -1) : raw;
    const at = line.indexOf("=");
    const key = at < 0 ? "" : line.slice(0, at).trim();
    if (key === "") continue;
    out.push([key, line.slice(at + 1)]);
  }
  return out;
}

/** Options of an OUT step that shape the new version. */
export interface OutComputation {
  /** The OUT's current version, undefined for a resource without versions. */
  readonly current: VersionData | undefined;
  readonly resourceType: string;
  readonly overwrite: boolean;
  /** The version of the IN named by `replicate`. */
  readonly replicateFrom?: VersionData | undefined;
  /** Key/values the run wrote for this OUT. */
  readonly lines: readonly (readonly [string, string])[];
}

/**
 * The data of an OUT's next version (shippable.md §5.3): start from the current version (or an
 * empty bag with `overwrite`, keeping the kind's origin keys: a repository's webhook data),
 * take a replicated IN's data (only its origin keys for a kind that has them), then apply the
 * run's key/values (`versionName` sets the name; a kind with a `valuesKey`, params, keeps keys
 * under it).
 */
export function computeOutVersion(c: OutComputation): VersionData {
  const kind = resourceKind(c.resourceType);
  const origin = kind.originKeys;
  let versionName = c.current?.versionName ?? "";
  let bag: Record<string, unknown> = {};
  if (!c.overwrite) bag = clone({ ...(c.current?.propertyBag ?? {}) });
  else if (origin !== undefined && c.current !== undefined) {
    for (const k of origin) if (k in c.current.propertyBag) bag[k] = clone(c.current.propertyBag[k]);
  }
  if (c.replicateFrom !== undefined) {
    versionName = c.replicateFrom.versionName;
    if (origin !== undefined) {
      for (const k of origin) if (k in c.replicateFrom.propertyBag) bag[k] = clone(c.replicateFrom.propertyBag[k]);
    } else bag = { ...bag, ...clone(c.replicateFrom.propertyBag) };
  }
  const valuesKey = kind.valuesKey;
  const values: Record<string, unknown> =
    valuesKey !== undefined && isRecord(bag[valuesKey]) ? { ...bag[valuesKey] } : {};
  for (const [key, value] of c.lines) {
    if (key === "versionName") versionName = value;
    else if (valuesKey !== undefined) values[key] = value;
    else bag[key] = value;
  }
  if (valuesKey !== undefined && (Object.keys(values).length > 0 || valuesKey in bag)) bag[valuesKey] = values;
  return { versionName, propertyBag: bag };
}

/** True when two versions' data differ (name or bag, key order ignored). */
export function versionChanged(a: VersionData | undefined, b: VersionData): boolean {
  if (a === undefined) return true;
  return a.versionName !== b.versionName || canonical(a.propertyBag) !== canonical(b.propertyBag);
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}

/** JSON with object keys sorted: equal data gives equal text. */
export function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(",")}]`;
  if (isRecord(value)) {
    return `{${Object.keys(value)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical(value[k])}`)
      .join(",")}}`;
  }
  return JSON.stringify(value) ?? "null";
}

// Version data is JSON: a JSON round trip is a faithful deep copy.
function clone<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}
