import { DIAGNOSTIC_CODES, type DiagnosticCode, type Severity } from "./codes.js";

/** A path in a YAML document: keys and sequence indexes from the root. */
export type DocPath = readonly (string | number)[];

/** A 1-based position range in one file. */
export interface SourceRange {
  readonly file: string;
  readonly line: number;
  readonly col: number;
  readonly endLine: number;
  readonly endCol: number;
}

/**
 * One finding of the loader or validator. Invariants: `line`/`col` are 1-based and point into
 * `file` (a path relative to the pipeline directory); `path` is empty for file-level findings.
 */
export interface Diagnostic extends SourceRange {
  readonly code: DiagnosticCode;
  readonly severity: Severity;
  readonly path: string;
  readonly message: string;
  readonly hint?: string;
  /**
   * The name the finding is about, when it is about one (the undefined name of an unknown
   * reference): findings with the same code and subject are one problem met in many places, which
   * a reader may see grouped ({@link groupDiagnostics}).
   */
  readonly subject?: string;
}

/** The same finding, about `subject`. */
export function about(d: Diagnostic, subject: string): Diagnostic {
  return { ...d, subject };
}

/** One problem and every place it was met: diagnostics of one code and one subject. */
export interface DiagnosticGroup {
  /** The first place, in the order of the diagnostics given. */
  readonly first: Diagnostic;
  /** Every place, `first` included, in order. */
  readonly all: readonly Diagnostic[];
}

/**
 * Groups diagnostics that are one problem met in many places (same code and same subject), in
 * the order of their first place; a diagnostic without a subject is a group of its own. A line
 * copied from a Shippable subscription may refer to a handful of objects of other repositories
 * a thousand times: a reader wants six problems, each with its count and first places.
 */
export function groupDiagnostics(diagnostics: readonly Diagnostic[]): DiagnosticGroup[] {
  const groups: { first: Diagnostic; all: Diagnostic[] }[] = [];
  const bySubject = new Map<string, { first: Diagnostic; all: Diagnostic[] }>();
  for (const d of diagnostics) {
    const key = d.subject === undefined ? undefined : `${d.code}\u0000${d.subject}`;
    const group = key === undefined ? undefined : bySubject.get(key);
    if (group !== undefined) {
      group.all.push(d);
      continue;
    }
    const created = { first: d, all: [d] };
    groups.push(created);
    if (key !== undefined) bySubject.set(key, created);
  }
  return groups;
}

/** Builds a diagnostic with the catalog's severity unless one is given. */
export function diagnostic(
  code: DiagnosticCode,
  at: SourceRange,
  path: DocPath,
  message: string,
  hint?: string,
  severity: Severity = DIAGNOSTIC_CODES[code].severity,
): Diagnostic {
  return {
    code,
    severity,
    file: at.file,
    line: at.line,
    col: at.col,
    endLine: at.endLine,
    endCol: at.endCol,
    path: formatPath(path),
    message,
    ...(hint === undefined ? {} : { hint }),
  };
}

/** Formats a document path as `jobs[3].steps[1].IN`. */
export function formatPath(path: DocPath): string {
  let out = "";
  for (const part of path) {
    if (typeof part === "number") out += `[${part}]`;
    else out += out === "" ? part : `.${part}`;
  }
  return out;
}

/** Orders diagnostics by file, then position, then code, for stable output. */
export function compareDiagnostics(a: Diagnostic, b: Diagnostic): number {
  if (a.file !== b.file) return a.file < b.file ? -1 : 1;
  return a.line - b.line || a.col - b.col || (a.code < b.code ? -1 : a.code > b.code ? 1 : 0);
}

/** True when any diagnostic is an error. */
export function hasErrors(diagnostics: readonly Diagnostic[]): boolean {
  return diagnostics.some((d) => d.severity === "error");
}
