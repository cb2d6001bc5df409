import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { eventually, makeHarness, type Harness } from "./harness.js";

// Each test is one rule of design §3, run on a real SQLite store and real bash processes.

let h: Harness;
beforeEach(async () => {
  h = await makeHarness();
});
afterEach(async () => {
  await h.close();
});

const CHAIN = `
resources:
  - name: src
    type: params
    versionTemplate:
      params:
        GREETING: hello
jobs:
  - name: build
    type: runSh
    steps:
      - IN: src
      - TASK:
          script:
            - echo "building $GREETING"
  - name: deploy
    type: runSh
    steps:
      - IN: build
      - TASK:
          script:
            - echo deploying
`;

describe("definitions", () => {
  it("a new resource gets version 1 from its definition, and that version triggers nothing", async () => {
    await h.apply(CHAIN);
    const versions = await h.stores.store.read.listVersions("src");
    expect(versions.map((v) => [v.versionNumber, v.createdBy])).toEqual([[1, "yaml"]]);
    expect(versions[0]?.propertyBag).toEqual({ params: { GREETING: "hello" } });
    await h.engine.idle();
    expect(await h.runs("build")).toEqual([]);
  });

  it("a changed resource definition makes a new version that triggers nothing", async () => {
    await h.apply(CHAIN);
    await h.apply(CHAIN.replace("GREETING: hello", "GREETING: bonjour"));
    const versions = await h.stores.store.read.listVersions("src");
    expect(versions.map((v) => v.versionNumber)).toEqual([2, 1]);
    await h.engine.idle();
    expect(await h.runs("build")).toEqual([]);
  });

  it("editing a trigger resource triggers its consumers", async () => {
    const line = `
resources:
  - name: poke
    type: trigger
    versionTemplate: { counter: 1 }
jobs:
  - name: j
    type: runSh
    steps:
      - IN: poke
      - TASK: { script: [ "true" ] }
`;
    await h.apply(line);
    await h.engine.idle();
    expect(await h.runs("j")).toEqual([]);
    await h.apply(line.replace("counter: 1", "counter: 2"));
    const [run] = await eventually(async () => ((await h.runs("j")).length === 1 ? h.runs("j") : undefined));
    expect(run?.trigger).toMatchObject({ kind: "yaml", by: "poke" });
    expect((await h.engine.waitForRun(run?.id ?? 0)).status).toBe("success");
  });

  it("removing an object soft-deletes it and keeps its history", async () => {
    await h.apply(CHAIN);
    await h.apply(CHAIN.replace(/ {2}- name: deploy[\s\S]*$/, ""));
    const all = await h.stores.store.read.listObjects(true);
    expect(all.find((o) => o.name === "deploy")?.deletedAt).not.toBeNull();
    expect(h.engine.model.job("deploy")).toBeUndefined();
    await h.apply(CHAIN);
    expect(h.engine.model.job("deploy")).toBeDefined();
  });
});

