import { readdirSync } from "node:fs";
import { readdir, readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { expect, inject } from "vitest";
import { loadPipelineDirectory, type DirEntry, type LoadResult, type PipelineFs } from "../src/index.js";
import { FIXTURE_CORPUS, type CorpusLocation } from "./corpus-location.js";

// What the tests of a corpus share, for both corpora: the repository's own (always there) and
// the external one (decided once per run by corpus-setup.ts).

export { FIXTURE_CORPUS };

/** The external corpus of this test run. */
export const EXTERNAL: CorpusLocation = inject("externalCorpus");

/** The external corpus's directory, when it is there. */
export const EXTERNAL_DIR: string | undefined = EXTERNAL.kind === "found" ? EXTERNAL.dir : undefined;

/**
 * True when the external corpus's tests are skipped (absent, and optional here). Use with
 * `describe.skipIf`/`it.skipIf`: where it is mandatory and absent, they run and fail instead.
 */
export const SKIP_EXTERNAL: boolean = EXTERNAL.kind === "skip";

/** Fails the calling test when the external corpus is mandatory here and absent. */
export function expectExternalCorpus(): string {
  if (EXTERNAL.kind !== "found") expect.fail(EXTERNAL.reason);
  return EXTERNAL.dir;
}

/** The loader's file access on the local disk, rooted at `root` (core itself has no I/O). */
export function nodeFs(root: string): PipelineFs {
  return {
    async list(dir: string): Promise<DirEntry[]> {
      const entries = await readdir(join(root, dir), { withFileTypes: true });
      return Promise.all(
        entries.map(async (e): Promise<DirEntry> => {
          if (e.isDirectory()) return { name: e.name, kind: "directory", size: 0 };
          if (!e.isFile()) return { name: e.name, kind: "other", size: 0 };
          return { name: e.name, kind: "file", size: (await stat(join(root, dir, e.name))).size };
        }),
      );
    },
    read: (path: string) => readFile(join(root, path), "utf8"),
  };
}

/** The lines of a corpus: its sub-directories, sorted; none when `dir` is undefined. */
export function corpusFolders(dir: string | undefined): string[] {
  if (dir === undefined) return [];
  return readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isDirectory())
    .map((e) => e.name)
    .sort();
}

/** Every `.yml` file under `dir`, relative to it, sorted; none when `dir` is undefined. */
export function corpusFiles(dir: string | undefined): string[] {
  if (dir === undefined) return [];
  return readdirSync(dir, { recursive: true, encoding: "utf8" })
    .filter((f) => f.endsWith(".yml"))
    .sort();
}

/** One line of a corpus, loaded as `causeway validate` loads a directory. */
export function loadFolder(corpus: string, folder: string): Promise<LoadResult> {
  return loadPipelineDirectory(nodeFs(join(corpus, folder)));
}
