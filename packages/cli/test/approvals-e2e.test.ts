import { ApprovalStateSchema, AuditEventSchema, RunSchema } from "@causeway/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { runCausewayCli, type CliRun } from "./fixtures.js";
import { startLineServer, type LineServer } from "./line-server.js";

// `causeway approve`, `reject`, `why RUN`, `audit` and `--as` against the real server (SQLite,
// engine, embedded runner), found by the server.json of its temp data directory.
//
//   deploy (2 of alice, bob, carol; preventSelfApproval) ──> smoke
const LINE = `jobs:
  - name: deploy
    type: runSh
    requiresApproval:
      approvers: [alice, bob, carol]
      minApprovals: 2
      preventSelfApproval: true
    steps:
      - TASK:
          script:
            - echo deploying
  - name: smoke
    type: runSh
    steps:
      - IN: deploy
      - TASK:
          script:
            - echo smoke
`;

let dataDir = "";
let lineServer: LineServer;

beforeAll(async () => {
  lineServer = await startLineServer("approvals", LINE, { cancelGraceMs: 500 });
  ({ dataDir } = lineServer);
}, 60_000);

afterAll(async () => {
  await lineServer.stop();
});

/** The CLI as the person `$USER` names. */
function cli(user: string, ...argv: string[]): Promise<CliRun> {
  return runCausewayCli([...argv, "--data", dataDir], { env: { USER: user }, now: () => new Date() });
}

async function json<T>(schema: z.ZodType<T>, user: string, ...argv: string[]): Promise<T> {
  const run = await cli(user, ...argv, "--json");
  expect(run.err).toBe("");
  expect(run.code).toBe(0);
  return schema.parse(JSON.parse(run.out));
}

async function until<T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (let delay = 10; ; delay = Math.min(delay * 2, 200)) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, delay));
  }
}

describe("approval gates from the CLI", () => {
  it("triggers as $USER, refuses a self-approval, counts approvals, says what the gate waits for, and releases it", async () => {
    const run = await json(RunSchema, "bob", "trigger", "deploy");
    expect(run).toMatchObject({ status: "waiting_approval", trigger: { kind: "manual", by: "bob" } });

    // --as wins over $USER.
    const first = await cli("bob", "approve", String(run.id), "--as", "alice", "--comment", "ship it");
    expect(first.code).toBe(0);
    expect(first.out).toMatch(
      /^deploy #1: 1 of 2 approvals given; waiting for approval: 1 of 2 given \(alice\); may approve: bob, carol; times out at \S+ → reject\n$/,
    );

    const mine = await cli("bob", "approve", String(run.id));
    expect(mine.code).toBe(1);
    expect(mine.err).toContain("error APPROVAL_SELF:");

    const why = await cli("x", "why", String(run.id));
    expect(why.out).toMatch(
      /^deploy #1 waiting_approval: waiting for approval: 1 of 2 given \(alice\); may approve: bob, carol;/,
    );
    const whyJob = await cli("x", "why", "deploy");
    expect(whyJob.out).toContain("waiting for approval: 1 of 2 given (alice)");

    const twice = await cli("alice", "approve", String(run.id));
    expect(twice.err).toContain("error APPROVAL_ALREADY_DECIDED:");
    const released = await json(ApprovalStateSchema, "carol", "approve", String(run.id));
    expect(released).toMatchObject({ outcome: "approved", remaining: 0 });
    await until("smoke to run", async () => {
      const runs = z.array(RunSchema).parse(JSON.parse((await cli("x", "runs", "--job", "smoke", "--json")).out));
      return runs[0]?.status === "success" ? runs : undefined;
    });
  });

  it("rejects with a comment: the run ends cancelled, and the audit trail says who did what", async () => {
    // Without --json, trigger says that the run waits, and how to decide it.
    const triggered = await cli("dev", "trigger", "deploy");
    expect(triggered.out).toMatch(
      /^triggered deploy #2 \(id \d+, flow \w+\)\n {2}waits for approval: causeway approve (\d+) \(or reject \1\); causeway why deploy says who may\n$/,
    );
    const run = { id: Number(/id (\d+)/.exec(triggered.out)?.[1]) };
    const rejected = await cli("bob", "reject", String(run.id), "--comment", "freeze week");
    expect(rejected.code).toBe(0);
    expect(rejected.out).toBe("deploy #2 rejected: cancelled\n");
    const ended = await json(RunSchema, "x", "run", String(run.id));
    expect(ended).toMatchObject({ status: "cancelled", statusReason: "rejected by bob: freeze week" });

    const audit = await json(z.array(AuditEventSchema), "x", "audit", "--limit", "3");
    expect(audit.map((e) => [e.actor, e.action, e.subject])).toEqual([
      ["bob", "reject", `run:${run.id}`],
      ["dev", "trigger", `run:${run.id}`],
      ["carol", "approve", "run:1"],
    ]);
    const text = await cli("x", "audit", "--action", "reject");
    expect(text.out).toMatch(/^WHEN +ACTOR +ACTION +SUBJECT +DETAIL\n/);
    expect(text.out).toMatch(/ bob +reject +run:\d+ +deploy #2 rejected "freeze week"\n$/);
    const bad = await cli("x", "audit", "--action", "nope");
    expect(bad.code).toBe(2);
    const badAs = await cli("x", "approve", String(run.id), "--as", "");
    expect(badAs.code).toBe(2);
  });
});
