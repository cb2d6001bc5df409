import {
  computeOutVersion,
  runLabel,
  secretParamsOf,
  versionChanged,
  type JobDef,
  type Run,
  type RunResult,
  type StoreTx,
  type Version,
  resourceKind,
} from "@causeway/core";
import type { EngineContext, EventBuffer } from "./context.js";
import { enqueueEnd } from "./notifying.js";
import { offer, recordRun, releaseStrictWaiters } from "./triggering.js";

/**
 * Records the end of a run in one transaction (design §3): the run's status, its notifications
 * (the hooks' `NOTIFY` and `shipctl notify` requests, into the outbox), the job's new version, OUT
 * versions (only on success or `on_failure: true`, only when changed), the downstream runs they
 * trigger, strict releases and retries. Idempotent: a run already final
 * is left alone.
 */
export async function finishRun(
  ctx: EngineContext,
  tx: StoreTx,
  events: EventBuffer,
  runId: number,
  result: RunResult,
): Promise<Run | undefined> {
  const { model } = ctx;
  const current = model.active.get(runId) ?? (await tx.getRun(runId));
  if (current === undefined || !["processing", "queued", "waiting"].includes(current.status)) return undefined;
  const job = model.job(current.job);
  const now = ctx.clock.now().toISOString();
  const run = await tx.updateRun(runId, {
    status: result.status,
    statusReason: result.reason,
    exitCode: result.exitCode,
    finishedAt: now,
    ...(current.startedAt === null ? { startedAt: now } : {}),
  });
  await recordRun(ctx, tx, events, run);
  if (job === undefined) {
    // Its job was removed from the line while it processed: the run still sends its end's
    // notifications as the job defined them (the stored definition is kept, soft-deleted).
    const removed = await tx.getObject(current.job);
    if (removed?.kind === "job")
      await enqueueEnd(ctx, tx, events, removed.definition as unknown as JobDef, run, result.notifications);
    return run;
  }
  await enqueueEnd(ctx, tx, events, job, run, result.notifications);

  // The job's own version: outputVersion.json first, then `<JOB_NAME>.env` lines (later wins).
  const own = result.outputs[job.name] ?? [];
  let versionName = result.jobVersion?.versionName ?? "";
  const bag: Record<string, unknown> = { ...(result.jobVersion?.propertyBag ?? {}) };
  for (const [k, v] of own) {
    if (k === "versionName") versionName = v;
    else bag[k] = v;
  }
  // A run that did not succeed and saved nothing (lost, error) keeps the job's state.
  const previousState = model.latest.get(job.name)?.stateSha ?? null;
  const stateSha = result.stateSha ?? (run.status === "success" ? null : previousState);
  const jobVersion = await insertVersion(ctx, tx, events, {
    objectName: job.name,
    versionName,
    propertyBag: bag,
    createdBy: `run:${run.id}`,
    runId: run.id,
    stateSha,
    flowId: run.flow,
  });
  if (run.status === "success") model.lastSuccess.set(job.name, jobVersion);

  const postOuts = run.status === "success" || run.status === "failure";
  if (postOuts) await postOutputs(ctx, tx, events, job, run, result);

  if (run.status === "success") {
    for (const consumer of model.consumers.get(job.name) ?? []) {
      await offer(ctx, tx, events, consumer, {
        kind: "upstream",
        input: job.name,
        versionId: jobVersion.id,
        description: `${runLabel(run)} succeeded`,
        flow: run.flow,
        trigger: { kind: "upstream", by: job.name, versionId: jobVersion.id, runId: run.id },
      });
    }
  }
  await releaseStrictWaiters(ctx, tx, events, job.name);
  await maybeRetry(ctx, tx, events, job, run);
  return run;
}

/** Inserts a version and publishes it (read model and event log). */
export async function insertVersion(
  ctx: EngineContext,
  tx: StoreTx,
  events: EventBuffer,
  v: Parameters<StoreTx["insertVersion"]>[0],
): Promise<Version> {
  const version = await tx.insertVersion(v);
  ctx.model.latest.set(version.objectName, version);
  await events.append(tx, "version", {
    id: version.id,
    name: version.objectName,
    versionNumber: version.versionNumber,
    versionName: version.versionName,
    createdBy: version.createdBy,
    flow: version.flowId,
  });
  return version;
}

