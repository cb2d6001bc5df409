import type { z } from "zod";
import { diagnostic, type Diagnostic, type DocPath } from "../diagnostics/diagnostic.js";
import { didYouMean } from "../diagnostics/did-you-mean.js";
import { NAME_START_MESSAGE } from "./schema.js";
import type { SourceDoc } from "./source-doc.js";

type Issue = z.core.$ZodIssue;

/**
 * Checks one object node against a schema. Unknown keys become warnings (with a "did you
 * mean" hint) and are dropped; every other problem becomes a PIPELINE_SCHEMA error. Returns the
 * plain value without the unknown keys, and whether an error was found.
 */
export function checkValue(
  value: unknown,
  schema: z.ZodType,
  basePath: DocPath,
  doc: SourceDoc,
  out: Diagnostic[],
): { value: unknown; ok: boolean } {
  let result = schema.safeParse(value);
  if (result.success) return { value, ok: true };
  const unknown: { path: DocPath; key: string; known: readonly string[] }[] = [];
  const rest: Issue[] = [];
  for (const leaf of leaves(result.error.issues)) {
    if (leaf.code === "unrecognized_keys") {
      const known = knownKeysAt(schema, leaf.path);
      for (const key of leaf.keys) unknown.push({ path: leaf.path as DocPath, key, known });
    } else rest.push(leaf);
  }
  for (const u of unknown) {
    out.push(
      diagnostic(
        "PIPELINE_UNKNOWN_KEY",
        doc.locate([...basePath, ...u.path, u.key], true),
        [...basePath, ...u.path, u.key],
        `unknown key "${u.key}" is ignored`,
        didYouMean(u.key, u.known) ?? (u.known.length > 0 ? `known keys here: ${u.known.join(", ")}` : undefined),
      ),
    );
    deleteAt(value, u.path, u.key);
  }
  if (unknown.length > 0) {
    result = schema.safeParse(value);
    if (result.success) return { value, ok: true };
    rest.length = 0;
    for (const leaf of leaves(result.error.issues)) if (leaf.code !== "unrecognized_keys") rest.push(leaf);
  }
  for (const issue of rest) {
    const path = issue.path as DocPath;
    const code = issue.code === "invalid_format" && isNameSlot(path) ? "PIPELINE_INVALID_NAME" : "PIPELINE_SCHEMA";
    out.push(
      diagnostic(
        code,
        doc.locate([...basePath, ...path]),
        [...basePath, ...path],
        describe(issue, path, valueAt(value, path) === undefined),
        hintFor(issue),
      ),
    );
  }
  return { value, ok: rest.length === 0 };
}

const NAME_SLOTS = new Set(["name", "IN", "OUT", "replicate", "NOTIFY"]);

// A name-valued place: an object's name, a step's target, a replicate source, a NOTIFY target
// (a list item of NOTIFY too).
function isNameSlot(path: DocPath): boolean {
  const last = path[path.length - 1];
  const parent = path[path.length - 2];
  return NAME_SLOTS.has(String(last)) || (typeof last === "number" && parent === "NOTIFY");
}

function valueAt(value: unknown, path: DocPath): unknown {
  let current = value;
  for (const key of path) {
    if (current === null || typeof current !== "object") return undefined;
    current = (current as Record<string | number, unknown>)[key];
  }
  return current;
}

function describe(issue: Issue, path: DocPath, missing: boolean): string {
  const where = path.length > 0 ? `${String(path[path.length - 1])}: ` : "";
  if (issue.code === "invalid_type" && missing) return `${where}required key is missing`;
  return `${where}${issue.message.replace(/^Invalid input: /, "")}`;
}

function hintFor(issue: Issue): string | undefined {
  if (issue.code === "invalid_value") return `allowed values: ${issue.values.map((v) => JSON.stringify(v)).join(", ")}`;
  if (issue.code === "invalid_format" && issue.message === NAME_START_MESSAGE)
    return "a name is a URL path segment, a directory name and a command-line argument: one that starts with . or - (., .., -rf) would break them; rename it";
  if (issue.code === "invalid_format") return "names use letters, digits, _, - and . only";
  return undefined;
}

// A union failure nests one issue list per branch: keep the branch that got furthest (matched
// the input's shape at the root), so messages talk about the form the user meant.
function leaves(issues: readonly Issue[], prefix: readonly PropertyKey[] = []): Issue[] {
  const out: Issue[] = [];
  for (const issue of issues) {
    const path = [...prefix, ...issue.path];
    if (issue.code === "invalid_union" && issue.errors.length > 0) {
      const branches = issue.errors.map((branch) => leaves(branch, path));
      const pool = branches.filter(
        (b) =>
          !b.some((i) => (i.code === "invalid_type" || i.code === "invalid_value") && i.path.length === path.length),
      );
      if (pool.length === 0) {
        out.push({ ...issue, path, message: "does not match any accepted form" });
        continue;
      }
      pool.sort((a, b) => a.length - b.length);
      out.push(...(pool[0] ?? []));
    } else out.push({ ...issue, path });
  }
  return out;
}

function deleteAt(value: unknown, path: DocPath, key: string): void {
  let current = value;
  for (const p of path) {
    if (current === null || typeof current !== "object") return;
    current = (current as Record<string | number, unknown>)[p];
  }
  if (current !== null && typeof current === "object") delete (current as Record<string, unknown>)[key];
}

// The keys an object schema accepts at a path: walks objects, arrays, records, optionals and
// unions (collecting keys of every object branch). Only used for hints.
function knownKeysAt(schema: z.ZodType, path: readonly PropertyKey[]): string[] {
  let current: unknown[] = [schema];
  for (const key of path) {
    const next: unknown[] = [];
    for (const s of current.flatMap(unwrap)) {
      const def = defOf(s);
      if (def.type === "object" && typeof key === "string") {
        const shape = def.shape as Record<string, unknown>;
        if (shape[key] !== undefined) next.push(shape[key]);
      } else if (def.type === "array" && typeof key === "number") next.push(def.element);
      else if (def.type === "record") next.push(def.valueType);
    }
    current = next;
  }
  const keys = new Set<string>();
  for (const s of current.flatMap(unwrap)) {
    const def = defOf(s);
    if (def.type === "object") for (const k of Object.keys(def.shape as object)) keys.add(k);
  }
  return [...keys];
}

interface LooseDef {
  type: string;
  [key: string]: unknown;
}

function defOf(schema: unknown): LooseDef {
  return (schema as { _zod: { def: LooseDef } })._zod.def;
}

function unwrap(schema: unknown): unknown[] {
  const def = defOf(schema);
  if (def.type === "optional" || def.type === "default" || def.type === "nullable") return unwrap(def.innerType);
  if (def.type === "union") return (def.options as unknown[]).flatMap(unwrap);
  return [schema];
}
