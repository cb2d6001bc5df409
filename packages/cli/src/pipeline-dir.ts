import { readFile, stat } from "node:fs/promises";
import { dirname, join, relative, resolve, sep } from "node:path";
import {
  loadPipeline,
  loadPipelineDirectory,
  TEMPLATES_FILE_NAME,
  sourcesFs,
  usageError,
  type LoadResult,
  type PipelineFs,
  type SourceFile,
} from "@causeway/core";
import type { ResolvedSources } from "./line-sources.js";
import { nodePipelineFs } from "./node-fs.js";

/** A loaded pipeline directory (or one file of it): the load result and the text of every file read. */
export interface LoadedDir {
  /** The directory the file paths of the result are relative to. */
  readonly root: string;
  readonly result: LoadResult;
  /** The files the loader read (within the size caps), by `/`-separated relative path. */
  readonly texts: ReadonlyMap<string, string>;
  /** The one file validated, relative to `root`, when a file was given rather than a directory. */
  readonly file?: string;
}

/** Loads the pipeline directory `dir` (relative to `cwd`). */
export async function loadDir(dir: string, cwd: string): Promise<LoadedDir> {
  const root = resolve(cwd, dir);
  const info = await stat(root).catch(() => undefined);
  if (info === undefined) throw usageError(`directory not found: ${dir}`);
  if (!info.isDirectory()) throw usageError(`not a directory: ${dir}`);
  return loadRoot(root);
}

/**
 * Loads what `path` names: a pipeline directory, or one pipeline file alone. A file is read with
 * the templates file that applies to it (the nearest `shippable.templates.yml` in its directory or
 * above, within its repository), and its references to objects that other files of its directory
 * define are reported as such (`PIPELINE_REFERENCE_ELSEWHERE`), not as unknown.
 */
export async function loadTarget(path: string, cwd: string): Promise<LoadedDir> {
  const target = resolve(cwd, path);
  const info = await stat(target).catch(() => undefined);
  if (info === undefined) throw usageError(`no such file or directory: ${path}`);
  if (info.isDirectory()) return loadRoot(target);
  if (!info.isFile()) throw usageError(`not a file or directory: ${path}`);
  const templates = await nearestTemplates(dirname(target));
  const root = templates === undefined ? dirname(target) : dirname(templates);
  const file = toSlash(relative(root, target));
  const files: SourceFile[] = [{ path: file, text: await readFile(target, "utf8") }];
  if (templates !== undefined && templates !== target)
    files.push({ path: toSlash(relative(root, templates)), text: await readFile(templates, "utf8") });
  const texts = new Map(files.map((f) => [f.path, f.text]));
  const alone = loadPipeline(files);
  if (!alone.diagnostics.some((d) => d.code === "PIPELINE_UNKNOWN_REFERENCE"))
    return { root, result: alone, texts, file };
  // What the other files of the directory define, to tell a reference to them from a typo.
  const around = await loadPipelineDirectory(nodePipelineFs(dirname(target)));
  const base = toSlash(relative(root, dirname(target)));
  const elsewhere = new Map<string, string>();
  for (const def of [...around.pipeline.resources, ...around.pipeline.jobs]) {
    const from = base === "" ? def.origin.file : `${base}/${def.origin.file}`;
    if (from !== file && !elsewhere.has(def.name)) elsewhere.set(def.name, from);
  }
  return { root, result: loadPipeline(files, { elsewhere }), texts, file };
}

/**
 * Loads the sources of a line as one: one plain directory as `loadDir` does (paths relative to
 * it), named sources through `sourcesFs`, each file's path starting with its source's name, so
 * names resolve across all of them and a name defined in two sources is a
 * `PIPELINE_DUPLICATE_NAME` naming both. `root` is the directory of the first source.
 */
export async function loadSources({ sources, named }: ResolvedSources): Promise<LoadedDir> {
  const [first] = sources;
  if (first === undefined) throw usageError("no source given");
  if (!named) return loadRoot(first.dir);
  return loadRoot(first.dir, sourcesFs(sources.map((s) => ({ name: s.name, fs: nodePipelineFs(s.dir) }))));
}

async function loadRoot(root: string, disk: PipelineFs = nodePipelineFs(root)): Promise<LoadedDir> {
  const texts = new Map<string, string>();
  const fs: PipelineFs = {
    list: (d) => disk.list(d),
    read: async (path) => {
      const text = await disk.read(path);
      texts.set(path, text);
      return text;
    },
  };
  return { root, result: await loadPipelineDirectory(fs), texts };
}

/** How many directories up a templates file is looked for. */
const MAX_TEMPLATES_DEPTH = 16;

// The templates file of a directory or of the nearest directory above it that has one, not past
// the top of a git repository.
async function nearestTemplates(dir: string): Promise<string | undefined> {
  let current = dir;
  for (let i = 0; i < MAX_TEMPLATES_DEPTH; i++) {
    const candidate = join(current, TEMPLATES_FILE_NAME);
    if (await exists(candidate)) return candidate;
    if ((await exists(join(current, ".git"))) || dirname(current) === current) return undefined;
    current = dirname(current);
  }
  return undefined;
}

function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

function toSlash(path: string): string {
  return path.split(sep).join("/");
}
