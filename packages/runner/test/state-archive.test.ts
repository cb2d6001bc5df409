import { CausewayError } from "@causeway/core";
import { chmod, mkdir, readFile, stat, symlink, writeFile } from "node:fs/promises";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  carriedEntries,
  encodeManifest,
  loadManifest,
  readTree,
  restoreArchive,
  safeJoin,
  saveArchive,
  unsafePathReason,
  type ArchiveManifest,
} from "../src/index.js";
import { MemoryBlobStore, tempDir } from "./helpers.js";

let dir: string;
let cleanup: () => Promise<void>;
beforeEach(async () => {
  ({ path: dir, cleanup } = await tempDir());
});
afterEach(() => cleanup());

async function writeTree(root: string, files: Record<string, [string, number]>): Promise<void> {
  for (const [path, [text, mode]] of Object.entries(files)) {
    const full = `${root}/${path}`;
    await mkdir(full.slice(0, full.lastIndexOf("/")), { recursive: true });
    await writeFile(full, text);
    await chmod(full, mode);
  }
}

function codeOf(error: unknown): string | undefined {
  return error instanceof CausewayError ? error.code : undefined;
}

async function manifestSha(blobs: MemoryBlobStore, manifest: unknown): Promise<string> {
  return blobs.put(new TextEncoder().encode(JSON.stringify(manifest)));
}

