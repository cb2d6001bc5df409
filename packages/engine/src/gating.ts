import {
  approvalNotifications,
  gateDeadline,
  type JobDef,
  type Run,
  type RunStatus,
  type StoreTx,
} from "@causeway/core";
import type { EngineContext, EventBuffer } from "./context.js";
import { enqueueNotifications } from "./notifying.js";

/**
 * Where a run meets its job's approval gate (`requiresApproval`): a run that would be queued
 * waits in `waiting_approval` instead, and its gate is stored beside it. Deciding a gate is
 * approvals.ts.
 */

/** The status reason of a run waiting for its gate (`causeway why` says more: `gateReason`). */
export const GATE_REASON = "waiting for approval";

/**
 * The status a new run of `job` starts in: `waiting_approval` instead of `queued` when the job
 * has a gate. Only first attempts and reruns ask: a retry of an approved run does not.
 */
export function gatedStatus(job: JobDef, status: RunStatus): RunStatus {
  return status === "queued" && job.requiresApproval !== undefined ? "waiting_approval" : status;
}

/**
 * Opens the gate of a run created (or released) as `waiting_approval`: two inserts in the run's
 * transaction, the gate and its `approval` event, and the `approval-requested` notifications
 * (to every resource the job's hooks notify). The engine arms its timer after the commit.
 */
export async function openGate(
  ctx: EngineContext,
  tx: StoreTx,
  events: EventBuffer,
  job: JobDef,
  run: Run,
): Promise<void> {
  const gate = job.requiresApproval;
  if (gate === undefined || run.status !== "waiting_approval") return;
  const deadline = gateDeadline(ctx.clock.now().toISOString(), gate);
  await tx.insertApproval({ runId: run.id, job: job.name, gate, deadline });
  await events.append(tx, "approval", {
    kind: "requested",
    runId: run.id,
    job: job.name,
    number: run.number,
    approvers: [...gate.approvers],
    minApprovals: gate.minApprovals,
    deadline,
  });
  const resources = approvalNotifications(job);
  if (resources.length > 0)
    await enqueueNotifications(ctx, tx, events, {
      job,
      run,
      event: "approval-requested",
      resources,
      extra: { approvers: [...gate.approvers], minApprovals: gate.minApprovals, deadline },
    });
}
