import { z } from "zod";
import { RunStatusSchema } from "./run-status.js";

// The people in the loop: notification deliveries, approval gates and the audit trail.

// ---------------------------------------------------------------------------------------------
// Notifications (the outbox): GET /api/v1/notifications, POST /api/v1/notifications/:id/retry,
// `causeway notifications --json`.

/** Where a delivery is: waiting for an attempt, sent, or given up. */
export const NotificationStateSchema = z.enum(["pending", "delivered", "failed"]);

/** One delivery of the notification outbox: a resource's notification of an event to one target. */
export const NotificationSchema = z.object({
  id: z.number().int(),
  createdAt: z.string(),
  runId: z.number().int().nullable(),
  job: z.string(),
  /** `start`, `success`, `failure`, `cancel`, `notify` (shipctl notify)... */
  event: z.string(),
  resource: z.string(),
  /** webhook, slack or email; null: the integration's `method` field decides. */
  method: z.string().nullable(),
  /** A URL, a `#channel` or `@user`, an address; `""`: the integration's own URL. */
  target: z.string(),
  state: NotificationStateSchema,
  attempts: z.number().int(),
  /** When a pending delivery is tried next; null once delivered or failed. */
  nextAttemptAt: z.string().nullable(),
  /** Why the last attempt failed. */
  lastError: z.string().nullable(),
  deliveredAt: z.string().nullable(),
});
/** A delivery on the wire. */
export type NotificationJson = z.infer<typeof NotificationSchema>;

/** `GET /api/v1/notifications`: deliveries, newest first. */
export const NotificationsSchema = z.object({ notifications: z.array(NotificationSchema) });
/** `GET /api/v1/notifications` on the wire. */
export type NotificationsJson = z.infer<typeof NotificationsSchema>;
// Approval gates and the audit trail (issue 10): POST /runs/:id/approve and /reject,
// GET /runs/:id/approval, GET /approvals, GET /audit, and the `--json` of `causeway approve`,
// `reject` and `audit`.
// ---------------------------------------------------------------------------------------------

/** The most characters a decision's comment may have (core's MAX_APPROVAL_COMMENT). */
export const APPROVAL_COMMENT_MAX = 2000;

/**
 * The body of `POST /api/v1/runs/:id/approve` and `/reject`: an optional comment, at most 2000
 * characters; an empty or blank one is no comment. Who decides is the request's identity
 * (`X-Causeway-User`), never the body.
 */
export const ApprovalBodySchema = z.object({
  comment: z.string().max(APPROVAL_COMMENT_MAX).optional(),
});
/** The body of an approve or reject. */
export type ApprovalBody = z.infer<typeof ApprovalBodySchema>;

/** One decision on a gate: who, approve or reject, the comment, when. `by` is `system` for a timeout. */
export const ApprovalDecisionSchema = z.object({
  by: z.string(),
  verdict: z.enum(["approve", "reject"]),
  comment: z.string().nullable(),
  at: z.string(),
});

/**
 * The state of a run's approval gate: the answer of approve, reject and
 * `GET /api/v1/runs/:id/approval`, and each entry of `GET /api/v1/approvals`. `needed` is the
 * gate's `minApprovals`, `remaining` the approvals still needed (0 once decided), `outcome`
 * `pending`, `approved` or `rejected`; `waitingFor` says it in words (null once decided).
 */
export const ApprovalStateSchema = z.object({
  runId: z.number().int(),
  job: z.string(),
  number: z.number().int(),
  status: RunStatusSchema,
  approvals: z.array(ApprovalDecisionSchema),
  needed: z.number().int(),
  remaining: z.number().int(),
  deadline: z.string(),
  outcome: z.enum(["pending", "approved", "rejected"]),
  approvers: z.array(z.string()),
  onTimeout: z.enum(["reject", "approve"]),
  preventSelfApproval: z.boolean(),
  /** The person who triggered the run's flow, whom preventSelfApproval refuses; null: nobody. */
  requester: z.string().nullable(),
  waitingFor: z.string().nullable(),
});
/** A gate's state on the wire. */
export type ApprovalStateJson = z.infer<typeof ApprovalStateSchema>;

/**
 * One entry of the audit trail (`GET /api/v1/audit`, newest first). Its actions are core's AUDIT_ACTIONS, spelled
 * again since protocol imports nothing internal; `server/test/protocol-core.test.ts` holds them equal.
 */
export const AuditEventSchema = z.object({
  id: z.number().int(),
  at: z.string(),
  actor: z.string(),
  action: z.enum([
    "approve",
    "reject",
    "approval-timeout",
    "trigger",
    "rerun",
    "cancel",
    "pause",
    "resume",
    "pin",
    "unpin",
    "apply",
    "token-create",
    "token-revoke",
    "secret-set",
    "secret-delete",
    "secret-rotate-key",
    "runner-token-create",
    "runner-register",
    "runner-drain",
    "runner-activate",
  ]),
  subject: z.string(),
  detail: z.record(z.string(), z.unknown()),
});
/** An audit entry on the wire. */
export type AuditEventJson = z.infer<typeof AuditEventSchema>;
