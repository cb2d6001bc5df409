import { randomUUID } from "node:crypto";
import {
  CausewayError,
  isEnvName,
  isFinal,
  originFile,
  runLabel,
  secretParamsOf,
  type BlobStore,
  type Clock,
  type EngineEvent,
  type Execution,
  type Explain,
  type JobDef,
  type LogStore,
  type Pipeline,
  type Run,
  type RunResult,
  type RunnerPort,
  type Store,
  type StoreTx,
  type Version,
} from "@causeway/core";
import { applyPipeline, type ApplyReport, type ApplyRequest } from "./applying.js";
import { jobNotFound, objectNotFound, resourceNotFound } from "./names.js";
import { compileEngineOptions, EventBuffer, type EngineContext, type EngineOptions } from "./context.js";
import { buildRunSpec, dispatchWithin } from "./dispatching.js";
import { finishRun, insertVersion } from "./finishing.js";
import { ReadModel } from "./read-model.js";
import { runRelease } from "./release.js";
import { checkParams, mergeBag } from "./params.js";
import { SerialQueue } from "./serial-queue.js";
import { traceVersion, type TraceEntry } from "./trace.js";
import { offer, recordRun, releaseStrictWaiters } from "./triggering.js";

/** What the engine is built from: the composition root passes real implementations. */
export interface EngineDeps {
  readonly store: Store;
  readonly blobs: BlobStore;
  readonly logs: LogStore;
  readonly runner: RunnerPort;
  readonly clock?: Clock;
  readonly options?: EngineOptions;
}

/** The answer to "why did / didn't this job run". */
export interface WhyReport {
  readonly job: string;
  readonly paused: boolean;
  readonly consistent: boolean;
  readonly pins: Record<string, number>;
  /** Runs not finished yet, with what holds them. */
  readonly pending: { run: Run; reason: string | null }[];
  /** Newest first; each with the number of its run (`runId`), so it reads as `build #3`. */
  readonly explains: (Explain & { readonly runNumber: number | null })[];
}

const SYSTEM_CLOCK: Clock = { now: () => new Date() };

/**
 * The engine (design §3): applies definitions, turns events into runs, dispatches runs to the
 * runner and records their results. Event driven: every change is one store transaction that
 * also marks the runs that may start; they start right after the commit. No polling.
 */
export class Engine {
  readonly model = new ReadModel();
  readonly #ctx: EngineContext;
  readonly #queue = new SerialQueue();
  readonly #listeners = new Set<(event: EngineEvent) => void>();
  readonly #executions = new Map<number, Execution>();
  readonly #launching = new Set<Promise<void>>();
  readonly #blocked = new Map<number, string>();
  readonly #cancelRequests = new Map<number, string>();
  #stopping = false;

