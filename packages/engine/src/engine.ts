import { engineView, type EngineView } from "./view.js";
import { randomUUID } from "node:crypto";
import {
  CausewayError,
  describeError,
  isCausewayError,
  isFinal,
  originFile,
  type ApprovalVerdict,
  type BlobStore,
  type Clock,
  type EngineEvent,
  type Explain,
  type Identity,
  type JobDef,
  type LogStore,
  type LineDiff,
  type Pipeline,
  type Run,
  type RunResult,
  type RunnerPort,
  type Store,
  type NewAuditEvent,
  type StoreTx,
  type Version,
} from "@causeway/core";
import { applyPipeline, diffStored, type ApplyReport, type ApplyRequest } from "./applying.js";
import { decideGate, expireGates, gateReason, nextDeadline, readGate, type GateView } from "./approvals.js";
import { DEFAULT_ACTOR, recordAudit } from "./audit.js";
import { GateTimer } from "./gate-timer.js";
import { rerunRun, triggerRun, type TriggerOptions } from "./manual-runs.js";
import { jobNotFound, objectNotFound } from "./names.js";
import { compileEngineOptions, EventBuffer, type EngineContext, type EngineOptions } from "./context.js";
import { dispatchWithin, queuedReasons } from "./dispatching.js";
import { errorResult, itself, RunExecutions } from "./executing.js";
import { reportExternal, type ExternalReport } from "./external.js";
import { putVersion, type PutVersionOptions, type VersionData } from "./versions.js";
import { finishRun } from "./finishing.js";
import { enqueueEnd } from "./notifying.js";
import { ReadModel } from "./read-model.js";
import { SerialQueue } from "./serial-queue.js";
import { traceVersion, type TraceEntry } from "./trace.js";
import { recordRun, releaseStrictWaiters } from "./triggering.js";

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

/** Retries of ends that could not be recorded: from this delay, doubling, up to the maximum. */
const END_RETRY_MS = { first: 100, max: 5_000 } as const;

/** A run whose execution is over but whose end could not be recorded yet (a full disk). */
interface UnrecordedEnd {
  /** What is recorded once a write succeeds: `error`, saying why and how the run ended. */
  readonly result: RunResult;
  /** Why the last attempt failed. */
  error: unknown;
}

/**
 * The engine (design §3): applies definitions, turns events into runs, dispatches runs to the
 * runner and records their results. Event driven: every change is one store transaction that
 * also marks the runs that may start; they start right after the commit. No polling.
 */
export class Engine {
  /** The scheduler's own state; readers outside the engine use `view`. */
  readonly model = new ReadModel();
  /** What readers (the server) see of the engine's state, read-only. */
  readonly view: EngineView = engineView(this.model);
  readonly #ctx: EngineContext;
  readonly #queue = new SerialQueue();
  readonly #listeners = new Set<(event: EngineEvent) => void>();
  readonly #unrecorded = new Map<number, UnrecordedEnd>();
  readonly #runs: RunExecutions;
  #endRetry: { timer: NodeJS.Timeout | undefined; delay: number } = { timer: undefined, delay: END_RETRY_MS.first };
  /** One timer for the earliest deadline of the pending approval gates. */
  readonly #gates: GateTimer;
  /** The read model could not be reloaded after a failed transaction: reload before the next. */
  #stale = false;
  #stopping = false;
  #stopped = false;

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
    this.#runs = new RunExecutions(this.#ctx, (run, result) => this.#recordEnd(run, result));
    const expire = (): Promise<number> => this.#mutate((tx, events) => expireGates(this.#ctx, tx, events));
    this.#gates = new GateTimer(() => nextDeadline(this.#ctx.store.read), expire, this.#ctx.clock);
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
    const processing = [...this.model.active.values()].filter((r) => r.status === "processing");
    const adopted = await this.#runs.adopt(processing);
    const recovered = await this.#mutate(async (tx, events) => {
      const lost: Run[] = [];
      for (const run of [...this.model.active.values()]) {
        if (run.status !== "processing" || adopted.has(run.id)) continue;
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
    for (const [runId, resumed] of adopted) {
      const run = this.model.active.get(runId);
      if (run !== undefined) this.#runs.resume(run, resumed);
    }
    // Gates keep their deadlines across a restart: one that passed meanwhile fires at once.
    await this.#gates.arm();
    this.#ctx.runner.onCapacity?.(() => void this.dispatch().catch(() => undefined));
    return recovered;
  }

