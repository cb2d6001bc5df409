import { chmod, mkdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ApprovalStateJson, AuditEventJson, RunJson, WhyJson } from "@causeway/protocol";
import { passthroughEnv } from "@causeway/runner";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { startServer, type RunningServer } from "../src/index.js";
import { collectingLogger, tempDir, waitFor, yaml } from "./helpers.js";

// Approval gates and the audit trail (requiresApproval, docs/semantics.md "Approval gates"), on a
// real server: real HTTP on 127.0.0.1:0, a real SQLite data directory, real task processes.

/** flaky_gated fails while this file does not exist, and creates it. */
const MARK = join(tmpdir(), `causeway-approvals-flaky-${process.pid}-${Date.now()}`);

const FINAL = ["success", "failure", "cancelled", "error", "timeout", "lost", "skipped"];

/** The steps of a job that echoes `text`, indented for a job's keys at `indent` spaces. */
function task(text: string, indent = 6): string {
  const pad = " ".repeat(indent);
  return [`steps:`, `  - TASK:`, `      script:`, `        - echo ${text}`].map((l) => pad + l).join("\n");
}

//   quorum (2 of alice, bob, carol) ──> after_quorum
//   rejected (alice) ──────────────────> after_rejected
//   started_by_hand ──> guarded_downstream (alice, bob; preventSelfApproval)
//   self_guarded (alice, bob; preventSelfApproval), self_free (alice), by_group (group ops),
//   times_out_reject, times_out_approve (120 ms), hello (no gate), flaky_gated (fails once, retried)
const LINE = yaml`
  jobs:
    - name: quorum
      type: runSh
      requiresApproval: { approvers: [alice, bob, carol], minApprovals: 2 }
${task("quorum")}
    - name: after_quorum
      type: runSh
      steps:
        - IN: quorum
        - TASK:
            script:
              - echo after
    - name: rejected
      type: runSh
      requiresApproval: { approvers: [alice, bob] }
${task("rejected")}
    - name: after_rejected
      type: runSh
      steps:
        - IN: rejected
        - TASK:
            script:
              - echo after
    - name: started_by_hand
      type: runSh
${task("start")}
    - name: guarded_downstream
      type: runSh
      requiresApproval: { approvers: [alice, bob], preventSelfApproval: true }
      steps:
        - IN: started_by_hand
        - TASK:
            script:
              - echo downstream
    - name: self_guarded
      type: runSh
      requiresApproval: { approvers: [alice, bob], preventSelfApproval: true }
${task("guarded")}
    - name: self_free
      type: runSh
      requiresApproval: { approvers: [alice] }
${task("free")}
    - name: by_group
      type: runSh
      requiresApproval: { approvers: [ops] }
${task("group")}
    - name: times_out_reject
      type: runSh
      requiresApproval: { approvers: [alice], timeoutMinutes: 0.002, onTimeout: reject }
${task("never")}
    - name: times_out_approve
      type: runSh
      requiresApproval: { approvers: [alice], timeoutMinutes: 0.002, onTimeout: approve }
${task("anyway")}
    - name: hello
      type: runSh
${task("hi")}
    - name: flaky_gated
      type: runSh
      requiresApproval: { approvers: [alice] }
      retries: { max: 1, on: [failure] }
      steps:
        - TASK:
            script:
              - if [ ! -f ${MARK} ]; then touch ${MARK}; exit 3; fi
`;

const cleanups: (() => Promise<void>)[] = [];

async function setup(text: string) {
  const root = await tempDir("approvals");
  const dir = join(root, "line");
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, "causeway.yml"), text);
  return { root, dir, dataDir: join(root, "data") };
}

async function start(dir: string, dataDir: string, slots = 1): Promise<RunningServer> {
  return startServer({
    dir,
    dataDir,
    port: 0,
    slots,
    env: passthroughEnv(process.env),
    logger: collectingLogger(),
    cancelGraceMs: 500,
    watch: false,
    // flaky_gated marks its first attempt in a file outside its workspace, which a sandboxed
    // task cannot reach (the sandbox has tests of its own: sandbox.test.ts).
    sandbox: "off",
  });
}

interface Answer<T> {
  status: number;
  body: T;
}
type ErrorAnswer = { error: { code: string; message: string } };

