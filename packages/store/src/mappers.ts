import type {
  AppliedSource,
  Approval,
  ApprovalRecord,
  ApprovalState,
  ApprovalVerdict,
  AuditAction,
  AuditEvent,
  AppliedFile,
  ApplyProblem,
  ApplyRecord,
  ApplySource,
  EngineEvent,
  Explain,
  ExplainOutcome,
  Mapping,
  Notification,
  NotificationState,
  Pin,
  Run,
  RunInput,
  RunStatus,
  RunTrigger,
  StoredObject,
  Version,
} from "@causeway/core";
import type {
  ApplyRow,
  ApprovalDecisionRow,
  ApprovalRow,
  AuditEventRow,
  EventRow,
  ExplainRow,
  NotificationRow,
  ObjectRow,
  PinRow,
  RunRow,
  VersionRow,
} from "./schema.js";

// Row -> domain. JSON columns are parsed on every read, so callers never share objects with
// the store or with each other.

export function toObject(row: ObjectRow): StoredObject {
  return {
    name: row.name,
    kind: row.kind,
    type: row.type,
    definition: JSON.parse(row.definition) as Mapping,
    consistent: Boolean(row.consistent),
    paused: Boolean(row.paused),
    deletedAt: row.deleted_at,
  };
}

export function toPin(row: PinRow): Pin {
  return { job: row.job, input: row.input, versionNumber: row.version_number };
}

export function toVersion(row: VersionRow): Version {
  return {
    id: row.id,
    objectName: row.object_name,
    versionNumber: row.version_number,
    versionName: row.version_name,
    propertyBag: JSON.parse(row.property_bag) as Mapping,
    createdAt: row.created_at,
    createdBy: row.created_by,
    runId: row.run_id,
    stateSha: row.state_sha,
    flowId: row.flow_id,
  };
}

/**
 * A run from its row; `openParams` decrypts the values of its secret parameters (sealed at rest
 * by the secrets repo), given the JSON text of `params` and the secret names.
 */
export function toRun(
  row: RunRow,
  openParams: (text: string, secret: readonly string[]) => Record<string, string> = (text) =>
    JSON.parse(text) as Record<string, string>,
): Run {
  const secretParams = JSON.parse(row.secret_params) as string[];
  return {
    id: row.id,
    job: row.job,
    number: row.number,
    status: row.status as RunStatus,
    statusReason: row.status_reason,
    trigger: JSON.parse(row.trigger) as RunTrigger,
    flow: row.flow,
    inputs: JSON.parse(row.inputs) as RunInput[],
    params: openParams(row.params, secretParams),
    secretParams,
    priority: row.priority,
    attempt: row.attempt,
    rerunOf: row.rerun_of,
    exitCode: row.exit_code,
    createdAt: row.created_at,
    startedAt: row.started_at,
    finishedAt: row.finished_at,
  };
}

export function toExplain(row: ExplainRow): Explain {
  return {
    id: row.id,
    job: row.job,
    at: row.at,
    event: row.event,
    outcome: row.outcome as ExplainOutcome,
    runId: row.run_id,
    message: row.message,
  };
}

export function toEvent(row: EventRow): EngineEvent {
  return {
    id: row.id,
    at: row.at,
    type: row.type as EngineEvent["type"],
    payload: JSON.parse(row.payload) as Mapping,
  };
}

export function toApply(row: ApplyRow & { sources: string | null }): ApplyRecord {
  return {
    id: row.id,
    at: row.at,
    source: row.source as ApplySource,
    by: row.by_name,
    dir: row.dir,
    files: JSON.parse(row.files) as AppliedFile[],
    added: JSON.parse(row.added) as string[],
    changed: JSON.parse(row.changed) as string[],
    removed: JSON.parse(row.removed) as string[],
    kept: JSON.parse(row.kept) as string[],
    errors: row.errors,
    warnings: row.warnings,
    problems: JSON.parse(row.problems) as ApplyProblem[],
    ...(row.sources === null ? {} : { sources: JSON.parse(row.sources) as AppliedSource[] }),
  };
}

export function toNotification(row: NotificationRow): Notification {
  return {
    id: row.id,
    createdAt: row.created_at,
    runId: row.run_id,
    job: row.job,
    event: row.event,
    resource: row.resource,
    method: row.method,
    target: row.target,
    data: JSON.parse(row.payload) as Mapping,
    state: row.state as NotificationState,
    attempts: row.attempts,
    nextAttemptAt: row.next_attempt_at,
    lastError: row.last_error,
    deliveredAt: row.delivered_at,
  };
}

export function toApproval(
  row: ApprovalRow,
  decisions: ReadonlyMap<number, readonly ApprovalDecisionRow[]>,
): ApprovalRecord {
  return {
    runId: row.run_id,
    job: row.job,
    gate: JSON.parse(row.gate) as Approval,
    deadline: row.deadline,
    state: row.state as ApprovalState,
    createdAt: row.created_at,
    decisions: (decisions.get(row.run_id) ?? []).map((d) => ({
      by: d.by_name,
      verdict: d.verdict as ApprovalVerdict,
      comment: d.comment,
      at: d.at,
    })),
  };
}

export function toAuditEvent(row: AuditEventRow): AuditEvent {
  return {
    id: row.id,
    at: row.at,
    actor: row.actor,
    action: row.action as AuditAction,
    subject: row.subject,
    detail: JSON.parse(row.detail) as Mapping,
  };
}
