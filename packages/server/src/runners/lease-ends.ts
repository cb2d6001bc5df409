import type { RunnerStore } from "@causeway/core";

/** How many ended leases are deleted in one statement, at most. */
const BATCH = 64;
/** How long an ended lease waits for others before its deletion. */
const WAIT_MS = 250;

/**
 * Deletes the leases of remote runs that are over, in batches: one statement (and one fsync)
 * for up to 64 runs, written at most 250 ms after the first of them ended, instead of one per
 * run on the server's thread (0.3–0.5 ms each on these disks). A lease left behind (the server
 * stopped first) belongs to a run that is no longer processing: the next server deletes those
 * when it loads (`deleteStaleLeases`), before any is adopted.
 */
export class LeaseEnds {
  readonly #store: RunnerStore;
  #ids: number[] = [];
  #timer: NodeJS.Timeout | undefined;

  constructor(store: RunnerStore) {
    this.#store = store;
  }

  /** The run's lease is over: it is deleted with the next batch. */
  add(runId: number): void {
    this.#ids.push(runId);
    if (this.#ids.length >= BATCH) void this.flush();
    else this.#timer ??= setTimeout(() => void this.flush(), WAIT_MS).unref();
  }

  /** Deletes the leases added so far; never rejects (they are deleted at the next load). */
  async flush(): Promise<void> {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    const ids = this.#ids;
    this.#ids = [];
    if (ids.length > 0) await this.#store.deleteLeases(ids).catch(() => undefined);
  }

  /** Forgets what was not deleted yet (the server stops: the next one deletes it). */
  drop(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#ids = [];
  }
}
