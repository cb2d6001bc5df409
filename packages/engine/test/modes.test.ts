import { afterEach, describe, expect, it } from "vitest";
import { eventually, makeHarness, type Harness } from "./harness.js";

// Queueing rules of design §3 (dependencyMode, triggerMode, priority, coalesce) and the life
// of a run (rerun, cancel, timeout, retries, lineage), on real SQLite and real processes.

let h: Harness;
afterEach(async () => {
  await h.close();
});

/** A job that waits until a file appears, so a test controls when it finishes. */
const gate = (file: string): string => `while [ ! -e ${file} ]; do sleep 0.02; done`;

describe("dependencyMode", () => {
  it("chrono: two upstream events queue two runs, and a run waits while a connected job processes", async () => {
    h = await makeHarness({ slots: 4 });
    const release = `${h.dir}/go`;
    await h.apply(`
resources:
  - name: src
    type: params
    versionTemplate: { params: { A: "1" } }
jobs:
  - name: up
    type: runSh
    steps:
      - IN: src
      - TASK: { script: [ "${gate(release)}" ] }
  - name: down
    type: runSh
    steps:
      - IN: up
      - IN: src
      - TASK: { script: [ "true" ] }
`);
    const fs = await import("node:fs/promises");
    // up succeeds once, so down (chrono) has a consistent, successful upstream.
    await fs.writeFile(release, "");
    await h.engine.waitForRun((await h.engine.trigger("up")).id);
    await h.engine.idle();
    await fs.rm(release);
    const first = await h.engine.putVersion("src", {});
    // up (processing) and down (queued by the same event) are connected: down waits.
    const down = first.runs.find((r) => r.job === "down");
    expect(down?.status).toBe("queued");
    const why = await eventually(async () => {
      const w = await h.engine.why("down");
      return w.pending[0]?.reason?.includes("connected job up is processing") === true ? w : undefined;
    });
    expect(why.pending[0]?.run.id).toBe(down?.id);
    await h.engine.putVersion("src", {});
    expect((await h.runs("up")).map((r) => r.status)).toEqual(["success", "processing", "queued"]);
    await fs.writeFile(release, "");
    await h.engine.idle();
    expect((await h.runs("up")).map((r) => r.status)).toEqual(["success", "success", "success"]);
    // One run per event, none merged: 1 (first up success) + 2 (src) + 2 (up successes).
    expect((await h.runs("down")).map((r) => r.status)).toEqual(Array(5).fill("success"));
  });

  it("immediate: runs on every event even while a connected job is processing", async () => {
    h = await makeHarness({ slots: 4 });
    const release = `${h.dir}/go`;
    await h.apply(`
resources:
  - name: src
    type: params
    versionTemplate: { params: { A: "1" } }
jobs:
  - name: up
    type: runSh
    steps:
      - IN: src
      - TASK: { script: [ "${gate(release)}" ] }
  - name: down
    type: runSh
    dependencyMode: immediate
    steps:
      - IN: up
      - IN: src
      - TASK: { script: [ "true" ] }
`);
    const { runs } = await h.engine.putVersion("src", {});
    const down = runs.find((r) => r.job === "down");
    expect((await h.engine.waitForRun(down?.id ?? 0)).status).toBe("success");
    expect((await h.runs("up"))[0]?.status).toBe("processing");
    await import("node:fs/promises").then((fs) => fs.writeFile(release, ""));
    await h.engine.idle();
  });

  it("strict: waits until every upstream job has settled, then runs once", async () => {
    h = await makeHarness({ slots: 4 });
    const release = `${h.dir}/go`;
    // a ──┐
    //     ├──> join (strict)
    // b ──┘
    await h.apply(`
resources:
  - name: src
    type: params
    versionTemplate: { params: { A: "1" } }
jobs:
  - name: a
    type: runSh
    steps:
      - IN: src
      - TASK: { script: [ "true" ] }
  - name: b
    type: runSh
    steps:
      - IN: src
      - TASK: { script: [ "${gate(release)}" ] }
  - name: join
    type: runSh
    dependencyMode: strict
    steps:
      - IN: a
      - IN: b
      - TASK: { script: [ "true" ] }
`);
    await h.engine.trigger("b");
    const a = await h.engine.trigger("a");
    await h.engine.waitForRun(a.id);
    const waiting = await eventually(async () => (await h.runs("join")).find((r) => r.status === "waiting"));
    expect(waiting.statusReason).toContain("upstream b is running (strict)");
    await import("node:fs/promises").then((fs) => fs.writeFile(release, ""));
    await h.engine.idle();
    const joins = await h.runs("join");
    expect(joins.map((r) => r.status)).toEqual(["success"]);
    expect(joins[0]?.inputs.map((i) => i.versionNumber)).toEqual([1, 1]);
  });
});

