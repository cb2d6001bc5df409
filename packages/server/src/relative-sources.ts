import { isAbsolute, resolve } from "node:path";
import { resourceKind, type Mapping, type Pipeline, type ResourceDef } from "@causeway/core";

/**
 * True when a `gitRepo` `sourceName` is a path relative to the pipeline directory: `.`, `..`,
 * or a path starting with `./` or `../`. Only these forms: `acme/app` is a repository of a
 * hosted SCM, never a directory.
 */
export function isRelativeSource(sourceName: unknown): sourceName is string {
  return (
    typeof sourceName === "string" &&
    !sourceName.includes("\0") &&
    (sourceName === "." || sourceName === ".." || sourceName.startsWith("./") || sourceName.startsWith("../"))
  );
}

/**
 * Resolves a line's relative local repositories against its directory `baseDir` (absolute; for
 * a line from several sources, a function giving the directory of a file's source):
 * the `sourceName` of a `gitRepo` written `./app-repo` becomes `<baseDir>/app-repo` in both its
 * `pointer` and its `template`, so the stored definition (and the version made from it), the
 * git poller and the runner all see the absolute path. Other sources (`acme/app`, URLs,
 * absolute paths) and other resource types are left as written. Pure: returns the same
 * pipeline when nothing is relative, else a copy sharing the unchanged objects.
 */
export function resolveRelativeSources(
  pipeline: Pipeline,
  baseDir: string | ((file: string) => string | undefined),
): Pipeline {
  const baseOf = typeof baseDir === "string" ? () => baseDir : baseDir;
  let changed = false;
  const resources = pipeline.resources.map((def): ResourceDef => {
    // Only a kind the runner checks out has a repository as its source.
    if (resourceKind(def.type).inData !== "checkout") return def;
    const base = baseOf(def.origin.file);
    if (base === undefined) return def;
    if (!isAbsolute(base)) throw new Error(`baseDir must be an absolute path, got ${JSON.stringify(base)}`);
    const pointer = withResolvedSource(def.pointer, base);
    const template = withResolvedSource(def.template, base);
    if (pointer === def.pointer && template === def.template) return def;
    changed = true;
    return { ...def, pointer, template };
  });
  return changed ? { ...pipeline, resources } : pipeline;
}

function withResolvedSource(mapping: Mapping, baseDir: string): Mapping {
  const source = mapping.sourceName;
  return isRelativeSource(source) ? { ...mapping, sourceName: resolve(baseDir, source) } : mapping;
}
