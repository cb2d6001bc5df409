import { loadFacts, loadPipeline, type LoadResult } from "@causeway/core";
import { afterEach, describe, expect, it } from "vitest";
import { eventually, makeHarness, type Harness } from "./harness.js";

// Applying a line whose files do not all load (issue 8): an object is removed only when a file
// that loaded no longer defines it, or when its file is gone; the objects of a refused file are
// kept as they were, with their pending runs. Real SQLite, real bash.

let h: Harness;
afterEach(async () => {
  await h.close();
});

//   a.causeway.yml: cfg ──> build          b.causeway.yml: nightly, report (IN build)
const A = `
resources:
  - name: cfg
    type: params
    versionTemplate:
      params:
        GREETING: hello
jobs:
  - name: build
    type: runSh
    steps:
      - IN: cfg
      - TASK:
          script:
            - echo "building $GREETING"
`;
const B = `
jobs:
  - name: nightly
    type: runSh
    steps:
      - TASK:
          script:
            - echo nightly
  - name: report
    type: runSh
    steps:
      - IN: build
      - TASK:
          script:
            - echo report
`;
const SLEEPER = `
  - name: sleeper
    type: runSh
    steps:
      - TASK:
          script:
            - sleep 30
`;

/** Loads files as an apply does (the line as applied known) and applies them. */
async function applyFiles(
  files: Record<string, string>,
  by = "test",
): Promise<{ load: LoadResult; report: Awaited<ReturnType<Harness["engine"]["apply"]>> }> {
  const load = loadPipeline(
    Object.entries(files).map(([path, text]) => ({ path, text })),
    { applied: h.engine.appliedFiles() },
  );
  const report = await h.engine.apply(load.pipeline, {
    refused: load.refused.map((r) => r.path),
    history: { ...loadFacts(load), source: "api", by, dir: null },
  });
  return { load, report };
}

const definitions = async () =>
  Object.fromEntries((await h.stores.store.read.listObjects()).map((o) => [o.name, JSON.stringify(o.definition)]));

describe("a refused file", () => {
  it("keeps its objects as they were, and their queued runs; fixing the file applies normally", async () => {
    h = await makeHarness({ slots: 1 });
    await applyFiles({ "a.causeway.yml": A + SLEEPER, "b.causeway.yml": B });
    // The only slot is busy, so a run of nightly stays queued.
    const sleeper = await h.engine.trigger("sleeper");
    await eventually(() => (h.engine.model.active.get(sleeper.id)?.status === "processing" ? true : undefined));
    const queued = await h.engine.trigger("nightly");
    expect(queued.status).toBe("queued");
    const before = await definitions();

    const { report, load } = await applyFiles({ "a.causeway.yml": A + SLEEPER, "b.causeway.yml": "jobs: [\n" });
    expect(load.refused.map((r) => [r.path, r.reason.code])).toEqual([["b.causeway.yml", "PIPELINE_YAML_SYNTAX"]]);
    expect(report).toMatchObject({ added: [], changed: [], removed: [], kept: ["nightly", "report"] });
    expect(await definitions()).toEqual(before);
    expect(h.engine.model.job("report")?.consistent).toBe(true);
    expect((await h.stores.store.read.getRun(queued.id))?.status).toBe("queued");

    // Fixed without nightly: now it is removed, and its queued run ends.
    const fixed = await applyFiles({
      "a.causeway.yml": A + SLEEPER,
      "b.causeway.yml": B.replace(/ {2}- name: nightly[\s\S]*?(?= {2}- name: report)/, ""),
    });
    expect(fixed.report).toMatchObject({ removed: ["nightly"], kept: [] });
    expect((await h.stores.store.read.getRun(queued.id))?.status).toBe("cancelled");
    await h.engine.cancel(sleeper.id);
    await h.engine.waitForRun(sleeper.id);
  });

  it("an object moved from a refused file to one that loads stays as it was until the refused file reads again", async () => {
    h = await makeHarness();
    await applyFiles({ "a.causeway.yml": A, "b.causeway.yml": B });
    const before = await definitions();
    const moved = A + B.replace("jobs:\n", "").replace(/ {2}- name: report[\s\S]*$/, "");
    const { report, load } = await applyFiles({ "a.causeway.yml": moved, "b.causeway.yml": "jobs: [\n" });
    expect(load.diagnostics.map((d) => d.code)).toContain("PIPELINE_DUPLICATE_NAME");
    expect(report).toMatchObject({ added: [], changed: [], removed: [], kept: ["nightly", "report"] });
    expect(await definitions()).toEqual(before);
    // b.causeway.yml reads again without nightly: the move completes.
    const done = await applyFiles({
      "a.causeway.yml": moved,
      "b.causeway.yml": B.replace(/ {2}- name: nightly[\s\S]*?(?= {2}- name: report)/, ""),
    });
    // (report changes too: its place in b.causeway.yml, part of its definition, moved up.)
    expect(done.report).toMatchObject({ changed: ["nightly", "report"], removed: [], kept: [] });
    expect(h.engine.model.objects.get("nightly")?.stored.definition).toMatchObject({
      origin: { file: "a.causeway.yml" },
    });
  });

  it("keeps a kept object even when the pipeline it is given names it (the engine does not rely on the loader)", async () => {
    h = await makeHarness();
    await applyFiles({ "a.causeway.yml": A, "b.causeway.yml": B });
    const before = await definitions();
    const load = loadPipeline([{ path: "a.causeway.yml", text: A + B.replace("jobs:\n", "") }]);
    const report = await h.engine.apply(load.pipeline, { refused: ["b.causeway.yml"] });
    expect(report).toMatchObject({ added: [], changed: [], removed: [], kept: ["nightly", "report"] });
    expect(await definitions()).toEqual(before);
  });
});

