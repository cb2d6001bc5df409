import { CausewayError } from "@causeway/core";
import { randomUUID } from "node:crypto";
import { linkSync, mkdirSync, readFileSync, realpathSync, unlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { PRIVATE_DIR, PRIVATE_FILE } from "./modes.js";

/** The lock file of a data directory. */
export const LOCK_FILE = "server.lock";

/** An exclusive hold on a data directory; `release` is idempotent. */
export interface DataDirLock {
  readonly path: string;
  release(): void;
}

interface LockContent {
  readonly pid: number;
  readonly token: string;
  readonly acquiredAt: string;
}

// The lock files this process holds, by path: a PID alone cannot tell "this process holds it"
// from "a dead process that had our PID" (containers restart with the same PID).
const heldTokens = new Map<string, string>();

/**
 * Takes the exclusive lock of `dataDir` (created if missing): a `server.lock` file holding the
 * PID of its owner. A lock whose PID is dead, or is ours but not held by this process, is stale
 * and taken over. Throws DATA_DIR_LOCKED while another live process, or another open store of
 * this process, holds it. Synchronous, so a server can take it before anything else.
 */
export function acquireDataDirLock(dataDir: string): DataDirLock {
  // Owner-only: the data directory holds the database, the logs and the admin token.
  mkdirSync(dataDir, { recursive: true, mode: PRIVATE_DIR });
  const path = join(realpathSync(dataDir), LOCK_FILE);
  const mine: LockContent = { pid: process.pid, token: randomUUID(), acquiredAt: new Date().toISOString() };
  const text = `${JSON.stringify(mine)}\n`;
  for (let attempt = 0; attempt < 5; attempt++) {
    if (createWhole(path, text)) {
      heldTokens.set(path, mine.token);
      return { path, release: () => release(path, mine.token) };
    }
    const seen = readIfExists(path);
    if (seen === undefined) continue;
    const owner = parseLock(seen);
    if (owner !== undefined && isHeld(path, owner)) {
      throw new CausewayError(
        "DATA_DIR_LOCKED",
        `the data directory ${dataDir} is in use by process ${owner.pid} (${path}); stop it first, or use another directory`,
      );
    }
    // Stale: remove it only if it is still the file we judged (another process may be taking
    // it over at the same moment), then race for the exclusive create again.
    if (readIfExists(path) === seen) unlinkIfExists(path);
  }
  throw new CausewayError("DATA_DIR_LOCKED", `could not take the lock ${path}: it keeps changing hands`);
}

/**
 * Creates `path` with `text` unless it exists, atomically and whole (a hard link of a complete
 * temp file), so that nobody ever reads a half-written lock and takes it for a stale one.
 */
function createWhole(path: string, text: string): boolean {
  const temp = `${path}.${process.pid}.${randomUUID()}.tmp`;
  writeFileSync(temp, text, { flag: "wx", mode: PRIVATE_FILE });
  try {
    linkSync(temp, path);
    return true;
  } catch (error) {
    if (isErrno(error, "EEXIST")) return false;
    throw error;
  } finally {
    unlinkIfExists(temp);
  }
}

function isHeld(path: string, owner: LockContent): boolean {
  if (owner.pid === process.pid) return heldTokens.get(path) === owner.token;
  return isAlive(owner.pid);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to someone else.
    return isErrno(error, "EPERM");
  }
}

function release(path: string, token: string): void {
  if (heldTokens.get(path) !== token) return;
  heldTokens.delete(path);
  const current = readIfExists(path);
  if (current !== undefined && parseLock(current)?.token === token) unlinkIfExists(path);
}

function parseLock(text: string): LockContent | undefined {
  try {
    const value = JSON.parse(text) as Partial<LockContent>;
    if (typeof value.pid === "number" && Number.isSafeInteger(value.pid) && value.pid > 0) {
      return { pid: value.pid, token: String(value.token), acquiredAt: String(value.acquiredAt) };
    }
  } catch {
    // A torn or foreign file: treated as stale below.
  }
  return undefined;
}

function readIfExists(path: string): string | undefined {
  try {
    return readFileSync(path, "utf8");
  } catch (error) {
    if (isErrno(error, "ENOENT")) return undefined;
    throw error;
  }
}

function unlinkIfExists(path: string): void {
  try {
    unlinkSync(path);
  } catch (error) {
    if (!isErrno(error, "ENOENT")) throw error;
  }
}

function isErrno(error: unknown, code: string): boolean {
  return error instanceof Error && (error as NodeJS.ErrnoException).code === code;
}