describe("queueing", () => {
  it("triggerMode serial runs one at a time; parallel runs several", async () => {
    h = await makeHarness({ slots: 4 });
    const release = `${h.dir}/go`;
    const job = (name: string, mode: string) => `
  - name: ${name}
    type: runSh
    triggerMode: ${mode}
    steps:
      - TASK: { script: [ "${gate(release)}" ] }`;
    await h.apply(`jobs:${job("ser", "serial")}${job("par", "parallel")}`);
    for (let i = 0; i < 2; i++) {
      await h.engine.trigger("ser");
      await h.engine.trigger("par");
    }
    await eventually(async () => ((await h.runs("par")).every((r) => r.status === "processing") ? true : undefined));
    expect((await h.runs("ser")).map((r) => r.status)).toEqual(["processing", "queued"]);
    await import("node:fs/promises").then((fs) => fs.writeFile(release, ""));
    await h.engine.idle();
  });

  it("priority orders queued runs (0 first) and never pre-empts", async () => {
    h = await makeHarness({ slots: 1 });
    const release = `${h.dir}/go`;
    await h.apply(`
jobs:
  - name: busy
    type: runSh
    steps:
      - TASK: { script: [ "${gate(release)}" ] }
  - name: low
    type: runSh
    priority: 500
    steps:
      - TASK: { script: [ "true" ] }
  - name: high
    type: runSh
    priority: 1
    steps:
      - TASK: { script: [ "true" ] }
`);
    await h.engine.trigger("busy");
    const low = await h.engine.trigger("low");
    const high = await h.engine.trigger("high");
    expect((await h.runs("busy"))[0]?.status).toBe("processing");
    await import("node:fs/promises").then((fs) => fs.writeFile(release, ""));
    await h.engine.idle();
    // From the event log: busy ends before anything else starts (no pre-emption), then high,
    // queued last, starts before low. Start times could tie, and run ids only show trigger order.
    const starts = (await h.stores.store.eventsSince(0, 100_000))
      .filter((e) => e.type === "run" && (e.payload.status === "processing" || e.payload.status === "success"))
      .map((e) => `${String(e.payload.job)} ${String(e.payload.status)}`);
    expect(starts).toEqual([
      "busy processing",
      "busy success",
      "high processing",
      "high success",
      "low processing",
      "low success",
    ]);
    expect((await h.runs("low")).map((r) => r.id)).toEqual([low.id]);
    expect((await h.runs("high")).map((r) => r.id)).toEqual([high.id]);
  });

  it("coalesce: latest merges pending triggers into one run with the newest inputs", async () => {
    h = await makeHarness({ slots: 2 });
    const release = `${h.dir}/go`;
    await h.apply(`
resources:
  - name: src
    type: params
    versionTemplate: { params: { A: "1" } }
jobs:
  - name: j
    type: runSh
    coalesce: latest
    steps:
      - IN: src
      - TASK: { script: [ "${gate(release)}" ] }
`);
    await h.engine.putVersion("src", {});
    await h.engine.putVersion("src", {});
    await h.engine.putVersion("src", {});
    const runs = await h.runs("j");
    expect(runs.map((r) => r.status)).toEqual(["processing", "queued"]);
    expect(runs[1]?.inputs[0]?.versionNumber).toBe(4);
    expect((await h.engine.why("j")).explains.map((e) => e.outcome)).toContain("coalesced");
    await import("node:fs/promises").then((fs) => fs.writeFile(release, ""));
    await h.engine.idle();
  });
});