describe("removal", () => {
  it("removes the objects of a file that is gone, and those a loaded file no longer defines", async () => {
    h = await makeHarness();
    await applyFiles({ "a.causeway.yml": A, "b.causeway.yml": B });
    const { report } = await applyFiles({
      "a.causeway.yml": A.replace(/resources:[\s\S]*?jobs:/, "jobs:").replace("      - IN: cfg\n", ""),
    });
    expect(report).toMatchObject({ removed: ["cfg", "nightly", "report"], kept: [] });
  });

  it("an empty file parses and defines nothing: its objects are removed", async () => {
    h = await makeHarness();
    await applyFiles({ "a.causeway.yml": A, "b.causeway.yml": B });
    const { report, load } = await applyFiles({ "a.causeway.yml": A, "b.causeway.yml": "" });
    expect(load.refused).toEqual([]);
    expect(report.removed).toEqual(["nightly", "report"]);
  });
});

describe("the apply history", () => {
  it("records each apply with its files, what changed, what was kept and the errors", async () => {
    h = await makeHarness();
    await applyFiles({ "a.causeway.yml": A, "b.causeway.yml": B }, "alice");
    await applyFiles({ "a.causeway.yml": A.replace("hello", "bonjour"), "b.causeway.yml": "jobs: [\n" }, "bob");
    const [second, first] = await h.stores.store.read.listApplies();
    expect(first).toMatchObject({
      source: "api",
      by: "alice",
      added: ["cfg", "build", "nightly", "report"],
      errors: 0,
      files: [
        { path: "a.causeway.yml", status: "loaded" },
        { path: "b.causeway.yml", status: "loaded" },
      ],
    });
    expect(second).toMatchObject({
      by: "bob",
      changed: ["cfg"],
      removed: [],
      kept: ["nightly", "report"],
      errors: 1,
      files: [
        { path: "a.causeway.yml", status: "loaded" },
        {
          path: "b.causeway.yml",
          status: "refused",
          reason: { code: "PIPELINE_YAML_SYNTAX", file: "b.causeway.yml", line: 2, col: 1 },
        },
      ],
      problems: [{ code: "PIPELINE_YAML_SYNTAX", file: "b.causeway.yml" }],
    });
  });

  it("keeps the newest entries only", async () => {
    h = await makeHarness({ applyHistory: 3 });
    for (let i = 0; i < 5; i++) await applyFiles({ "a.causeway.yml": A }, `u${i}`);
    expect((await h.stores.store.read.listApplies()).map((a) => a.by)).toEqual(["u4", "u3", "u2"]);
  });
});
