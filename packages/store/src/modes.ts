import { chmodSync, closeSync, openSync, statSync } from "node:fs";

/**
 * The modes of everything in a data directory: owner-only. Given when a file or directory is
 * created, they do not depend on the umask, which can only take bits away.
 */
export const PRIVATE_DIR = 0o700;
/** See PRIVATE_DIR. */
export const PRIVATE_FILE = 0o600;

/**
 * Creates `path` (owner-only) unless it exists. SQLite creates a missing database with mode
 * 0644 (less the umask) and gives its `-wal` and `-shm` files the database's mode: a database
 * created here first keeps all three owner-only.
 */
export function createPrivateFile(path: string): void {
  try {
    closeSync(openSync(path, "wx", PRIVATE_FILE));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
  }
}

/** Takes every permission of group and others off `path`, if it exists and has any. */
export function makePrivate(path: string): void {
  let mode: number;
  try {
    mode = statSync(path).mode & 0o7777;
  } catch {
    return;
  }
  if ((mode & 0o077) !== 0) chmodSync(path, mode & 0o700);
}
