import { compareDiagnostics, diagnostic, type Diagnostic } from "../diagnostics/diagnostic.js";
import { baseOf, fileRole, isSkippedDirectory, templatesFor } from "./files.js";
import type { JobDef, Pipeline, ResourceDef } from "./model.js";
import { normaliseFile, type Draft } from "./normalise.js";
import { validateLine } from "./validate.js";
import { loadFile } from "./source-doc.js";
import type { SourceFile } from "./yaml-source.js";

/** Limits of the loader; every one has a safe default. */
export interface LoadOptions {
  /** Largest pipeline file, in bytes (default 4 MiB). */
  readonly maxFileBytes?: number;
  /** Largest total of the pipeline files of a directory, in bytes (default 64 MiB). */
  readonly maxTotalBytes?: number;
  /** Most nodes that aliases may expand to in one document (default 100,000). */
  readonly maxAliasNodes?: number;
  /** Deepest sub-directory searched (default 16). */
  readonly maxDepth?: number;
}

/** Loader limits with defaults applied. */
export type CompiledLoadOptions = Readonly<Required<LoadOptions>>;

/** Applies defaults to loader options and rejects nonsense. */
export function compileLoadOptions(options: LoadOptions = {}): CompiledLoadOptions {
  const compiled = {
    maxFileBytes: options.maxFileBytes ?? 4 * 1024 * 1024,
    maxTotalBytes: options.maxTotalBytes ?? 64 * 1024 * 1024,
    maxAliasNodes: options.maxAliasNodes ?? 100_000,
    maxDepth: options.maxDepth ?? 16,
  };
  for (const [key, value] of Object.entries(compiled)) {
    if (!Number.isInteger(value) || value <= 0)
      throw new RangeError(`load option ${key} must be a positive integer, got ${value}`);
  }
  return Object.freeze(compiled);
}

/** Counts of what a directory defines: distinct names, and IN/OUT steps as edges. */
export interface LoadSummary {
  readonly resources: number;
  readonly jobs: number;
  readonly edges: number;
}

/** The result of loading a line: never thrown, always a pipeline plus diagnostics. */
export interface LoadResult {
  readonly ok: boolean;
  /** Files read, relative to the directory, sorted. */
  readonly files: readonly string[];
  readonly pipeline: Pipeline;
  /** Sorted by file and position. */
  readonly diagnostics: readonly Diagnostic[];
  readonly summary: LoadSummary;
}

const AT_FILE_START = { line: 1, col: 1, endLine: 1, endCol: 1 } as const;

/**
 * Loads a line from its files (templates files included). Pure and synchronous: reading the
 * directory is the caller's job (see loadPipelineDirectory). Never throws on any input.
 */
export function loadPipeline(
  files: readonly SourceFile[],
  options: LoadOptions = {},
  preDiagnostics: readonly Diagnostic[] = [],
): LoadResult {
  const limits = compileLoadOptions(options);
  const diagnostics: Diagnostic[] = [...preDiagnostics];
  const templates = new Map<string, SourceFile>();
  const sorted = [...files].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  for (const f of sorted) if (fileRole(baseOf(f.path)) === "templates") templates.set(f.path, f);
  const templateNames = new Set(templates.keys());
  const resources: Draft<ResourceDef>[] = [];
  const jobs: Draft<JobDef>[] = [];
  for (const file of sorted) {
    const role = fileRole(baseOf(file.path));
    if (file.text.length > limits.maxFileBytes) {
      diagnostics.push(
        diagnostic(
          "PIPELINE_FILE_TOO_LARGE",
          { file: file.path, ...AT_FILE_START },
          [],
          `file is ${file.text.length} bytes, over the cap of ${limits.maxFileBytes}`,
          "split the line into several files",
        ),
      );
      continue;
    }
    const templatesPath = role === "templates" ? undefined : templatesFor(file.path, templateNames);
    const parsed = loadFile(file, templatesPath === undefined ? undefined : templates.get(templatesPath), limits);
    // A templates file's own diagnostics are reported once, by its own parse, not per user.
    diagnostics.push(
      ...(templatesPath === undefined
        ? parsed.diagnostics
        : parsed.diagnostics.filter((d) => d.file === file.path || d.code === "PIPELINE_YAML_ALIAS_LIMIT")),
    );
    const defs = normaliseFile(parsed.docs, role === "templates", diagnostics);
    resources.push(...defs.resources);
    jobs.push(...defs.jobs);
  }
  const { byName } = validateLine(resources, jobs, diagnostics);
  const pipeline: Pipeline = {
    resources: resources.filter((r) => byName.get(r.name) === r || r.name === "").map(finish),
    jobs: jobs.filter((j) => byName.get(j.name) === j || j.name === "").map(finish),
  };
  diagnostics.sort(compareDiagnostics);
  return {
    ok: !diagnostics.some((d) => d.severity === "error"),
    files: sorted.map((f) => f.path),
    pipeline,
    diagnostics: dedupe(diagnostics),
    summary: {
      resources: new Set(resources.map((r) => r.name).filter((n) => n !== "")).size,
      jobs: new Set(jobs.map((j) => j.name).filter((n) => n !== "")).size,
      edges: jobs.reduce((n, j) => n + j.steps.filter((s) => s.kind !== "TASK").length, 0),
    },
  };
}

