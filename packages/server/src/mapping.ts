import {
  originFile,
  secretNamesOf,
  type Diagnostic,
  type EngineEvent,
  type Explain,
  type Notification,
  type Run,
  type StoreTx,
  type Version,
} from "@causeway/core";
import type {
  ApplyResult,
  EventJson,
  NotificationJson,
  ObjectSummaryJson,
  RunJson,
  TraceJson,
  VersionJson,
  WhyJson,
} from "@causeway/protocol";
import { EventSchema } from "@causeway/protocol";
import type { Engine, TraceEntry, WhyReport } from "@causeway/engine";

// Explicit mappings from the engine's and store's objects to the wire shapes of
// @causeway/protocol: a field added inside the engine never leaks onto the wire by accident.

/** The value shown instead of a secret manual-run parameter. */
export const REDACTED = "********";

/**
 * The names of the parameters a job's current definition declares `secret`, if the job still
 * exists. A run's own record (`Run.secretParams`) decides first: see `toRunJson`.
 */
export function secretParams(engine: Engine, job: string): ReadonlySet<string> {
  return new Set((engine.view.job(job)?.params ?? []).filter((p) => p.type === "secret").map((p) => p.name));
}

/**
 * A run on the wire. The values of its secret parameters are replaced by REDACTED: those
 * recorded as secret when the run was created (whatever the job's definition says now: the
 * parameter may have been removed or retyped, the job's file broken), and those `secrets`
 * names (the current definition, which covers runs recorded before secrets were).
 */
export function toRunJson(run: Run, secrets: ReadonlySet<string> = new Set()): RunJson {
  const hidden = secretNamesOf(
    run,
    [...secrets].map((name) => ({ name, type: "secret" as const })),
  );
  return {
    id: run.id,
    job: run.job,
    number: run.number,
    status: run.status,
    statusReason: run.statusReason,
    trigger: {
      kind: run.trigger.kind,
      by: run.trigger.by,
      ...(run.trigger.versionId === undefined ? {} : { versionId: run.trigger.versionId }),
      ...(run.trigger.runId === undefined ? {} : { runId: run.trigger.runId }),
    },
    flow: run.flow,
    inputs: run.inputs.map((i) => ({
      name: i.name,
      kind: i.kind,
      type: i.type,
      versionId: i.versionId,
      versionNumber: i.versionNumber,
      versionName: i.versionName,
      pinned: i.pinned,
    })),
    params: Object.fromEntries(Object.entries(run.params).map(([k, v]) => [k, hidden.has(k) ? REDACTED : v])),
    priority: run.priority,
    attempt: run.attempt,
    rerunOf: run.rerunOf,
    exitCode: run.exitCode,
    createdAt: run.createdAt,
    startedAt: run.startedAt,
    finishedAt: run.finishedAt,
  };
}

/** Runs by id as a person names them (`build #2`), for the versions an answer shows. */
export type RunRefs = ReadonlyMap<number, { readonly job: string; readonly number: number }>;

/** The job and number of each run that created one of `versions` (a few reads of the store). */
export async function runRefs(
  read: Pick<StoreTx, "getRun">,
  versions: readonly { readonly runId: number | null }[],
): Promise<RunRefs> {
  const refs = new Map<number, { job: string; number: number }>();
  for (const { runId } of versions) {
    if (runId === null || refs.has(runId)) continue;
    const run = await read.getRun(runId);
    if (run !== undefined) refs.set(runId, { job: run.job, number: run.number });
  }
  return refs;
}

/** A version on the wire (`flow` is the version's flow id; `run` from `refs`). */
export function toVersionJson(version: Version, refs: RunRefs = new Map()): VersionJson {
  return {
    id: version.id,
    versionNumber: version.versionNumber,
    versionName: version.versionName,
    propertyBag: { ...version.propertyBag },
    createdAt: version.createdAt,
    createdBy: version.createdBy,
    runId: version.runId,
    run: version.runId === null ? null : (refs.get(version.runId) ?? null),
    flow: version.flowId,
    stateSha: version.stateSha,
  };
}

/**
 * An engine event on the wire, checked against the protocol's event union (the engine's payloads
 * are untyped records); undefined when it does not fit.
 */
export function toEventJson(event: EngineEvent): EventJson | undefined {
  const parsed = EventSchema.safeParse({ id: event.id, at: event.at, type: event.type, payload: event.payload });
  return parsed.success ? parsed.data : undefined;
}

function toExplainJson(explain: Explain & { readonly runNumber: number | null }): WhyJson["explains"][number] {
  return {
    id: explain.id,
    job: explain.job,
    at: explain.at,
    event: explain.event,
    outcome: explain.outcome,
    runId: explain.runId,
    runNumber: explain.runNumber,
    message: explain.message,
  };
}

/** The answer to "why did / didn't this job run". */
export function toWhyJson(why: WhyReport, secrets: ReadonlySet<string> = new Set()): WhyJson {
  return {
    job: why.job,
    paused: why.paused,
    consistent: why.consistent,
    pins: { ...why.pins },
    pending: why.pending.map((p) => ({ run: toRunJson(p.run, secrets), reason: p.reason })),
    explains: why.explains.map(toExplainJson),
  };
}

/** A version's trace on the wire. */
export function toTraceJson(trace: { version: Version; entries: TraceEntry[] }, refs: RunRefs = new Map()): TraceJson {
  return {
    version: toVersionJson(trace.version, refs),
    entries: trace.entries.map((e) => ({
      depth: e.depth,
      name: e.name,
      versionNumber: e.versionNumber,
      versionName: e.versionName,
      createdBy: e.createdBy,
      createdAt: e.createdAt,
      runId: e.runId,
      run: e.runId === null ? null : (refs.get(e.runId) ?? null),
      flow: e.flow,
    })),
  };
}

/** A diagnostic of the loader, as an apply reports it. */
export function toDiagnosticJson(d: Diagnostic): ApplyResult["diagnostics"][number] {
  return {
    code: d.code,
    severity: d.severity,
    file: d.file,
    line: d.line,
    col: d.col,
    message: d.message,
    ...(d.hint === undefined ? {} : { hint: d.hint }),
  };
}

/** The objects of one kind the engine holds, sorted by name. */
export function objectSummaries(engine: Engine, kind: "resource" | "job"): ObjectSummaryJson[] {
  const out: ObjectSummaryJson[] = [];
  for (const entry of engine.view.objects()) {
    if (entry.kind !== kind) continue;
    const name = entry.name;
    const latestRun = kind === "job" ? engine.view.latestRun(name) : undefined;
    const file = originFile(entry.stored.definition);
    out.push({
      name,
      kind,
      type: entry.stored.type,
      consistent: entry.stored.consistent,
      paused: entry.stored.paused,
      latestVersion: engine.view.latestVersion(name)?.versionNumber ?? null,
      latestRun:
        latestRun === undefined ? null : { id: latestRun.id, number: latestRun.number, status: latestRun.status },
      ...(file === undefined ? {} : { file }),
    });
  }
  return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** A delivery of the notification outbox on the wire: its event data stays in the server. */
export function toNotificationJson(n: Notification): NotificationJson {
  return {
    id: n.id,
    createdAt: n.createdAt,
    runId: n.runId,
    job: n.job,
    event: n.event,
    resource: n.resource,
    method: n.method,
    target: n.target,
    state: n.state,
    attempts: n.attempts,
    nextAttemptAt: n.nextAttemptAt,
    lastError: n.lastError,
    deliveredAt: n.deliveredAt,
  };
}