describe("triggers", () => {
  it("a new version of an IN resource triggers the job, and inputs are frozen at creation", async () => {
    await h.apply(CHAIN);
    const { version, runs } = await h.engine.putVersion("src", { propertyBag: { params: { GREETING: "hi" } } });
    expect(runs).toHaveLength(1);
    expect(runs[0]?.inputs).toEqual([
      {
        name: "src",
        kind: "resource",
        type: "params",
        versionId: version.id,
        versionNumber: 2,
        versionName: "",
        pinned: false,
      },
    ]);
    const done = await h.engine.waitForRun(runs[0]?.id ?? 0);
    expect(done.status).toBe("success");
    expect(await h.log(done.id)).toContain("building hi");
  });

  it("upstream success triggers the downstream job, carrying the flow", async () => {
    await h.apply(CHAIN);
    const { runs } = await h.engine.putVersion("src", {});
    await h.engine.waitForRun(runs[0]?.id ?? 0);
    const deploy = await eventually(async () => (await h.runs("deploy"))[0]);
    expect(deploy.trigger).toMatchObject({ kind: "upstream", by: "build" });
    expect(deploy.flow).toBe(runs[0]?.flow);
    expect((await h.engine.waitForRun(deploy.id)).status).toBe("success");
  });

  it("an upstream failure triggers nothing downstream", async () => {
    await h.apply(CHAIN.replace('echo "building $GREETING"', "exit 3"));
    const { runs } = await h.engine.putVersion("src", {});
    const done = await h.engine.waitForRun(runs[0]?.id ?? 0);
    expect(done).toMatchObject({ status: "failure", exitCode: 3 });
    await h.engine.idle();
    expect(await h.runs("deploy")).toEqual([]);
  });

  it("an input with switch: off does not trigger, and the explain record says why", async () => {
    await h.apply(CHAIN.replace("      - IN: src\n", "      - IN: src\n        switch: off\n"));
    await h.engine.putVersion("src", {});
    await h.engine.idle();
    expect(await h.runs("build")).toEqual([]);
    const why = await h.engine.why("build");
    expect(why.explains[0]).toMatchObject({ outcome: "skipped", message: "input src has switch: off" });
  });

  it("a paused job is not triggered automatically, but a manual run works", async () => {
    await h.apply(CHAIN);
    await h.engine.setPaused("build", true);
    await h.engine.putVersion("src", {});
    await h.engine.idle();
    expect(await h.runs("build")).toEqual([]);
    expect((await h.engine.why("build")).explains[0]?.message).toBe("job build is paused");
    const manual = await h.engine.trigger("build", { user: "ann" });
    expect((await h.engine.waitForRun(manual.id)).status).toBe("success");
    await h.engine.setPaused("build", false);
    const { runs } = await h.engine.putVersion("src", {});
    expect(runs).toHaveLength(1);
  });

  it("a pinned input does not trigger, and runs use the pinned version", async () => {
    await h.apply(CHAIN);
    await h.engine.putVersion("src", { versionName: "two" });
    await h.engine.idle();
    await h.engine.setPin("build", "src", 1);
    const { runs } = await h.engine.putVersion("src", { versionName: "three" });
    expect(runs).toEqual([]);
    expect((await h.engine.why("build")).explains[0]?.message).toBe("input src is pinned to version 1");
    const manual = await h.engine.trigger("build");
    expect(manual.inputs[0]).toMatchObject({ versionNumber: 1, pinned: true });
    await h.engine.setPin("build", "src", null);
    const again = await h.engine.trigger("build");
    expect(again.inputs[0]).toMatchObject({ versionNumber: 3, pinned: false });
    await h.engine.idle();
  });

  it("a YAML pin (versionNumber on the IN) is used and never triggers", async () => {
    await h.apply(CHAIN.replace("      - IN: src\n", "      - IN: src\n        versionNumber: 1\n"));
    const { runs } = await h.engine.putVersion("src", {});
    expect(runs).toEqual([]);
    const manual = await h.engine.trigger("build");
    expect(manual.inputs[0]).toMatchObject({ versionNumber: 1, pinned: true });
    await h.engine.idle();
  });

  it("a manual run takes typed parameters as environment variables, never as script text", async () => {
    await h.apply(`
jobs:
  - name: greet
    type: runSh
    params:
      WHO: { type: string, required: true }
      TIMES: { type: number, default: 2 }
    steps:
      - TASK: { script: [ 'echo "hello $WHO x$TIMES"' ] }
`);
    await expect(h.engine.trigger("greet")).rejects.toMatchObject({ code: "INVALID_PARAM" });
    await expect(h.engine.trigger("greet", { params: { WHO: "x", TIMES: "many" } })).rejects.toMatchObject({
      code: "INVALID_PARAM",
    });
    const run = await h.engine.trigger("greet", { params: { WHO: "$(touch /tmp/never)" } });
    expect((await h.engine.waitForRun(run.id)).status).toBe("success");
    expect(await h.log(run.id)).toContain("hello $(touch /tmp/never) x2");
  });
});

