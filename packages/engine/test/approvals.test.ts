import { writeFile } from "node:fs/promises";
import { afterEach, describe, expect, it } from "vitest";
import { eventually, makeHarness, type Harness } from "./harness.js";

// Approval gates in the engine (requiresApproval) where the server's test does not reach: a
// strict run released into its gate, a gate keeping the definition it was created with, a
// cancel of a waiting run; on real SQLite and real processes.

let h: Harness;
afterEach(async () => {
  await h.close();
});

const alice = { name: "alice", roles: [] };
const bob = { name: "bob", roles: [] };

describe("approval gates", () => {
  it("a strict run waits for its upstream jobs, then for its approval", async () => {
    h = await makeHarness({ slots: 4 });
    const release = `${h.dir}/go`;
    // up ──> gated (strict, requiresApproval)
    await h.apply(`
jobs:
  - name: up
    type: runSh
    steps:
      - TASK: { script: [ "while [ ! -e ${release} ]; do sleep 0.02; done" ] }
  - name: gated
    type: runSh
    dependencyMode: strict
    requiresApproval: { approvers: [alice] }
    steps:
      - IN: up
      - TASK: { script: [ "true" ] }
`);
    const up = await h.engine.trigger("up");
    // A second upstream run makes the first success's offer wait (strict).
    await eventually(async () => ((await h.runs("up"))[0]?.status === "processing" ? true : undefined));
    const second = await h.engine.trigger("up");
    await writeFile(release, "");
    await h.engine.waitForRun(up.id);
    await h.engine.waitForRun(second.id);
    const gated = await eventually(async () => (await h.runs("gated")).find((r) => r.status === "waiting_approval"));
    expect((await h.engine.approval(gated.id))?.record.state).toBe("pending");
    // It waited (strict), then was released into its gate.
    const outcomes = (await h.engine.why("gated")).explains.filter((e) => e.runId === gated.id).map((e) => e.outcome);
    expect(outcomes).toEqual(expect.arrayContaining(["waiting", "released"]));
    const decided = await h.engine.decide(gated.id, alice, "approve");
    expect(decided.run.status).toBe("queued");
    expect((await h.engine.waitForRun(gated.id)).status).toBe("success");
  });

  it("says in its explain record that a run waits for its gate, with no empty clause", async () => {
    h = await makeHarness();
    // source ──> gated (requiresApproval)
    await h.apply(`
resources:
  - name: source
    type: params
    versionTemplate: { params: { A: "1" } }
jobs:
  - name: gated
    type: runSh
    requiresApproval: true
    steps:
      - IN: source
      - TASK: { script: [ "true" ] }
`);
    const manual = await h.engine.trigger("gated");
    await h.engine.putVersion("source", { propertyBag: { params: { A: "2" } } }, "api");
    const runs = await eventually(async () => {
      const all = await h.runs("gated");
      return all.length === 2 ? all : undefined;
    });
    const messages = new Map((await h.engine.why("gated")).explains.map((e) => [e.runId, e.message]));
    // A run created as queued has no words of its own (its event says all): no empty clause
    // before the gate's, whether a person or a version triggered it.
    expect(runs.map((r) => messages.get(r.id))).toEqual(["waits for approval", "waits for approval"]);
    expect(runs.map((r) => r.id)).toContain(manual.id);
  });

  it("keeps the gate a run was created with when the job's gate changes", async () => {
    h = await makeHarness();
    const line = (min: number) => `
jobs:
  - name: deploy
    type: runSh
    requiresApproval: { approvers: [alice, bob], minApprovals: ${min} }
    steps:
      - TASK: { script: [ "true" ] }
`;
    await h.apply(line(2));
    const run = await h.engine.trigger("deploy", { user: "dev" });
    await h.apply(line(1));
    expect((await h.engine.decide(run.id, alice, "approve", "one")).record.state).toBe("pending");
    const why = await h.engine.why("deploy");
    expect(why.pending[0]?.reason).toMatch(/^waiting for approval: 1 of 2 given \(alice\); may approve: bob;/);
    expect((await h.engine.decide(run.id, bob, "approve")).record.state).toBe("approved");
    expect((await h.engine.waitForRun(run.id)).status).toBe("success");
  });

  it("a cancelled waiting run leaves no gate to time out, and its decision is refused", async () => {
    h = await makeHarness();
    await h.apply(`
jobs:
  - name: deploy
    type: runSh
    requiresApproval: { approvers: [alice] }
    steps:
      - TASK: { script: [ "true" ] }
`);
    const run = await h.engine.trigger("deploy", { user: "dev" });
    expect(await h.stores.store.read.listPendingApprovals()).toHaveLength(1);
    const cancelled = await h.engine.cancel(run.id, "cancelled by ops", "ops");
    expect(cancelled.status).toBe("cancelled");
    expect(await h.stores.store.read.listPendingApprovals()).toEqual([]);
    await expect(h.engine.decide(run.id, alice, "approve")).rejects.toMatchObject({
      code: "RUN_NOT_WAITING_APPROVAL",
    });
    const audit = await h.stores.store.read.listAudit({ subject: `run:${run.id}` });
    expect(audit.map((e) => [e.actor, e.action])).toEqual([
      ["ops", "cancel"],
      ["dev", "trigger"],
    ]);
  });
});
