import { describeError, isCausewayError, type LogStore } from "@causeway/core";
import { LogRedactor } from "./log-redactor.js";

/**
 * The console log of one executing run, written through the LogStore: created before anything
 * runs, appended in order (chunks that arrive while an append is in flight go out together in
 * the next one: a run's console is a handful of appends, not one per line), and checked when
 * the run is over. The first failure is kept, as the reason the run ends `error`, and reported
 * once through `onFailure` (the engine stops the run: its console can no longer be kept);
 * nothing is appended after it.
 */
export class RunLog {
  readonly #logs: LogStore;
  readonly #runId: number;
  readonly #onFailure: (reason: string) => void;
  readonly #pending: Uint8Array[] = [];
  #chain: Promise<void> = Promise.resolve();
  #created = false;
  #written = 0;
  #failure: string | undefined;
  #redactor: LogRedactor | undefined;

  constructor(logs: LogStore, runId: number, onFailure: (reason: string) => void) {
    this.#logs = logs;
    this.#runId = runId;
    this.#onFailure = onFailure;
  }

  /** Why the log failed, once it has: `log write failed: ...` or `log lost: ...`. */
  get failure(): string | undefined {
    return this.#failure;
  }

  /** Creates the log; false when it cannot be (the failure says why). */
  async create(): Promise<boolean> {
    try {
      await this.#logs.create(this.#runId);
      this.#created = true;
      return true;
    } catch (error) {
      this.#fail(error);
      return false;
    }
  }

  /**
   * Redacts `secrets` from every byte written from now on (the run's secret parameters and
   * integration values); a secret split across two chunks is caught (log-redactor.ts).
   */
  redact(secrets: readonly string[]): void {
    this.#redactor = LogRedactor.of(secrets);
  }

  /** Queues console bytes; dropped once the log has failed. */
  write(chunk: Uint8Array): void {
    if (this.#failure !== undefined || !this.#created) return;
    if (this.#redactor !== undefined) {
      chunk = this.#redactor.push(chunk);
      if (chunk.byteLength === 0) return;
    }
    this.#queue(chunk);
  }

  #queue(chunk: Uint8Array): void {
    this.#pending.push(chunk);
    if (this.#pending.length > 1) return;
    this.#chain = this.#chain.then(async () => {
      const batch = Buffer.concat(this.#pending.splice(0));
      if (this.#failure !== undefined) return;
      try {
        await this.#logs.append(this.#runId, batch);
        this.#written += batch.byteLength;
      } catch (error) {
        this.#fail(error);
      }
    });
  }

  /**
   * Waits for the appends, then ends the log: a log deleted, replaced or cut while the run
   * wrote it is a failure too. Returns the failure, if any.
   */
  async close(): Promise<string | undefined> {
    const tail = this.#redactor?.flush();
    this.#redactor = undefined;
    if (tail !== undefined && tail.byteLength > 0 && this.#failure === undefined && this.#created) this.#queue(tail);
    await this.#chain;
    if (!this.#created) return this.#failure;
    try {
      await this.#logs.close(this.#runId, this.#written);
    } catch (error) {
      this.#fail(error);
    }
    return this.#failure;
  }

  #fail(error: unknown): void {
    if (this.#failure !== undefined) return;
    const lost = isCausewayError(error, "LOG_NOT_FOUND");
    this.#failure = `${lost ? "log lost" : "log write failed"}: ${describeError(error)}`;
    try {
      this.#onFailure(this.#failure);
    } catch {
      // Stopping the run is best effort; the failure is recorded either way.
    }
  }
}
