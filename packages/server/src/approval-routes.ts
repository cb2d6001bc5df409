import {
  approvalsGiven,
  AUDIT_ACTIONS,
  CausewayError,
  describeGate,
  type ApprovalVerdict,
  type AuditAction,
  type AuditEvent,
} from "@causeway/core";
import type { GateView } from "@causeway/engine";
import { ApprovalBodySchema, type ApprovalStateJson, type AuditEventJson } from "@causeway/protocol";
import type { AppDeps } from "./deps.js";
import { identify, USER_HEADER } from "./identity.js";
import { BODY_LIMITS, intParam, readBody, runIdParam } from "./request.js";
import type { GuardedRoutes } from "./routes.js";

const LIST_LIMIT = { min: 1, max: 1000, fallback: 50 } as const;

/**
 * The routes of approval gates and the audit trail (docs/api.md): approve and reject a run
 * waiting for approval, read a gate, list the gates waiting, read the audit trail. Who decides
 * is the request's identity (identity.ts), never the body.
 */
export function mountApprovalRoutes(api: GuardedRoutes, deps: AppDeps): void {
  const { engine } = deps;

  const decide = (verdict: ApprovalVerdict) =>
    api.post(`/runs/:id/${verdict}`, "operator", async (c) => {
      const runId = runIdParam(c);
      const body = await readBody(c, ApprovalBodySchema, BODY_LIMITS.small);
      const identity = await identify(c.get("token"), c.req.header(USER_HEADER), deps.groupsFile);
      const comment = body.comment === undefined || body.comment.trim() === "" ? null : body.comment;
      return c.json(toApprovalJson(await engine.decide(runId, identity, verdict, comment)));
    });
  decide("approve");
  decide("reject");

  api.get("/runs/:id/approval", "viewer", async (c) => {
    const runId = runIdParam(c);
    const view = await engine.approval(runId);
    if (view === undefined) {
      throw new CausewayError("RUN_NOT_WAITING_APPROVAL", `run ${runId} has no approval gate`, {
        hint: "only runs of a job with requiresApproval have one",
      });
    }
    return c.json(toApprovalJson(view));
  });

  api.get("/approvals", "viewer", async (c) => {
    const limit = intParam(c.req.query("limit"), "limit", LIST_LIMIT) as number;
    const pending = await deps.store.read.listPendingApprovals(limit);
    const views = await Promise.all(pending.map((record) => engine.approval(record.runId)));
    return c.json(views.filter((v): v is GateView => v !== undefined).map(toApprovalJson));
  });

  api.get("/audit", "viewer", async (c) => {
    const action = c.req.query("action");
    if (action !== undefined && action !== "" && !(AUDIT_ACTIONS as readonly string[]).includes(action)) {
      throw new CausewayError(
        "BAD_REQUEST",
        `unknown audit action ${JSON.stringify(action)}; one of ${AUDIT_ACTIONS.join(", ")}`,
      );
    }
    const subject = c.req.query("subject");
    const id = (name: string) => intParam(c.req.query(name), name, { min: 0, max: Number.MAX_SAFE_INTEGER });
    const after = id("after");
    const before = id("before");
    const events = await deps.store.read.listAudit({
      limit: intParam(c.req.query("limit"), "limit", LIST_LIMIT) as number,
      ...(after === undefined ? {} : { after }),
      ...(before === undefined ? {} : { before }),
      ...(action === undefined || action === "" ? {} : { action: action as AuditAction }),
      ...(subject === undefined || subject === "" ? {} : { subject }),
    });
    return c.json(events.map(toAuditJson));
  });
}

/** A gate on the wire: its decisions, what it still needs and what it waits for. */
export function toApprovalJson(view: GateView): ApprovalStateJson {
  const { run, record, requester } = view;
  const pending = record.state === "pending";
  return {
    runId: run.id,
    job: run.job,
    number: run.number,
    status: run.status,
    approvals: record.decisions.map((d) => ({ by: d.by, verdict: d.verdict, comment: d.comment, at: d.at })),
    needed: record.gate.minApprovals,
    remaining: pending ? Math.max(0, record.gate.minApprovals - approvalsGiven(record.decisions).length) : 0,
    deadline: record.deadline,
    outcome: record.state,
    approvers: [...record.gate.approvers],
    onTimeout: record.gate.onTimeout,
    preventSelfApproval: record.gate.preventSelfApproval,
    requester,
    waitingFor: pending ? describeGate(record) : null,
  };
}

/** An audit entry on the wire. */
export function toAuditJson(event: AuditEvent): AuditEventJson {
  return { ...event, detail: { ...event.detail } };
}
