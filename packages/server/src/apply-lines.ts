import type { Diagnostic, LoadResult, RefusedFile } from "@causeway/core";
import type { LogLine } from "./logger.js";

// The lines the server's terminal shows when it applies its pipeline directory: pure text,
// written by the pipeline applier of server.ts.

/**
 * `applied DIR: 5 resources, 4 jobs (9 added, 0 changed, 0 removed); 0 errors, 0 warnings`, and
 * when files were refused `(0 added, 1 changed, 0 removed; refused 1 file, 8 objects kept)`.
 */
export function applyLine(
  dir: string,
  result: Pick<LoadResult, "diagnostics" | "summary" | "files"> & { readonly refused?: readonly RefusedFile[] },
  report: {
    added: readonly string[];
    changed: readonly string[];
    removed: readonly string[];
    kept?: readonly string[];
  },
): LogLine {
  const count = (severity: string): number => result.diagnostics.filter((d) => d.severity === severity).length;
  const errors = count("error");
  const warnings = count("warning");
  const refused = result.refused?.length ?? 0;
  const kept = report.kept?.length ?? 0;
  const refusal = refused === 0 ? "" : `; refused ${plural(refused, "file")}, ${plural(kept, "object")} kept`;
  return {
    msg:
      `applied ${dir}: ${plural(result.summary.resources, "resource")}, ${plural(result.summary.jobs, "job")}` +
      ` (${report.added.length} added, ${report.changed.length} changed, ${report.removed.length} removed${refusal});` +
      ` ${plural(errors, "error")}, ${plural(warnings, "warning")}`,
    fields: {
      event: "apply",
      dir,
      files: result.files.length,
      resources: result.summary.resources,
      jobs: result.summary.jobs,
      added: report.added.length,
      changed: report.changed.length,
      removed: report.removed.length,
      refused,
      kept,
      errors,
      warnings,
    },
  };
}

/**
 * One line per refused file, a warning: `  refused causeway.yml:3:7 PIPELINE_YAML_SYNTAX ...;
 * the objects it defined are kept as they were`.
 */
export function refusalLines(refused: readonly RefusedFile[]): LogLine[] {
  return refused.map(({ path, reason: d }) => ({
    msg: `  refused ${path}: ${d.file}:${d.line}:${d.col} ${d.code} ${d.message}; the objects it defined are kept as they were`,
    fields: { event: "refused", file: path, code: d.code, at: `${d.file}:${d.line}:${d.col}` },
  }));
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}

const DIAGNOSTICS_SHOWN = 10;

/** One indented line per error of an apply (`  causeway.yml:3:7 CODE message`), the first ten. */
export function diagnosticLines(diagnostics: readonly Diagnostic[]): LogLine[] {
  const errors = diagnostics.filter((d) => d.severity === "error");
  const lines: LogLine[] = errors.slice(0, DIAGNOSTICS_SHOWN).map((d) => ({
    msg: `  ${d.file}:${d.line}:${d.col} ${d.code} ${d.message}`,
    fields: { event: "diagnostic", severity: d.severity, code: d.code, file: d.file, line: d.line, col: d.col },
  }));
  if (errors.length > DIAGNOSTICS_SHOWN)
    lines.push({
      msg: `  ... and ${errors.length - DIAGNOSTICS_SHOWN} more errors (causeway validate lists them all)`,
      fields: { event: "diagnostic", more: errors.length - DIAGNOSTICS_SHOWN },
    });
  return lines;
}
