import { CausewayError, loadManifest, unsafePathReason, type ArchiveEntry, type ArchiveManifest } from "@causeway/core";
import { constants, lstatSync, readdirSync } from "node:fs";
import { mkdir, open } from "node:fs/promises";
import { resolve, sep } from "node:path";
import type { BlobStore } from "@causeway/core";
import { FILE_CONCURRENCY, mapLimit } from "./concurrency.js";
import { withPath } from "./file-errors.js";

// The manifest's format (ArchiveManifest, loadManifest, unsafePathReason) is core's
// (engine/state-manifest.ts): the server reads it too. This module writes and restores archives.
export { loadManifest, unsafePathReason, type ArchiveEntry, type ArchiveManifest } from "@causeway/core";

/**
 * State archives: a set of files (job state, a state resource) saved in a BlobStore. Each
 * file's bytes are one blob; a JSON manifest `{version: 1, files: [{path, mode, sha, size}]}`
 * sorted by path is one more blob, and its sha is the archive's sha. Same files, same modes:
 * same sha. Only regular files are kept (no directories, symlinks or devices); modes keep the
 * permission bits (0o777).
 */

/** A file read from a directory, ready to be archived. */
export interface TreeFile {
  readonly path: string;
  readonly mode: number;
  readonly bytes: Uint8Array;
}

/** What `readTree` found: the regular files, and the entries it left out (with why). */
export interface Tree {
  readonly files: readonly TreeFile[];
  readonly skipped: readonly string[];
}

const EMPTY_MANIFEST: ArchiveManifest = { version: 1, files: [] };

/**
 * The absolute path of `rel` under `base`; throws `ARCHIVE_UNSAFE_PATH` when `rel` is
 * absolute, climbs out (`..`), holds NUL or a backslash, or does not resolve under `base`.
 */
export function safeJoin(base: string, rel: string): string {
  const reason = unsafePathReason(rel);
  const root = resolve(base);
  const prefix = root.endsWith(sep) ? root : root + sep;
  const full = reason === undefined ? resolve(root, rel) : "";
  if (reason !== undefined || !full.startsWith(prefix)) {
    throw new CausewayError(
      "ARCHIVE_UNSAFE_PATH",
      `unsafe file name ${JSON.stringify(rel)} in a state archive: ${reason ?? "outside the directory"}`,
    );
  }
  return full;
}

function byPath(a: { path: string }, b: { path: string }): number {
  return a.path < b.path ? -1 : a.path > b.path ? 1 : 0;
}

/**
 * Reads every regular file under `dir` (recursively), with its permission bits. Symlinks,
 * devices, sockets and names an archive could not restore are skipped and listed. A missing
 * `dir` reads as empty; a `dir` that is a symlink is not followed. Directories are listed
 * synchronously (workspaces are on tmpfs, where a listing costs less than a thread-pool round
 * trip, and most state directories are empty); file contents are read asynchronously.
 */
export async function readTree(dir: string): Promise<Tree> {
  const found: { full: string; path: string }[] = [];
  const skipped: string[] = [];
  const walk = (abs: string, rel: string): void => {
    for (const entry of readdirSync(abs, { withFileTypes: true })) {
      const path = rel === "" ? entry.name : `${rel}/${entry.name}`;
      const full = `${abs}/${entry.name}`;
      const reason = unsafePathReason(path);
      if (entry.isDirectory()) walk(full, path);
      else if (!entry.isFile()) skipped.push(`${path} (not a regular file)`);
      else if (reason !== undefined) skipped.push(`${path} (${reason})`);
      else found.push({ full, path });
    }
  };
  // The directory itself may have been replaced by the job: never follow a symlink out of it.
  const root = lstatSync(dir, { throwIfNoEntry: false });
  if (root === undefined) return { files: [], skipped };
  if (!root.isDirectory()) return { files: [], skipped: [". (not a directory)"] };
  walk(dir, "");
  const files = await mapLimit(found, FILE_CONCURRENCY, (f) => readRegularFile(f.full, f.path));
  files.sort(byPath);
  return { files, skipped: skipped.sort() };
}

