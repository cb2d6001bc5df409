import type { Diagnostic, LoadResult } from "@causeway/core";
import type { LogLine } from "./logger.js";

// The lines the server's terminal shows when it applies its pipeline directory: pure text,
// written by the pipeline applier of server.ts.

/** `applied DIR: 5 resources, 4 jobs (9 added, 0 changed, 0 removed); 0 errors, 0 warnings`. */
export function applyLine(
  dir: string,
  result: Pick<LoadResult, "diagnostics" | "summary" | "files">,
  report: { added: readonly string[]; changed: readonly string[]; removed: readonly string[] },
): LogLine {
  const count = (severity: string): number => result.diagnostics.filter((d) => d.severity === severity).length;
  const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? "" : "s"}`;
  const errors = count("error");
  const warnings = count("warning");
  return {
    msg:
      `applied ${dir}: ${plural(result.summary.resources, "resource")}, ${plural(result.summary.jobs, "job")}` +
      ` (${report.added.length} added, ${report.changed.length} changed, ${report.removed.length} removed);` +
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
      errors,
      warnings,
    },
  };
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
