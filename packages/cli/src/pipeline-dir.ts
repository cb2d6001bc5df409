import { stat } from "node:fs/promises";
import { relative, resolve } from "node:path";
import { loadPipelineDirectory, type LoadResult, type PipelineFs, usageError } from "@causeway/core";
import { nodePipelineFs } from "./node-fs.js";

/** A loaded pipeline directory: the load result and the text of every file read. */
export interface LoadedDir {
  readonly root: string;
  readonly result: LoadResult;
  /** The files the loader read (within the size caps), by `/`-separated relative path. */
  readonly texts: ReadonlyMap<string, string>;
}

/** Loads the pipeline directory `dir` (default: the current directory). */
export async function loadDir(dir: string | undefined): Promise<LoadedDir> {
  const root = resolve(dir ?? ".");
  const info = await stat(root).catch(() => undefined);
  if (info === undefined) throw usageError(`directory not found: ${relative(process.cwd(), root) || root}`);
  if (!info.isDirectory()) throw usageError(`not a directory: ${root}`);
  const texts = new Map<string, string>();
  const disk = nodePipelineFs(root);
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
