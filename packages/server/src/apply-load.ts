import {
  fileStatuses,
  loadFacts,
  applyProblem,
  sourceOfFile,
  type AppliedSource,
  type ApplyProblem,
  type ApplyRecord,
  type ApplySource,
  type LoadResult,
  type Pipeline,
} from "@causeway/core";
import type { ApplyReport, Engine } from "@causeway/engine";
import type { AppliedFileJson, ApplyRecordJson, ApplyResult, PlanResult, ProblemJson } from "@causeway/protocol";
import { toDiagnosticJson } from "./mapping.js";
import { resolveRelativeSources } from "./relative-sources.js";

/** Who asks for an apply, and the directory it comes from, for the apply history. */
export interface ApplyOrigin {
  readonly source: ApplySource;
  readonly by: string;
  /** The pipeline directory, when known; relative `gitRepo` sources are resolved against it. */
  readonly dir: string | null;
  /**
   * The sources of a line of named sources (its files' paths start with their source's name):
   * recorded in the apply history; each file's relative `gitRepo` sources are resolved against
   * the `dir` of its source (a git source has none: they stay as written).
   */
  readonly sources?: readonly AppliedSource[];
  /** The text each file of the load had (by its path in the load), for the errors' code frames. */
  readonly textOf?: (file: string) => string | undefined;
}

/**
 * Applies a load, as the watcher and `POST /apply` both do: the objects of its refused files
 * are kept as they were, relative `gitRepo` sources are resolved against the directory, and the
 * apply is recorded in the apply history with its files and errors.
 */
export function applyLoad(engine: Engine, load: LoadResult, origin: ApplyOrigin): Promise<ApplyReport> {
  return engine.apply(lineOf(load, origin), {
    refused: load.refused.map((r) => r.path),
    history: {
      ...loadFacts(load, origin.textOf),
      source: origin.source,
      by: origin.by,
      dir: origin.dir,
      ...(origin.sources === undefined ? {} : { sources: origin.sources }),
    },
  });
}

/** What an apply of a load would do, nothing applied (`POST /plan`, `causeway plan`). */
export async function planLoad(
  engine: Engine,
  load: LoadResult,
  origin: Pick<ApplyOrigin, "dir" | "sources">,
): Promise<PlanResult> {
  const diff = await engine.plan(lineOf(load, origin), { refused: load.refused.map((r) => r.path) });
  return {
    ok: load.ok,
    added: [...diff.added],
    changed: [...diff.changed],
    removed: [...diff.removed],
    versioned: [...diff.versioned],
    kept: [...diff.kept],
    invalid: [...diff.invalid],
    files: appliedFiles(load),
    diagnostics: load.diagnostics.map(toDiagnosticJson),
  };
}

// The line of a load as it is applied: relative `gitRepo` sources resolved against its directory,
// or, for a line of several sources, against the directory of each file's source.
function lineOf(load: LoadResult, origin: Pick<ApplyOrigin, "dir" | "sources">): Pipeline {
  const { dir, sources } = origin;
  if (sources !== undefined) {
    const dirs = new Map(sources.map((s) => [s.name, s.dir]));
    return resolveRelativeSources(load.pipeline, (file) => dirs.get(sourceOfFile(file)));
  }
  return dir === null ? load.pipeline : resolveRelativeSources(load.pipeline, dir);
}

function appliedFiles(load: LoadResult): AppliedFileJson[] {
  return fileStatuses(load).map((f): AppliedFileJson =>
    f.reason === undefined
      ? { path: f.path, status: f.status }
      : { path: f.path, status: f.status, reason: problemJson(applyProblem(f.reason)) },
  );
}

function problemJson(p: ApplyProblem): ProblemJson {
  const { excerpt, ...rest } = p;
  return excerpt === undefined
    ? rest
    : { ...rest, excerpt: { firstLine: excerpt.firstLine, lines: [...excerpt.lines] } };
}

/** The answer of `POST /apply`: what changed, what was kept, every file with its status. */
export function toApplyResult(load: LoadResult, report: ApplyReport): ApplyResult {
  return {
    ok: load.ok,
    applied: true,
    added: report.added,
    changed: report.changed,
    removed: report.removed,
    versioned: report.versioned,
    kept: report.kept,
    files: appliedFiles(load),
    applyId: report.record.id,
    diagnostics: load.diagnostics.map(toDiagnosticJson),
  };
}

/** An entry of the apply history on the wire (`GET /applies`). */
export function toApplyRecordJson(record: ApplyRecord): ApplyRecordJson {
  return {
    id: record.id,
    at: record.at,
    source: record.source,
    by: record.by,
    dir: record.dir,
    files: record.files.map((f) =>
      f.reason === undefined
        ? { path: f.path, status: f.status }
        : { path: f.path, status: f.status, reason: problemJson(f.reason) },
    ),
    added: [...record.added],
    changed: [...record.changed],
    removed: [...record.removed],
    kept: [...record.kept],
    errors: record.errors,
    warnings: record.warnings,
    problems: record.problems.map(problemJson),
    ...(record.sources === undefined ? {} : { sources: record.sources.map((s) => ({ ...s })) }),
  };
}
