import type { BlobStore } from "./ports.js";
import { CausewayError } from "../errors.js";

// The manifest of a state archive (runner/src/state-archive.ts writes and restores archives):
// a JSON blob `{version: 1, files: [{path, mode, sha, size}]}` sorted by path, whose sha is the
// archive's. The runner and the server both read it, so its format and its checks live here.

// TextDecoder is a global of Node and of browsers; core is built without either's types.
declare const TextDecoder: new (label: string, options: { fatal: boolean }) => { decode(bytes: Uint8Array): string };

/** One file of an archive. `path` is relative, `/`-separated, checked by `unsafePathReason`. */
export interface ArchiveEntry {
  readonly path: string;
  readonly mode: number;
  readonly sha: string;
  readonly size: number;
}

/** The manifest of an archive. */
export interface ArchiveManifest {
  readonly version: 1;
  readonly files: readonly ArchiveEntry[];
}

/** Why a relative archive path is unsafe, or undefined when it is safe. */
export function unsafePathReason(path: string): string | undefined {
  if (typeof path !== "string" || path === "") return "empty path";
  if (path.includes("\0")) return "NUL in path";
  if (path.includes("\\")) return "backslash in path";
  if (path.startsWith("/")) return "absolute path";
  for (const part of path.split("/")) {
    if (part === "..") return "'..' in path";
    if (part === "" || part === ".") return "empty or '.' path component";
  }
  return undefined;
}

/** Reads and checks the manifest of an archive (`ARCHIVE_NOT_FOUND`, `ARCHIVE_CORRUPT`, `ARCHIVE_UNSAFE_PATH`). */
export async function loadManifest(blobs: BlobStore, sha: string): Promise<ArchiveManifest> {
  const bytes = await blobs.get(sha);
  if (bytes === undefined)
    throw new CausewayError("ARCHIVE_NOT_FOUND", `state archive ${sha} is not in the blob store`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
  } catch (error) {
    throw new CausewayError("ARCHIVE_CORRUPT", `state archive ${sha}: the manifest is not JSON`, { cause: error });
  }
  return checkManifest(parsed, sha);
}

function checkManifest(value: unknown, sha: string): ArchiveManifest {
  const corrupt = (why: string): CausewayError => new CausewayError("ARCHIVE_CORRUPT", `state archive ${sha}: ${why}`);
  const m = value as { version?: unknown; files?: unknown } | null;
  if (m === null || typeof m !== "object" || m.version !== 1 || !Array.isArray(m.files)) {
    throw corrupt("the manifest is not {version: 1, files: [...]}");
  }
  const seen = new Set<string>();
  const files: ArchiveEntry[] = [];
  for (const raw of m.files as unknown[]) {
    const f = raw as Partial<Record<keyof ArchiveEntry, unknown>> | null;
    if (f === null || typeof f !== "object" || typeof f.path !== "string") throw corrupt("a file entry has no path");
    const unsafe = unsafePathReason(f.path);
    if (unsafe !== undefined) {
      throw new CausewayError(
        "ARCHIVE_UNSAFE_PATH",
        `state archive ${sha}: unsafe file name ${JSON.stringify(f.path)}: ${unsafe}`,
      );
    }
    if (!Number.isInteger(f.mode) || (f.mode as number) < 0 || (f.mode as number) > 0o777) {
      throw corrupt(`${f.path}: bad mode`);
    }
    if (typeof f.sha !== "string" || f.sha === "") throw corrupt(`${f.path}: bad sha`);
    if (!Number.isInteger(f.size) || (f.size as number) < 0) throw corrupt(`${f.path}: bad size`);
    if (seen.has(f.path)) throw corrupt(`${f.path} is listed twice`);
    seen.add(f.path);
    files.push({ path: f.path, mode: f.mode as number, sha: f.sha, size: f.size as number });
  }
  return { version: 1, files };
}
