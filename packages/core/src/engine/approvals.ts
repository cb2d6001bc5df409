import type { Approval } from "../language/model.js";
import type { Run } from "./model.js";

/**
 * The rules of approval gates (`requiresApproval`, design §2 and §3): who may decide, when a
 * gate is approved or rejected, when it times out, and how it reads in `causeway why`. Pure:
 * the engine gives the gate, the decisions so far and who asks; these functions say what that
 * means. Nothing here knows how identities are established (the server's seam, identity.ts).
 */

/**
 * Who asks: a name and the roles or groups it holds. Today the name is claimed by the holder of
 * the admin API token (`X-Causeway-User`), not authenticated: see docs/semantics.md.
 */
export interface Identity {
  readonly name: string;
  readonly roles: readonly string[];
}

/** The identity of decisions the engine takes itself (a gate's timeout). */
export const SYSTEM_ACTOR = "system";

/** What a person can say to a gate. */
export const APPROVAL_VERDICTS = ["approve", "reject"] as const;
/** A verdict: approve or reject. */
export type ApprovalVerdict = (typeof APPROVAL_VERDICTS)[number];

/** The states of a gate: `pending` while it waits, then how it was decided. */
export const APPROVAL_STATES = ["pending", "approved", "rejected"] as const;
/** The state of a gate. */
export type ApprovalState = (typeof APPROVAL_STATES)[number];

/** Roles that may decide a gate whose `approvers` list is empty. */
export const DEFAULT_APPROVER_ROLES: readonly string[] = ["operator", "admin"];

/** The most characters a decision's comment may have. */
export const MAX_APPROVAL_COMMENT = 2000;

/** One decision recorded on a gate. A person decides a gate at most once. */
export interface ApprovalDecision {
  /** The identity's name, or `system` for a timeout. */
  readonly by: string;
  readonly verdict: ApprovalVerdict;
  readonly comment: string | null;
  /** ISO time. */
  readonly at: string;
}

/**
 * The gate of one run, as stored: the job's `requiresApproval` when the run was created (a
 * later edit of the job does not change a gate already waiting), its deadline and its state.
 */
export interface ApprovalRecord {
  readonly runId: number;
  readonly job: string;
  readonly gate: Approval;
  /** ISO time when the gate times out (`gateDeadline`). */
  readonly deadline: string;
  readonly state: ApprovalState;
  readonly createdAt: string;
  /** Oldest first. */
  readonly decisions: readonly ApprovalDecision[];
}

/** What a verdict does to a gate. */
export type ApprovalOutcome =
  | {
      readonly kind: "refused";
      /** The catalog code of the refusal. */
      readonly code: "APPROVAL_NOT_ALLOWED" | "APPROVAL_SELF" | "APPROVAL_ALREADY_DECIDED";
      readonly message: string;
    }
  /** An approval was counted; the gate still waits for more. */
  | { readonly kind: "recorded"; readonly message: string }
  /** The quorum is reached: the run may go. */
  | { readonly kind: "approved"; readonly message: string }
  /** One reject rejects: the run ends `cancelled`. */
  | { readonly kind: "rejected"; readonly message: string };

/** The ISO time a gate created at `createdAt` times out. */
export function gateDeadline(createdAt: string, gate: Pick<Approval, "timeoutMinutes">): string {
  return new Date(Date.parse(createdAt) + gate.timeoutMinutes * 60_000).toISOString();
}

/**
 * Whether `identity` may decide `gate`: an entry of `approvers` is its name or one of its
 * roles or groups; an empty list lets any `operator` or `admin` decide.
 */
export function mayApprove(gate: Pick<Approval, "approvers">, identity: Identity): boolean {
  const allowed = gate.approvers.length === 0 ? DEFAULT_APPROVER_ROLES : gate.approvers;
  return allowed.includes(identity.name) || identity.roles.some((r) => allowed.includes(r));
}

/** The approvals given so far (one per person: a person decides once). */
export function approvalsGiven(decisions: readonly ApprovalDecision[]): ApprovalDecision[] {
  return decisions.filter((d) => d.verdict === "approve");
}

/**
 * What `identity`'s `verdict` does to a pending gate, given the decisions so far and the person
 * who triggered the run (`requester`, see `flowRequester`; null when nobody did). Refusals, in
 * order: not an approver (`APPROVAL_NOT_ALLOWED`), already decided (`APPROVAL_ALREADY_DECIDED`),
 * approving a run one triggered while the gate has `preventSelfApproval` (`APPROVAL_SELF`;
 * rejecting it is allowed: that is a cancel). Otherwise one reject rejects, and the
 * `minApprovals`-th distinct approval approves.
 */
