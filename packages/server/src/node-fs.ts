import { readdir, readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import type { DirEntry, PipelineFs } from "@causeway/core";

/** The loader's file access on the local disk, rooted at `root`. */
export function nodePipelineFs(root: string): PipelineFs {
  return {
    async list(dir: string): Promise<DirEntry[]> {
      const entries = await readdir(join(root, dir), { withFileTypes: true });
      return Promise.all(
        entries.map(async (e): Promise<DirEntry> => {
          if (e.isDirectory()) return { name: e.name, kind: "directory", size: 0 };
          if (!e.isFile()) return { name: e.name, kind: "other", size: 0 };
          const s = await stat(join(root, dir, e.name));
          return { name: e.name, kind: "file", size: s.size };
        }),
      );
    },
    read: (path: string) => readFile(join(root, path), "utf8"),
  };
}
