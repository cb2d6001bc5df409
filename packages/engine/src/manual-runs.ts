import { CausewayError, isFinal, runLabel, secretParamsOf, type Run, type StoreTx } from "@causeway/core";
import { GATE_REASON, gatedStatus, openGate } from "./gating.js";
import { recordAudit } from "./audit.js";
import type { EngineContext, EventBuffer } from "./context.js";
import { jobNotFound } from "./names.js";
import { checkParams } from "./params.js";
import { offer, recordRun } from "./triggering.js";

/** What a manual run asks for besides its job. */
export interface TriggerOptions {
  readonly params?: Record<string, string>;
  readonly pins?: Record<string, number>;
  /** Who asks: recorded as the run's trigger (`by`) and in the audit trail (default `cli`). */
  readonly user?: string;
}

/**
 * A manual run (`Engine.trigger`), in `tx`: always allowed, even when the job is paused, with
 * typed parameters and one-off pins; a gated job's run waits for approval. Undefined when the
 * job is inconsistent (its explain record is kept).
 */
export async function triggerRun(
  ctx: EngineContext,
  tx: StoreTx,
  events: EventBuffer,
  jobName: string,
  options: TriggerOptions,
): Promise<Run | undefined> {
  const job = ctx.model.job(jobName);
  if (job === undefined) throw jobNotFound(ctx.model, jobName);
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
  const run = await offer(ctx, tx, events, jobName, {
    kind: "manual",
    description: `manual run by ${user}`,
    flow: ctx.options.newFlowId(),
    trigger: { kind: "manual", by: user },
    params,
    pins,
  });
  if (run !== undefined) {
    await recordAudit(tx, events, {
      actor: user,
      action: "trigger",
      subject: `run:${run.id}`,
      detail: { job: jobName, number: run.number, status: run.status },
    });
  }
  return run;
}

/**
 * Runs a finished run again (`Engine.rerun`) with exactly the same input versions and
 * parameters, in `tx`. A gated job asks again: an approval is for one run, not for its reruns.
 */
export async function rerunRun(
  ctx: EngineContext,
  tx: StoreTx,
  events: EventBuffer,
  runId: number,
  user: string,
): Promise<Run> {
  const original = await tx.getRun(runId);
  if (original === undefined) throw new CausewayError("RUN_NOT_FOUND", `no run ${runId}`);
  if (!isFinal(original.status)) throw new CausewayError("RUN_NOT_FINISHED", `run ${runId} is ${original.status}`);
  const job = ctx.model.job(original.job);
  if (job === undefined) throw new CausewayError("JOB_NOT_FOUND", `job ${original.job} no longer exists`);
  if (!job.consistent) {
    throw new CausewayError(
      "JOB_INCONSISTENT",
      `job ${job.name} is inconsistent and cannot run: run causeway validate`,
    );
  }
  const runnable = job.support === "runnable";
  const status = runnable ? gatedStatus(job, "queued") : "skipped";
  const run = await tx.insertRun({
    job: original.job,
    status,
    statusReason: runnable ? (status === "queued" ? null : GATE_REASON) : `job type ${job.type} is not supported yet`,
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
  await recordRun(ctx, tx, events, run);
  await openGate(ctx, tx, events, job, run);
  const explain = await tx.insertExplain({
    job: run.job,
    event: `rerun of ${runLabel(original)} by ${user}`,
    outcome: "created",
    runId: run.id,
    message: `replays the inputs of ${runLabel(original)}${status === "waiting_approval" ? "; waits for approval" : ""}`,
  });
  await events.append(tx, "explain", { ...explain });
  await recordAudit(tx, events, {
    actor: user,
    action: "rerun",
    subject: `run:${run.id}`,
    detail: { job: run.job, number: run.number, rerunOf: original.id, status: run.status },
  });
  return run;
}