describe("state archives", () => {
  it("gives the same sha to the same files, whatever order they were written in", async () => {
    const blobs = new MemoryBlobStore();
    await writeTree(`${dir}/a`, { "x.txt": ["x", 0o644], "sub/y.sh": ["y", 0o755], "b.env": ["k=v\n", 0o600] });
    await writeTree(`${dir}/b`, { "b.env": ["k=v\n", 0o600], "sub/y.sh": ["y", 0o755], "x.txt": ["x", 0o644] });
    const shaA = await saveArchive(blobs, (await readTree(`${dir}/a`)).files);
    const shaB = await saveArchive(blobs, (await readTree(`${dir}/b`)).files);
    expect(shaA).not.toBeNull();
    expect(shaB).toBe(shaA);
    const manifest = await loadManifest(blobs, shaA as string);
    expect(manifest.files.map((f) => [f.path, f.mode, f.size])).toEqual([
      ["b.env", 0o600, 4],
      ["sub/y.sh", 0o755, 1],
      ["x.txt", 0o644, 1],
    ]);
  });

  it("gives another sha when a mode or a byte changes", async () => {
    const blobs = new MemoryBlobStore();
    await writeTree(dir, { f: ["same", 0o644] });
    const first = await saveArchive(blobs, (await readTree(dir)).files);
    await chmod(`${dir}/f`, 0o755);
    const second = await saveArchive(blobs, (await readTree(dir)).files);
    await writeFile(`${dir}/f`, "diff");
    const third = await saveArchive(blobs, (await readTree(dir)).files);
    expect(new Set([first, second, third]).size).toBe(3);
  });

  it("saves nothing and returns null for an empty or missing directory", async () => {
    const blobs = new MemoryBlobStore();
    expect(await saveArchive(blobs, (await readTree(dir)).files)).toBeNull();
    expect(await saveArchive(blobs, (await readTree(`${dir}/missing`)).files)).toBeNull();
    expect(blobs.puts).toBe(0);
  });

  it("round-trips bytes and modes, and restores into nested directories", async () => {
    const blobs = new MemoryBlobStore();
    const binary = Buffer.from([0, 1, 2, 255, 10, 13]);
    await writeTree(`${dir}/src`, { "run.sh": ["#!/bin/sh\necho hi\n", 0o755], "deep/er/secret": ["s", 0o600] });
    await writeFile(`${dir}/src/bin.dat`, binary);
    const sha = (await saveArchive(blobs, (await readTree(`${dir}/src`)).files)) as string;
    await mkdir(`${dir}/dst`);
    const manifest = await restoreArchive(blobs, sha, `${dir}/dst`);
    expect(manifest.files).toHaveLength(3);
    expect(await readFile(`${dir}/dst/run.sh`, "utf8")).toBe("#!/bin/sh\necho hi\n");
    expect((await stat(`${dir}/dst/run.sh`)).mode & 0o777).toBe(0o755);
    expect((await stat(`${dir}/dst/deep/er/secret`)).mode & 0o777).toBe(0o600);
    expect(Buffer.compare(await readFile(`${dir}/dst/bin.dat`), binary)).toBe(0);
  });

  it("leaves symlinks out of an archive and lists them as skipped", async () => {
    await writeTree(dir, { "real.txt": ["r", 0o644] });
    await symlink("/etc/passwd", `${dir}/link`);
    const tree = await readTree(dir);
    expect(tree.files.map((f) => f.path)).toEqual(["real.txt"]);
    expect(tree.skipped).toEqual(["link (not a regular file)"]);
  });

  it("does not follow a directory that was replaced by a symlink", async () => {
    await writeTree(`${dir}/real`, { secret: ["s", 0o644] });
    await symlink(`${dir}/real`, `${dir}/state`);
    expect(await readTree(`${dir}/state`)).toEqual({ files: [], skipped: [". (not a directory)"] });
  });

  it.each([
    ["../escape", "'..' in path"],
    ["a/../../escape", "'..' in path"],
    ["/etc/passwd", "absolute path"],
    ["a\\..\\b", "backslash in path"],
    ["a\0b", "NUL in path"],
    ["", "empty path"],
    ["./a", "empty or '.' path component"],
    ["a//b", "empty or '.' path component"],
    ["a/", "empty or '.' path component"],
  ])("rejects the archive path %j (%s)", async (path, reason) => {
    expect(unsafePathReason(path)).toBe(reason);
    expect(() => safeJoin(dir, path)).toThrow(CausewayError);
    const blobs = new MemoryBlobStore();
    const content = await blobs.put(new TextEncoder().encode("pwned"));
    const sha = await manifestSha(blobs, { version: 1, files: [{ path, mode: 0o644, sha: content, size: 5 }] });
    await mkdir(`${dir}/dst`);
    const error = await restoreArchive(blobs, sha, `${dir}/dst`).catch((e: unknown) => e);
    expect(codeOf(error)).toBe("ARCHIVE_UNSAFE_PATH");
    await expect(stat(`${dir}/escape`)).rejects.toThrow();
  });

  it("accepts ordinary relative paths under the base", () => {
    expect(safeJoin(dir, "a/b.c")).toBe(`${dir}/a/b.c`);
    expect(safeJoin("/", "etc")).toBe("/etc");
    expect(unsafePathReason("..hidden/x..y")).toBeUndefined();
  });

  it.each([
    ["not JSON", "{", "ARCHIVE_CORRUPT"],
    ["a wrong version", JSON.stringify({ version: 2, files: [] }), "ARCHIVE_CORRUPT"],
    [
      "a bad mode",
      JSON.stringify({ version: 1, files: [{ path: "a", mode: 0o4755, sha: "x", size: 1 }] }),
      "ARCHIVE_CORRUPT",
    ],
    [
      "a duplicate path",
      JSON.stringify({
        version: 1,
        files: [
          { path: "a", mode: 420, sha: "x", size: 1 },
          { path: "a", mode: 420, sha: "x", size: 1 },
        ],
      }),
      "ARCHIVE_CORRUPT",
    ],
  ])("rejects a manifest with %s", async (_what, text, code) => {
    const blobs = new MemoryBlobStore();
    const sha = await blobs.put(new TextEncoder().encode(text));
    expect(codeOf(await loadManifest(blobs, sha).catch((e: unknown) => e))).toBe(code);
  });

  it("reports a missing archive, a missing file and a size mismatch", async () => {
    const blobs = new MemoryBlobStore();
    await mkdir(`${dir}/a`);
    await mkdir(`${dir}/b`);
    expect(codeOf(await restoreArchive(blobs, "nope", `${dir}/a`).catch((e: unknown) => e))).toBe("ARCHIVE_NOT_FOUND");
    const missing = await manifestSha(blobs, { version: 1, files: [{ path: "f", mode: 420, sha: "gone", size: 1 }] });
    expect(codeOf(await restoreArchive(blobs, missing, `${dir}/a`).catch((e: unknown) => e))).toBe("ARCHIVE_NOT_FOUND");
    const content = await blobs.put(new TextEncoder().encode("abc"));
    const wrong = await manifestSha(blobs, { version: 1, files: [{ path: "f", mode: 420, sha: content, size: 2 }] });
    expect(codeOf(await restoreArchive(blobs, wrong, `${dir}/b`).catch((e: unknown) => e))).toBe("ARCHIVE_CORRUPT");
  });

  it("carries forward only previous files the run neither wrote nor clashes with", () => {
    const previous: ArchiveManifest = {
      version: 1,
      files: ["keep.txt", "over.txt", "dir/inside", "file-now-dir", "sub/x"].map((path) => ({
        path,
        mode: 420,
        sha: path,
        size: 1,
      })),
    };
    const written = ["over.txt", "file-now-dir/child", "sub"].map((path) => ({
      path,
      mode: 420,
      bytes: new Uint8Array([1]),
    }));
    expect(carriedEntries(previous, written).map((e) => e.path)).toEqual(["keep.txt", "dir/inside"]);
  });

  it("encodes a manifest canonically (sorted, fixed key order)", () => {
    const a = encodeManifest([
      { path: "b", mode: 420, sha: "2", size: 1 },
      { path: "a", mode: 420, sha: "1", size: 1 },
    ]);
    expect(new TextDecoder().decode(a)).toBe(
      '{"version":1,"files":[{"path":"a","mode":420,"sha":"1","size":1},{"path":"b","mode":420,"sha":"2","size":1}]}',
    );
  });
});