  /** Dispatches what may start now: after a runner came or its capacity changed. */
  dispatch(): Promise<void> {
    return this.#mutate(() => Promise.resolve());
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
   * What applying `pipeline` would do, without doing it (`causeway plan`): the same decision as
   * `apply` (`diffLine`), read from the store, nothing written. Queued behind the changes in
   * progress, so it never sees half an apply.
   */
  plan(pipeline: Pipeline, request: Pick<ApplyRequest, "refused"> = {}): Promise<LineDiff> {
    return this.#queue.run(
      async () => (await diffStored(this.#ctx, this.#ctx.store.read, pipeline, request.refused ?? [])).diff,
    );
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
   * a poller): it starts a new flow and triggers the resource's consumers. With a `key`, at
   * most once per key (see PutVersionOptions).
   */
  putVersion(
    name: string,
    data: VersionData,
    createdBy = "api",
    options: PutVersionOptions = {},
  ): Promise<{ version: Version; runs: Run[]; duplicate: boolean }> {
    return this.#mutate((tx, events) => putVersion(this.#ctx, tx, events, name, data, createdBy, options));
  }

  /**
   * A report of another CI system about an `externalCI` job (shippable.md §5.9): `processing` is
   * noted; `success` or `failure` is a run that ends so at once, with the job's version holding
   * `versionData`; a build reported before gives its run back (`duplicate`). See external.ts.
   */
  reportExternal(jobName: string, report: ExternalReport): Promise<{ run: Run | null; duplicate: boolean }> {
    return this.#mutate((tx, events) => reportExternal(this.#ctx, tx, events, jobName, report));
  }

  /** A manual run: always allowed (even when paused), with typed parameters and one-off pins. */
  async trigger(jobName: string, options: TriggerOptions = {}): Promise<Run> {
    const made = await this.#mutate((tx, events) => triggerRun(this.#ctx, tx, events, jobName, options));
    // No run: the job is inconsistent. The explain record is kept (the transaction committed).
    if (made === undefined) {
      throw new CausewayError(
        "JOB_INCONSISTENT",
        `job ${jobName} is inconsistent and cannot run: run causeway validate`,
      );
    }
    return made;
  }

  /** Runs a finished run again with the same input versions and parameters (a gate asks again). */
  rerun(runId: number, user = "cli"): Promise<Run> {
    return this.#mutate((tx, events) => rerunRun(this.#ctx, tx, events, runId, user));
  }

  /** A verdict on a run's approval gate (see approvals.ts); a refusal throws its code. */
  decide(
    runId: number,
    identity: Identity,
    verdict: ApprovalVerdict,
    comment: string | null = null,
  ): Promise<GateView> {
    return this.#mutate((tx, events) => decideGate(this.#ctx, tx, events, runId, identity, verdict, comment));
  }

  /** The approval gate of a run (undefined: it has none); RUN_NOT_FOUND when there is no such run. */
  approval(runId: number): Promise<GateView | undefined> {
    return readGate(this.#ctx, this.#ctx.store.read, runId);
  }

  /** Cancels a run: a pending one at once; a processing one through its runner (SIGTERM, then SIGKILL). */
  cancel(runId: number, reason = "cancelled by a user", actor = DEFAULT_ACTOR): Promise<Run> {
    return this.#mutate(async (tx, events) => {
      const run = this.model.active.get(runId) ?? (await tx.getRun(runId));
      if (run === undefined) throw new CausewayError("RUN_NOT_FOUND", `no run ${runId}`);
      if (isFinal(run.status)) throw new CausewayError("RUN_FINISHED", `run ${runId} already ended ${run.status}`);
      const detail = { job: run.job, number: run.number, status: run.status, reason };
      await recordAudit(tx, events, { actor, action: "cancel", subject: `run:${runId}`, detail });
      if (run.status === "processing") {
        const unrecorded = this.#unrecorded.get(runId);
        if (unrecorded !== undefined) throw endNotRecorded(runId, unrecorded.error);
        // Not handed to the runner yet (its spec is being built): the launch checks this first.
        this.#runs.stop(runId, reason);
        return run;
      }
      const now = this.#ctx.clock.now().toISOString();
      const updated = await tx.updateRun(runId, { status: "cancelled", statusReason: reason, finishedAt: now });
      await recordRun(this.#ctx, tx, events, updated);
      const job = this.model.job(updated.job);
      if (job !== undefined) await enqueueEnd(this.#ctx, tx, events, job, updated);
      await releaseStrictWaiters(this.#ctx, tx, events, updated.job);
      return updated;
    });
  }

  /**
   * Makes a change that is not the engine's own (a secret set, deleted, or its key rotated) in
   * one transaction with its entry of the audit trail, so the entry exists exactly when the
   * change does. The change sees only the store: the engine holds no secret.
   */
  audited<T>(entry: NewAuditEvent, change: (tx: StoreTx) => Promise<T>): Promise<T> {
    return this.#mutate(async (tx, events) => {
      const result = await change(tx);
      await recordAudit(tx, events, entry);
      return result;
    });
  }

  /** Pauses or resumes automatic triggers of a job (manual runs still work). */
  setPaused(jobName: string, paused: boolean, actor = DEFAULT_ACTOR): Promise<void> {
    return this.#mutate(async (tx, events) => {
      if (this.model.job(jobName) === undefined) throw jobNotFound(this.model, jobName);
      await tx.setPaused(jobName, paused);
      const stored = await tx.getObject(jobName);
      if (stored !== undefined) this.model.setObject(stored);
      await events.append(tx, "definition", { name: jobName, kind: "job", change: paused ? "paused" : "resumed" });
      const action = paused ? "pause" : "resume";
      await recordAudit(tx, events, { actor, action, subject: `job:${jobName}`, detail: {} });
    });
  }

