import { writeFileSync } from "node:fs";
import { join } from "node:path";
import type { BlobStore, LogStore, Store } from "@causeway/core";
import { NODE_WORKSPACE_FS, type WorkspaceFs } from "@causeway/runner";
import { fileError } from "@causeway/store";
import BetterSqlite3 from "better-sqlite3";

// Faults injected at the file interfaces the server composes (the store, the log and blob
// stores, the runner's workspace calls), for the fault suite: each fails, while its switch is
// on, the way a full disk makes the real one fail, with the kernel's own ENOSPC or SQLite's own
// SQLITE_FULL, and the store's boundary turns them into what the engine and the API see.

/** A fault's switch: `on` for every call, or `when` to choose the calls; counts the failures. */
export class Fault {
  on = false;
  when: ((target: string) => boolean) | undefined;
  failures = 0;

  /** Whether a call on `target` (a run id, a path) fails now. */
  hits(target: string): boolean {
    const hit = this.on || (this.when?.(target) ?? false);
    if (hit) this.failures++;
    return hit;
  }

  clear(): void {
    this.on = false;
    this.when = undefined;
  }
}

/** The kernel's ENOSPC, as a write to a full device gives it. */
export function enospc(): NodeJS.ErrnoException {
  try {
    writeFileSync("/dev/full", "x");
  } catch (error) {
    return error as NodeJS.ErrnoException;
  }
  return Object.assign(new Error("ENOSPC: no space left on device, write"), {
    code: "ENOSPC",
    errno: -28,
    syscall: "write",
  });
}

/**
 * A store whose commits fail while `fault` hits: SQLite's SQLITE_FULL, thrown where COMMIT fails
 * on a full disk. The store rolls the transaction back and reports `DISK_FULL` as it would.
 */
export function faultyStore(inner: Store, fault: Fault): Store {
  return {
    read: inner.read,
    eventsSince: (afterId, limit) => inner.eventsSince(afterId, limit),
    close: () => inner.close(),
    transaction: (fn) =>
      inner.transaction(async (tx) => {
        const result = await fn(tx);
        if (fault.hits("commit")) throw new BetterSqlite3.SqliteError("database or disk is full", "SQLITE_FULL");
        return result;
      }),
  };
}

/** Logs whose appends (to the run ids `fault` hits) fail with ENOSPC, as the file log store says it. */
export function faultyLogs(inner: LogStore, fault: Fault, root: string): LogStore {
  return {
    create: (runId) => inner.create(runId),
    append: (runId, chunk) =>
      fault.hits(String(runId))
        ? Promise.reject(fileError(enospc(), join(root, `${runId}.log`)))
        : inner.append(runId, chunk),
    read: (runId, offset, options) => inner.read(runId, offset, options),
    size: (runId) => inner.size(runId),
    truncate: (runId, length) => inner.truncate(runId, length),
    close: (runId, written) => inner.close(runId, written),
  };
}

/** Blobs whose puts fail with ENOSPC while `fault` hits, as the file blob store says it. */
export function faultyBlobs(inner: BlobStore, fault: Fault, root: string): BlobStore {
  return {
    put: (bytes) =>
      fault.hits("put") ? Promise.reject(fileError(enospc(), join(root, "00", ".tmp"))) : inner.put(bytes),
    get: (sha) => inner.get(sha),
  };
}

/** The local disk's workspace calls, except that writing a file whose path `fault` hits fails with ENOSPC. */
export function faultyWorkspaceFs(fault: Fault): WorkspaceFs {
  return {
    mkdir: (path) => NODE_WORKSPACE_FS.mkdir(path),
    writeFile: (path, data, mode) => {
      if (fault.hits(path)) throw enospc();
      NODE_WORKSPACE_FS.writeFile(path, data, mode);
    },
  };
}