function finish<T extends { bad: boolean }>(draft: T): Omit<T, "bad"> & { consistent: boolean } {
  const { bad, ...rest } = draft;
  return { ...rest, consistent: !bad };
}

function dedupe(diagnostics: Diagnostic[]): Diagnostic[] {
  const seen = new Set<string>();
  return diagnostics.filter((d) => {
    const key = `${d.code}\u0000${d.file}\u0000${d.line}\u0000${d.col}\u0000${d.path}\u0000${d.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** An entry of a directory listing. */
export interface DirEntry {
  readonly name: string;
  readonly kind: "file" | "directory" | "other";
  /** Size in bytes, for files. */
  readonly size: number;
}

/**
 * The file access the loader needs, so core stays free of I/O. Paths are `/`-separated and
 * relative to the pipeline directory ("" is the directory itself).
 */
export interface PipelineFs {
  list(dir: string): Promise<readonly DirEntry[]>;
  read(path: string): Promise<string>;
}

/**
 * Loads a pipeline directory by the file rules of design §2, with sub-directories. Files over
 * the caps are reported and skipped, never read whole.
 */
export async function loadPipelineDirectory(fs: PipelineFs, options: LoadOptions = {}): Promise<LoadResult> {
  const limits = compileLoadOptions(options);
  const pre: Diagnostic[] = [];
  const files: SourceFile[] = [];
  let total = 0;
  let stopped = false;
  const walk = async (dir: string, depth: number): Promise<void> => {
    if (stopped) return;
    const entries = [...(await fs.list(dir))].sort((a, b) => (a.name < b.name ? -1 : 1));
    for (const entry of entries) {
      if (stopped) return;
      const path = dir === "" ? entry.name : `${dir}/${entry.name}`;
      if (entry.kind === "directory") {
        if (!isSkippedDirectory(entry.name) && depth < limits.maxDepth) await walk(path, depth + 1);
        continue;
      }
      if (entry.kind !== "file" || fileRole(entry.name) === "ignored") continue;
      if (entry.size > limits.maxFileBytes) {
        pre.push(
          diagnostic(
            "PIPELINE_FILE_TOO_LARGE",
            { file: path, ...AT_FILE_START },
            [],
            `file is ${entry.size} bytes, over the cap of ${limits.maxFileBytes}`,
            "split the line into several files",
          ),
        );
        continue;
      }
      total += entry.size;
      if (total > limits.maxTotalBytes) {
        pre.push(
          diagnostic(
            "PIPELINE_DIR_TOO_LARGE",
            { file: path, ...AT_FILE_START },
            [],
            `pipeline files exceed ${limits.maxTotalBytes} bytes in all; this file and the rest are not read`,
            "split the line across directories",
          ),
        );
        stopped = true;
        return;
      }
      files.push({ path, text: await fs.read(path) });
    }
  };
  await walk("", 0);
  if (files.length === 0 && pre.length === 0) {
    pre.push(
      diagnostic(
        "PIPELINE_NO_FILES",
        { file: ".", ...AT_FILE_START },
        [],
        "no pipeline file found",
        "name files *causeway.yml, *shippable.yml or shippable.{resources,jobs,triggers}.yml",
      ),
    );
  }
  return loadPipeline(files, limits, pre);
}