async function postOutputs(
  ctx: EngineContext,
  tx: StoreTx,
  events: EventBuffer,
  job: JobDef,
  run: Run,
  result: RunResult,
): Promise<void> {
  const { model } = ctx;
  for (const step of job.steps) {
    if (step.kind !== "OUT") continue;
    if (run.status !== "success" && !step.onFailure) continue;
    if (model.isJob(step.name)) {
      await offer(ctx, tx, events, step.name, {
        kind: "out",
        input: job.name,
        description: `${runLabel(run)} has it as OUT`,
        flow: run.flow,
        trigger: { kind: "out", by: job.name, runId: run.id },
      });
      continue;
    }
    const resource = model.resource(step.name);
    if (resource === undefined) continue;
    const kind = resourceKind(resource.type);
    if (!kind.outCreatesVersion) continue;
    const current = model.latest.get(step.name);
    // The run's OUT/<name>/version.json is the base (shipctl replicate may have rewritten it);
    // the stored current version is what the result is compared with.
    const written = result.outVersions?.[step.name];
    const base =
      written === undefined
        ? current
        : { versionName: written.versionName ?? current?.versionName ?? "", propertyBag: written.propertyBag };
    let replicateFrom: Version | undefined;
    if (step.replicate !== undefined) {
      const input = run.inputs.find((i) => i.name === step.replicate);
      if (input?.versionId != null) replicateFrom = await tx.getVersion(input.versionId);
    }
    const next = computeOutVersion({
      current: base,
      resourceType: resource.type,
      overwrite: step.overwrite,
      replicateFrom,
      lines: result.outputs[step.name] ?? [],
    });
    const stateSha = result.outStateShas[step.name] ?? current?.stateSha ?? null;
    // A kind whose OUT files are its data (state) names each version after their archive.
    const data = kind.outFiles && stateSha !== null ? { ...next, versionName: stateSha } : next;
    const stateChanged = stateSha !== (current?.stateSha ?? null);
    if (!versionChanged(current, data) && !stateChanged) {
      const explain = await tx.insertExplain({
        job: job.name,
        event: `${runLabel(run)} finished`,
        outcome: "skipped",
        runId: run.id,
        message: `OUT ${step.name} unchanged: no new version, nothing triggered`,
      });
      await events.append(tx, "explain", { ...explain });
      continue;
    }
    const version = await insertVersion(ctx, tx, events, {
      objectName: step.name,
      versionName: data.versionName,
      propertyBag: data.propertyBag,
      createdBy: `run:${run.id}`,
      runId: run.id,
      stateSha,
      flowId: run.flow,
    });
    // A state resource never triggers anything (so it may form cycles).
    if (!kind.versionsTrigger) continue;
    for (const consumer of model.consumers.get(step.name) ?? []) {
      await offer(ctx, tx, events, consumer, {
        kind: "version",
        input: step.name,
        versionId: version.id,
        description: `new version ${version.versionNumber} of ${step.name} from ${runLabel(run)}`,
        flow: run.flow,
        trigger: { kind: "version", by: step.name, versionId: version.id, runId: run.id },
      });
    }
  }
}

async function maybeRetry(ctx: EngineContext, tx: StoreTx, events: EventBuffer, job: JobDef, run: Run): Promise<void> {
  const outcome =
    run.status === "failure" || run.status === "timeout" || run.status === "lost" ? run.status : undefined;
  if (outcome === undefined || !job.retries.on.includes(outcome) || run.attempt > job.retries.max) return;
  const retry = await tx.insertRun({
    job: job.name,
    status: "queued",
    statusReason: null,
    trigger: { kind: "retry", by: String(run.id), runId: run.id },
    flow: run.flow,
    inputs: run.inputs,
    params: run.params,
    secretParams: secretParamsOf(run.params, job.params, run.secretParams),
    priority: run.priority,
    attempt: run.attempt + 1,
    rerunOf: run.rerunOf ?? run.id,
  });
  await recordRun(ctx, tx, events, retry);
  const explain = await tx.insertExplain({
    job: job.name,
    event: `${runLabel(run)} ended ${run.status}`,
    outcome: "created",
    runId: retry.id,
    message: `retry ${retry.attempt - 1} of ${job.retries.max}, with the same inputs`,
  });
  await events.append(tx, "explain", { ...explain });
}
