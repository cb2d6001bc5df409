/** Base names of the split files of design §2. */
export const SPLIT_FILE_NAMES = ["shippable.resources.yml", "shippable.jobs.yml", "shippable.triggers.yml"] as const;
/** Base name of the templates file whose anchors every file at or below its directory sees. */
export const TEMPLATES_FILE_NAME = "shippable.templates.yml";

/** What a file of a pipeline directory is to the loader. */
export type PipelineFileRole = "pipeline" | "templates" | "ignored";

/** The role of a file by its base name (design §2 file rules). */
export function fileRole(baseName: string): PipelineFileRole {
  if (baseName === TEMPLATES_FILE_NAME) return "templates";
  if (baseName.endsWith("causeway.yml") || baseName.endsWith("shippable.yml")) return "pipeline";
  if ((SPLIT_FILE_NAMES as readonly string[]).includes(baseName)) return "pipeline";
  return "ignored";
}

/** Directories never searched for pipeline files. */
export function isSkippedDirectory(baseName: string): boolean {
  return baseName.startsWith(".") || baseName === "node_modules";
}

/** The directory part of a `/`-separated relative path ("" for the root). */
export function dirOf(path: string): string {
  const at = path.lastIndexOf("/");
  return at < 0 ? "" : path.slice(0, at);
}

/** The base name of a `/`-separated path. */
export function baseOf(path: string): string {
  return path.slice(path.lastIndexOf("/") + 1);
}

/**
 * The templates file that applies to a pipeline file: the one in its own directory or the
 * nearest ancestor directory, or undefined.
 */
export function templatesFor(path: string, templates: ReadonlySet<string>): string | undefined {
  let dir = dirOf(path);
  for (;;) {
    const candidate = dir === "" ? TEMPLATES_FILE_NAME : `${dir}/${TEMPLATES_FILE_NAME}`;
    if (templates.has(candidate)) return candidate;
    if (dir === "") return undefined;
    dir = dirOf(dir);
  }
}

/**
 * Whether a commit that changed `paths` (`/`-separated, relative to the repository) changed only
 * pipeline and templates files: such a commit edits the line, not what it builds, and its
 * version of a `gitRepo` triggers nothing (Shippable's rule; the apply of the files does what
 * the edit asks). A commit that changed nothing (a merge, an empty commit) is not one.
 */
export function changesOnlyPipelineFiles(paths: readonly string[]): boolean {
  return paths.length > 0 && paths.every((p) => fileRole(baseOf(p)) !== "ignored");
}
