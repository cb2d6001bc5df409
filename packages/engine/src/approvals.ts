import {
  approvalNotifications,
  CausewayError,
  decideApproval,
  describeGate,
  flowRequester,
  timeoutOutcome,
  SYSTEM_ACTOR,
  type ApprovalDecision,
  type ApprovalOutcome,
  type ApprovalRecord,
  type ApprovalVerdict,
  type Identity,
  type Run,
  type StoreTx,
} from "@causeway/core";
import { recordAudit } from "./audit.js";
import type { EngineContext, EventBuffer } from "./context.js";
import { enqueueNotifications } from "./notifying.js";
import { recordRun, releaseStrictWaiters } from "./triggering.js";

/**
 * Approval gates in the engine (`requiresApproval`, docs/semantics.md "Approval gates"): a run
 * of a gated job that would be queued waits in `waiting_approval` instead, holding no runner
 * slot, with its gate stored beside it; a decision or the gate's timeout releases it (`queued`)
 * or ends it (`cancelled`). The rules themselves are core's (`decideApproval`).
 */

/** A gate with its run and the person whom `preventSelfApproval` refuses. */
export interface GateView {
  readonly run: Run;
  readonly record: ApprovalRecord;
  readonly requester: string | null;
}

/** The gate of a run, with its run and requester; RUN_NOT_FOUND when there is no such run. */
export async function readGate(ctx: EngineContext, read: StoreTx, runId: number): Promise<GateView | undefined> {
  const run = ctx.model.active.get(runId) ?? (await read.getRun(runId));
  if (run === undefined) throw new CausewayError("RUN_NOT_FOUND", `no run ${runId}`);
  const record = await read.getApproval(runId);
  if (record === undefined) return undefined;
  return { run, record, requester: await requesterOf(read, run) };
}

/** What a run waiting for approval waits for, in words (`describeGate`); its reason otherwise. */
export async function gateReason(read: StoreTx, run: Run): Promise<string | null> {
  if (run.status !== "waiting_approval") return run.statusReason;
  const record = await read.getApproval(run.id);
  return record === undefined ? run.statusReason : describeGate(record);
}

/**
 * A person's verdict on a run's gate, in one transaction: the decision, its audit entry and
 * `approval` event; on approval the run is queued (dispatched in the same transaction), on
 * reject it ends `cancelled` as a cancel of a run not started does. A refusal throws its code.
 */
export async function decideGate(
  ctx: EngineContext,
  tx: StoreTx,
  events: EventBuffer,
  runId: number,
  identity: Identity,
  verdict: ApprovalVerdict,
  comment: string | null,
): Promise<GateView> {
  const run = ctx.model.active.get(runId) ?? (await tx.getRun(runId));
  if (run === undefined) throw new CausewayError("RUN_NOT_FOUND", `no run ${runId}`);
  const record = run.status === "waiting_approval" ? await tx.getApproval(runId) : undefined;
  if (record === undefined || record.state !== "pending") {
    throw new CausewayError("RUN_NOT_WAITING_APPROVAL", `run ${runId} is ${run.status}, not waiting for approval`, {
      hint: "only a run shown as waiting_approval can be approved or rejected",
    });
  }
  const requester = await requesterOf(tx, run);
  const outcome = decideApproval({ gate: record.gate, decisions: record.decisions, requester, identity, verdict });
  if (outcome.kind === "refused") throw new CausewayError(outcome.code, outcome.message);
  const decision = { by: identity.name, verdict, comment, at: ctx.clock.now().toISOString() };
  return close(ctx, tx, events, { run, record, requester }, decision, outcome, verdict);
}

/**
 * Decides every pending gate whose deadline has passed by its `onTimeout`, as `system`, each
 * with its audit entry (`approval-timeout`). Returns how many it decided.
 */
export async function expireGates(ctx: EngineContext, tx: StoreTx, events: EventBuffer): Promise<number> {
  const now = ctx.clock.now();
  let expired = 0;
  for (const record of await tx.listPendingApprovals()) {
    if (Date.parse(record.deadline) > now.getTime()) break;
    const run = ctx.model.active.get(record.runId) ?? (await tx.getRun(record.runId));
    if (run === undefined) continue;
    const outcome = timeoutOutcome(record.gate);
    const decision = {
      by: SYSTEM_ACTOR,
      verdict: record.gate.onTimeout === "approve" ? ("approve" as const) : ("reject" as const),
      comment: outcome.message,
      at: now.toISOString(),
    };
    await close(ctx, tx, events, { run, record, requester: null }, decision, outcome, "approval-timeout");
    expired++;
  }
  return expired;
}

