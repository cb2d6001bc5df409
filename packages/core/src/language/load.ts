import type { DiagnosticCode } from "../diagnostics/codes.js";
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
  /**
   * The objects of the line as last applied, by name, with the file that defines each (for an
   * apply). When that file is refused now, the object is kept as it was: a reference to it
   * resolves, and a definition of the same name in a file that loaded is a duplicate that is
   * not loaded.
   */
  readonly applied?: ReadonlyMap<string, string>;
}

/** Loader limits with defaults applied. */
export type CompiledLoadOptions = Readonly<Required<Omit<LoadOptions, "elsewhere" | "applied">>>;

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

/**
 * A file the loader did not read as a whole, so that nothing it defines is loaded: its YAML does
 * not parse, its aliases expand past the limit, it (or the directory) is over a size cap, it
 * cannot be read, or the templates file it needs was refused. An apply keeps the objects such a
 * file defined as they were (see `LoadOptions.applied`).
 */
export interface RefusedFile {
  readonly path: string;
  /**
   * The problem that refused it, one of `REFUSING_CODES`; also among the diagnostics. Its
   * position may be in another file (the templates file it was read with).
   */
  readonly reason: Diagnostic;
}

/** The diagnostic codes that refuse a whole file (a `RefusedFile`'s reason). */
export const REFUSING_CODES: readonly DiagnosticCode[] = [
  "PIPELINE_YAML_SYNTAX",
  "PIPELINE_YAML_ALIAS_LIMIT",
  "PIPELINE_FILE_TOO_LARGE",
  "PIPELINE_DIR_TOO_LARGE",
  "PIPELINE_FILE_UNREADABLE",
  "PIPELINE_TEMPLATES_REFUSED",
];

/** The result of loading a line: never thrown, always a pipeline plus diagnostics. */
export interface LoadResult {
  readonly ok: boolean;
  /**
   * Files read, relative to the directory, sorted. A file over a size cap is not read and not
   * listed; a file refused for its YAML was read and is listed (and in `refused`).
   */
  readonly files: readonly string[];
  /** Files not read as a whole, sorted by path: none of their objects is in `pipeline`. */
  readonly refused: readonly RefusedFile[];
  readonly pipeline: Pipeline;
  /** Sorted by file and position. */
  readonly diagnostics: readonly Diagnostic[];
  readonly summary: LoadSummary;
}

/** How a file of a load fared: read as a whole (`loaded`), or `refused` with the reason. */
export interface FileStatus {
  readonly path: string;
  readonly status: "loaded" | "refused";
  readonly reason?: Diagnostic;
}

/** Every file of a load, read or refused, with its status, sorted by path. */
export function fileStatuses(result: Pick<LoadResult, "files" | "refused">): FileStatus[] {
  const refused = new Map(result.refused.map((r) => [r.path, r.reason]));
  const paths = [...new Set([...result.files, ...refused.keys()])].sort(byString);
  return paths.map((path) => {
    const reason = refused.get(path);
    return reason === undefined ? { path, status: "loaded" } : { path, status: "refused", reason };
  });
}

const AT_FILE_START = { line: 1, col: 1, endLine: 1, endCol: 1 } as const;