export function decideApproval(input: {
  readonly gate: Approval;
  readonly decisions: readonly ApprovalDecision[];
  readonly requester: string | null;
  readonly identity: Identity;
  readonly verdict: ApprovalVerdict;
}): ApprovalOutcome {
  const { gate, decisions, requester, identity, verdict } = input;
  if (!mayApprove(gate, identity)) {
    return {
      kind: "refused",
      code: "APPROVAL_NOT_ALLOWED",
      message: `${identity.name} may not decide this gate; may decide: ${approverList(gate)}`,
    };
  }
  const earlier = decisions.find((d) => d.by === identity.name);
  if (earlier !== undefined) {
    return {
      kind: "refused",
      code: "APPROVAL_ALREADY_DECIDED",
      message: `${identity.name} already decided this gate (${earlier.verdict}, ${earlier.at}): a person counts once`,
    };
  }
  if (verdict === "approve" && gate.preventSelfApproval && requester !== null && requester === identity.name) {
    return {
      kind: "refused",
      code: "APPROVAL_SELF",
      message: `${identity.name} triggered this run and may not approve it (preventSelfApproval)`,
    };
  }
  if (verdict === "reject") return { kind: "rejected", message: `rejected by ${identity.name}` };
  const given = approvalsGiven(decisions).length + 1;
  if (given >= gate.minApprovals) {
    return { kind: "approved", message: `approved (${given} of ${gate.minApprovals})` };
  }
  return {
    kind: "recorded",
    message: `${given} of ${gate.minApprovals} approvals; waiting for ${waitingFor(gate, [...decisions.map((d) => d.by), identity.name]).join(" or ")}`,
  };
}

/** What a gate's timeout decides: its `onTimeout`, said so. */
export function timeoutOutcome(
  gate: Pick<Approval, "onTimeout" | "timeoutMinutes">,
): Extract<ApprovalOutcome, { kind: "approved" | "rejected" }> {
  const after = `the approval timed out after ${gate.timeoutMinutes} minutes`;
  return gate.onTimeout === "approve"
    ? { kind: "approved", message: `${after} (onTimeout: approve)` }
    : { kind: "rejected", message: `${after} (onTimeout: reject)` };
}

/**
 * The person who triggered the flow of `run`, for `preventSelfApproval`: the run's own
 * requester when it is a manual run or a rerun; else the requester of the latest manual run or
 * rerun of its flow created before it (the person whose request led to it); else nobody.
 * `flowRuns` are the runs of the run's flow, in any order.
 */
export function flowRequester(
  run: Pick<Run, "id" | "trigger">,
  flowRuns: readonly Pick<Run, "id" | "trigger">[],
): string | null {
  const byPerson = (r: Pick<Run, "trigger">): boolean => r.trigger.kind === "manual" || r.trigger.kind === "rerun";
  if (byPerson(run)) return run.trigger.by;
  let found: Pick<Run, "id" | "trigger"> | undefined;
  for (const r of flowRuns) {
    if (r.id < run.id && byPerson(r) && (found === undefined || r.id > found.id)) found = r;
  }
  return found?.trigger.by ?? null;
}

/**
 * What a pending gate waits for, in one line for `causeway why`: "waiting for approval: 1 of 2
 * given (alice); may approve: bob, ops; times out at <time> → reject".
 */
export function describeGate(record: Pick<ApprovalRecord, "gate" | "decisions" | "deadline">): string {
  const given = approvalsGiven(record.decisions).map((d) => d.by);
  const who = given.length === 0 ? "" : ` (${given.join(", ")})`;
  return (
    `waiting for approval: ${given.length} of ${record.gate.minApprovals} given${who}; ` +
    `may approve: ${waitingFor(
      record.gate,
      record.decisions.map((d) => d.by),
    ).join(", ")}; ` +
    `times out at ${record.deadline} → ${record.gate.onTimeout}`
  );
}

/** The approvers of a gate, in words. */
function approverList(gate: Pick<Approval, "approvers">): string {
  return gate.approvers.length === 0 ? "any operator or admin" : gate.approvers.join(", ");
}

/** The approvers who have not decided yet (a group stays: others of it may decide). */
function waitingFor(gate: Pick<Approval, "approvers">, decided: readonly string[]): string[] {
  if (gate.approvers.length === 0) return ["any other operator or admin"];
  const left = gate.approvers.filter((a) => !decided.includes(a));
  return left.length === 0 ? ["nobody left on the list"] : left;
}
