import { describe, expect, it } from "vitest";
import {
  decideApproval,
  describeGate,
  flowRequester,
  gateDeadline,
  mayApprove,
  timeoutOutcome,
  type Approval,
  type ApprovalDecision,
  type ApprovalOutcome,
  type Identity,
  type Run,
} from "../src/index.js";

// The rules of approval gates (requiresApproval): who may decide, quorum, self-approval, timeout.

function gate(over: Partial<Approval> = {}): Approval {
  return {
    approvers: [],
    minApprovals: 1,
    timeoutMinutes: 60,
    onTimeout: "reject",
    preventSelfApproval: false,
    ...over,
  };
}

const alice: Identity = { name: "alice", roles: ["admin"] };
const bob: Identity = { name: "bob", roles: ["admin", "ops"] };
const carol: Identity = { name: "carol", roles: [] };
const viewer: Identity = { name: "vic", roles: ["viewer"] };

function approved(by: string): ApprovalDecision {
  return { by, verdict: "approve", comment: null, at: "2026-12-03T10:00:00.000Z" };
}

describe("mayApprove", () => {
  it.each<[string, Partial<Approval>, Identity, boolean]>([
    ["empty list: an admin", {}, alice, true],
    ["empty list: an operator", {}, { name: "op", roles: ["operator"] }, true],
    ["empty list: no role", {}, carol, false],
    ["empty list: a viewer", {}, viewer, false],
    ["named", { approvers: ["carol"] }, carol, true],
    ["named, another person (admin or not)", { approvers: ["carol"] }, alice, false],
    ["by group", { approvers: ["ops"] }, bob, true],
    ["by role", { approvers: ["admin"] }, alice, true],
  ])("%s", (_, g, identity, expected) => {
    expect(mayApprove(gate(g), identity)).toBe(expected);
  });
});

describe("decideApproval", () => {
  it.each<
    [
      string,
      Partial<Approval>,
      ApprovalDecision[],
      string | null,
      Identity,
      "approve" | "reject",
      ApprovalOutcome["kind"],
      string?,
    ]
  >([
    ["1 of 1 approves", {}, [], null, alice, "approve", "approved"],
    ["1 of 2 is recorded", { minApprovals: 2 }, [], null, alice, "approve", "recorded"],
    ["2 of 2 approves", { minApprovals: 2 }, [approved("alice")], null, bob, "approve", "approved"],
    [
      "the same person twice",
      { minApprovals: 2 },
      [approved("alice")],
      null,
      alice,
      "approve",
      "refused",
      "APPROVAL_ALREADY_DECIDED",
    ],
    ["a reject after an approval rejects", { minApprovals: 2 }, [approved("alice")], null, bob, "reject", "rejected"],
    ["not on the list", { approvers: ["carol"] }, [], null, alice, "approve", "refused", "APPROVAL_NOT_ALLOWED"],
    [
      "not on the list may not reject either",
      { approvers: ["carol"] },
      [],
      null,
      alice,
      "reject",
      "refused",
      "APPROVAL_NOT_ALLOWED",
    ],
    [
      "self-approval with preventSelfApproval",
      { preventSelfApproval: true },
      [],
      "alice",
      alice,
      "approve",
      "refused",
      "APPROVAL_SELF",
    ],
    ["self-reject with preventSelfApproval", { preventSelfApproval: true }, [], "alice", alice, "reject", "rejected"],
    ["self-approval without preventSelfApproval", {}, [], "alice", alice, "approve", "approved"],
    ["another person with preventSelfApproval", { preventSelfApproval: true }, [], "alice", bob, "approve", "approved"],
    ["nobody triggered it", { preventSelfApproval: true }, [], null, alice, "approve", "approved"],
  ])("%s", (_, g, decisions, requester, identity, verdict, kind, code) => {
    const outcome = decideApproval({ gate: gate(g), decisions, requester, identity, verdict });
    expect(outcome.kind).toBe(kind);
    if (code !== undefined) expect(outcome).toMatchObject({ code });
  });

  it("says how many approvals are given and who else may give one", () => {
    const outcome = decideApproval({
      gate: gate({ approvers: ["alice", "bob", "ops"], minApprovals: 2 }),
      decisions: [],
      requester: null,
      identity: alice,
      verdict: "approve",
    });
    expect(outcome.message).toBe("1 of 2 approvals; waiting for bob or ops");
  });
});

describe("timeouts", () => {
  it("the deadline is the creation plus timeoutMinutes", () => {
    expect(gateDeadline("2026-12-03T10:00:00.000Z", { timeoutMinutes: 90 })).toBe("2026-12-03T11:30:00.000Z");
    expect(gateDeadline("2026-12-03T10:00:00.000Z", { timeoutMinutes: 0.002 })).toBe("2026-12-03T10:00:00.120Z");
  });

  it.each<["reject" | "approve", ApprovalOutcome["kind"]]>([
    ["reject", "rejected"],
    ["approve", "approved"],
  ])("onTimeout: %s", (onTimeout, kind) => {
    const outcome = timeoutOutcome({ onTimeout, timeoutMinutes: 5 });
    expect(outcome.kind).toBe(kind);
    expect(outcome.message).toContain("timed out after 5 minutes");
  });
});

describe("describeGate", () => {
  it("says what a gate waits for", () => {
    expect(
      describeGate({
        gate: gate({ approvers: ["alice", "bob", "ops"], minApprovals: 2 }),
        decisions: [approved("alice")],
        deadline: "2026-12-04T10:00:00.000Z",
      }),
    ).toBe(
      "waiting for approval: 1 of 2 given (alice); may approve: bob, ops; times out at 2026-12-04T10:00:00.000Z → reject",
    );
    expect(describeGate({ gate: gate(), decisions: [], deadline: "T" })).toBe(
      "waiting for approval: 0 of 1 given; may approve: any other operator or admin; times out at T → reject",
    );
  });
});

describe("flowRequester", () => {
  type R = Pick<Run, "id" | "trigger">;
  const manual = (id: number, by: string): R => ({ id, trigger: { kind: "manual", by } });
  const upstream = (id: number): R => ({ id, trigger: { kind: "upstream", by: "build" } });
  const rerun = (id: number, by: string): R => ({ id, trigger: { kind: "rerun", by, runId: 1 } });

  //   build (manual by alice, run 1) ──> deploy (gated, run 2)
  it.each<[string, R, R[], string | null]>([
    ["its own manual run", manual(5, "ann"), [], "ann"],
    ["its own rerun", rerun(5, "ann"), [manual(1, "alice")], "ann"],
    ["the manual run that started the flow", upstream(2), [manual(1, "alice"), upstream(2)], "alice"],
    ["the latest request before it", upstream(4), [manual(1, "alice"), rerun(3, "bob"), upstream(4)], "bob"],
    ["not a request after it", upstream(2), [manual(1, "alice"), upstream(2), rerun(3, "bob")], "alice"],
    ["a flow started by a commit", upstream(2), [{ id: 1, trigger: { kind: "version", by: "repo" } }], null],
  ])("%s", (_, run, flow, expected) => {
    expect(flowRequester(run, flow)).toBe(expected);
  });
});
