import { compareDiagnostics, diagnostic, type Diagnostic } from "../diagnostics/diagnostic.js";
import { baseOf, fileRole, isSkippedDirectory, templatesFor } from "./files.js";
import type { JobDef, Pipeline, ResourceDef } from "./model.js";
import { normaliseFile, type Draft } from "./normalise.js";
import { validateLine, type LineNames } from "./validate.js";
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
  /**
   * Objects defined in files that are not loaded with these, by name, with their file: a
   * reference to one is reported as `PIPELINE_REFERENCE_ELSEWHERE` (an info), not as unknown.
   * For validating one file of a directory.
   */
  readonly elsewhere?: ReadonlyMap<string, string>;
}

/** Loader limits with defaults applied. */
export type CompiledLoadOptions = Readonly<Required<Omit<LoadOptions, "elsewhere">>>;

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
  // Templates files first: their own problems are reported once, and one that defines objects
  // is flagged (its text is prepended to other files, where those objects must not load).
  const objectTemplates = new Set<string>();
  for (const t of templates.values()) {
    if (utf8Length(t.text) > limits.maxFileBytes) continue;
    const own = loadFile(t, undefined, limits);
    diagnostics.push(...own.diagnostics);
    for (const doc of own.docs) {
      if (doc.value === null || typeof doc.value !== "object" || Array.isArray(doc.value)) continue;
      for (const key of ["resources", "jobs", "triggers"]) {
        if (!(key in doc.value)) continue;
        objectTemplates.add(t.path);
        diagnostics.push(
          diagnostic(
            "PIPELINE_TEMPLATES_OBJECTS",
            doc.locate([key], true),
            [key],
            `${t.path} defines ${key}:, which is ignored: a templates file only provides anchors to other files`,
            `move ${key}: into a *shippable.yml or *causeway.yml file`,
          ),
        );
      }
    }
  }
  let total = 0;
  for (const file of sorted) {
    const role = fileRole(baseOf(file.path));
    const bytes = utf8Length(file.text);
    total += bytes;
    if (total > limits.maxTotalBytes) {
      diagnostics.push(
        diagnostic(
          "PIPELINE_DIR_TOO_LARGE",
          { file: file.path, ...AT_FILE_START },
          [],
          `pipeline files exceed ${limits.maxTotalBytes} bytes in all; this file and the rest are not read`,
          "split the line across directories",
        ),
      );
      break;
    }
    if (bytes > limits.maxFileBytes) {
      diagnostics.push(
        diagnostic(
          "PIPELINE_FILE_TOO_LARGE",
          { file: file.path, ...AT_FILE_START },
          [],
          `file is ${bytes} bytes, over the cap of ${limits.maxFileBytes}`,
          "split the line into several files",
        ),
      );
      continue;
    }
    if (role === "templates") continue;
    const templatesPath = templatesFor(file.path, templateNames);
    const parsed = loadFile(file, templatesPath === undefined ? undefined : templates.get(templatesPath), limits);
    // A templates file's own diagnostics were reported by its own parse, not once per user.
    diagnostics.push(
      ...(templatesPath === undefined
        ? parsed.diagnostics
        : parsed.diagnostics.filter((d) => d.file === file.path || d.code === "PIPELINE_YAML_ALIAS_LIMIT")),
    );
    const skipFrom = templatesPath !== undefined && objectTemplates.has(templatesPath) ? templatesPath : undefined;
    const defs = normaliseFile(parsed.docs, skipFrom, diagnostics);
    resources.push(...defs.resources);
    jobs.push(...defs.jobs);
  }
  const line = validateLine(resources, jobs, diagnostics, options.elsewhere);
  const owned = { resources: ownedBy(resources, line), jobs: ownedBy(jobs, line) };
  const pipeline: Pipeline = { resources: owned.resources.defs, jobs: owned.jobs.defs };
  diagnostics.sort(compareDiagnostics);
  return {
    ok: !diagnostics.some((d) => d.severity === "error"),
    files: sorted.map((f) => f.path),
    pipeline,
    diagnostics: dedupe(diagnostics),
    summary: {
      resources: owned.resources.names,
      jobs: owned.jobs.names,
      edges: countEdges(jobs),
    },
  };
}

// The definitions of one kind that own their name (and the nameless ones), and how many
// distinct names that kind defines. A name's owner is its first definition, resources first,
// so a name of this kind owned by the other kind is counted apart.
function ownedBy<T extends Draft<ResourceDef> | Draft<JobDef>>(
  all: readonly T[],
  line: LineNames,
): { defs: T[]; names: number } {
  const defs: T[] = [];
  let names = 0;
  const shadowed = new Set<string>();
  for (const def of all) {
    if (def.name === "") {
      defs.push(def);
      continue;
    }
    const owner = line.owner(def.name);
    if (owner === def) {
      defs.push(def);
      names++;
    } else if (owner !== undefined && isJob(owner) !== isJob(def)) shadowed.add(def.name);
  }
  return { defs, names: names + shadowed.size };
}

function isJob(def: Draft<ResourceDef> | Draft<JobDef>): boolean {
  return "steps" in def;
}

function countEdges(jobs: readonly Draft<JobDef>[]): number {
  let n = 0;
  for (const j of jobs) for (const s of j.steps) if (s.kind !== "TASK") n++;
  return n;
}

const NON_ASCII = /[\u0080-\uffff]/;

/** The UTF-8 size of a string, in bytes (core has no Buffer). */
export function utf8Length(text: string): number {
  // Pure ASCII, the usual case, is one byte a character: a regex finds out faster than the loop.
  if (!NON_ASCII.test(text)) return text.length;
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
      n += 4;
      i++;
    } else n += 3;
  }
  return n;
}

// Drops exact repeats, and a schema error at the very place of an unknown alias (the alias
// became null, so the schema complains too: the alias diagnostic says it all).
function dedupe(diagnostics: Diagnostic[]): Diagnostic[] {
  const seen = new Set<string>();
  const aliases = new Set(
    diagnostics.filter((d) => d.code === "PIPELINE_YAML_UNKNOWN_ALIAS").map((d) => `${d.file}:${d.line}:${d.col}`),
  );
  return diagnostics.filter((d) => {
    if (d.code === "PIPELINE_SCHEMA" && aliases.has(`${d.file}:${d.line}:${d.col}`)) return false;
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
