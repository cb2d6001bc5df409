import { closeSync, mkdirSync, openSync, readSync, rmSync, writeSync } from "node:fs";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import type { BlobStore, RunResult, RunSpec } from "@causeway/core";
import type { AttemptFinish, RunnerClaim, RunnerSettings } from "@causeway/protocol";
import type { EmbeddedExecution, EmbeddedRunner } from "../embedded-runner.js";
import { ServerRefusal, unreachable } from "./client.js";
import type { RunnerTransport } from "./transport.js";

/** What the agent needs. */
export interface AgentOptions {
  readonly client: RunnerTransport;
  /** The runner that executes claimed runs (the same code as the server's embedded runner). */
  readonly runner: EmbeddedRunner;
  readonly capacity: number;
  readonly labels: readonly string[];
  /** Where consoles wait until the server has them (`<work dir>/spool`); none in process. */
  readonly spoolDir?: string;
  /** Console bytes are uploaded at least this often (default 1 s) and at 64 KiB. */
  readonly logFlushMs?: number;
  readonly log?: (line: string) => void;
}

/** Waits between retries of a call the server did not answer: from 200 ms, doubling, to 5 s. */
const RETRY = { first: 200, max: 5_000 } as const;
/** An upload carries at most this much; a flush starts at this much pending. */
const CHUNK = 1024 * 1024;
const FLUSH_AT = 64 * 1024;

/**
 * A remote runner (design §5; docs/runners.md): a session, then long-poll claims while it has
 * a free slot; each claim is started (acknowledged), executed by the embedded runner's code,
 * kept alive by heartbeats (a cancel comes back on them), its console spooled to a file and
 * uploaded by offset, and finished once every byte is on the server. A call refused as fenced,
 * or a lease it could not renew in time, stops the job at once and reports nothing more.
 * `drain` takes no more work and resolves when the running ones are reported.
 */
export class RunnerAgent {
  readonly #opts: AgentOptions;
  readonly #log: (line: string) => void;
  readonly #attempts = new Map<number, AgentAttempt>();
  #session = "";
  #settings: RunnerSettings | undefined;
  #draining = false;
  #claimAbort = new AbortController();
  #loop: Promise<void> | undefined;
  #wake: (() => void) | undefined;

  constructor(options: AgentOptions) {
    this.#opts = options;
    this.#log = options.log ?? (() => undefined);
    if (options.spoolDir !== undefined) mkdirSync(options.spoolDir, { recursive: true, mode: 0o700 });
  }

  /** Starts a session and the claim loop; resolves once the session is there. */
  async start(): Promise<void> {
    await this.#openSession();
    this.#loop = this.#claimLoop();
  }

  /** Runs in flight now. */
  get running(): number {
    return this.#attempts.size;
  }

