import type { Diagnostic } from "../diagnostics/diagnostic.js";
import { fileStatuses, type LoadResult } from "../language/load.js";
import type { Mapping, Pipeline } from "../language/model.js";
import {
  APPLY_PROBLEMS_KEPT,
  type AppliedFile,
  type ApplyExcerpt,
  type ApplyProblem,
  type ApplyRecord,
} from "./model.js";
import { canonical } from "./outputs.js";
import { resourceKind } from "../kinds/index.js";

/** What an apply does to the objects of the line as applied before it, by name, sorted. */
export interface ApplyPlan {
  /** Objects whose file was refused: kept as they were, their pending runs untouched. */
  readonly kept: readonly string[];
  /** Objects whose file loaded and no longer defines them, or whose file is gone. */
  readonly removed: readonly string[];
}

/**
 * Decides which objects of the applied line (name -> the file that defines it) an apply of
 * `pipeline` keeps and which it removes. An object is removed only when a file that loaded no
 * longer defines it, or when its file is gone from the line; an object whose file is refused
 * is kept as it was, whatever `pipeline` says about its name (the loader reports a definition
 * of the same name in another file as a duplicate). Pure.
 */
export function planApply(
  applied: ReadonlyMap<string, string | undefined>,
  pipeline: Pick<Pipeline, "resources" | "jobs">,
  refused: ReadonlySet<string>,
): ApplyPlan {
  const defined = new Set<string>();
  for (const def of pipeline.resources) defined.add(def.name);
  for (const def of pipeline.jobs) defined.add(def.name);
  const kept: string[] = [];
  const removed: string[] = [];
  for (const [name, file] of applied) {
    if (file !== undefined && refused.has(file)) kept.push(name);
    else if (!defined.has(name)) removed.push(name);
  }
  return { kept: kept.sort(), removed: removed.sort() };
}

/** An object of the line as applied, as `diffLine` needs it. */
export interface AppliedObject {
  /** The stored definition (JSON of a `ResourceDef` or `JobDef`). */
  readonly definition: Mapping;
  readonly consistent: boolean;
  /** Soft-deleted: removed from the line, its history kept (defining it again adds it back). */
  readonly deleted?: boolean;
}

/** What an apply of a line would do, by name, each list sorted (`causeway plan`, and the apply itself). */
export interface LineDiff extends ApplyPlan {
  /** Objects not in the line as applied (new, or defined again after a removal). */
  readonly added: readonly string[];
  /** Objects whose definition differs from the stored one. */
  readonly changed: readonly string[];
  /** Resources that get a version from their definition: new, template changed, or none yet. */
  readonly versioned: readonly string[];
  /** Objects with an error that were consistent before, or are new: they will never be triggered. */
  readonly invalid: readonly string[];
}

/**
 * Compares a line with the line as applied (live objects by name) and says what an apply would
 * add, change, remove, keep (their file was refused: `planApply`), version and make newly
 * invalid. The one decision behind both `Engine.apply` and `Engine.plan`, so a plan shows what
 * the apply does. A definition is compared as stored (JSON, keys in any order); of two
 * definitions of one name the first counts (the loader reports the second). `hasVersions`
 * tells whether a resource has any version (one without gets one); a soft-deleted object
 * (`deleted`) defined again is added, and versioned only when its template changed. Pure.
 */
export function diffLine(
  applied: ReadonlyMap<string, AppliedObject>,
  pipeline: Pick<Pipeline, "resources" | "jobs">,
  refused: ReadonlySet<string>,
  hasVersions: (name: string) => boolean,
): LineDiff {
  const files = new Map<string, string | undefined>();
  for (const [name, object] of applied) if (object.deleted !== true) files.set(name, originFile(object.definition));
  const plan = planApply(files, pipeline, refused);
  const seen = new Set<string>(plan.kept);
  const added: string[] = [];
  const changed: string[] = [];
  const versioned: string[] = [];
  const invalid: string[] = [];
  for (const def of [...pipeline.resources, ...pipeline.jobs]) {
    if (def.name === "" || seen.has(def.name)) continue;
    seen.add(def.name);
    const before = applied.get(def.name);
    const live = before !== undefined && before.deleted !== true;
    const definition = JSON.parse(JSON.stringify(def)) as Mapping;
    if (!def.consistent && (!live || before.consistent)) invalid.push(def.name);
    if (live && canonical(before.definition) === canonical(definition)) continue;
    (live ? changed : added).push(def.name);
    if ("steps" in def) continue;
    const template = canonical(definition.template ?? {});
    // A resource without versions gets one; an edited template makes one where its kind says so.
    if (
      before === undefined ||
      !hasVersions(def.name) ||
      (canonical(before.definition.template ?? {}) !== template && resourceKind(def.type).yamlEditCreatesVersion)
    )
      versioned.push(def.name);
  }
  return {
    ...plan,
    added: added.sort(),
    changed: changed.sort(),
    versioned: versioned.sort(),
    invalid: invalid.sort(),
  };
}

/** The file a stored definition came from (its `origin.file`), if it says. */
export function originFile(definition: Mapping): string | undefined {
  const origin = definition.origin;
  if (origin === null || typeof origin !== "object") return undefined;
  const file = (origin as Mapping).file;
  return typeof file === "string" ? file : undefined;
}

/**
 * What the apply history records of a load: the files with their status, and the errors in
 * brief, each with the lines around it when `textOf` gives the text its file had.
 */
export function loadFacts(
  load: Pick<LoadResult, "files" | "refused" | "diagnostics">,
  textOf: (file: string) => string | undefined = () => undefined,
): Pick<ApplyRecord, "files" | "errors" | "warnings" | "problems"> {
  const files: AppliedFile[] = fileStatuses(load).map((f) =>
    f.reason === undefined
      ? { path: f.path, status: f.status }
      : { path: f.path, status: f.status, reason: applyProblem(f.reason) },
  );
  const errors = load.diagnostics.filter((d) => d.severity === "error");
  return {
    files,
    errors: errors.length,
    warnings: load.diagnostics.filter((d) => d.severity === "warning").length,
    problems: errors.slice(0, APPLY_PROBLEMS_KEPT).map((d) => {
      const text = textOf(d.file);
      const excerpt = text === undefined ? undefined : problemExcerpt(text, d.line);
      return excerpt === undefined ? applyProblem(d) : { ...applyProblem(d), excerpt };
    }),
  };
}

/** A diagnostic in brief, as the apply history keeps it. */
export function applyProblem(d: Diagnostic): ApplyProblem {
  return { code: d.code, severity: d.severity, file: d.file, line: d.line, col: d.col, message: d.message };
}

/** The longest line an excerpt keeps (longer ones are cut, with `…`). */
export const EXCERPT_LINE_CHARS = 200;

/**
 * The lines of `text` around line `line` (1-based): `context` lines before and after, each cut
 * at EXCERPT_LINE_CHARS. Undefined when the text has no such line.
 */
export function problemExcerpt(text: string, line: number, context = 2): ApplyExcerpt | undefined {
  const all = text.split(/\r?\n/);
  if (!Number.isInteger(line) || line < 1 || line > all.length) return undefined;
  const first = Math.max(1, line - context);
  const last = Math.min(all.length, line + context);
  const lines = all
    .slice(first - 1, last)
    .map((l) => (l.length > EXCERPT_LINE_CHARS ? `${l.slice(0, EXCERPT_LINE_CHARS)}…` : l));
  return { firstLine: first, lines };
}
