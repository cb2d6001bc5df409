import { CausewayError } from "@causeway/core";
import type { LogStore } from "@causeway/core";
import { closeSync, fstatSync, mkdirSync, openSync, statSync, writeSync, type Stats } from "node:fs";
import { open } from "node:fs/promises";
import { PRIVATE_DIR, PRIVATE_FILE } from "./modes.js";
import { join } from "node:path";
import { fileError } from "./disk-errors.js";

/** Append handles kept open, least recently used closed first. */
const OPEN_FILES = 32;

/**
 * Run logs on disk: `<root>/<runId>.log`, append-only. Appends are synchronous writes through
 * a handle kept open while the run logs (the least recently used of 32 is closed): a page-cache
 * write costs microseconds, while each asynchronous call is a thread-pool round trip that costs
 * more than the write (measured on the 1,000-job DAG, where a run's console is a few appends).
 * A chunk is one write, so a read never sees half of it. Reads and sizes of one run run one
 * after another in the order they were made. Appends are not fsynced: they survive a crash of
 * the process, and a runner re-sends what the server no longer has after a crash of the
 * machine (uploads are by byte offset). A failed write is `DISK_FULL` or `STORE_IO_ERROR` naming
 * the file; a log created and later missing, replaced or cut is `LOG_NOT_FOUND` (see LogStore).
 */
export class FileLogStore implements LogStore {
  readonly #root: string;
  readonly #tails = new Map<number, Promise<unknown>>();
  readonly #open = new Map<number, number>();
  #rootReady = false;

  constructor(root: string) {
    this.#root = root;
  }

  create(runId: number): Promise<void> {
    return this.#write(runId, new Uint8Array(0), true);
  }

  append(runId: number, chunk: Uint8Array): Promise<void> {
    return this.#write(runId, chunk, false);
  }

  #write(runId: number, chunk: Uint8Array, create: boolean): Promise<void> {
    try {
      const bad = checkRunId(runId);
      if (bad !== undefined) throw bad;
      if (chunk.byteLength > 0 || create) {
        const fd = this.#handle(runId);
        let done = 0;
        while (done < chunk.byteLength) done += writeSync(fd, chunk, done);
      }
      return Promise.resolve();
    } catch (error) {
      this.#close(runId);
      return Promise.reject(asError(fileError(error, this.#path(runId))));
    }
  }

  read(runId: number, offset = 0, options: { readonly expected?: boolean } = {}): Promise<Uint8Array> {
    if (!Number.isSafeInteger(offset) || offset < 0) {
      return Promise.reject(new CausewayError("STORE_BAD_ARGUMENT", `a log offset must be a non-negative integer`));
    }
    const path = this.#path(runId);
    return this.#serial(runId, async () => {
      const file = await openIfExists(path);
      if (file === undefined) {
        if (options.expected === true) throw logNotFound(`${lostLog(runId)}: ${path} does not exist`);
        return new Uint8Array(0);
      }
      try {
        const stat = await file.stat();
        if (!stat.isFile()) {
          if (options.expected === true) throw logNotFound(`${lostLog(runId)}: ${path} is ${kindOf(stat)}, not a file`);
          return new Uint8Array(0);
        }
        const size = stat.size;
        if (offset >= size) return new Uint8Array(0);
        const bytes = new Uint8Array(size - offset);
        let done = 0;
        while (done < bytes.byteLength) {
          const { bytesRead } = await file.read(bytes, done, bytes.byteLength - done, offset + done);
          if (bytesRead === 0) break;
          done += bytesRead;
        }
        return done === bytes.byteLength ? bytes : bytes.subarray(0, done);
      } finally {
        await file.close();
      }
    }).catch((error: unknown) => {
      throw fileError(error, path);
    });
  }

