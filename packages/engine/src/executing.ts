import { describeError, isEnvName, type Execution, type Run, type RunObserver, type RunResult } from "@causeway/core";
import type { EngineContext } from "./context.js";
import { buildRunSpec } from "./dispatching.js";
import { runRelease } from "./release.js";
import { RunLog } from "./run-log.js";
import { redactResult, runSecrets } from "./run-secrets.js";

/** A run a remote runner still executes after a restart, adopted by the engine. */
interface Resumed {
  readonly log: RunLog;
  readonly secrets: readonly string[];
  readonly execution: Execution;
}

/**
 * The executions of the engine's runs (design §3): each started run is handed to the runner
 * with its log (created first) and its secrets (redacted from it), and its end is given to
 * `record` once every log byte is written. Cancels that arrive before the runner has the run
 * are kept and applied at its launch. After a restart, the runs a remote runner still holds are
 * adopted and end the same way; on stop, they are detached (left to their runner).
 */
export class RunExecutions {
  readonly #ctx: EngineContext;
  readonly #record: (run: Run, result: RunResult) => Promise<void>;
  readonly #executions = new Map<number, Execution>();
  readonly #launching = new Set<Promise<void>>();
  readonly #cancelRequests = new Map<number, string>();
  /** Runs left to their remote runners when the server stops: their ends are not recorded here. */
  readonly #detached = new Set<number>();

  constructor(ctx: EngineContext, record: (run: Run, result: RunResult) => Promise<void>) {
    this.#ctx = ctx;
    this.#record = record;
  }

  /** Hands a run marked processing to the runner (after the commit that marked it). */
  launch(run: Run): void {
    this.#track(this.#execute(run));
  }

  /** Stops a running run (a cancel with `reason`), or the launch that is about to start it. */
  stop(runId: number, reason: string): void {
    const execution = this.#executions.get(runId);
    if (execution === undefined) this.#cancelRequests.set(runId, reason);
    else execution.cancel(reason);
  }

  /**
   * After a restart: the processing runs a remote runner still executes (their leases are in
   * the store), their logs reopened where they were. Returns their ids; `resume` then waits for
   * their ends, which are recorded as any run's.
   */
  async adopt(processing: readonly Run[]): Promise<Map<number, Resumed>> {
    const adopted = new Map<number, Resumed>();
    const adopt = this.#ctx.runner.adopt?.bind(this.#ctx.runner);
    if (adopt === undefined) return adopted;
    for (const run of processing) {
      const log = this.#log(run);
      const spec = await buildRunSpec(this.#ctx, run);
      if (spec === undefined || !(await log.reopen())) continue;
      const secrets = await runSecrets(this.#ctx, spec);
      if (secrets.length > 0) log.redact(secrets);
      const execution = adopt(run, observe(log));
      if (execution === undefined) {
        await log.close();
        continue;
      }
      this.#executions.set(run.id, execution);
      adopted.set(run.id, { log, secrets, execution });
    }
    return adopted;
  }

  /** Waits for an adopted run's end and records it. */
  resume(run: Run, resumed: Resumed): void {
    this.#track(this.#resume(run, resumed));
  }

  /** On stop: cancels the executions, detaches those of remote runners; resolves once all ended. */
  async stopAll(reason: string): Promise<void> {
    for (const [runId, execution] of this.#executions) {
      if (execution.detach?.() === true) this.#detached.add(runId);
      else execution.cancel(reason);
    }
    await Promise.allSettled([...this.#launching]);
  }

  #track(task: Promise<void>): void {
    const tracked = task.finally(() => this.#launching.delete(tracked));
    this.#launching.add(tracked);
  }

  // A log that fails stops the run: its console can no longer be kept.
  #log(run: Run): RunLog {
    return new RunLog(this.#ctx.logs, run.id, (reason) => this.stop(run.id, reason), this.#ctx.options.logLimitBytes);
  }

  async #resume(run: Run, { log, secrets, execution }: Resumed): Promise<void> {
    let result: RunResult;
    try {
      result = await execution.done;
    } catch (error) {
      result = errorResult(describeError(error), null);
    } finally {
      this.#executions.delete(run.id);
    }
    await this.#end(run, log, redactResult(result, secrets));
  }

  async #execute(run: Run): Promise<void> {
    let result: RunResult;
    let secrets: string[] = [];
    const log = this.#log(run);
    try {
      if (!(await log.create())) throw new Error(log.failure);
      const spec = await buildRunSpec(this.#ctx, run);
      if (spec === undefined) throw new Error(`job ${run.job} no longer exists`);
      secrets = await runSecrets(this.#ctx, spec);
      if (secrets.length > 0) log.redact(secrets);
      const early = this.#cancelRequests.get(run.id);
      if (early !== undefined) {
        result = { status: "cancelled", reason: early, exitCode: null, stateSha: null, outputs: {}, outStateShas: {} };
      } else if (spec.job.type === "release") {
        const own = this.#ctx.model.latest.get(spec.job.name);
        result = runRelease(
          spec,
          own === undefined ? undefined : { versionName: own.versionName, propertyBag: { ...own.propertyBag } },
        );
        // A release runs no script: its console says what it did.
        const lines = (result.outputs[spec.job.name] ?? []).map(([k, v]) => `${k}=${v}`);
        const text =
          result.status === "success" ? `release: ${lines.join(" ")}\n` : `release: ${result.reason ?? "failed"}\n`;
        log.write(new TextEncoder().encode(text));
      } else {
        for (const [name] of Object.entries(spec.params)) {
          if (!isEnvName(name)) throw new Error(`parameter ${name} is not a valid environment variable name`);
        }
        const execution = this.#ctx.runner.execute(spec, observe(log));
        this.#executions.set(run.id, execution);
        const requested = this.#cancelRequests.get(run.id);
        if (requested !== undefined) execution.cancel(requested);
        result = await execution.done;
      }
    } catch (error) {
      result = errorResult(describeError(error), null);
    } finally {
      this.#executions.delete(run.id);
    }
    // What the run leaves to versions and notifications holds no secret of it either.
    await this.#end(run, log, redactResult(result, secrets));
  }

  /** Closes a run's log, then records its end. */
  async #end(run: Run, log: RunLog, end: RunResult): Promise<void> {
    let result = end;
    if (this.#detached.has(run.id)) {
      // The server stops; the remote runner goes on and reports to the next server.
      await log.close();
      return;
    }
    // Every log byte is written (or has failed) before the end is recorded.
    const logFailure = await log.close();
    if (logFailure !== undefined) result = errorResult(logFailure + itself(result, logFailure), result.exitCode);
    try {
      await this.#record(run, result);
    } finally {
      this.#cancelRequests.delete(run.id);
    }
  }
}

/** The observer of a run's execution: its console goes to its log. */
function observe(log: RunLog): RunObserver {
  return {
    onStarted: () => undefined,
    onLog: (chunk) => log.write(chunk),
    logged: () => log.flushed(),
    rewind: (length) => log.rewind(length),
  };
}

/** A result with status `error`: nothing of the run is kept (outputs, state: the previous state carries on). */
export function errorResult(reason: string, exitCode: number | null): RunResult {
  return { status: "error", reason, exitCode, stateSha: null, outputs: {}, outStateShas: {} };
}

/** How the run itself ended, when that is not already the failure being reported. */
export function itself(result: RunResult, failure: string): string {
  if (result.reason === failure) return "";
  return `; the run itself ended ${result.status}${result.reason === null ? "" : ` (${result.reason})`}`;
}
