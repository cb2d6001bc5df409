import {
  evaluateTrigger,
  inputRules,
  secretParamsOf,
  type JobDef,
  type JobTriggerContext,
  type Run,
  type RunInput,
  type RunTrigger,
  type StoreTx,
  type TriggerEvent,
  type Version,
} from "@causeway/core";
import type { EngineContext, EventBuffer } from "./context.js";
import { GATE_REASON, gatedStatus, openGate } from "./gating.js";

/** An event offered to a job, with what the run it creates inherits. */
export interface Offer extends TriggerEvent {
  readonly versionId?: number;
  readonly flow: string;
  readonly trigger: RunTrigger;
  readonly params?: Readonly<Record<string, string>>;
  /** One-off pins of a manual run (input -> versionNumber). */
  readonly pins?: ReadonlyMap<string, number>;
}

/** Publishes a run's new state: read model and event log. */
export async function recordRun(ctx: EngineContext, tx: StoreTx, events: EventBuffer, run: Run): Promise<void> {
  ctx.model.trackRun(run);
  await events.append(tx, "run", {
    id: run.id,
    job: run.job,
    number: run.number,
    status: run.status,
    statusReason: run.statusReason,
    flow: run.flow,
  });
}

/**
 * Offers an event to a job: evaluates the trigger rules, records the explain record, and
 * creates, joins or coalesces a run. Returns the run created or changed, if any.
 */
export async function offer(
  ctx: EngineContext,
  tx: StoreTx,
  events: EventBuffer,
  jobName: string,
  event: Offer,
): Promise<Run | undefined> {
  const { model } = ctx;
  const job = model.job(jobName);
  if (job === undefined) return undefined;
  const pending = model.activeRuns(jobName).filter((r) => r.status === "queued" || r.status === "waiting");
  const waiting = pending.find((r) => r.status === "waiting");
  // inJobs and strictBusy are gathered only when the chrono or the strict rule reads them: a
  // fan-in of 500 IN jobs is offered 500 events, and building the 500 upstream states at each
  // made the fan-in's cost grow with the square of its width.
  const tctx: JobTriggerContext = {
    job,
    paused: model.objects.get(jobName)?.stored.paused ?? false,
    deleted: false,
    pins: model.pins.get(jobName) ?? new Map(),
    get inJobs() {
      return model.inJobs(job).map((n) => model.upstreamState(n));
    },
    get strictBusy() {
      return model.busyUpstream(jobName);
    },
    pendingRunId: pending.length > 0 ? Math.max(...pending.map((r) => r.id)) : undefined,
    waitingRunId: waiting?.id,
  };
  const decision = evaluateTrigger(tctx, event);
  let run: Run | undefined;
  if (decision.action === "create") {
    const inputs = await resolveInputs(ctx, tx, job, event);
    const now = ctx.clock.now().toISOString();
    const params = event.params ?? {};
    const status = gatedStatus(job, decision.status);
    run = await tx.insertRun({
      job: jobName,
      status,
      statusReason: status === "queued" ? null : status === "waiting_approval" ? GATE_REASON : decision.message,
      trigger: event.trigger,
      flow: event.flow,
      inputs,
      params,
      secretParams: secretParamsOf(params, job.params),
      priority: job.priority,
      attempt: 1,
      rerunOf: null,
    });
    if (decision.status === "skipped") run = await tx.updateRun(run.id, { startedAt: now, finishedAt: now });
    await recordRun(ctx, tx, events, run);
    await openGate(ctx, tx, events, job, run);
  } else if (decision.action === "coalesce") {
    const inputs = await resolveInputs(ctx, tx, job, event);
    run = await tx.updateRun(decision.runId, { inputs });
    await recordRun(ctx, tx, events, run);
  } else if (decision.action === "release") {
    run = await release(ctx, tx, events, job, decision.runId);
  }
  const outcome =
    decision.action === "create"
      ? decision.status === "waiting"
        ? "waiting"
        : decision.status === "skipped"
          ? "skipped"
          : "created"
      : decision.action === "coalesce"
        ? "coalesced"
        : decision.action === "release"
          ? "released"
          : decision.action === "join"
            ? "waiting"
            : "skipped";
  const explain = await tx.insertExplain({
    job: jobName,
    event: event.description,
    outcome,
    runId: run?.id ?? (decision.action === "join" ? decision.runId : null),
    message:
      run?.status === "waiting_approval" ? joinClauses(decision.message, "waits for approval") : decision.message,
  });
  await events.append(tx, "explain", { ...explain });
  return run;
}