function byString(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Loads a line from its files (templates files included). Pure and synchronous: reading the
 * directory is the caller's job (see loadPipelineDirectory). Never throws on any input.
 * `unread`: files of the line that the caller found but did not read (over a cap, unreadable);
 * they are refused, with their reasons.
 *
 * A file is refused as a whole when it is over a cap, when one of its documents has a YAML
 * syntax error or an alias expansion over the limit, or when its templates file is refused:
 * none of its objects loads, not even those of its other documents (an apply keeps what it
 * defined before). A schema error is not a refusal: the object loads as inconsistent.
 */
export function loadPipeline(
  files: readonly SourceFile[],
  options: LoadOptions = {},
  unread: readonly RefusedFile[] = [],
): LoadResult {
  return assemble(files, options, unread, []);
}

function assemble(
  files: readonly SourceFile[],
  options: LoadOptions,
  unread: readonly RefusedFile[],
  extra: readonly Diagnostic[],
): LoadResult {
  const limits = compileLoadOptions(options);
  const diagnostics: Diagnostic[] = [...extra];
  const refused = new Map<string, Diagnostic>();
  const refuse = (path: string, reason: Diagnostic): void => {
    if (refused.has(path)) return;
    refused.set(path, reason);
    diagnostics.push(reason);
  };
  for (const u of unread) refuse(u.path, u.reason);
  // A file both given and said to be unread stays unread.
  const sorted = files.filter((f) => !refused.has(f.path)).sort((a, b) => byString(a.path, b.path));
  const read = checkCaps(sorted, limits, refuse);
  // Every templates file of the line, read or not: a pipeline file whose templates file was not
  // read cannot resolve its anchors, so it is refused rather than read without them.
  const templateNames = new Set<string>();
  for (const path of [...sorted.map((f) => f.path), ...refused.keys()])
    if (fileRole(baseOf(path)) === "templates") templateNames.add(path);
  const templates = new Map<string, SourceFile>();
  for (const f of read) if (fileRole(baseOf(f.path)) === "templates") templates.set(f.path, f);
  const resources: Draft<ResourceDef>[] = [];
  const jobs: Draft<JobDef>[] = [];
  // Templates files first: their own problems are reported once, and one that defines objects
  // is flagged (its text is prepended to other files, where those objects must not load).
  const objectTemplates = new Set<string>();
  for (const t of templates.values()) {
    const own = loadFile(t, undefined, limits);
    const refusal = own.diagnostics.find(isParseRefusal);
    diagnostics.push(...own.diagnostics);
    if (refusal !== undefined) {
      refused.set(t.path, refusal);
      continue;
    }
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
  for (const file of read) {
    if (fileRole(baseOf(file.path)) === "templates") continue;
    const templatesPath = templatesFor(file.path, templateNames);
    const templatesRefusal = templatesPath === undefined ? undefined : refused.get(templatesPath);
    if (templatesPath !== undefined && templatesRefusal !== undefined) {
      refuse(file.path, templatesRefused(file.path, templatesPath, templatesRefusal));
      continue;
    }
    const parsed = loadFile(file, templatesPath === undefined ? undefined : templates.get(templatesPath), limits);
    // A templates file's own diagnostics were reported by its own parse, not once per user.
    const own =
      templatesPath === undefined
        ? parsed.diagnostics
        : parsed.diagnostics.filter((d) => d.file === file.path || d.code === "PIPELINE_YAML_ALIAS_LIMIT");
    diagnostics.push(...own);
    const refusal = parsed.diagnostics.find(isParseRefusal);
    if (refusal !== undefined) {
      // Reported even when it lies in the templates text (the file and its templates do not
      // parse together), so that the reason of a refusal is always among the diagnostics.
      if (!own.includes(refusal)) diagnostics.push(refusal);
      refused.set(file.path, refusal);
      continue;
    }
    const skipFrom = templatesPath !== undefined && objectTemplates.has(templatesPath) ? templatesPath : undefined;
    const defs = normaliseFile(parsed.docs, skipFrom, diagnostics);
    resources.push(...defs.resources);
    jobs.push(...defs.jobs);
  }
  const kept = keptObjects(options.applied, refused);
  const loadedResources = dropKept(resources, kept, diagnostics);
  const loadedJobs = dropKept(jobs, kept, diagnostics);
  const line = validateLine(loadedResources, loadedJobs, diagnostics, options.elsewhere, kept);
  const owned = { resources: ownedBy(loadedResources, line), jobs: ownedBy(loadedJobs, line) };
  const pipeline: Pipeline = { resources: owned.resources.defs, jobs: owned.jobs.defs };
  diagnostics.sort(compareDiagnostics);
  return {
    ok: !diagnostics.some((d) => d.severity === "error"),
    files: read.map((f) => f.path),
    refused: [...refused].sort(([a], [b]) => byString(a, b)).map(([path, reason]) => ({ path, reason })),
    pipeline,
    diagnostics: dedupe(diagnostics),
    summary: {
      resources: owned.resources.names,
      jobs: owned.jobs.names,
      edges: countEdges(loadedJobs),
    },
  };
}

// The files within the caps, in order; the others are refused. A file over the file cap is
// skipped; once the files kept reach the directory cap, that file and every later one are
// refused (a file not read does not count towards the total).
function checkCaps(
  sorted: readonly SourceFile[],
  limits: CompiledLoadOptions,
  refuse: (path: string, reason: Diagnostic) => void,
): SourceFile[] {
  const read: SourceFile[] = [];
  let total = 0;
  let stoppedAt: string | undefined;
  for (const file of sorted) {
    const bytes = utf8Length(file.text);
    if (stoppedAt === undefined && bytes > limits.maxFileBytes) {
      refuse(file.path, fileTooLarge(file.path, bytes, limits.maxFileBytes));
      continue;
    }
    if (stoppedAt === undefined && total + bytes > limits.maxTotalBytes) stoppedAt = file.path;
    if (stoppedAt !== undefined) {
      refuse(file.path, dirTooLarge(file.path, stoppedAt, limits.maxTotalBytes));
      continue;
    }
    total += bytes;
    read.push(file);
  }
  return read;
}

function isParseRefusal(d: Diagnostic): boolean {
  return d.code === "PIPELINE_YAML_SYNTAX" || d.code === "PIPELINE_YAML_ALIAS_LIMIT";
}

function fileTooLarge(path: string, bytes: number, cap: number): Diagnostic {
  return diagnostic(
    "PIPELINE_FILE_TOO_LARGE",
    { file: path, ...AT_FILE_START },
    [],
    `file is ${bytes} bytes, over the cap of ${cap}; it is not read`,
    "split the line into several files",
  );
}

function dirTooLarge(path: string, first: string, cap: number): Diagnostic {
  return diagnostic(
    "PIPELINE_DIR_TOO_LARGE",
    { file: path, ...AT_FILE_START },
    [],
    path === first
      ? `pipeline files exceed ${cap} bytes in all; this file and the rest are not read`
      : `pipeline files exceed ${cap} bytes in all from ${first} on; this file is not read`,
    "split the line across directories",
  );
}

function templatesRefused(path: string, templatesPath: string, reason: Diagnostic): Diagnostic {
  return diagnostic(
    "PIPELINE_TEMPLATES_REFUSED",
    { file: path, ...AT_FILE_START },
    [],
    `this file is read with ${templatesPath}, which was refused (${reason.code} at ${reason.file}:${reason.line}:${reason.col}); it is not read either`,
    `fix ${templatesPath}`,
  );
}

/**
 * The objects an apply keeps as they were: those the line defined (as last applied) in a file
 * that is refused now. Name -> file.
 */
function keptObjects(
  applied: ReadonlyMap<string, string> | undefined,
  refused: ReadonlyMap<string, Diagnostic>,
): ReadonlyMap<string, string> {
  const kept = new Map<string, string>();
  if (applied === undefined || refused.size === 0) return kept;
  for (const [name, file] of applied) if (refused.has(file)) kept.set(name, file);
  return kept;
}

// A kept object owns its name: the same name in a file that loaded is a duplicate, not applied
// (it may be the object moving from the refused file, or a real duplicate: that is known only
// once the refused file reads again).
function dropKept<T extends Draft<ResourceDef> | Draft<JobDef>>(
  defs: T[],
  kept: ReadonlyMap<string, string>,
  out: Diagnostic[],
): T[] {
  if (kept.size === 0) return defs;
  return defs.filter((def) => {
    const file = kept.get(def.name);
    if (file === undefined) return true;
    out.push(
      diagnostic(
        "PIPELINE_DUPLICATE_NAME",
        def.origin.range,
        [...(def.origin.path === "" ? [] : [def.origin.path]), "name"],
        `${isJob(def) ? "job" : "resource"} ${def.name} is defined in ${file}, which was refused: its applied definition is kept, and this one is not applied until ${file} reads again`,
        `fix ${file}; if ${def.name} moved here from it, remove it there too`,
      ),
    );
    return false;
  });
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
 * the caps are refused without being read; so is a file that cannot be read. Once the files
 * read reach the directory cap, the walk goes on listing (never reading), so that every file
 * that was not read is named.
 */
export async function loadPipelineDirectory(fs: PipelineFs, options: LoadOptions = {}): Promise<LoadResult> {
  const limits = compileLoadOptions(options);
  const unread: RefusedFile[] = [];
  const files: SourceFile[] = [];
  let total = 0;
  let stoppedAt: string | undefined;
  const walk = async (dir: string, depth: number): Promise<void> => {
    const entries = [...(await fs.list(dir))].sort((a, b) => byString(a.name, b.name));
    for (const entry of entries) {
      const path = dir === "" ? entry.name : `${dir}/${entry.name}`;
      if (entry.kind === "directory") {
        if (!isSkippedDirectory(entry.name) && depth < limits.maxDepth) await walk(path, depth + 1);
        continue;
      }
      if (entry.kind !== "file" || fileRole(entry.name) === "ignored") continue;
      if (stoppedAt === undefined && entry.size > limits.maxFileBytes) {
        unread.push({ path, reason: fileTooLarge(path, entry.size, limits.maxFileBytes) });
        continue;
      }
      if (stoppedAt === undefined && total + entry.size > limits.maxTotalBytes) stoppedAt = path;
      if (stoppedAt !== undefined) {
        unread.push({ path, reason: dirTooLarge(path, stoppedAt, limits.maxTotalBytes) });
        continue;
      }
      let text: string;
      try {
        text = await fs.read(path);
      } catch (error) {
        // Gone since the listing, or no permission: refused, so that an apply keeps what it
        // defined (a deletion is seen by the next load).
        unread.push({ path, reason: unreadable(path, error) });
        continue;
      }
      total += entry.size;
      files.push({ path, text });
    }
  };
  await walk("", 0);
  const extra: Diagnostic[] = [];
  if (files.length === 0 && unread.length === 0) {
    extra.push(
      diagnostic(
        "PIPELINE_NO_FILES",
        { file: ".", ...AT_FILE_START },
        [],
        "no pipeline file found",
        "name files *causeway.yml, *shippable.yml or shippable.{resources,jobs,triggers}.yml",
      ),
    );
  }
  return assemble(files, options, unread, extra);
}

function unreadable(path: string, error: unknown): Diagnostic {
  const why = error instanceof Error ? error.message : String(error);
  return diagnostic(
    "PIPELINE_FILE_UNREADABLE",
    { file: path, ...AT_FILE_START },
    [],
    `cannot read the file: ${why}`,
    "check the file's permissions; a file removed while it was read is seen at the next apply",
  );
}
