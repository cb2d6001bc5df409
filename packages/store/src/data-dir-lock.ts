import { CausewayError } from "@causeway/core";
import BetterSqlite3 from "better-sqlite3";
import { mkdirSync, readFileSync, realpathSync, statSync, truncateSync } from "node:fs";
import { join } from "node:path";
import { createPrivateFile, makePrivate, PRIVATE_DIR } from "./modes.js";

/** The lock file of a data directory. */
export const LOCK_FILE = "server.lock";

/** An exclusive hold on a data directory; `release` is idempotent. */
export interface DataDirLock {
  readonly path: string;
  release(): void;
}

// The lock files this process holds, by path. A second acquire in this process is refused from
// here, without opening the file: in the holding process, closing any descriptor of the file
// (a plain read of it, say) would drop the POSIX lock (see acquireDataDirLock). The map also
// keeps each lock's connection reachable: a caller that drops its handle must not lose the lock
// when the collector finalises the connection (better-sqlite3 closes it, and the lock with it).
const held = new Map<string, BetterSqlite3.Database>();

// Where SQLite keeps `PRAGMA user_version` in the database header (4 bytes, big-endian).
const USER_VERSION_OFFSET = 60;
const SQLITE_MAGIC = "SQLite format 3\0";

/**
 * Takes the exclusive lock of `dataDir` (created if missing), the way SQLite locks a database:
 * `server.lock` is a small SQLite database that this process opens in `locking_mode=EXCLUSIVE`
 * and writes once, so it holds SQLite's exclusive lock on it (a POSIX `fcntl` lock) until
 * `release`. The operating system drops the lock when its holder dies, however it dies (SIGKILL
 * included): a crash leaves nothing to clean up, and no PID is ever trusted to tell a live holder
 * from a dead one. The holder's PID is written in the file (its `user_version`) only to name it
 * in the error. Throws DATA_DIR_LOCKED at once while another process, or another open store of
 * this process, holds it. The file stays when released (deleting it would let two processes lock
 * two different files of the same name). A `server.lock` that is not such a database (from an
 * older build, or torn) is emptied under the lock's protocol and taken. Synchronous, so a server
 * can take it before anything else.
 *
 * The holding process must never open `server.lock` with anything but this lock: POSIX drops a
 * process's locks on a file when it closes any of its descriptors of that file.
 */
export function acquireDataDirLock(dataDir: string): DataDirLock {
  // Owner-only: the data directory holds the database, the logs and the admin token.
  mkdirSync(dataDir, { recursive: true, mode: PRIVATE_DIR });
  const path = join(realpathSync(dataDir), LOCK_FILE);
  if (held.has(path)) throw locked(dataDir, path, process.pid);
  // Owner-only too (SQLite would create it 0644). Neither opens an existing file: a descriptor
  // of it closed in this process would drop a lock this process holds on it.
  createPrivateFile(path);
  makePrivate(path);
  for (let attempt = 0; ; attempt++) {
    // timeout 0: a lock held by another process fails at once with SQLITE_BUSY, never waits.
    const db = new BetterSqlite3(path, { timeout: 0 });
    try {
      db.pragma("locking_mode = EXCLUSIVE");
      // No journal file beside the lock; a torn write leaves a file this function empties.
      db.pragma("journal_mode = MEMORY");
      db.exec("BEGIN EXCLUSIVE");
      db.pragma(`user_version = ${process.pid}`);
      // In exclusive locking mode, the lock taken by the first write is kept after COMMIT.
      db.exec("COMMIT");
    } catch (error) {
      db.close();
      const code = (error as { code?: unknown }).code;
      if (code === "SQLITE_BUSY" || code === "SQLITE_LOCKED") throw locked(dataDir, path, holderPid(path), error);
      if ((code === "SQLITE_NOTADB" || code === "SQLITE_CORRUPT") && attempt === 0) {
        // Nobody holds it (SQLite read the header under a shared lock): not a lock database.
        // Emptied in place, not replaced, so that a process racing us still locks this same
        // file: an empty file is an empty database.
        truncateSync(path, 0);
        continue;
      }
      throw error;
    }
    held.set(path, db);
    let open = true;
    return {
      path,
      release: () => {
        if (!open) return;
        open = false;
        db.close();
        held.delete(path);
      },
    };
  }
}

function locked(dataDir: string, path: string, pid: number | undefined, cause?: unknown): CausewayError {
  const by = pid === undefined ? "another process" : `process ${pid}`;
  return new CausewayError(
    "DATA_DIR_LOCKED",
    `the data directory ${dataDir} is in use by ${by} (${path}); stop it first, or use another directory`,
    cause === undefined ? undefined : { cause },
  );
}

/**
 * The PID of the lock's holder: from the kernel's table of POSIX locks (`/proc/locks`, Linux),
 * else the PID the holder wrote in the database header. The table names the file by device and
 * inode as the kernel sees them, which on some filesystems (overlayfs in a container, btrfs
 * subvolumes) is not the device `stat` reports: the inode alone is tried next, then the header.
 * Reading the header is safe here: this is called only when another connection holds the lock,
 * and this module's own holds are refused earlier (`held`) without opening the file.
 * `table` is the lock table's text; undefined where there is none.
 */
export function holderPid(path: string, table: string | undefined = readLockTable()): number | undefined {
  const fromKernel = table === undefined ? undefined : lockOwnerFromTable(table, path);
  if (fromKernel !== undefined) return fromKernel;
  try {
    const header = readFileSync(path).subarray(0, 100);
    if (header.length < 100 || header.toString("latin1", 0, 16) !== SQLITE_MAGIC) return undefined;
    const pid = header.readInt32BE(USER_VERSION_OFFSET);
    return pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

function readLockTable(): string | undefined {
  try {
    return readFileSync("/proc/locks", "latin1");
  } catch {
    return undefined;
  }
}

/** The PID holding a POSIX lock on `path` per the kernel's lock table; undefined when not found. */
function lockOwnerFromTable(table: string, path: string): number | undefined {
  let file: { dev: number; ino: number };
  try {
    file = statSync(path);
  } catch {
    return undefined;
  }
  // dev_t as the kernel prints it: "<major>:<minor>:<inode>", major and minor in hex.
  const major = ((file.dev >> 8) & 0xfff) | (Math.floor(file.dev / 2 ** 32) & ~0xfff);
  const minor = (file.dev & 0xff) | ((file.dev >> 12) & ~0xff);
  const id = `${major.toString(16).padStart(2, "0")}:${minor.toString(16).padStart(2, "0")}:${file.ino}`;
  const byInode = new Set<number>();
  for (const line of table.split("\n")) {
    // "1: POSIX  ADVISORY  WRITE 4242 fe:00:2220096 1073741824 1073742335"; "->" marks a waiter.
    const f = line.trim().split(/\s+/);
    if (f[1] !== "POSIX" || f[5] === undefined || !(Number(f[4]) > 0)) continue;
    if (f[5] === id) return Number(f[4]);
    if (f[5].endsWith(`:${file.ino}`)) byInode.add(Number(f[4]));
  }
  // The same inode on another device number: trusted only when one process holds it.
  return byInode.size === 1 ? [...byInode][0] : undefined;
}
