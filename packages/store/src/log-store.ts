import type { LogStore } from "@causeway/core";
import { appendFile, mkdir, open } from "node:fs/promises";
import { join } from "node:path";
import { StoreError } from "./errors.js";

/**
 * Run logs on disk: `<root>/<runId>.log`, append-only. Calls for one run (appends, reads,
 * sizes) run one after another in the order they were made, so appends keep their order and a
 * read never sees half a chunk; different runs proceed in parallel. Appends are not fsynced: they
 * survive a crash of the process, and a runner re-sends what the server no longer has after a
 * crash of the machine (uploads are by byte offset).
 */
export class FileLogStore implements LogStore {
  readonly #root: string;
  readonly #tails = new Map<number, Promise<unknown>>();
  #rootReady: Promise<unknown> | undefined;

  constructor(root: string) {
    this.#root = root;
  }

  append(runId: number, chunk: Uint8Array): Promise<void> {
    return this.#serial(runId, async () => {
      this.#rootReady ??= mkdir(this.#root, { recursive: true }).catch((error: unknown) => {
        this.#rootReady = undefined;
        throw error;
      });
      await this.#rootReady;
      if (chunk.byteLength > 0) await appendFile(this.#path(runId), chunk);
    });
  }

  read(runId: number, offset = 0): Promise<Uint8Array> {
    if (!Number.isSafeInteger(offset) || offset < 0) {
      return Promise.reject(new StoreError("STORE_BAD_ARGUMENT", `a log offset must be a non-negative integer`));
    }
    return this.#serial(runId, async () => {
      const file = await openIfExists(this.#path(runId));
      if (file === undefined) return new Uint8Array(0);
      try {
        const size = (await file.stat()).size;
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

  /** Resolves once every call made so far has settled. */
  async flush(): Promise<void> {
    await Promise.allSettled([...this.#tails.values()]);
  }

  #path(runId: number): string {
    return join(this.#root, `${runId}.log`);
  }

  #serial<T>(runId: number, task: () => Promise<T>): Promise<T> {
    if (!Number.isSafeInteger(runId) || runId <= 0) {
      return Promise.reject(new StoreError("STORE_BAD_ARGUMENT", `a run id must be a positive integer, not ${runId}`));
    }
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

async function openIfExists(path: string) {
  try {
    return await open(path, "r");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }
}