  /** Pins an IN of a job to a version number (null unpins). A pinned input never triggers. */
  setPin(jobName: string, input: string, versionNumber: number | null, actor = DEFAULT_ACTOR): Promise<void> {
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
      await recordAudit(tx, events, {
        actor,
        action: versionNumber === null ? "unpin" : "pin",
        subject: `job:${jobName}`,
        detail: { input, versionNumber },
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
    const runs = this.model.activeRuns(jobName);
    const queued = runs.some((r) => r.status === "queued") ? queuedReasons(this.#ctx, this.#unrecorded) : undefined;
    const pending = await Promise.all(
      runs.map(async (run) => ({
        run,
        reason: run.status === "queued" ? (queued?.get(run.id) ?? null) : await gateReason(this.store.read, run),
      })),
    );
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
    const busy = (): boolean => this.model.countWithStatus("queued") + this.model.countWithStatus("processing") > 0;
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
    this.#gates.stop();
    // A remote runner's run goes on without the server: it reports to the next one.
    await this.#runs.stopAll("the server is stopping");
    // A last attempt at the ends still unrecorded; what is left is marked lost at the next start.
    this.#stopped = true;
    clearTimeout(this.#endRetry.timer);
    await this.#queue.run(() => this.#recordEnds());
  }

  /** One change: the ends not recorded yet first, then `fn`, in the engine's queue. */
  async #mutate<T>(fn: (tx: StoreTx, events: EventBuffer) => Promise<T>): Promise<T> {
    return this.#queue.run(async () => {
      await this.#recordEnds();
      return this.#transact(fn);
    });
  }

  /**
   * One store transaction (inside the queue): `fn`, then the dispatch of what may start now;
   * after the commit, the events are published and the started runs launched.
   */
  async #transact<T>(fn: (tx: StoreTx, events: EventBuffer) => Promise<T>): Promise<T> {
    if (this.#stale) {
      await this.model.load(this.#ctx.store);
      this.#stale = false;
    }
    const events = new EventBuffer();
    let started: Run[] = [];
    let result: T;
    try {
      result = await this.#ctx.store.transaction(async (tx) => {
        const r = await fn(tx, events);
        started = this.#stopping ? [] : await dispatchWithin(this.#ctx, tx, events, this.#unrecorded);
        return r;
      });
    } catch (error) {
      // The read model may hold changes of the rolled-back transaction: rebuild it, or, when
      // the store cannot even be read, before the next change.
      try {
        await this.model.load(this.#ctx.store);
      } catch {
        this.#stale = true;
      }
      throw error;
    }
    for (const event of events.events) this.#emit(event);
    if (events.outbox > 0) this.#wakeOutbox();
    for (const run of started) this.#runs.launch(run);
    if (events.events.some((e) => e.type === "approval")) void this.#gates.arm();
    return result;
  }