  /** Takes no more work; resolves when every running job has finished and been reported. */
  async drain(): Promise<void> {
    this.#draining = true;
    this.#claimAbort.abort();
    this.#wake?.();
    await this.#loop;
    await Promise.allSettled([...this.#attempts.values()].map((a) => a.reported));
  }

  /** Stops every job now (a second signal): nothing more is reported. */
  abandon(): void {
    for (const attempt of this.#attempts.values()) attempt.fence("the runner is stopping");
  }

  async #openSession(): Promise<void> {
    const running = [...this.#attempts.values()].map((a) => ({ runId: a.runId, epoch: a.epoch }));
    const answer = await retrying(
      () =>
        this.#opts.client.session({
          capacity: this.#opts.capacity,
          labels: [...this.#opts.labels],
          running,
        }),
      () => this.#draining,
      (error) => this.#log(`cannot reach the server (${describe(error)}); retrying`),
    );
    if (answer === undefined) return;
    this.#session = answer.session;
    this.#settings = answer.settings;
    this.#log(`runner ${answer.runner.name} connected: pool ${answer.runner.pool}, capacity ${this.#opts.capacity}`);
  }

  async #claimLoop(): Promise<void> {
    let delay: number = RETRY.first;
    while (!this.#draining) {
      if (this.#attempts.size >= this.#opts.capacity) {
        await new Promise<void>((resolve) => (this.#wake = resolve));
        this.#wake = undefined;
        continue;
      }
      let claim: RunnerClaim | undefined;
      try {
        claim = await this.#opts.client.claim(
          this.#session,
          this.#opts.capacity - this.#attempts.size,
          this.#claimAbort.signal,
        );
        delay = RETRY.first;
      } catch (error) {
        if (this.#draining) break;
        if (error instanceof ServerRefusal && error.code === "RUNNER_SESSION_REPLACED") {
          this.#log(`${error.message}: this process stops taking work`);
          this.#draining = true;
          break;
        }
        if (error instanceof ServerRefusal && error.status === 401) {
          this.#log(`the server refused this runner's credential (${error.message}); it stops taking work`);
          this.#draining = true;
          break;
        }
        this.#log(`cannot claim work (${describe(error)}); retrying`);
        await sleep(jitter(delay));
        delay = Math.min(delay * 2, RETRY.max);
        continue;
      }
      if (claim !== undefined) this.#begin(claim);
    }
  }

  #begin(claim: RunnerClaim): void {
    const settings = this.#settings as RunnerSettings;
    const attempt = new AgentAttempt(claim, settings, this.#opts, this.#log);
    this.#attempts.set(claim.runId, attempt);
    void attempt.reported.finally(() => {
      this.#attempts.delete(claim.runId);
      this.#wake?.();
    });
    attempt.run();
  }
}

/** One claimed run on this runner. */
class AgentAttempt {
  readonly runId: number;
  readonly epoch: number;
  readonly reported: Promise<void>;
  readonly #token: string;
  readonly #spec: RunSpec;
  readonly #settings: RunnerSettings;
  readonly #opts: AgentOptions;
  readonly #log: (line: string) => void;
  readonly #spool: string;
  /** The spool file; none in process (console bytes go straight to the server). */
  readonly #fd: number | undefined;
  #direct: Promise<void> = Promise.resolve();
  #size = 0;
  #acked = 0;
  #uploading: Promise<void> | undefined;
  #flushTimer: NodeJS.Timeout | undefined;
  #heartbeat: NodeJS.Timeout | undefined;
  /** When the server last renewed the lease (monotonic ms). */
  #renewedAt = performance.now();
  #execution: EmbeddedExecution | undefined;
  #fenced: string | undefined;
  /** A cancel from the server, kept for an execution not made yet. */
  #cancelled: string | undefined;
  #report!: () => void;

  constructor(claim: RunnerClaim, settings: RunnerSettings, opts: AgentOptions, log: (line: string) => void) {
    this.runId = claim.runId;
    this.epoch = claim.epoch;
    this.#token = claim.jobToken;
    this.#spec = claim.spec as unknown as RunSpec;
    this.#settings = settings;
    this.#opts = opts;
    this.#log = log;
    this.#spool = join(opts.spoolDir ?? ".", `${claim.runId}-${claim.epoch}.log`);
    this.#fd =
      opts.client.inProcess === undefined && opts.spoolDir !== undefined
        ? openSync(this.#spool, "w+", 0o600)
        : undefined;
    opts.client.inProcess?.onCancel(this.#token, (reason) => this.#cancel(reason));
    this.reported = new Promise((resolve) => (this.#report = resolve));
  }

  run(): void {
    void this.#run().finally(() => {
      clearInterval(this.#heartbeat);
      clearTimeout(this.#flushTimer);
      if (this.#fd !== undefined) {
        closeSync(this.#fd);
        rmSync(this.#spool, { force: true });
      }
      this.#report();
    });
  }

  /** The server cancels the run: the job stops, and its end is reported. */
  #cancel(reason: string): void {
    this.#cancelled ??= reason;
    this.#execution?.cancel(reason);
  }

  /** Stops the job and reports nothing more of it: its lease is lost. */
  fence(reason: string): void {
    if (this.#fenced !== undefined) return;
    this.#fenced = reason;
    this.#log(`run ${this.runId}: ${reason}; its job is stopped`);
    this.#execution?.cancel(reason);
  }

  async #run(): Promise<void> {
    const { client } = this.#opts;
    // Two-phase: the start is acknowledged before anything runs.
    try {
      await this.#call(() => client.start(this.#token, this.runId, this.epoch), this.#settings.startTimeoutMs);
    } catch (error) {
      this.#log(`run ${this.runId}: not started (${describe(error)})`);
      return;
    }
    this.#renewedAt = performance.now();
    this.#heartbeat = setInterval(() => void this.#beat(), this.#settings.heartbeatMs);
    const blobs: BlobStore = {
      get: (sha) => this.#call(() => client.getBlob(this.#token, this.runId, this.epoch, sha)),
      put: (bytes) => this.#call(() => client.putBlob(this.#token, this.runId, this.epoch, bytes)),
    };
    const integrations = (name: string): Promise<Readonly<Record<string, string>> | undefined> =>
      this.#call(() => client.integration(this.#token, this.runId, this.epoch, name));
    const execution = this.#opts.runner.execute(
      this.#spec,
      { onStarted: () => undefined, onLog: (chunk) => this.#spool_(chunk) },
      { blobs, integrations },
    );
    this.#execution = execution;
    const stop = this.#fenced ?? this.#cancelled;
    if (stop !== undefined) execution.cancel(stop);
    const result = await execution.done;
    clearInterval(this.#heartbeat);
    if (this.#fenced !== undefined) return;
    await this.#finish(result);
  }

  #spool_(chunk: Uint8Array): void {
    if (this.#fenced !== undefined) return;
    if (this.#fd === undefined) return this.#send(chunk);
    writeSync(this.#fd, chunk, 0, chunk.byteLength, this.#size);
    this.#size += chunk.byteLength;
    if (this.#size - this.#acked >= FLUSH_AT) void this.#flush();
    else if (this.#flushTimer === undefined) {
      this.#flushTimer = setTimeout(() => {
        this.#flushTimer = undefined;
        void this.#flush();
      }, this.#opts.logFlushMs ?? 1_000);
    }
  }

  /** In process: the bytes go to the server in order, one call after the other. */
  #send(chunk: Uint8Array): void {
    const offset = this.#size;
    this.#size += chunk.byteLength;
    this.#direct = this.#direct.then(async () => {
      if (this.#fenced !== undefined) return;
      try {
        this.#acked = await this.#opts.client.log(this.#token, this.runId, this.epoch, offset, chunk);
      } catch (error) {
        if (error instanceof ServerRefusal && error.status === 409) this.fence(error.message);
        else this.#log(`run ${this.runId}: console bytes refused (${describe(error)})`);
      }
    });
  }

  /** Uploads what the server does not have yet; one upload at a time. */
  #flush(): Promise<void> {
    if (this.#fd === undefined) return this.#direct;
    this.#uploading ??= this.#upload().finally(() => (this.#uploading = undefined));
    return this.#uploading;
  }

  async #upload(): Promise<void> {
    const { client } = this.#opts;
    let delay: number = RETRY.first;
    const fd = this.#fd;
    if (fd === undefined) return;
    while (this.#acked < this.#size && this.#fenced === undefined) {
      const length = Math.min(CHUNK, this.#size - this.#acked);
      const bytes = Buffer.alloc(length);
      readSync(fd, bytes, 0, length, this.#acked);
      try {
        this.#acked = await client.log(this.#token, this.runId, this.epoch, this.#acked, bytes);
        this.#renewedAt = performance.now();
        delay = RETRY.first;
      } catch (error) {
        if (error instanceof ServerRefusal && error.code === "LOG_OFFSET_GAP") {
          this.#acked = offsetOf(error.details) ?? 0;
        } else if (error instanceof ServerRefusal && error.status === 409) {
          this.fence(error.message);
        } else if (!unreachable(error)) {
          this.#log(`run ${this.runId}: log upload refused (${describe(error)})`);
          return;
        } else {
          await sleep(jitter(delay));
          delay = Math.min(delay * 2, RETRY.max);
        }
      }
    }
  }

  async #beat(): Promise<void> {
    // A runner that could not renew its lease in time stops the job before the server gives
    // the run to another runner (measured on the monotonic clock: a paused process counts).
    if (performance.now() - this.#renewedAt > this.#settings.leaseMs) {
      this.fence("the lease could not be renewed in time");
      return;
    }
    try {
      const answer = await this.#opts.client.heartbeat(this.#token, this.runId, this.epoch);
      if (performance.now() - this.#renewedAt > this.#settings.leaseMs) {
        this.fence("the lease could not be renewed in time");
        return;
      }
      this.#renewedAt = performance.now();
      if (answer.cancel !== null) this.#cancel(answer.cancel);
    } catch (error) {
      if (error instanceof ServerRefusal && error.status === 409) this.fence(error.message);
      // Unreachable: the next beat tries again, until the lease runs out.
    }
  }

  async #finish(result: RunResult): Promise<void> {
    const { client } = this.#opts;
    const body: AttemptFinish = {
      epoch: this.epoch,
      logBytes: this.#size,
      result: toWire(result),
    };
    let delay: number = RETRY.first;
    for (;;) {
      if (this.#fenced !== undefined) return;
      await this.#flush();
      try {
        await client.finish(this.#token, this.runId, body);
        return;
      } catch (error) {
        if (error instanceof ServerRefusal && error.code === "LOG_OFFSET_GAP") {
          this.#acked = offsetOf(error.details) ?? 0;
          continue;
        }
        if (error instanceof ServerRefusal && error.status === 409) {
          this.#log(`run ${this.runId}: the server refused its end (${error.message})`);
          return;
        }
        if (!unreachable(error)) {
          this.#log(`run ${this.runId}: the server refused its end (${describe(error)})`);
          return;
        }
        await sleep(jitter(delay));
        delay = Math.min(delay * 2, RETRY.max);
      }
    }
  }

  /** A call of this attempt, retried while the server is out of reach, for up to `withinMs`. */
  async #call<T>(call: () => Promise<T>, withinMs = this.#settings.leaseMs): Promise<T> {
    const until = performance.now() + withinMs;
    let delay: number = RETRY.first;
    for (;;) {
      try {
        return await call();
      } catch (error) {
        if (error instanceof ServerRefusal && error.status === 409) this.fence(error.message);
        if (!unreachable(error) || performance.now() + delay > until) throw error;
        await sleep(jitter(delay));
        delay = Math.min(delay * 2, RETRY.max);
      }
    }
  }
}

/** A result as the protocol carries it (a runner never reports `lost`). */
function toWire(result: RunResult): AttemptFinish["result"] {
  return {
    status: result.status === "lost" ? "error" : result.status,
    reason: result.reason,
    exitCode: result.exitCode,
    stateSha: result.stateSha,
    outputs: Object.fromEntries(
      Object.entries(result.outputs).map(([k, v]) => [k, v.map(([a, b]) => [a, b] as [string, string])]),
    ),
    outStateShas: { ...result.outStateShas },
    ...(result.outVersions === undefined ? {} : { outVersions: result.outVersions }),
    ...(result.jobVersion === undefined ? {} : { jobVersion: result.jobVersion }),
    ...(result.notifications === undefined ? {} : { notifications: result.notifications.map((n) => ({ ...n })) }),
  };
}

async function retrying<T>(
  call: () => Promise<T>,
  stop: () => boolean,
  onRetry: (error: unknown) => void,
): Promise<T | undefined> {
  let delay: number = RETRY.first;
  for (;;) {
    try {
      return await call();
    } catch (error) {
      if (!unreachable(error)) throw error;
      if (stop()) return undefined;
      onRetry(error);
      await sleep(jitter(delay));
      delay = Math.min(delay * 2, RETRY.max);
    }
  }
}

function offsetOf(details: unknown): number | undefined {
  const offset = (details as { offset?: unknown } | undefined)?.offset;
  return typeof offset === "number" ? offset : undefined;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function jitter(ms: number): number {
  return ms / 2 + Math.random() * (ms / 2);
}

function describe(error: unknown): string {
  if (error instanceof Error) {
    const cause = (error as { cause?: { code?: string } }).cause?.code;
    return cause === undefined ? error.message : `${error.message}: ${cause}`;
  }
  return String(error);
}
