import type { BlobStore } from "@causeway/core";
import { createHash, randomUUID } from "node:crypto";
import { mkdir, open, readFile, rename, stat, unlink } from "node:fs/promises";
import { PRIVATE_DIR, PRIVATE_FILE } from "./modes.js";
import { join } from "node:path";

const SHA256_HEX = /^[0-9a-f]{64}$/;

/**
 * Content-addressed blobs on disk: `<root>/<sha[0:2]>/<sha>`. A blob is written to a temp file,
 * fsynced, renamed into place and its directory fsynced, so a version row that names a sha never
 * outlives the bytes after a crash. `put` is idempotent; `get` of an unknown or malformed sha
 * returns undefined (a sha never reaches the file system unchecked).
 */
export class FileBlobStore implements BlobStore {
  readonly #root: string;

  constructor(root: string) {
    this.#root = root;
  }

  async put(bytes: Uint8Array): Promise<string> {
    const sha = createHash("sha256").update(bytes).digest("hex");
    const dir = join(this.#root, sha.slice(0, 2));
    const path = join(dir, sha);
    if (await exists(path)) return sha;
    await mkdir(dir, { recursive: true, mode: PRIVATE_DIR });
    const temp = join(dir, `.${sha}.${randomUUID()}.tmp`);
    try {
      // Owner-only: state files are the runs' (their own modes are kept in the manifest).
      const file = await open(temp, "wx", PRIVATE_FILE);
      try {
        await file.writeFile(bytes);
        await file.sync();
      } finally {
        await file.close();
      }
      await rename(temp, path);
    } catch (error) {
      await unlink(temp).catch(() => undefined);
      throw error;
    }
    await syncDir(dir);
    return sha;
  }

  async get(sha: string): Promise<Uint8Array | undefined> {
    if (!SHA256_HEX.test(sha)) return undefined;
    try {
      return new Uint8Array(await readFile(join(this.#root, sha.slice(0, 2), sha)));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
      throw error;
    }
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return false;
    throw error;
  }
}

async function syncDir(dir: string): Promise<void> {
  const handle = await open(dir, "r");
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