  /** Records a run's end, or keeps it to record once a write succeeds. */
  async #recordEnd(run: Run, result: RunResult): Promise<void> {
    try {
      await this.#mutate((tx, events) => finishRun(this.#ctx, tx, events, run.id, result));
    } catch (error) {
      // Recording the end failed (the transaction rolled back; the disk may be full). The run is
      // over: it holds no slot from now on, and ends `error` as soon as a write succeeds.
      const reason = `its end could not be recorded: ${describeError(error)}`;
      this.#unrecorded.set(run.id, { result: errorResult(reason + itself(result, reason), result.exitCode), error });
      this.#retryEnds();
    }
  }

  /**
   * Records the ends that could not be recorded when their runs ended (inside the queue), in
   * one transaction of their own. On failure they stay pending: the next change tries again
   * first, and so does a timer (from 100 ms, doubling, up to every 5 s), so that a run ends as
   * soon as a write succeeds, with no restart and no request needed.
   */
  async #recordEnds(): Promise<void> {
    if (this.#unrecorded.size === 0) return;
    const ends = [...this.#unrecorded];
    try {
      await this.#transact(async (tx, events) => {
        for (const [id, end] of ends) await finishRun(this.#ctx, tx, events, id, end.result);
      });
    } catch (error) {
      for (const [, end] of ends) end.error = error;
      this.#retryEnds();
      return;
    }
    for (const [id] of ends) this.#unrecorded.delete(id);
    clearTimeout(this.#endRetry.timer);
    this.#endRetry = { timer: undefined, delay: END_RETRY_MS.first };
  }

  #retryEnds(): void {
    const retry = this.#endRetry;
    if (retry.timer !== undefined || this.#unrecorded.size === 0 || this.#stopped) return;
    retry.timer = setTimeout(() => {
      retry.timer = undefined;
      void this.#queue.run(() => this.#recordEnds());
    }, retry.delay);
    retry.timer.unref();
    retry.delay = Math.min(retry.delay * 2, END_RETRY_MS.max);
  }

  #wakeOutbox(): void {
    try {
      this.#ctx.options.onOutbox?.();
    } catch {
      // The outbox's failure never stops the engine: its rows wait in the store.
    }
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
}

/** The answer to a cancel of a run whose end is waiting to be recorded. */
function endNotRecorded(runId: number, error: unknown): CausewayError {
  const cause = isCausewayError(error) ? error : undefined;
  return new CausewayError(
    cause?.code ?? "INTERNAL",
    `run ${runId} is over, but its end cannot be recorded yet: ${describeError(error)}`,
    { cause: error, ...(cause?.hint === undefined ? {} : { hint: cause.hint }) },
  );
}
