import { mkdir, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { nodePipelineFs } from "../src/index.js";
import { pipelineApplier } from "../src/pipeline-applier.js";
import { collectingLogger, testApp, yaml } from "./helpers.js";

// The watcher's applier settles before it refuses a file or removes an object: the reads below
// are of real files, and a test changes a file right after the applier has read it, so each
// interleaving of a writer and the applier is played exactly, without timing.

const A = yaml`
  jobs:
    - name: build
      type: runSh
      steps:
        - TASK:
            script: [make]
`;
const B = yaml`
  jobs:
    - name: report
      type: runSh
      steps:
        - TASK:
            script: [./report]
`;

let h: Awaited<ReturnType<typeof testApp>>;
let dir = "";
beforeEach(async () => {
  h = await testApp();
  dir = join(h.dir, "line");
  await mkdir(dir);
});
afterEach(() => h.close());

/**
 * An applier on `dir` whose reads of `path` run `after(n)` once the n-th read (1-based) is
 * done: what a writer does between two reads of the applier.
 */
function applier(path: string, after: (n: number) => Promise<void> = () => Promise.resolve()) {
  const disk = nodePipelineFs(dir);
  let reads = 0;
  const logger = collectingLogger();
  const it = pipelineApplier(h.engine, dir, {
    logger,
    settleMs: 1,
    maxSettleReads: 4,
    fs: {
      list: (d) => disk.list(d),
      read: async (p) => {
        const text = await disk.read(p);
        if (p === path) await after(++reads);
        return text;
      },
    },
  });
  return { apply: () => it.apply(), logger, reads: () => reads };
}

const applies = () => h.stores.store.read.listApplies();

async function applyBoth(): Promise<void> {
  await writeFile(join(dir, "a.causeway.yml"), A);
  await writeFile(join(dir, "b.causeway.yml"), B);
  await applier("b.causeway.yml").apply();
  expect((await applies())[0]).toMatchObject({ added: ["build", "report"] });
}

describe("the pipeline applier", () => {
  it("reads again a file found empty, and applies it whole: nothing is removed", async () => {
    await applyBoth();
    await writeFile(join(dir, "b.causeway.yml"), "");
    const a = applier("b.causeway.yml", async (n) => {
      if (n === 1) await writeFile(join(dir, "b.causeway.yml"), B.replace("./report", "./report --all"));
    });
    await a.apply();
    const [last, ...earlier] = await applies();
    expect(earlier).toHaveLength(1);
    expect(last).toMatchObject({ source: "watcher", by: "watcher", changed: ["report"], removed: [], kept: [] });
    // The second read neither refuses nor removes: it needs no settling of its own.
    expect(a.reads()).toBe(2);
  });

  it("applies a file that stays empty once it settles: its objects are removed", async () => {
    await applyBoth();
    await writeFile(join(dir, "b.causeway.yml"), "");
    const a = applier("b.causeway.yml");
    await a.apply();
    expect((await applies())[0]).toMatchObject({ removed: ["report"], kept: [] });
    expect(a.reads()).toBe(2);
  });

  it("applies a refusal once it settles: the file's objects are kept, and the refusal is logged", async () => {
    await applyBoth();
    await writeFile(join(dir, "b.causeway.yml"), "jobs: [\n");
    const a = applier("b.causeway.yml");
    await a.apply();
    expect((await applies())[0]).toMatchObject({ removed: [], kept: ["report"], errors: 1 });
    expect(a.reads()).toBe(2);
    const warned = a.logger.entries.find((e) => e.level === "warn" && e.msg.startsWith("  refused b.causeway.yml"));
    expect(warned?.msg).toContain("b.causeway.yml:2:1 PIPELINE_YAML_SYNTAX");
    expect(a.logger.lines.some((l) => l.includes("refused 1 file, 1 object kept"))).toBe(true);
  });

  it("applies nothing while the files change at every read (the watcher brings the next apply)", async () => {
    await applyBoth();
    await writeFile(join(dir, "b.causeway.yml"), "");
    const a = applier("b.causeway.yml", (n) => writeFile(join(dir, "b.causeway.yml"), "#".repeat(n)));
    await a.apply();
    expect(await applies()).toHaveLength(1);
    expect(a.reads()).toBe(4);
    expect(a.logger.entries).toContainEqual(
      expect.objectContaining({ level: "warn", msg: expect.stringMatching(/still changing/) as unknown }),
    );
  });

  it("does not settle a load that removes nothing and refuses nothing", async () => {
    await applyBoth();
    const a = applier("b.causeway.yml");
    await writeFile(join(dir, "b.causeway.yml"), B.replace("./report", "./report --all"));
    await a.apply();
    expect(a.reads()).toBe(1);
    expect((await applies())[0]).toMatchObject({ changed: ["report"] });
  });

  it("applies no directory without a pipeline file, and records nothing", async () => {
    await applyBoth();
    await rm(join(dir, "a.causeway.yml"));
    await rm(join(dir, "b.causeway.yml"));
    const a = applier("b.causeway.yml");
    await a.apply();
    expect(await applies()).toHaveLength(1);
    expect(h.engine.view.job("report")).toBeDefined();
    expect(a.logger.lines.some((l) => l.includes("no pipeline file found; nothing applied"))).toBe(true);
  });
});

describe("the pipeline applier's one-at-a-time loop", () => {
  // An apply asked while the loop ends (its last pass over, its promise not settled yet) is an
  // apply more, never merged into a pass that already read the line: a git source's poller
  // awaits it and then takes the commit as applied.
  it.each([0, 1, 2, 3, 4, 5])("applies a cause asked %i microtasks after the last pass logged", async (depth) => {
    await writeFile(join(dir, "a.causeway.yml"), A);
    let asked = false;
    let late!: (done: Promise<void>) => void;
    const lateDone = new Promise<void>((resolve) => (late = resolve));
    const logger = collectingLogger();
    const it = pipelineApplier(h.engine, dir, {
      settleMs: 1,
      logger: {
        ...logger,
        info: (msg, fields) => {
          logger.info(msg, fields);
          if (asked) return;
          asked = true;
          let ask = (): void => late(it.apply({ source: "git", by: "late" }));
          for (let i = 0; i < depth; i++) {
            const next = ask;
            ask = () => queueMicrotask(next);
          }
          queueMicrotask(ask);
        },
      },
    });
    await it.apply();
    await lateDone;
    expect((await applies()).map((a) => a.by)).toEqual(["late", "watcher"]);
  });
});
