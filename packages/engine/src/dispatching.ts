import {
  DEFAULT_POOL,
  notifiesOn,
  poolOf,
  selectRuns,
  type DispatchCandidate,
  type DispatchState,
  type DependencySpec,
  type Run,
  type RunSpec,
  type StoreTx,
  type Version,
} from "@causeway/core";
import type { EngineContext, EventBuffer } from "./context.js";
import { enqueueNotifications } from "./notifying.js";
import { recordRun } from "./triggering.js";

/**
 * Marks the queued runs that may start now as processing, in the caller's transaction (so
 * finishing a run and starting the next one cost one commit). Returns them; the caller
 * launches them after the commit. A run in `over` is still `processing` in the store but its
 * execution has ended (its end could not be recorded yet): it holds no slot and does not keep
 * its job, group or neighbours waiting. Why the others wait is `queuedReasons`, when asked.
 */
export async function dispatchWithin(
  ctx: EngineContext,
  tx: StoreTx,
  events: EventBuffer,
  over: { has(runId: number): boolean } = new Set<number>(),
): Promise<Run[]> {
  const { model } = ctx;
  if (model.countWithStatus("queued") === 0) return [];
  const { candidates, state } = dispatchState(ctx, over);
  const { start } = selectRuns(candidates, state, { reasons: false, ordered: true });
  const now = ctx.clock.now().toISOString();
  const started: Run[] = [];
  for (const run of start) {
    const updated = await tx.updateRun(run.id, { status: "processing", startedAt: now, statusReason: null });
    await recordRun(ctx, tx, events, updated);
    const job = model.job(run.job);
    // on_start: only a job whose hooks notify on start pays anything.
    if (job !== undefined && notifiesOn(job, "start"))
      await enqueueNotifications(ctx, tx, events, { job, run: updated, event: "start" });
    started.push(updated);
  }
  return started;
}

/** Why each queued run waits now (what `selectRuns` says of the runs it does not start). */
export function queuedReasons(ctx: EngineContext, over: { has(runId: number): boolean }): Map<number, string> {
  const { candidates, state } = dispatchState(ctx, over);
  return selectRuns(candidates, state, { ordered: true }).blocked;
}

/**
 * The queued runs, in dispatch order and looked at only as far as the dispatcher goes, and what
 * is running, as the dispatcher sees them (see `dispatchWithin`).
 */
function dispatchState(
  ctx: EngineContext,
  over: { has(runId: number): boolean },
): { candidates: Iterable<DispatchCandidate>; state: DispatchState } {
  const { model } = ctx;
  const processingByJob = new Map<string, number>();
  const groups = new Set<string>();
  // A runner with pools (remote runners) counts each pool apart; the embedded runner alone is
  // one pool of the engine's slots for every job.
  const capacity = ctx.runner.capacity?.() ?? new Map([[DEFAULT_POOL, ctx.options.slots]]);
  const pool = ctx.runner.capacity === undefined ? () => DEFAULT_POOL : poolOf;
  const busy = new Map<string, number>();
  // Only the processing and queued runs: the waiting ones (often most of the active ones in a
  // strict line) take no part.
  for (const run of model.withStatus("processing")) {
    if (over.has(run.id)) continue;
    const job = model.job(run.job);
    const key = job === undefined ? DEFAULT_POOL : pool(job);
    busy.set(key, (busy.get(key) ?? 0) + 1);
    processingByJob.set(run.job, (processingByJob.get(run.job) ?? 0) + 1);
    if (job?.concurrencyGroup !== undefined) groups.add(job.concurrencyGroup);
  }
  return {
    candidates: queuedCandidates(ctx, over),
    state: {
      processingByJob,
      processingGroups: groups,
      neighbours: (j) => model.neighbours(j),
      freeSlots: new Map([...capacity].map(([name, slots]) => [name, slots - (busy.get(name) ?? 0)])),
      capacity,
      poolOf: pool,
    },
  };
}

function* queuedCandidates(ctx: EngineContext, over: { has(runId: number): boolean }): Generator<DispatchCandidate> {
  for (const run of ctx.model.queued()) {
    const job = ctx.model.job(run.job);
    if (job !== undefined && !over.has(run.id)) yield { run, job };
  }
}

/** Builds what the runner needs for a run: its dependencies with their frozen versions. */
export async function buildRunSpec(ctx: EngineContext, run: Run): Promise<RunSpec | undefined> {
  const { model, store } = ctx;
  const job = model.job(run.job);
  if (job === undefined) return undefined;
  const deps: DependencySpec[] = [];
  for (const step of job.steps) {
    if (step.kind === "TASK") continue;
    const entry = model.objects.get(step.name);
    let version: Version | undefined;
    if (step.kind === "IN") {
      const input = run.inputs.find((i) => i.name === step.name);
      const id = input?.versionId ?? null;
      if (id !== null) {
        const cached = model.latest.get(step.name);
        version = cached?.id === id ? cached : await store.read.getVersion(id);
      }
    } else version = model.latest.get(step.name);
    const def = entry?.kind === "resource" ? entry.def : undefined;
    deps.push({
      name: step.name,
      operation: step.kind,
      kind: entry?.kind ?? "resource",
      type: entry === undefined ? "" : entry.def.type,
      objectId: step.name,
      version:
        version === undefined
          ? undefined
          : {
              id: version.id,
              versionNumber: version.versionNumber,
              versionName: version.versionName,
              propertyBag: version.propertyBag,
              stateSha: version.stateSha,
            },
      pointer: def?.pointer ?? {},
      seed: def?.seed ?? {},
      template: def?.template ?? {},
      ...(def?.integration === undefined ? {} : { integration: def.integration }),
    });
  }
  // The job's latest version before this run holds the state to hand over.
  const previous = model.latest.get(job.name);
  return {
    run,
    job,
    dependencies: deps,
    previousStateSha: previous?.stateSha ?? null,
    params: run.params,
    buildUrl: ctx.options.buildUrl(run.id),
  };
}