/** Calls the API as `user` (the X-Causeway-User name; none: the header is left out). */
function client(server: { url: string; token: string }) {
  return async <T = unknown>(user: string | undefined, method: string, path: string, body?: unknown) => {
    const res = await fetch(`${server.url}/api/v1${path}`, {
      method,
      headers: {
        authorization: `Bearer ${server.token}`,
        ...(user === undefined ? {} : { "x-causeway-user": user }),
        ...(body === undefined ? {} : { "content-type": "application/json" }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: res.status, body: (await res.json()) as T } satisfies Answer<T>;
  };
}
type Api = ReturnType<typeof client>;

async function trigger(api: Api, user: string, job: string): Promise<RunJson> {
  const { status, body } = await api<RunJson>(user, "POST", `/jobs/${job}/runs`);
  expect(status).toBe(201);
  return body;
}

async function finished(api: Api, id: number): Promise<RunJson> {
  return waitFor(`run ${id} to finish`, async () => {
    const { body } = await api<RunJson>(undefined, "GET", `/runs/${id}`);
    return FINAL.includes(body.status) ? body : undefined;
  });
}

async function runOf(api: Api, id: number): Promise<RunJson> {
  return (await api<RunJson>(undefined, "GET", `/runs/${id}`)).body;
}

describe("approval gates on a running server", () => {
  let server: RunningServer;
  let api: Api;
  let dataDir: string;

  beforeAll(async () => {
    const made = await setup(LINE);
    dataDir = made.dataDir;
    server = await start(made.dir, made.dataDir);
    api = client(server);
    return async () => {
      await server.stop();
      await rm(made.root, { recursive: true, force: true });
    };
  });

  it("waits for a quorum: one approval keeps it waiting, the same person twice counts once, the second releases it", async () => {
    const run = await trigger(api, "dev", "quorum");
    expect(run.status).toBe("waiting_approval");

    const first = await api<ApprovalStateJson>("alice", "POST", `/runs/${run.id}/approve`, { comment: "looks fine" });
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({
      runId: run.id,
      status: "waiting_approval",
      needed: 2,
      remaining: 1,
      outcome: "pending",
      requester: "dev",
      approvals: [{ by: "alice", verdict: "approve", comment: "looks fine" }],
    });
    const why = await api<WhyJson>(undefined, "GET", "/jobs/quorum/why");
    expect(why.body.pending[0]?.reason).toMatch(
      /^waiting for approval: 1 of 2 given \(alice\); may approve: bob, carol; times out at \S+ → reject$/,
    );

    const twice = await api<ErrorAnswer>("alice", "POST", `/runs/${run.id}/approve`);
    expect(twice.status).toBe(409);
    expect(twice.body.error.code).toBe("APPROVAL_ALREADY_DECIDED");
    expect((await runOf(api, run.id)).status).toBe("waiting_approval");

    const second = await api<ApprovalStateJson>("bob", "POST", `/runs/${run.id}/approve`);
    expect(second.body).toMatchObject({ outcome: "approved", remaining: 0, status: "queued" });
    expect((await finished(api, run.id)).status).toBe("success");
    // Its downstream job runs as after any success.
    await waitFor("after_quorum to succeed", async () => {
      const runs = (await api<RunJson[]>(undefined, "GET", "/runs?job=after_quorum")).body;
      return runs[0]?.status === "success";
    });

    const audit = await api<AuditEventJson[]>(undefined, "GET", `/audit?subject=run:${run.id}`);
    expect(audit.body.map((e) => [e.actor, e.action])).toEqual([
      ["bob", "approve"],
      ["alice", "approve"],
      ["dev", "trigger"],
    ]);
    expect(audit.body[1]?.detail).toMatchObject({ comment: "looks fine", outcome: "recorded" });
  });

  it("refuses a self-approval when preventSelfApproval is on, also through the flow, and allows it when off", async () => {
    const guarded = await trigger(api, "alice", "self_guarded");
    const self = await api<ErrorAnswer>("alice", "POST", `/runs/${guarded.id}/approve`);
    expect(self.status).toBe(403);
    expect(self.body.error.code).toBe("APPROVAL_SELF");
    expect((await api<ApprovalStateJson>("bob", "POST", `/runs/${guarded.id}/approve`)).body.outcome).toBe("approved");
    expect((await finished(api, guarded.id)).status).toBe("success");

    // guarded_downstream was triggered by an upstream success; alice started the flow by hand.
    const upstream = await trigger(api, "alice", "started_by_hand");
    await finished(api, upstream.id);
    const downstream = await waitFor("guarded_downstream to wait", async () => {
      const runs = (await api<RunJson[]>(undefined, "GET", "/runs?job=guarded_downstream")).body;
      return runs[0]?.status === "waiting_approval" ? runs[0] : undefined;
    });
    expect(downstream.flow).toBe(upstream.flow);
    const viaFlow = await api<ErrorAnswer>("alice", "POST", `/runs/${downstream.id}/approve`);
    expect(viaFlow.body.error.code).toBe("APPROVAL_SELF");
    expect((await api<ApprovalStateJson>("bob", "POST", `/runs/${downstream.id}/approve`)).body.outcome).toBe(
      "approved",
    );

    const free = await trigger(api, "alice", "self_free");
    expect((await api<ApprovalStateJson>("alice", "POST", `/runs/${free.id}/approve`)).body.outcome).toBe("approved");
    expect((await finished(api, free.id)).status).toBe("success");
  });

  it("ends a rejected run cancelled, naming who and the comment, and triggers nothing downstream", async () => {
    const run = await trigger(api, "dev", "rejected");
    const answer = await api<ApprovalStateJson>("bob", "POST", `/runs/${run.id}/reject`, { comment: "not today" });
    expect(answer.body).toMatchObject({ outcome: "rejected", status: "cancelled" });
    const ended = await runOf(api, run.id);
    expect(ended.status).toBe("cancelled");
    expect(ended.statusReason).toBe("rejected by bob: not today");
    expect((await api<RunJson[]>(undefined, "GET", "/runs?job=after_rejected")).body).toEqual([]);
    const again = await api<ErrorAnswer>("alice", "POST", `/runs/${run.id}/approve`);
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe("RUN_NOT_WAITING_APPROVAL");
  });

  it.each([
    ["reject", "cancelled", /^the approval timed out after 0\.002 minutes \(onTimeout: reject\)$/],
    ["approve", "success", null],
  ] as const)("decides a gate at its timeout: onTimeout %s", async (onTimeout, status, reason) => {
    const run = await trigger(api, "dev", `times_out_${onTimeout}`);
    const ended = await finished(api, run.id);
    expect(ended.status).toBe(status);
    if (reason !== null) expect(ended.statusReason).toMatch(reason);
    const gate = (await api<ApprovalStateJson>(undefined, "GET", `/runs/${run.id}/approval`)).body;
    expect(gate.approvals).toMatchObject([{ by: "system", verdict: onTimeout }]);
    expect(Date.parse(gate.approvals[0]?.at ?? "")).toBeGreaterThanOrEqual(Date.parse(gate.deadline));
    const audit = (
      await api<AuditEventJson[]>(undefined, "GET", `/audit?subject=run:${run.id}&action=approval-timeout`)
    ).body;
    expect(audit).toMatchObject([{ actor: "system", action: "approval-timeout" }]);
  });

  it("asks again on a rerun of an approved run", async () => {
    const run = await trigger(api, "dev", "self_free");
    await api("alice", "POST", `/runs/${run.id}/approve`);
    expect((await finished(api, run.id)).status).toBe("success");
    const rerun = await api<RunJson>("dev", "POST", `/runs/${run.id}/rerun`);
    expect(rerun.body).toMatchObject({ status: "waiting_approval", trigger: { kind: "rerun", by: "dev" } });
    const gate = (await api<ApprovalStateJson>(undefined, "GET", `/runs/${rerun.body.id}/approval`)).body;
    expect(gate).toMatchObject({ approvals: [], outcome: "pending", remaining: 1 });
    await api("alice", "POST", `/runs/${rerun.body.id}/reject`);
  });

  it("does not ask again for an automatic retry of an approved run", async () => {
    const run = await trigger(api, "dev", "flaky_gated");
    await api("alice", "POST", `/runs/${run.id}/approve`);
    expect((await finished(api, run.id)).status).toBe("failure");
    const retry = await waitFor("the retry to succeed", async () => {
      const runs = (await api<RunJson[]>(undefined, "GET", "/runs?job=flaky_gated")).body;
      return runs[0]?.attempt === 2 && runs[0].status === "success" ? runs[0] : undefined;
    });
    expect(retry).toMatchObject({ trigger: { kind: "retry" }, rerunOf: run.id });
    const gate = await api<{ error: { code: string } }>(undefined, "GET", `/runs/${retry.id}/approval`);
    expect(gate.body.error.code).toBe("RUN_NOT_WAITING_APPROVAL");
    await rm(MARK, { force: true });
  });

  it("holds no runner slot while it waits (slots: 1)", async () => {
    const gated = await trigger(api, "dev", "quorum");
    expect(gated.status).toBe("waiting_approval");
    const other = await trigger(api, "dev", "hello");
    expect((await finished(api, other.id)).status).toBe("success");
    expect((await runOf(api, gated.id)).status).toBe("waiting_approval");
    const pending = (await api<ApprovalStateJson[]>(undefined, "GET", "/approvals")).body;
    expect(pending.map((g) => g.runId)).toContain(gated.id);
    await api("carol", "POST", `/runs/${gated.id}/reject`, { comment: "cleanup" });
  });

  it("lets the members of a group decide (groups.json), and no one else", async () => {
    const run = await trigger(api, "dev", "by_group");
    const outsider = await api<ErrorAnswer>("dana", "POST", `/runs/${run.id}/approve`);
    expect(outsider.status).toBe(403);
    expect(outsider.body.error.code).toBe("APPROVAL_NOT_ALLOWED");
    const groups = join(dataDir, "groups.json");
    await writeFile(groups, JSON.stringify({ ops: ["dana"] }), { mode: 0o600 });
    expect((await api<ApprovalStateJson>("dana", "POST", `/runs/${run.id}/approve`)).body.outcome).toBe("approved");
    // A groups file others may read decides nothing.
    await chmod(groups, 0o644);
    const other = await trigger(api, "dev", "by_group");
    const refused = await api<ErrorAnswer>("dana", "POST", `/runs/${other.id}/approve`);
    expect(refused.status).toBe(500);
    expect(refused.body.error.code).toBe("GROUPS_INVALID");
    await rm(groups);
    await api("alice", "POST", `/runs/${other.id}/approve`).then((a) => expect(a.status).toBe(403));
    await api(undefined, "POST", `/runs/${other.id}/cancel`);
  });

  it("answers bad requests with their codes", async () => {
    const run = await trigger(api, "dev", "quorum");
    const hello = await trigger(api, "dev", "hello");
    const cases: [string | undefined, string, unknown, number, string][] = [
      ["alice", "/runs/999999/approve", undefined, 404, "RUN_NOT_FOUND"],
      ["alice", `/runs/${hello.id}/approve`, undefined, 409, "RUN_NOT_WAITING_APPROVAL"],
      ["mallory", `/runs/${run.id}/approve`, undefined, 403, "APPROVAL_NOT_ALLOWED"],
      ["alice", `/runs/${run.id}/approve`, { comment: "x".repeat(2001) }, 400, "BAD_REQUEST"],
      ["alice", `/runs/${run.id}/approve`, { comment: 5 }, 400, "BAD_REQUEST"],
      ["al\tice", `/runs/${run.id}/approve`, undefined, 400, "IDENTITY_INVALID"],
      ["x".repeat(201), `/runs/${run.id}/approve`, undefined, 400, "IDENTITY_INVALID"],
      ["  ", `/runs/${run.id}/approve`, undefined, 400, "IDENTITY_INVALID"],
    ];
    for (const [user, path, body, status, code] of cases) {
      const answer = await api<ErrorAnswer>(user, "POST", path, body);
      expect([path, answer.status, answer.body.error.code]).toEqual([path, status, code]);
    }
    // With no header, the holder of the admin token decides as `admin`: not on this list.
    const anonymous = await api<ErrorAnswer>(undefined, "POST", `/runs/${run.id}/approve`);
    expect(anonymous.body.error.code).toBe("APPROVAL_NOT_ALLOWED");
    // An empty comment is no comment.
    const blank = await api<ApprovalStateJson>("alice", "POST", `/runs/${run.id}/approve`, { comment: "  " });
    expect(blank.body.approvals).toMatchObject([{ by: "alice", comment: null }]);
    expect((await api<ErrorAnswer>(undefined, "GET", "/audit?action=nope")).status).toBe(400);
    await api("bob", "POST", `/runs/${run.id}/reject`);
  });

  it("records who paused, resumed, pinned, unpinned and cancelled, and who applied, newest first", async () => {
    // quorum has a version since its first run succeeded (the first case).
    expect((await api("gina", "PUT", "/jobs/after_quorum/pins/quorum", { versionNumber: 1 })).status).toBe(200);
    expect((await api("gina", "DELETE", "/jobs/after_quorum/pins/quorum")).status).toBe(200);
    await api("erin", "POST", "/jobs/hello/pause");
    await api("erin", "POST", "/jobs/hello/resume");
    const run = await trigger(api, "erin", "quorum");
    const cancelled = await api<RunJson>("frank", "POST", `/runs/${run.id}/cancel`);
    expect(cancelled.body).toMatchObject({ status: "cancelled", statusReason: "cancelled by frank" });
    const audit = (await api<AuditEventJson[]>(undefined, "GET", "/audit?limit=6")).body;
    expect(audit.map((e) => [e.actor, e.action, e.subject])).toEqual([
      ["frank", "cancel", `run:${run.id}`],
      ["erin", "trigger", `run:${run.id}`],
      ["erin", "resume", "job:hello"],
      ["erin", "pause", "job:hello"],
      ["gina", "unpin", "job:after_quorum"],
      ["gina", "pin", "job:after_quorum"],
    ]);
    expect(audit[5]?.detail).toEqual({ input: "quorum", versionNumber: 1 });
    const page = (await api<AuditEventJson[]>(undefined, "GET", `/audit?limit=1&before=${audit[1]?.id}`)).body;
    expect(page.map((e) => e.action)).toEqual(["resume"]);
    const applies = (await api<AuditEventJson[]>(undefined, "GET", "/audit?action=apply")).body;
    expect(applies.at(-1)).toMatchObject({ actor: "watcher", action: "apply", detail: { source: "watcher" } });
  });
});

describe("a gate across a restart", () => {
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });
  afterAll(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  it("keeps waiting with the approvals given, and times out at its original deadline", async () => {
    const { root, dir, dataDir } = await setup(yaml`
      jobs:
        - name: deploy
          type: runSh
          requiresApproval: { approvers: [alice, bob], minApprovals: 2, timeoutMinutes: 0.1 }
${task("deploy", 10)}
    `);
    cleanups.push(() => rm(root, { recursive: true, force: true }));
    const first = await start(dir, dataDir);
    let api = client(first);
    const run = await trigger(api, "dev", "deploy");
    const before = (await api<ApprovalStateJson>("alice", "POST", `/runs/${run.id}/approve`)).body;
    expect(before.remaining).toBe(1);
    await first.stop();

    const second = await start(dir, dataDir);
    cleanups.push(() => second.stop());
    api = client(second);
    const after = (await api<ApprovalStateJson>(undefined, "GET", `/runs/${run.id}/approval`)).body;
    expect(after.deadline).toBe(before.deadline);
    expect(after.approvals).toEqual(before.approvals);
    // Unless the restart outlasted the deadline, the run still waits.
    if (Date.now() < Date.parse(before.deadline)) expect(after.status).toBe("waiting_approval");

    const ended = await finished(api, run.id);
    expect(ended.status).toBe("cancelled");
    expect(ended.statusReason).toMatch(/timed out after 0\.1 minutes/);
    expect(Date.parse(ended.finishedAt ?? "")).toBeGreaterThanOrEqual(Date.parse(before.deadline));
    const decided = (await api<ApprovalStateJson>(undefined, "GET", `/runs/${run.id}/approval`)).body;
    expect(decided.approvals.map((a) => a.by)).toEqual(["alice", "system"]);
    const events = (await api<AuditEventJson[]>(undefined, "GET", "/audit?action=approval-timeout")).body;
    expect(events).toHaveLength(1);
  }, 30_000);
});