/** Turns a waiting (strict) run into a queued one (or one waiting for approval), resolving its inputs now. */
export async function release(
  ctx: EngineContext,
  tx: StoreTx,
  events: EventBuffer,
  job: JobDef,
  runId: number,
): Promise<Run> {
  const run = ctx.model.active.get(runId);
  const inputs = await resolveInputs(ctx, tx, job, {
    kind: "upstream",
    description: "release",
    flow: run?.flow ?? "",
    trigger: run?.trigger ?? { kind: "upstream", by: "" },
  });
  const status = gatedStatus(job, "queued");
  const updated = await tx.updateRun(runId, {
    status,
    statusReason: status === "queued" ? null : GATE_REASON,
    inputs,
  });
  await recordRun(ctx, tx, events, updated);
  await openGate(ctx, tx, events, job, updated);
  return updated;
}

/**
 * Releases the waiting runs of strict jobs whose upstream includes `settled` once every
 * upstream job has settled.
 */
export async function releaseStrictWaiters(
  ctx: EngineContext,
  tx: StoreTx,
  events: EventBuffer,
  settled: string,
): Promise<void> {
  const { model } = ctx;
  // Collected first (releasing changes the active runs). A waiting run keeps its job busy, so a
  // release never changes whether another waiting run may go.
  for (const run of model.freedBy(settled)) {
    const job = model.job(run.job);
    if (job === undefined) continue;
    await release(ctx, tx, events, job, run.id);
    const explain = await tx.insertExplain({
      job: job.name,
      event: `${settled} settled`,
      outcome: "released",
      runId: run.id,
      message: "every upstream job has settled (strict)",
    });
    await events.append(tx, "explain", { ...explain });
  }
}

/** Resolves every IN of a job to one version (design §3: frozen at run creation). */
export async function resolveInputs(ctx: EngineContext, tx: StoreTx, job: JobDef, event: Offer): Promise<RunInput[]> {
  const { model } = ctx;
  const pins = new Map(model.pins.get(job.name) ?? []);
  for (const [k, v] of event.pins ?? []) pins.set(k, v);
  const trigger =
    event.input !== undefined && event.versionId !== undefined
      ? { input: event.input, versionId: event.versionId }
      : undefined;
  const out: RunInput[] = [];
  for (const { step, rule } of inputRules(job, (n) => model.isJob(n), pins, trigger)) {
    let version: Version | undefined;
    switch (rule.kind) {
      case "trigger":
        version =
          model.latest.get(step.name)?.id === rule.versionId
            ? model.latest.get(step.name)
            : await tx.getVersion(rule.versionId);
        break;
      case "pinNumber":
        version = await tx.versionByNumber(step.name, rule.versionNumber);
        break;
      case "pinName":
        version = await tx.latestVersionNamed(step.name, rule.versionName);
        break;
      case "latest":
        version = model.latest.get(step.name);
        break;
      case "latestSuccess":
        version = model.lastSuccess.get(step.name);
        break;
    }
    const entry = model.objects.get(step.name);
    out.push({
      name: step.name,
      kind: entry?.kind ?? "resource",
      type: entry === undefined ? "" : entry.kind === "job" ? entry.def.type : entry.def.type,
      versionId: version?.id ?? null,
      versionNumber: version?.versionNumber ?? null,
      versionName: version?.versionName ?? null,
      pinned: rule.kind === "pinNumber" || rule.kind === "pinName",
    });
  }
  return out;
}

/** Clauses of an explain message joined with "; ", the empty ones left out (a manual run has none). */
function joinClauses(...clauses: string[]): string {
  return clauses.filter((c) => c !== "").join("; ");
}
