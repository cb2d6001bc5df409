import { CausewayError } from "@causeway/core";
import { statfsSync } from "node:fs";
import { dirname } from "node:path";

/**
 * The store's boundary for failed writes and reads of the data directory: what the system or
 * SQLite refused becomes a catalog error that names the file, so that a caller (the engine, the
 * API) says "the disk is full, here" instead of failing as a bug. No space and no quota are
 * `DISK_FULL` (507); any other refusal is `STORE_IO_ERROR` (503). Anything else (a bug, a
 * catalog error already) passes through unchanged.
 */

const FULL_ERRNO = new Set(["ENOSPC", "EDQUOT"]);

// SQLite's result codes for a file it could not use; SQLITE_FULL is a full disk.
const SQLITE_IO = /^SQLITE_(IOERR|CANTOPEN|READONLY|CORRUPT|NOTADB)/;

function fullHint(path: string): string {
  return `free space on the file system of ${dirname(path)}: Causeway goes on by itself once there is room`;
}

/**
 * A failed file system call on `path` as a catalog error: Node's message (`ENOSPC: no space
 * left on device, write`), with the path added when the call did not carry it (a write on an
 * open handle does not).
 */
export function fileError<E>(error: E, path: string): E | CausewayError {
  if (error instanceof CausewayError) return error;
  const e = error as Partial<NodeJS.ErrnoException> | null;
  if (e === null || typeof e !== "object" || typeof e.code !== "string" || !/^E[A-Z0-9]+$/.test(e.code)) {
    return error;
  }
  const message = e.path === undefined ? `${e.message ?? e.code} '${path}'` : (e.message ?? e.code);
  if (FULL_ERRNO.has(e.code)) return new CausewayError("DISK_FULL", message, { cause: error, hint: fullHint(path) });
  return new CausewayError("STORE_IO_ERROR", message, {
    cause: error,
    hint: `check ${path}: its file system, its permissions, and that nothing else writes there`,
  });
}

function noFreeBlock(dir: string): boolean {
  try {
    return Number(statfsSync(dir).bavail) === 0;
  } catch {
    return false;
  }
}

/** A failed SQLite call on the database `path` as a catalog error (`SQLITE_FULL` is a full disk). */
export function sqliteError<E>(error: E, path: string): E | CausewayError {
  if (error instanceof CausewayError) return error;
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code !== "string") return error;
  const what = error instanceof Error ? error.message : String(error);
  if (code === "SQLITE_FULL") {
    return new CausewayError("DISK_FULL", `cannot write the database ${path}: ${what} (SQLITE_FULL)`, {
      cause: error,
      hint: fullHint(path),
    });
  }
  if (SQLITE_IO.test(code)) {
    // Where a write found no room, SQLite may say "disk I/O error" (growing the -shm file, say):
    // on a file system without a free block, that is a full disk.
    if (code.startsWith("SQLITE_IOERR") && noFreeBlock(dirname(path))) {
      return new CausewayError("DISK_FULL", `cannot write the database ${path}: ${what} (${code}, no space left)`, {
        cause: error,
        hint: fullHint(path),
      });
    }
    return new CausewayError("STORE_IO_ERROR", `cannot use the database ${path}: ${what} (${code})`, {
      cause: error,
      hint: `check ${dirname(path)}: its file system, its permissions, and the free space`,
    });
  }
  // ENOSPC and friends met outside SQLite (opening the database's directory, say).
  return fileError(error, path);
}
