import { describeError, isCausewayError, type LogMark, type LogStore } from "@causeway/core";
import { LogRedactor } from "./log-redactor.js";

/** The most bytes a run's log keeps by default (the engine's `logLimitBytes`). */
export const DEFAULT_LOG_LIMIT = 64 * 1024 * 1024;

/** The line that ends a log cut at its limit. */
export function capMarker(limit: number): string {
  return `\n[causeway] this log reached its limit of ${limit} bytes: the rest of the run's output is dropped\n`;
}

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
  readonly #limit: number;
  /** Bytes taken so far, against the limit (the log's size when reopened). */
  #accepted = 0;
  #capped = false;

  constructor(logs: LogStore, runId: number, onFailure: (reason: string) => void, limit = DEFAULT_LOG_LIMIT) {
    this.#logs = logs;
    this.#runId = runId;
    this.#onFailure = onFailure;
    this.#limit = limit;
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
   * Opens the log of a run that was executing when the server stopped (a remote runner goes on
   * with it): appends go on after the bytes it holds. False when it cannot be (the failure says why).
   */
  async reopen(): Promise<boolean> {
    try {
      await this.#logs.create(this.#runId);
      this.#sized(await this.#logs.size(this.#runId));
      this.#created = true;
      return true;
    } catch (error) {
      this.#fail(error);
      return false;
    }
  }

  /**
   * Cuts a reopened log back to `length` bytes (see RunObserver.rewind), after the appends
   * queued so far; a failure fails the log.
   */
  rewind(length: number): Promise<void> {
    this.#chain = this.#chain.then(async () => {
      if (this.#failure !== undefined || !this.#created) return;
      try {
        await this.#logs.truncate(this.#runId, length);
        this.#sized(await this.#logs.size(this.#runId));
      } catch (error) {
        this.#fail(error);
      }
    });
    return this.#chain;
  }

  /** The log holds `size` bytes (reopened or cut back): appends go on from there, against the limit. */
  #sized(size: number): void {
    this.#written = size;
    this.#accepted = size;
    this.#capped = size >= this.#limit;
  }

  /**
   * Resolves when every byte queued so far is appended (or the log has failed), with the log's
   * length and the console bytes the redactor holds back (none once the log is capped: the
   * rest is dropped).
   */
  async flushed(): Promise<LogMark> {
    await this.#chain;
    return { length: this.#written, held: this.#capped ? 0 : (this.#redactor?.held ?? 0) };
  }

  /**
   * Redacts `secrets` from every byte written from now on (the run's secret parameters and
   * integration values); a secret split across two chunks is caught (log-redactor.ts).
   */
  redact(secrets: readonly string[]): void {
    this.#redactor = LogRedactor.of(secrets);
  }

  /**
   * Queues console bytes; dropped once the log has failed. Past the log's limit, one marker
   * line says so and the rest is dropped (the run goes on): a flood never fills the disk or
   * the server's memory.
   */
  write(chunk: Uint8Array): void {
    if (this.#failure !== undefined || !this.#created || this.#capped) return;
    if (this.#redactor !== undefined) {
      chunk = this.#redactor.push(chunk);
      if (chunk.byteLength === 0) return;
    }
    const room = this.#limit - this.#accepted;
    if (chunk.byteLength > room) {
      this.#capped = true;
      if (room > 0) this.#queue(chunk.subarray(0, room));
      this.#queue(new TextEncoder().encode(capMarker(this.#limit)));
      return;
    }
    this.#accepted += chunk.byteLength;
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