async function readRegularFile(full: string, path: string): Promise<TreeFile> {
  // O_NOFOLLOW and O_NONBLOCK: a file swapped for a symlink or a FIFO is never followed or waited on.
  const fh = await open(full, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  try {
    const stat = await fh.stat();
    const bytes = await fh.readFile();
    return { path, mode: stat.mode & 0o777, bytes };
  } finally {
    await fh.close();
  }
}

/** The manifest's bytes: fixed key order, sorted files, so equal sets give equal bytes. */
export function encodeManifest(files: readonly ArchiveEntry[]): Uint8Array {
  const sorted = [...files].sort(byPath).map((f) => ({ path: f.path, mode: f.mode, sha: f.sha, size: f.size }));
  return new TextEncoder().encode(JSON.stringify({ version: 1, files: sorted }));
}

/**
 * Saves files (plus entries already stored, e.g. carried over from a previous archive) as an
 * archive; returns its sha, or null when there is no file at all.
 */
export async function saveArchive(
  blobs: BlobStore,
  files: readonly TreeFile[],
  carried: readonly ArchiveEntry[] = [],
): Promise<string | null> {
  if (files.length === 0 && carried.length === 0) return null;
  const entries = await mapLimit(files, FILE_CONCURRENCY, async (f) => ({
    path: f.path,
    mode: f.mode,
    sha: await blobs.put(f.bytes),
    size: f.bytes.byteLength,
  }));
  return blobs.put(encodeManifest([...entries, ...carried]));
}

/**
 * Writes the files of a manifest under `dir` (which must exist): every directory created once,
 * parents first; files created exclusively (never through an existing entry) with their modes.
 * Returns the number of files written.
 */
export async function restoreManifest(blobs: BlobStore, manifest: ArchiveManifest, dir: string): Promise<number> {
  const root = resolve(dir);
  const targets = manifest.files.map((f) => ({ entry: f, full: safeJoin(root, f.path) }));
  const dirs = new Set<string>();
  for (const { entry } of targets) {
    const parts = entry.path.split("/");
    for (let i = 1; i < parts.length; i++) dirs.add(parts.slice(0, i).join("/"));
  }
  const byDepth = new Map<number, string[]>();
  for (const d of dirs) {
    const depth = d.split("/").length;
    byDepth.set(depth, [...(byDepth.get(depth) ?? []), d]);
  }
  for (const depth of [...byDepth.keys()].sort((a, b) => a - b)) {
    await mapLimit(byDepth.get(depth) ?? [], FILE_CONCURRENCY, (d) => mkdir(safeJoin(root, d)));
  }
  await mapLimit(targets, FILE_CONCURRENCY, async ({ entry, full }) => {
    const bytes = await blobs.get(entry.sha);
    if (bytes === undefined) {
      throw new CausewayError(
        "ARCHIVE_NOT_FOUND",
        `file ${entry.path} (${entry.sha}) of a state archive is not in the blob store`,
      );
    }
    if (bytes.byteLength !== entry.size) {
      throw new CausewayError(
        "ARCHIVE_CORRUPT",
        `file ${entry.path}: ${bytes.byteLength} bytes, the manifest says ${entry.size}`,
      );
    }
    const fh = await open(
      full,
      constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW,
      entry.mode,
    );
    try {
      await fh.writeFile(bytes);
      // open's mode is filtered by the umask: set the recorded bits exactly.
      await fh.chmod(entry.mode);
    } catch (error) {
      throw withPath(error, full);
    } finally {
      await fh.close();
    }
  });
  return targets.length;
}

/** Restores the archive `sha` under `dir`; returns its manifest. */
export async function restoreArchive(blobs: BlobStore, sha: string, dir: string): Promise<ArchiveManifest> {
  const manifest = await loadManifest(blobs, sha);
  await restoreManifest(blobs, manifest, dir);
  return manifest;
}

/**
 * The entries of `previous` a failed run carries forward: those whose path the run did not
 * write, and that neither sit under a file the run wrote nor hold one (no file/directory clash).
 */
export function carriedEntries(previous: ArchiveManifest, written: readonly TreeFile[]): ArchiveEntry[] {
  const files = new Set(written.map((f) => f.path));
  const dirs = new Set<string>();
  for (const f of written) {
    const parts = f.path.split("/");
    for (let i = 1; i < parts.length; i++) dirs.add(parts.slice(0, i).join("/"));
  }
  return previous.files.filter((e) => {
    if (files.has(e.path) || dirs.has(e.path)) return false;
    const parts = e.path.split("/");
    for (let i = 1; i < parts.length; i++) if (files.has(parts.slice(0, i).join("/"))) return false;
    return true;
  });
}

/** An empty manifest (no previous state). */
export function emptyManifest(): ArchiveManifest {
  return EMPTY_MANIFEST;
}