describe("life of a run", () => {
  it("rerun replays the exact input versions of the original run", async () => {
    h = await makeHarness();
    await h.apply(`
resources:
  - name: src
    type: params
    versionTemplate: { params: { A: "1" } }
jobs:
  - name: j
    type: runSh
    steps:
      - IN: src
      - TASK: { script: [ 'echo "A=$A"' ] }
`);
    const { runs } = await h.engine.putVersion("src", { propertyBag: { params: { A: "first" } } });
    await h.engine.waitForRun(runs[0]?.id ?? 0);
    await h.engine.putVersion("src", { propertyBag: { params: { A: "second" } } });
    await h.engine.idle();
    const again = await h.engine.rerun(runs[0]?.id ?? 0);
    expect(again).toMatchObject({ rerunOf: runs[0]?.id, trigger: { kind: "rerun" }, inputs: runs[0]?.inputs });
    await h.engine.waitForRun(again.id);
    expect(await h.log(again.id)).toContain("A=first");
  });

  it("cancel ends a queued run at once and a processing run through its process group", async () => {
    h = await makeHarness({ slots: 1 });
    await h.apply(`
jobs:
  - name: slow
    type: runSh
    steps:
      - TASK: { script: [ "sleep 30 & wait" ] }
`);
    const first = await h.engine.trigger("slow");
    const second = await h.engine.trigger("slow");
    expect((await h.engine.cancel(second.id)).status).toBe("cancelled");
    await eventually(async () =>
      (await h.stores.store.read.getRun(first.id))?.status === "processing" ? true : undefined,
    );
    await h.engine.cancel(first.id, "no longer needed");
    const done = await h.engine.waitForRun(first.id);
    expect(done.status).toBe("cancelled");
    await expect(h.engine.cancel(first.id)).rejects.toMatchObject({ code: "RUN_FINISHED" });
  });

  it("runtime.timeoutMinutes ends a run with status timeout, and retries apply to it", async () => {
    h = await makeHarness();
    await h.apply(`
jobs:
  - name: hang
    type: runSh
    runtime: { timeoutMinutes: 0.005 }
    retries: { max: 1, on: [timeout] }
    steps:
      - TASK: { script: [ "sleep 30" ] }
`);
    const run = await h.engine.trigger("hang");
    expect((await h.engine.waitForRun(run.id)).status).toBe("timeout");
    const retry = await eventually(async () => (await h.runs("hang"))[1]);
    expect(retry).toMatchObject({ attempt: 2, trigger: { kind: "retry" }, inputs: run.inputs });
    expect((await h.engine.waitForRun(retry.id)).status).toBe("timeout");
    await h.engine.idle();
    expect(await h.runs("hang")).toHaveLength(2);
  });

  it("the trace of a version lists every input version that produced it, transitively", async () => {
    h = await makeHarness();
    await h.apply(`
resources:
  - name: repo
    type: params
    versionTemplate: { params: { SHA: abc } }
  - name: img
    type: image
    versionTemplate: { sourceName: acme/app, versionName: none }
jobs:
  - name: build
    type: runSh
    steps:
      - IN: repo
      - TASK: { script: [ "shipctl put_resource_state img versionName v$BUILD_NUMBER" ] }
      - OUT: img
  - name: deploy
    type: runSh
    steps:
      - IN: img
      - TASK: { script: [ "true" ] }
`);
    const { runs } = await h.engine.putVersion("repo", { versionName: "c0ffee" });
    await h.engine.waitForRun(runs[0]?.id ?? 0);
    await h.engine.idle();
    const deploy = (await h.runs("deploy"))[0];
    expect(deploy?.flow).toBe(runs[0]?.flow);
    const trace = await h.engine.trace("deploy");
    expect(trace.entries.map((e) => [e.depth, e.name, e.versionNumber])).toEqual([
      [1, "img", 2],
      [2, "repo", 2],
    ]);
    expect(trace.entries.every((e) => e.flow === runs[0]?.flow)).toBe(true);
  });

  it("a release job bumps the semantic version of its version input", async () => {
    h = await makeHarness();
    await h.apply(`
resources:
  - name: ver
    type: version
    versionTemplate: { versionName: "1.2.3" }
jobs:
  - name: rel
    type: release
    bump: patch
    steps:
      - IN: ver
      - TASK: managed
`);
    for (const expected of ["1.2.4", "1.2.5"]) {
      const run = await h.engine.trigger("rel");
      expect((await h.engine.waitForRun(run.id)).status).toBe("success");
      expect((await h.stores.store.read.latestVersion("rel"))?.versionName).toBe(expected);
      expect(await h.log(run.id)).toContain(`release: versionName=${expected}`);
    }
  });

  it("a job of an unsupported type gets a skipped run with a clear reason", async () => {
    h = await makeHarness();
    await h.apply(`
jobs:
  - name: d
    type: deploy
    steps:
      - TASK: managed
`);
    const run = await h.engine.trigger("d");
    expect(run).toMatchObject({
      status: "skipped",
      statusReason: "job type deploy is not supported yet",
    });
  });
});

