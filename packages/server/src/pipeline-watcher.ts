import { watch, type FSWatcher } from "node:fs";
import { readdir } from "node:fs/promises";
import { join } from "node:path";
import { fileRole, isSkippedDirectory } from "@causeway/core";

/** A running watch of a pipeline directory; `close` is idempotent. */
export interface PipelineWatcher {
  close(): void;
}

/** Options of `watchPipelineDirectory`. */
export interface PipelineWatcherOptions {
  /** Quiet time after the last change before `onChange` runs. */
  readonly debounceMs: number;
  /** Deepest sub-directory watched (the loader's default depth). */
  readonly maxDepth?: number;
  /** Called when watching a directory fails (it is retried at the next change). */
  readonly onError?: (error: unknown) => void;
}

/**
 * Watches the pipeline files of `root` and its sub-directories, and calls `onChange` once per
 * burst of changes (debounced). Only directories the loader reads are watched (never `.git`,
 * the `.causeway` data directory or `node_modules`, which change all the time and can be
 * huge), one non-recursive `fs.watch` each; the set is refreshed after every burst, so new
 * sub-directories are picked up. Changes to files the loader ignores do not count.
 */
export function watchPipelineDirectory(
  root: string,
  onChange: () => void,
  options: PipelineWatcherOptions,
): PipelineWatcher {
  const maxDepth = options.maxDepth ?? 16;
  const watchers = new Map<string, FSWatcher>();
  let timer: NodeJS.Timeout | undefined;
  let closed = false;

  const schedule = (): void => {
    if (closed) return;
    if (timer !== undefined) clearTimeout(timer);
    timer = setTimeout(() => {
      timer = undefined;
      void refresh().then(() => {
        if (!closed) onChange();
      });
    }, options.debounceMs);
  };

  const relevant = (dir: string, name: string | null): boolean => {
    if (name === null) return true;
    const base = name.slice(name.lastIndexOf("/") + 1);
    if (isSkippedDirectory(base)) return false;
    if (fileRole(base) !== "ignored") return true;
    // A sub-directory that appeared or went away may hold pipeline files.
    const rel = dir === "" ? base : `${dir}/${base}`;
    return watchers.has(rel) || !base.includes(".");
  };

  const add = (dir: string): void => {
    if (closed || watchers.has(dir)) return;
    try {
      const watcher = watch(join(root, dir), { persistent: false }, (_event, name) => {
        if (relevant(dir, name)) schedule();
      });
      watcher.on("error", () => {
        watcher.close();
        if (watchers.get(dir) === watcher) watchers.delete(dir);
        schedule();
      });
      watchers.set(dir, watcher);
    } catch (error) {
      if (dir === "") options.onError?.(error);
    }
  };

  const directories = async (): Promise<Set<string>> => {
    const found = new Set<string>([""]);
    const walk = async (dir: string, depth: number): Promise<void> => {
      let entries;
      try {
        entries = await readdir(join(root, dir), { withFileTypes: true });
      } catch {
        return;
      }
      for (const entry of entries) {
        if (!entry.isDirectory() || isSkippedDirectory(entry.name) || depth >= maxDepth) continue;
        const rel = dir === "" ? entry.name : `${dir}/${entry.name}`;
        found.add(rel);
        await walk(rel, depth + 1);
      }
    };
    await walk("", 0);
    return found;
  };

  const refresh = async (): Promise<void> => {
    const wanted = await directories();
    if (closed) return;
    for (const [dir, watcher] of watchers) {
      if (!wanted.has(dir)) {
        watcher.close();
        watchers.delete(dir);
      }
    }
    for (const dir of wanted) add(dir);
  };

  add("");
  void refresh();
  return {
    close() {
      closed = true;
      if (timer !== undefined) clearTimeout(timer);
      for (const watcher of watchers.values()) watcher.close();
      watchers.clear();
    },
  };
}