describe("outputs", () => {
  const OUT = (extra: string, script: string) => `
resources:
  - name: src
    type: params
    versionTemplate: { params: { A: "1" } }
  - name: img
    type: image
    versionTemplate: { sourceName: acme/app, versionName: latest }
jobs:
  - name: build
    type: runSh
    steps:
      - IN: src
      - TASK: { script: [ '${script}' ] }
      - OUT: img${extra}
  - name: use
    type: runSh
    steps:
      - IN: img
      - TASK: { script: [ "true" ] }
`;

  it("an OUT version is created on success when versionName or propertyBag changed, and it triggers consumers", async () => {
    await h.apply(OUT("", "shipctl put_resource_state img versionName v$BUILD_NUMBER"));
    const { runs } = await h.engine.putVersion("src", {});
    await h.engine.waitForRun(runs[0]?.id ?? 0);
    const [latest] = await h.stores.store.read.listVersions("img");
    expect(latest).toMatchObject({ versionNumber: 2, versionName: "v1", createdBy: `run:${runs[0]?.id}` });
    const use = await eventually(async () => (await h.runs("use"))[0]);
    expect(use.trigger).toMatchObject({ kind: "version", by: "img" });
    await h.engine.idle();
  });

  it("an unchanged OUT makes no version and triggers nothing, and the explain record says so", async () => {
    await h.apply(OUT("", "shipctl put_resource_state img versionName latest"));
    const { runs } = await h.engine.putVersion("src", {});
    await h.engine.waitForRun(runs[0]?.id ?? 0);
    await h.engine.idle();
    expect((await h.stores.store.read.listVersions("img")).map((v) => v.versionNumber)).toEqual([1]);
    expect(await h.runs("use")).toEqual([]);
    const why = await h.engine.why("build");
    expect(why.explains.map((e) => e.message)).toContain("OUT img unchanged: no new version, nothing triggered");
  });

  it("a failed run posts no OUT version unless on_failure: true", async () => {
    await h.apply(OUT("", "shipctl put_resource_state img versionName broken; exit 1"));
    const first = await h.engine.putVersion("src", {});
    await h.engine.waitForRun(first.runs[0]?.id ?? 0);
    expect((await h.stores.store.read.listVersions("img")).length).toBe(1);
    await h.apply(OUT("\n        on_failure: true", "shipctl put_resource_state img versionName broken; exit 1"));
    const second = await h.engine.putVersion("src", {});
    await h.engine.waitForRun(second.runs[0]?.id ?? 0);
    expect((await h.stores.store.read.listVersions("img"))[0]?.versionName).toBe("broken");
    await h.engine.idle();
  });

  it("replicate copies the version of an IN; overwrite starts from an empty bag", async () => {
    await h.apply(`
resources:
  - name: a
    type: image
    versionTemplate: { sourceName: acme/a, versionName: "1.0" }
  - name: b
    type: image
    versionTemplate: { sourceName: acme/b, versionName: "0.1", extra: kept }
jobs:
  - name: copy
    type: runSh
    steps:
      - IN: a
      - TASK: { script: [ "true" ] }
      - OUT: b
        replicate: a
        overwrite: true
`);
    const { runs } = await h.engine.putVersion("a", { versionName: "2.0", propertyBag: { sha: "abc" } });
    await h.engine.waitForRun(runs[0]?.id ?? 0);
    const [b] = await h.stores.store.read.listVersions("b");
    expect(b).toMatchObject({
      versionName: "2.0",
      propertyBag: { sourceName: "acme/a", versionName: "1.0", sha: "abc" },
    });
    expect(b?.propertyBag).not.toHaveProperty("extra");
  });
});

describe("state", () => {
  it("job state reaches the next run ($JOB_PREVIOUS_STATE) and downstream jobs ($<UPSTREAM>_STATE)", async () => {
    await h.apply(`
jobs:
  - name: counter
    type: runSh
    steps:
      - TASK:
          script:
            - n=$(cat "$JOB_PREVIOUS_STATE/count" 2>/dev/null || echo 0)
            - echo $((n + 1)) > "$JOB_STATE/count"
  - name: reader
    type: runSh
    steps:
      - IN: counter
      - TASK:
          script:
            - echo "upstream count $(cat "$COUNTER_STATE/count")"
`);
    const one = await h.engine.trigger("counter");
    await h.engine.waitForRun(one.id);
    await h.engine.idle();
    const two = await h.engine.trigger("counter");
    await h.engine.waitForRun(two.id);
    await h.engine.idle();
    const readers = await h.runs("reader");
    expect(readers).toHaveLength(2);
    expect(await h.log(readers[1]?.id ?? 0)).toContain("upstream count 2");
  });

  it("a state resource is IN and OUT of one job and never triggers anything", async () => {
    await h.apply(`
resources:
  - name: tfstate
    type: state
jobs:
  - name: provision
    type: runSh
    steps:
      - IN: tfstate
      - TASK:
          script:
            - prev=$(cat "$TFSTATE_STATE/serial" 2>/dev/null || echo 0)
            - echo $((prev + 1)) > "$JOB_PATH/OUT/tfstate/state/serial"
      - OUT: tfstate
`);
    const first = await h.engine.trigger("provision");
    await h.engine.waitForRun(first.id);
    const second = await h.engine.trigger("provision");
    await h.engine.waitForRun(second.id);
    await h.engine.idle();
    expect(await h.runs("provision")).toHaveLength(2);
    const versions = await h.stores.store.read.listVersions("tfstate");
    expect(versions.map((v) => v.versionNumber)).toEqual([3, 2, 1]);
    expect(versions[0]?.stateSha).toBe(versions[0]?.versionName);
  });
});