describe("versions from outside", () => {
  it("creates one version and one run per delivery key, however often the key is put", async () => {
    h = await makeHarness({ slots: 2 });
    await h.apply(`
resources:
  - name: hook
    type: params
    versionTemplate: { params: { A: "1" } }
jobs:
  - name: on-hook
    type: runSh
    steps:
      - IN: hook
      - TASK: { script: [ "true" ] }
`);
    const first = await h.engine.putVersion("hook", { versionName: "d1" }, "webhook", { key: "delivery-1" });
    expect(first.duplicate).toBe(false);
    expect(first.runs.map((r) => r.job)).toEqual(["on-hook"]);
    const again = await h.engine.putVersion("hook", { versionName: "d1-again" }, "webhook", { key: "delivery-1" });
    expect(again).toEqual({ version: first.version, runs: [], duplicate: true });
    const other = await h.engine.putVersion("hook", { versionName: "d2" }, "webhook", { key: "delivery-2" });
    expect(other.duplicate).toBe(false);
    expect(other.version.versionNumber).toBe(first.version.versionNumber + 1);
    await h.engine.idle();
    expect((await h.runs("on-hook")).length).toBe(2);
  });

  it("records a version with trigger: false without offering it to any consumer", async () => {
    h = await makeHarness({ slots: 2 });
    await h.apply(`
resources:
  - name: repo
    type: params
    versionTemplate: { params: { A: "1" } }
jobs:
  - name: build
    type: runSh
    steps:
      - IN: repo
      - TASK: { script: [ "true" ] }
`);
    const quiet = await h.engine.putVersion("repo", { versionName: "yaml-only" }, "git", { key: "c1", trigger: false });
    expect(quiet).toMatchObject({ duplicate: false, runs: [] });
    expect(h.engine.model.latest.get("repo")?.versionName).toBe("yaml-only");
    const loud = await h.engine.putVersion("repo", { versionName: "code" }, "git", { key: "c2" });
    expect(loud.runs.map((r) => r.job)).toEqual(["build"]);
    await h.engine.idle();
    expect((await h.runs("build")).length).toBe(1);
  });
});
