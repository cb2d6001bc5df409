import { formatPath, type DocPath, type SourceRange } from "../diagnostics/diagnostic.js";
import type { Mapping, Origin } from "./model.js";
import type { SourceDoc } from "./source-doc.js";

/** Reading parsed YAML values while normalising: origins and lenient coercions. */

// The range is computed on first use: on the fast path that is what triggers the
// position-keeping parse, so a valid line never pays for it. A prototype getter over private
// fields: storing or copying a definition (JSON, spread) never computes it.
class LazyOrigin implements Origin {
  readonly #doc: SourceDoc;
  readonly #at: DocPath;
  #range: SourceRange | undefined;

  constructor(
    readonly file: string,
    readonly path: string,
    doc: SourceDoc,
    at: DocPath,
  ) {
    this.#doc = doc;
    this.#at = at;
  }

  get range(): SourceRange {
    this.#range ??= this.#doc.locate(this.#at);
    return this.#range;
  }
}

export function origin(doc: SourceDoc, path: DocPath): Origin {
  return new LazyOrigin(doc.file, formatPath(path), doc, path);
}

export function isMapping(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

export function asMapping(value: unknown): Mapping {
  return value !== null && typeof value === "object" && !Array.isArray(value) ? (value as Mapping) : {};
}

export function asString(value: unknown): string | undefined {
  return typeof value === "string"
    ? value
    : typeof value === "number" || typeof value === "boolean"
      ? String(value)
      : undefined;
}

export function asStrings(value: unknown): string[] {
  if (Array.isArray(value)) return value.map(asString).filter((v): v is string => v !== undefined);
  const single = asString(value);
  return single === undefined ? [] : [single];
}

// A shallow copy without `skipped`, as object rest would give it, but cheaper: no delete (which
// turns an object into a slow dictionary) and no rest helper.
export function copyWithout(value: Mapping, skipped: readonly string[]): Record<string, unknown> {
  const copy: Record<string, unknown> = {};
  for (const key of Object.keys(value)) {
    if (skipped.includes(key)) continue;
    // A plain assignment to "__proto__" would set the prototype instead of a key.
    if (key === "__proto__")
      Object.defineProperty(copy, key, { value: value[key], enumerable: true, writable: true, configurable: true });
    else copy[key] = value[key];
  }
  return copy;
}