describe("inconsistent jobs", () => {
  it("a manual run of an inconsistent job is refused with JOB_INCONSISTENT and explained", async () => {
    const { loadPipeline } = await import("@causeway/core");
    const loaded = loadPipeline([
      {
        path: "causeway.yml",
        text: "jobs:\n  - name: broken\n    type: runSh\n    steps:\n      - IN: ghost\n      - TASK: { script: [ 'true' ] }\n",
      },
    ]);
    await h.engine.apply(loaded.pipeline);
    await expect(h.engine.trigger("broken")).rejects.toMatchObject({ code: "JOB_INCONSISTENT" });
    const why = await h.engine.why("broken");
    expect(why.consistent).toBe(false);
    expect(why.explains[0]?.message).toBe("job broken is inconsistent (see causeway validate)");
  });
});

describe("review fixes", () => {
  it("removing a job ends its runs that have not started", async () => {
    await h.apply(`
jobs:
  - name: busy
    type: runSh
    steps:
      - TASK: { script: [ "while [ ! -e ${h.dir}/go ]; do sleep 0.02; done" ] }
  - name: later
    type: runSh
    concurrencyGroup: g
    steps:
      - TASK: { script: [ "true" ] }
  - name: blocker
    type: runSh
    concurrencyGroup: g
    steps:
      - TASK: { script: [ "while [ ! -e ${h.dir}/go ]; do sleep 0.02; done" ] }
`);
    await h.engine.trigger("blocker");
    const queued = await h.engine.trigger("later");
    expect(queued.status).toBe("queued");
    await h.apply(`
jobs:
  - name: blocker
    type: runSh
    concurrencyGroup: g
    steps:
      - TASK: { script: [ "while [ ! -e ${h.dir}/go ]; do sleep 0.02; done" ] }
`);
    const ended = await h.stores.store.read.getRun(queued.id);
    expect(ended).toMatchObject({ status: "cancelled", statusReason: "the job was removed from the line" });
    await import("node:fs/promises").then((fs) => fs.writeFile(`${h.dir}/go`, ""));
    await h.engine.idle();
  });

  it("a version put from outside on a params resource lands in params (as $KEY for jobs)", async () => {
    await h.apply(CHAIN);
    const { version, runs } = await h.engine.putVersion("src", { propertyBag: { GREETING: "salut" } });
    expect(version.propertyBag).toEqual({ params: { GREETING: "salut" } });
    await h.engine.waitForRun(runs[0]?.id ?? 0);
    expect(await h.log(runs[0]?.id ?? 0)).toContain("building salut");
  });

  it("cancelling a queued upstream run releases a strict job waiting for it", async () => {
    await h.apply(`
jobs:
  - name: up1
    type: runSh
    steps:
      - TASK: { script: [ "true" ] }
  - name: up2
    type: runSh
    concurrencyGroup: g
    steps:
      - TASK: { script: [ "true" ] }
  - name: hold
    type: runSh
    concurrencyGroup: g
    steps:
      - TASK: { script: [ "while [ ! -e ${h.dir}/go2 ]; do sleep 0.02; done" ] }
  - name: fan
    type: runSh
    dependencyMode: strict
    steps:
      - IN: up1
      - IN: up2
      - TASK: { script: [ "true" ] }
`);
    await h.engine.trigger("hold");
    const blocked = await h.engine.trigger("up2");
    await h.engine.waitForRun((await h.engine.trigger("up1")).id);
    const waiting = await eventually(async () => (await h.runs("fan")).find((r) => r.status === "waiting"));
    await h.engine.cancel(blocked.id);
    const released = await eventually(async () => {
      const r = await h.stores.store.read.getRun(waiting.id);
      return r?.status === "waiting" ? undefined : r;
    });
    expect(["queued", "processing", "success"]).toContain(released.status);
    await import("node:fs/promises").then((fs) => fs.writeFile(`${h.dir}/go2`, ""));
    await h.engine.idle();
  });
});
