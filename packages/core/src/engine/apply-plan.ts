import type { Diagnostic } from "../diagnostics/diagnostic.js";
import { fileStatuses, type LoadResult } from "../language/load.js";
import type { Mapping, Pipeline } from "../language/model.js";
import { APPLY_PROBLEMS_KEPT, type AppliedFile, type ApplyProblem, type ApplyRecord } from "./model.js";

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

/** The file a stored definition came from (its `origin.file`), if it says. */
export function originFile(definition: Mapping): string | undefined {
  const origin = definition.origin;
  if (origin === null || typeof origin !== "object") return undefined;
  const file = (origin as Mapping).file;
  return typeof file === "string" ? file : undefined;
}

/** What the apply history records of a load: the files with their status, and the errors in brief. */
export function loadFacts(
  load: Pick<LoadResult, "files" | "refused" | "diagnostics">,
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
    problems: errors.slice(0, APPLY_PROBLEMS_KEPT).map(applyProblem),
  };
}

/** A diagnostic in brief, as the apply history keeps it. */
export function applyProblem(d: Diagnostic): ApplyProblem {
  return { code: d.code, severity: d.severity, file: d.file, line: d.line, col: d.col, message: d.message };
}
