import { CausewayError, type Run, type StoreTx } from "@causeway/core";
import type { EngineContext, EventBuffer } from "./context.js";
import { finishRun } from "./finishing.js";
import { jobNotFound } from "./names.js";
import { recordRun, resolveInputs } from "./triggering.js";

/** A status another CI system reports for an `externalCI` job (shippable.md §5.9). */
export interface ExternalReport {
  readonly status: "processing" | "success" | "failure";
  /** The other system's build id: a second final report of one build changes nothing. */
  readonly buildId?: string;
  readonly buildUrl?: string;
  /** Key/values of the job's version, read downstream as an upstream job's version data. */
  readonly versionData?: Readonly<Record<string, string>>;
  /** Who reported (the API caller). */
  readonly by: string;
}

/** The run parameters that record which external build a run stands for. */
export const EXTERNAL_BUILD_ID = "EXTERNAL_BUILD_ID";
export const EXTERNAL_BUILD_URL = "EXTERNAL_BUILD_URL";

/** How far back a final report looks for the run of its build. */
const SEARCH = 500;

/**
 * Records what another CI system reports about an `externalCI` job. `processing` is noted in the
 * job's explain records (`causeway why`) and creates no run: the build runs elsewhere and holds
 * no runner slot. `success` or `failure` creates a run of the job that ends with that status at
 * once, its inputs resolved as for any run, and the job's version carrying `versionData` (plus
 * `externalBuildId`, `externalBuildUrl`); a success triggers the jobs that take it as `IN`, as
 * any successful run does. A final report of a build already reported returns its run,
 * `duplicate`, and creates nothing.
 */
export async function reportExternal(
  ctx: EngineContext,
  tx: StoreTx,
  events: EventBuffer,
  jobName: string,
  report: ExternalReport,
): Promise<{ run: Run | null; duplicate: boolean }> {
  const job = ctx.model.job(jobName);
  if (job === undefined) throw jobNotFound(ctx.model, jobName);
  if (job.type !== "externalCI")
    throw new CausewayError("JOB_NOT_EXTERNAL", `${jobName} is a ${job.type} job, not an externalCI job`, {
      hint: "only jobs of type externalCI take reports from another CI system",
    });
  const build = report.buildId === undefined ? "" : ` ${report.buildId}`;
  if (report.status === "processing") {
    const explain = await tx.insertExplain({
      job: jobName,
      event: `external build${build} reported processing by ${report.by}`,
      outcome: "waiting",
      runId: null,
      message: `the build runs in another CI${report.buildUrl === undefined ? "" : `: ${report.buildUrl}`}`,
    });
    await events.append(tx, "explain", { ...explain });
    return { run: null, duplicate: false };
  }
  if (report.buildId !== undefined) {
    const seen = (await tx.listRuns({ job: jobName, limit: SEARCH })).find(
      (r) => r.params[EXTERNAL_BUILD_ID] === report.buildId,
    );
    if (seen !== undefined) return { run: seen, duplicate: true };
  }
  const params: Record<string, string> = {};
  if (report.buildId !== undefined) params[EXTERNAL_BUILD_ID] = report.buildId;
  if (report.buildUrl !== undefined) params[EXTERNAL_BUILD_URL] = report.buildUrl;
  const flow = ctx.options.newFlowId();
  const trigger = { kind: "manual" as const, by: report.by };
  const inputs = await resolveInputs(ctx, tx, job, {
    kind: "manual",
    description: `external build${build}`,
    flow,
    trigger,
  });
  const run = await tx.insertRun({
    job: jobName,
    status: "queued",
    statusReason: null,
    trigger,
    flow,
    inputs,
    params,
    secretParams: [],
    priority: job.priority,
    attempt: 1,
    rerunOf: null,
  });
  await recordRun(ctx, tx, events, run);
  const explain = await tx.insertExplain({
    job: jobName,
    event: `external build${build} reported ${report.status} by ${report.by}`,
    outcome: "created",
    runId: run.id,
    message: "the build ran in another CI",
  });
  await events.append(tx, "explain", { ...explain });
  const data: [string, string][] = Object.entries(report.versionData ?? {});
  if (report.buildId !== undefined) data.push(["externalBuildId", report.buildId]);
  if (report.buildUrl !== undefined) data.push(["externalBuildUrl", report.buildUrl]);
  const finished = await finishRun(ctx, tx, events, run.id, {
    status: report.status,
    reason: report.status === "failure" ? `the external build${build} failed` : null,
    exitCode: null,
    stateSha: null,
    outputs: { [jobName]: data },
    outStateShas: {},
  });
  return { run: finished ?? run, duplicate: false };
}