  constructor(deps: EngineDeps) {
    this.#ctx = {
      store: deps.store,
      blobs: deps.blobs,
      logs: deps.logs,
      runner: deps.runner,
      clock: deps.clock ?? SYSTEM_CLOCK,
      model: this.model,
      options: compileEngineOptions(deps.options ?? {}, randomUUID),
    };
  }

  get store(): Store {
    return this.#ctx.store;
  }

  /**
   * Loads the read model and recovers from a crash: runs that were processing when the server
   * died are marked `lost` (retried when the job allows); queued runs are dispatched.
   */
  async start(): Promise<{ lost: Run[] }> {
    await this.model.load(this.#ctx.store);
    return this.#mutate(async (tx, events) => {
      const lost: Run[] = [];
      for (const run of [...this.model.active.values()]) {
        if (run.status !== "processing") continue;
        const result: RunResult = {
          status: "lost",
          reason: "the server stopped while this run was processing",
          exitCode: null,
          stateSha: null,
          outputs: {},
          outStateShas: {},
        };
        const done = await finishRun(this.#ctx, tx, events, run.id, result);
        if (done !== undefined) lost.push(done);
      }
      return { lost };
    });
  }

  /** Subscribes to engine events (after they are committed). Returns the unsubscribe. */
  subscribe(listener: (event: EngineEvent) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Applies a line's definitions, keeping those of refused files, and records it (see applyPipeline). */
  apply(pipeline: Pipeline, request: ApplyRequest = {}): Promise<ApplyReport> {
    return this.#mutate((tx, events) => applyPipeline(this.#ctx, tx, events, pipeline, request));
  }

  /**
   * The objects of the line as applied, by name, with the file that defines each: what a load
   * for an apply is given as `LoadOptions.applied`.
   */
  appliedFiles(): Map<string, string> {
    const files = new Map<string, string>();
    for (const [name, entry] of this.model.objects) {
      const file = originFile(entry.stored.definition);
      if (file !== undefined) files.set(name, file);
    }
    return files;
  }

  /**
   * Creates a version of a resource from outside (the versions API, `put-version`, a webhook,
   * a poller): it starts a new flow and triggers the resource's consumers.
   */
  putVersion(
    name: string,
    data: { versionName?: string; propertyBag?: Record<string, unknown> },
    createdBy = "api",
  ): Promise<{ version: Version; runs: Run[] }> {
    return this.#mutate(async (tx, events) => {
      const resource = this.model.resource(name);
      if (resource === undefined) throw resourceNotFound(this.model, name);
      const current = this.model.latest.get(name);
      const flow = this.#ctx.options.newFlowId();
      const version = await insertVersion(this.#ctx, tx, events, {
        objectName: name,
        versionName: data.versionName ?? current?.versionName ?? "",
        propertyBag: mergeBag(resource.type, current?.propertyBag ?? {}, data.propertyBag ?? {}),
        createdBy,
        runId: null,
        stateSha: null,
        flowId: flow,
      });
      const runs: Run[] = [];
      if (resource.type !== "state") {
        for (const consumer of this.model.consumers.get(name) ?? []) {
          const run = await offer(this.#ctx, tx, events, consumer, {
            kind: "version",
            input: name,
            versionId: version.id,
            description: `new version ${version.versionNumber} of ${name} (${createdBy})`,
            flow,
            trigger: { kind: "version", by: name, versionId: version.id },
          });
          if (run !== undefined) runs.push(run);
        }
      }
      return { version, runs };
    });
  }

  /** A manual run: always allowed (even when paused), with typed parameters and one-off pins. */
  async trigger(
    jobName: string,
    options: { params?: Record<string, string>; pins?: Record<string, number>; user?: string } = {},
  ): Promise<Run> {
    const made = await this.#mutate(async (tx, events) => {
      const job = this.model.job(jobName);
      if (job === undefined) throw jobNotFound(this.model, jobName);
      const params = checkParams(job.params, options.params ?? {});
      const pins = new Map<string, number>();
      for (const [input, n] of Object.entries(options.pins ?? {})) {
        if (!job.steps.some((s) => s.kind === "IN" && s.name === input)) {
          throw new CausewayError("NOT_AN_INPUT", `${input} is not an IN of ${jobName}`);
        }
        if ((await tx.versionByNumber(input, n)) === undefined) {
          throw new CausewayError("VERSION_NOT_FOUND", `${input} has no version ${n}`);
        }
        pins.set(input, n);
      }
      const user = options.user ?? "cli";
      const run = await offer(this.#ctx, tx, events, jobName, {
        kind: "manual",
        description: `manual run by ${user}`,
        flow: this.#ctx.options.newFlowId(),
        trigger: { kind: "manual", by: user },
        params,
        pins,
      });
      // No run: the job is inconsistent. The explain record is kept (this transaction
      // commits); the caller gets the error.
      return run;
    });
    if (made === undefined) {
      throw new CausewayError(
        "JOB_INCONSISTENT",
        `job ${jobName} is inconsistent and cannot run: run causeway validate`,
      );
    }
    return made;
  }

  /** Runs a finished run again with exactly the same input versions and parameters. */
  rerun(runId: number, user = "cli"): Promise<Run> {
    return this.#mutate(async (tx, events) => {
      const original = await tx.getRun(runId);
      if (original === undefined) throw new CausewayError("RUN_NOT_FOUND", `no run ${runId}`);
      if (!isFinal(original.status)) throw new CausewayError("RUN_NOT_FINISHED", `run ${runId} is ${original.status}`);
      const job = this.model.job(original.job);
      if (job === undefined) throw new CausewayError("JOB_NOT_FOUND", `job ${original.job} no longer exists`);
      if (!job.consistent) {
        throw new CausewayError(
          "JOB_INCONSISTENT",
          `job ${job.name} is inconsistent and cannot run: run causeway validate`,
        );
      }
      const run = await tx.insertRun({
        job: original.job,
        status: job.support === "runnable" ? "queued" : "skipped",
        statusReason: job.support === "runnable" ? null : `job type ${job.type} is not supported yet`,
        trigger: { kind: "rerun", by: user, runId: original.id },
        flow: original.flow,
        inputs: original.inputs,
        params: original.params,
        // Secret then, secret now: the job's current definition may say otherwise.
        secretParams: secretParamsOf(original.params, job.params, original.secretParams),
        priority: job.priority,
        attempt: 1,
        rerunOf: original.id,
      });
      await recordRun(this.#ctx, tx, events, run);
      const explain = await tx.insertExplain({
        job: run.job,
        event: `rerun of ${runLabel(original)} by ${user}`,
        outcome: "created",
        runId: run.id,
        message: `replays the inputs of ${runLabel(original)}`,
      });
      await events.append(tx, "explain", { ...explain });
      return run;
    });
  }

  /** Cancels a run: a pending one at once; a processing one through its runner (SIGTERM, then SIGKILL). */
  cancel(runId: number, reason = "cancelled by a user"): Promise<Run> {
    return this.#mutate(async (tx, events) => {
      const run = this.model.active.get(runId) ?? (await tx.getRun(runId));
      if (run === undefined) throw new CausewayError("RUN_NOT_FOUND", `no run ${runId}`);
      if (isFinal(run.status)) throw new CausewayError("RUN_FINISHED", `run ${runId} already ended ${run.status}`);
      if (run.status === "processing") {
        const execution = this.#executions.get(runId);
        // Not registered yet (its spec is being built): the launch checks this before starting.
        if (execution === undefined) this.#cancelRequests.set(runId, reason);
        else execution.cancel(reason);
        return run;
      }
      const now = this.#ctx.clock.now().toISOString();
      const updated = await tx.updateRun(runId, { status: "cancelled", statusReason: reason, finishedAt: now });
      await recordRun(this.#ctx, tx, events, updated);
      await releaseStrictWaiters(this.#ctx, tx, events, updated.job);
      return updated;
    });
  }

  /** Pauses or resumes automatic triggers of a job (manual runs still work). */
  setPaused(jobName: string, paused: boolean): Promise<void> {
    return this.#mutate(async (tx, events) => {
      if (this.model.job(jobName) === undefined) throw jobNotFound(this.model, jobName);
      await tx.setPaused(jobName, paused);
      const stored = await tx.getObject(jobName);
      if (stored !== undefined) this.model.setObject(stored);
      await events.append(tx, "definition", { name: jobName, kind: "job", change: paused ? "paused" : "resumed" });
    });
  }

  /** Pins an IN of a job to a version number (null unpins). A pinned input never triggers. */
  setPin(jobName: string, input: string, versionNumber: number | null): Promise<void> {
    return this.#mutate(async (tx, events) => {
      const job = this.model.job(jobName);
      if (job === undefined) throw jobNotFound(this.model, jobName);
      if (!job.steps.some((s) => s.kind === "IN" && s.name === input)) {
        throw new CausewayError("NOT_AN_INPUT", `${input} is not an IN of ${jobName}`);
      }
      if (versionNumber !== null && (await tx.versionByNumber(input, versionNumber)) === undefined) {
        throw new CausewayError("VERSION_NOT_FOUND", `${input} has no version ${versionNumber}`);
      }
      await tx.setPin(jobName, input, versionNumber);
      if (versionNumber === null) this.model.clearPin(jobName, input);
      else this.model.setPin({ job: jobName, input, versionNumber });
      await events.append(tx, "definition", {
        name: jobName,
        kind: "job",
        change: versionNumber === null ? `unpinned ${input}` : `pinned ${input}@${versionNumber}`,
      });
    });
  }

  /** The definition of a job; JOB_NOT_FOUND (with the nearest names) when there is none. */
  requireJob(name: string): JobDef {
    const job = this.model.job(name);
    if (job === undefined) throw jobNotFound(this.model, name);
    return job;
  }

  /** The error for a name that is neither a resource nor a job (with the nearest names). */
  objectNotFound(name: string): CausewayError {
    return objectNotFound(this.model, name);
  }

  /** Why a job did or did not run: explain records, pins, pause, and what holds pending runs. */
  async why(jobName: string, limit = 20): Promise<WhyReport> {
    const entry = this.model.objects.get(jobName);
    if (entry === undefined || entry.kind !== "job") throw jobNotFound(this.model, jobName);
    const pending = this.model.activeRuns(jobName).map((run) => ({
      run,
      reason: run.status === "queued" ? (this.#blocked.get(run.id) ?? null) : run.statusReason,
    }));
    return {
      job: jobName,
      paused: entry.stored.paused,
      consistent: entry.def.consistent,
      pins: Object.fromEntries(this.model.pins.get(jobName) ?? []),
      pending,
      explains: await Promise.all(
        (await this.#ctx.store.read.listExplains(jobName, limit)).map(async (explain) => ({
          ...explain,
          runNumber:
            explain.runId === null
              ? null
              : ((this.model.active.get(explain.runId) ?? (await this.#ctx.store.read.getRun(explain.runId)))?.number ??
                null),
        })),
      ),
    };
  }

  /** The trace of a version: every input version that produced it, transitively. */
  async trace(name: string, versionNumber?: number): Promise<{ version: Version; entries: TraceEntry[] }> {
    return traceVersion(this.#ctx.store.read, name, versionNumber);
  }

  /** Resolves with the run once it is final. */
  async waitForRun(runId: number): Promise<Run> {
    return new Promise<Run>((resolve, reject) => {
      const check = (): boolean => {
        const active = this.model.active.get(runId);
        if (active !== undefined) return false;
        void this.#ctx.store.read.getRun(runId).then((run) => {
          if (run === undefined) reject(new CausewayError("RUN_NOT_FOUND", `no run ${runId}`));
          else if (isFinal(run.status)) resolve(run);
        }, reject);
        return true;
      };
      if (check()) return;
      const off = this.subscribe((e) => {
        if (e.type === "run" && e.payload.id === runId && isFinal(e.payload.status as Run["status"])) {
          off();
          check();
        }
      });
    });
  }

  /** Resolves when no run is queued or processing (waiting runs do not count). */
  async idle(): Promise<void> {
    const busy = (): boolean =>
      [...this.model.active.values()].some((r) => r.status === "queued" || r.status === "processing");
    if (!busy()) return;
    await new Promise<void>((resolve) => {
      const off = this.subscribe(() => {
        if (!busy()) {
          off();
          resolve();
        }
      });
    });
  }

  /** Stops: cancels executions and waits for their results to be recorded. */
  async stop(): Promise<void> {
    this.#stopping = true;
    for (const execution of this.#executions.values()) execution.cancel("the server is stopping");
    await Promise.allSettled([...this.#launching]);
    await this.#queue.run(() => Promise.resolve());
  }

  async #mutate<T>(fn: (tx: StoreTx, events: EventBuffer) => Promise<T>): Promise<T> {
    return this.#queue.run(async () => {
      const events = new EventBuffer();
      let started: Run[] = [];
      let result: T;
      try {
        result = await this.#ctx.store.transaction(async (tx) => {
          const r = await fn(tx, events);
          started = this.#stopping ? [] : await dispatchWithin(this.#ctx, tx, events, this.#blocked);
          return r;
        });
      } catch (error) {
        // The read model may hold changes of the rolled-back transaction: rebuild it.
        await this.model.load(this.#ctx.store);
        throw error;
      }
      for (const event of events.events) this.#emit(event);
      for (const run of started) this.#launch(run);
      return result;
    });
  }

  #emit(event: EngineEvent): void {
    for (const listener of this.#listeners) {
      try {
        listener(event);
      } catch {
        // A listener's failure never stops the engine.
      }
    }
  }

  #launch(run: Run): void {
    const task = this.#execute(run).finally(() => this.#launching.delete(task));
    this.#launching.add(task);
  }

  async #execute(run: Run): Promise<void> {
    let result: RunResult;
    let logChain: Promise<void> = Promise.resolve();
    const pending: Uint8Array[] = [];
    try {
      const spec = await buildRunSpec(this.#ctx, run);
      if (spec === undefined) throw new Error(`job ${run.job} no longer exists`);
      const early = this.#cancelRequests.get(run.id);
      if (early !== undefined) {
        result = { status: "cancelled", reason: early, exitCode: null, stateSha: null, outputs: {}, outStateShas: {} };
      } else if (spec.job.type === "release") {
        const own = this.model.latest.get(spec.job.name);
        result = runRelease(
          spec,
          own === undefined ? undefined : { versionName: own.versionName, propertyBag: { ...own.propertyBag } },
        );
        // A release runs no script: its console says what it did.
        const lines = (result.outputs[spec.job.name] ?? []).map(([k, v]) => `${k}=${v}`);
        const text =
          result.status === "success" ? `release: ${lines.join(" ")}\n` : `release: ${result.reason ?? "failed"}\n`;
        await this.#ctx.logs.append(run.id, new TextEncoder().encode(text)).catch(() => undefined);
      } else {
        for (const [name] of Object.entries(spec.params)) {
          if (!isEnvName(name)) throw new Error(`parameter ${name} is not a valid environment variable name`);
        }
        const execution = this.#ctx.runner.execute(spec, {
          onStarted: () => undefined,
          onLog: (chunk) => {
            // Chunks that arrive while an append is in flight go out together in the next one:
            // a run's console is a handful of appends, not one per line.
            pending.push(chunk);
            if (pending.length === 1) {
              logChain = logChain
                .then(() => {
                  const batch = Buffer.concat(pending.splice(0));
                  return this.#ctx.logs.append(run.id, batch);
                })
                .catch(() => undefined);
            }
          },
        });
        this.#executions.set(run.id, execution);
        const requested = this.#cancelRequests.get(run.id);
        if (requested !== undefined) execution.cancel(requested);
        result = await execution.done;
      }
    } catch (error) {
      result = {
        status: "error",
        reason: error instanceof Error ? error.message : String(error),
        exitCode: null,
        stateSha: null,
        outputs: {},
        outStateShas: {},
      };
    } finally {
      this.#executions.delete(run.id);
      this.#cancelRequests.delete(run.id);
    }
    await logChain;
    try {
      await this.#mutate((tx, events) => finishRun(this.#ctx, tx, events, run.id, result));
    } catch (error) {
      // Recording the result failed (the transaction rolled back): record the run as an error
      // rather than leave it processing until the next restart.
      const reason = `could not record the run's result: ${error instanceof Error ? error.message : String(error)}`;
      const fallback: RunResult = {
        status: "error",
        reason,
        exitCode: result.exitCode,
        stateSha: null,
        outputs: {},
        outStateShas: {},
      };
      await this.#mutate((tx, events) => finishRun(this.#ctx, tx, events, run.id, fallback)).catch(() => undefined);
    }
  }
}