/** The earliest deadline of the gates still pending, if any (what the engine's timer waits for). */
export async function nextDeadline(read: StoreTx): Promise<string | undefined> {
  const [first] = await read.listPendingApprovals(1);
  return first?.deadline;
}

/** Records a decision and applies its outcome to the run. */
async function close(
  ctx: EngineContext,
  tx: StoreTx,
  events: EventBuffer,
  view: GateView,
  decision: ApprovalDecision,
  outcome: Exclude<ApprovalOutcome, { kind: "refused" }>,
  action: "approve" | "reject" | "approval-timeout",
): Promise<GateView> {
  const { run, record } = view;
  await tx.insertApprovalDecision(run.id, decision);
  const decisions = [...record.decisions, decision];
  let updated = run;
  if (outcome.kind === "approved") {
    await tx.setApprovalState(run.id, "approved");
    updated = await tx.updateRun(run.id, { status: "queued", statusReason: null });
  } else if (outcome.kind === "rejected") {
    await tx.setApprovalState(run.id, "rejected");
    const reason =
      decision.by === SYSTEM_ACTOR
        ? outcome.message
        : `${outcome.message}${decision.comment === null ? "" : `: ${decision.comment}`}`;
    updated = await tx.updateRun(run.id, {
      status: "cancelled",
      statusReason: reason,
      finishedAt: ctx.clock.now().toISOString(),
    });
  }
  if (updated !== run) {
    await recordRun(ctx, tx, events, updated);
    const explain = await tx.insertExplain({
      job: run.job,
      event: decision.by === SYSTEM_ACTOR ? "approval timeout" : `${decision.verdict} by ${decision.by}`,
      outcome: outcome.kind === "approved" ? "released" : "skipped",
      runId: run.id,
      message: updated.statusReason ?? outcome.message,
    });
    await events.append(tx, "explain", { ...explain });
    // A rejected run settles its job, as a cancelled one does: strict waiters may go.
    if (updated.status === "cancelled") await releaseStrictWaiters(ctx, tx, events, run.job);
  }
  await recordAudit(tx, events, {
    actor: decision.by,
    action,
    subject: `run:${run.id}`,
    detail: {
      job: run.job,
      number: run.number,
      verdict: decision.verdict,
      comment: decision.comment,
      outcome: outcome.kind,
    },
  });
  await events.append(tx, "approval", {
    kind: "decided",
    runId: run.id,
    job: run.job,
    number: run.number,
    by: decision.by,
    verdict: decision.verdict,
    comment: decision.comment,
    outcome: outcome.kind,
  });
  if (outcome.kind !== "recorded") await notifyDecided(ctx, tx, events, updated, decision, outcome.kind);
  const state = outcome.kind === "recorded" ? "pending" : outcome.kind;
  return { run: updated, record: { ...record, state, decisions }, requester: view.requester };
}

/** The person who triggered the flow of `run` (see core's `flowRequester`). */
async function requesterOf(read: StoreTx, run: Run): Promise<string | null> {
  if (run.trigger.kind === "manual" || run.trigger.kind === "rerun") return run.trigger.by;
  return flowRequester(run, await read.listRuns({ flow: run.flow }));
}

/**
 * The `approval-decided` notifications of a gate that is now approved or rejected (a timeout
 * included), to every resource the job's hooks notify. A rejected run is told by this one
 * notification, not by a second one of its cancel.
 */
async function notifyDecided(
  ctx: EngineContext,
  tx: StoreTx,
  events: EventBuffer,
  run: Run,
  decision: ApprovalDecision,
  outcome: "approved" | "rejected",
): Promise<void> {
  const job = ctx.model.job(run.job);
  if (job === undefined) return;
  const resources = approvalNotifications(job);
  if (resources.length === 0) return;
  const timedOut = decision.by === SYSTEM_ACTOR;
  await enqueueNotifications(ctx, tx, events, {
    job,
    run,
    event: "approval-decided",
    resources,
    extra: { outcome, by: decision.by, verdict: decision.verdict, comment: decision.comment, timedOut },
  });
}
