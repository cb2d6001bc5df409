import { stat } from "node:fs/promises";
import { relative, resolve } from "node:path";
import { loadPipelineDirectory, type LoadResult } from "@causeway/core";
import { nodePipelineFs } from "./node-fs.js";
import { UsageError } from "./usage-error.js";

/** Loads the pipeline directory `dir` (default: the current directory). */
export async function loadDir(dir: string | undefined): Promise<{ root: string; result: LoadResult }> {
  const root = resolve(dir ?? ".");
  const info = await stat(root).catch(() => undefined);
  if (info === undefined) throw new UsageError(`directory not found: ${relative(process.cwd(), root) || root}`);
  if (!info.isDirectory()) throw new UsageError(`not a directory: ${root}`);
  return { root, result: await loadPipelineDirectory(nodePipelineFs(root)) };
}