  size(runId: number): Promise<number> {
    return this.#serial(runId, async () => {
      const file = await openIfExists(this.#path(runId));
      if (file === undefined) return 0;
      try {
        return (await file.stat()).size;
      } finally {
        await file.close();
      }
    });
  }

  truncate(runId: number, length: number): Promise<void> {
    if (!Number.isSafeInteger(length) || length < 0) {
      return Promise.reject(new CausewayError("STORE_BAD_ARGUMENT", `a log length must be a non-negative integer`));
    }
    const path = this.#path(runId);
    return this.#serial(runId, async () => {
      // Appends go through a handle opened in append mode: they land at the new end.
      const file = await openIfExists(path, "r+");
      if (file === undefined) return;
      try {
        if ((await file.stat()).size > length) await file.truncate(length);
      } finally {
        await file.close();
      }
    }).catch((error: unknown) => {
      throw fileError(error, path);
    });
  }

  close(runId: number, written: number): Promise<void> {
    const bad = checkRunId(runId);
    if (bad !== undefined) return Promise.reject(bad);
    const path = this.#path(runId);
    // What the appends wrote to, against what the path names now: two system calls per run.
    const fd = this.#open.get(runId);
    let held: Stats | undefined;
    try {
      held = fd === undefined ? undefined : fstatSync(fd);
    } catch {
      held = undefined;
    }
    this.#close(runId);
    let now: Stats | undefined;
    try {
      now = statSync(path, { throwIfNoEntry: false });
    } catch (error) {
      return Promise.reject(asError(fileError(error, path)));
    }
    let lost: string | undefined;
    if (now === undefined) lost = `the log ${path} was deleted while the run wrote it`;
    else if (!now.isFile()) lost = `the log ${path} was replaced by ${kindOf(now)}`;
    else if (held !== undefined && (held.nlink === 0 || held.ino !== now.ino || held.dev !== now.dev)) {
      lost = `the log ${path} was deleted or replaced while the run wrote it`;
    } else if (now.size < written) {
      lost = `the log ${path} holds ${now.size} of the ${written} bytes written: it was cut while the run wrote it`;
    }
    return lost === undefined ? Promise.resolve() : Promise.reject(logNotFound(lost));
  }

  /** Resolves once every call made so far has settled; closes the append handles. */
  async flush(): Promise<void> {
    await Promise.allSettled([...this.#tails.values()]);
    for (const runId of [...this.#open.keys()]) this.#close(runId);
  }

  #handle(runId: number): number {
    const fd = this.#open.get(runId);
    if (fd !== undefined) {
      // Most recently used last.
      this.#open.delete(runId);
      this.#open.set(runId, fd);
      return fd;
    }
    if (!this.#rootReady) {
      mkdirSync(this.#root, { recursive: true, mode: PRIVATE_DIR });
      this.#rootReady = true;
    }
    // Owner-only (a mode given at creation: a umask can only take bits away). A log holds
    // whatever the run printed.
    const opened = openSync(this.#path(runId), "a", PRIVATE_FILE);
    this.#open.set(runId, opened);
    if (this.#open.size > OPEN_FILES) {
      const [oldest] = this.#open.keys();
      if (oldest !== undefined) this.#close(oldest);
    }
    return opened;
  }

  #close(runId: number): void {
    const fd = this.#open.get(runId);
    if (fd === undefined) return;
    this.#open.delete(runId);
    try {
      closeSync(fd);
    } catch {
      // Nothing was buffered: a failed close loses nothing.
    }
  }

  #path(runId: number): string {
    return join(this.#root, `${runId}.log`);
  }

  #serial<T>(runId: number, task: () => Promise<T>): Promise<T> {
    const bad = checkRunId(runId);
    if (bad !== undefined) return Promise.reject(bad);
    const previous = this.#tails.get(runId) ?? Promise.resolve();
    const result = previous.then(task);
    const tail = result.then(
      () => undefined,
      () => undefined,
    );
    this.#tails.set(runId, tail);
    // Forget idle runs so the map does not grow with every run ever logged.
    void tail.then(() => {
      if (this.#tails.get(runId) === tail) this.#tails.delete(runId);
    });
    return result;
  }
}

function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}

function lostLog(runId: number): string {
  return `the console log of run ${runId} is lost`;
}

function logNotFound(message: string): CausewayError {
  return new CausewayError("LOG_NOT_FOUND", message, {
    hint: "the console cannot be shown again; the run's status and reason are kept (causeway run ID)",
  });
}

function kindOf(stat: Stats): string {
  return stat.isDirectory() ? "a directory" : stat.isSymbolicLink() ? "a symbolic link" : "something else";
}

function checkRunId(runId: number): CausewayError | undefined {
  return Number.isSafeInteger(runId) && runId > 0
    ? undefined
    : new CausewayError("STORE_BAD_ARGUMENT", `a run id must be a positive integer, not ${runId}`);
}

async function openIfExists(path: string, flags = "r") {
  try {
    return await open(path, flags);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }
}
