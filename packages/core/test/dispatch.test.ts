import { describe, expect, it } from "vitest";
import { loadPipeline, selectRuns, type JobDef, type Run } from "../src/index.js";

// The dispatcher's pure rule (design §3): slots, serial, concurrency groups, chrono neighbours.

function jobs(yaml: string): Map<string, JobDef> {
  const result = loadPipeline([{ path: "causeway.yml", text: yaml }]);
  return new Map(result.pipeline.jobs.map((j) => [j.name, j]));
}

let nextId = 1;
function run(job: string, trigger: Run["trigger"] = { kind: "manual", by: "ann" }, priority = 9999): Run {
  return {
    id: nextId++,
    job,
    number: 1,
    status: "queued",
    statusReason: null,
    trigger,
    flow: "f",
    inputs: [],
    params: {},
    secretParams: [],
    priority,
    attempt: 1,
    rerunOf: null,
    exitCode: null,
    createdAt: "",
    startedAt: null,
    finishedAt: null,
  };
}

//   up ──> down        (down is chrono, but its IN `src` is immediate)
//   src ──┘
const LINE = `
resources:
  - name: src
    type: params
    versionTemplate: { params: { A: "1" } }
jobs:
  - name: up
    type: runSh
    steps:
      - TASK: { script: [ "true" ] }
  - name: down
    type: runSh
    steps:
      - IN: up
      - IN: src
        dependencyMode: immediate
      - TASK: { script: [ "true" ] }
`;

describe("selectRuns", () => {
  const defs = jobs(LINE);
  const state = (processing: Record<string, number>, freeSlots = 2) => ({
    processingByJob: new Map(Object.entries(processing)),
    processingGroups: new Set<string>(),
    neighbours: (j: string) => (j === "down" ? ["up"] : ["down"]),
    freeSlots,
  });
  const down = defs.get("down") as JobDef;

  it("holds a chrono run while a connected job is processing", () => {
    const r = run("down", { kind: "upstream", by: "up" });
    const { start, blocked } = selectRuns([{ run: r, job: down }], state({ up: 1 }));
    expect(start).toEqual([]);
    expect(blocked.get(r.id)).toBe("waiting: connected job up is processing (chrono)");
  });

  it("starts a run triggered through an immediate input even while a connected job is processing", () => {
    const r = run("down", { kind: "version", by: "src", versionId: 1 });
    expect(selectRuns([{ run: r, job: down }], state({ up: 1 })).start).toEqual([r]);
  });

  it("keeps serial runs in order and respects the free slots and priority", () => {
    const a = run("down", { kind: "version", by: "src" }, 5);
    const b = run("down", { kind: "version", by: "src" }, 5);
    const c = run("up", undefined, 1);
    const { start, blocked } = selectRuns(
      [
        { run: b, job: down },
        { run: a, job: down },
        { run: c, job: defs.get("up") as JobDef },
      ],
      state({}, 1),
    );
    expect(start).toEqual([c]);
    expect(blocked.get(a.id)).toBe("waiting: every runner slot is busy");
    expect(blocked.get(b.id)).toBe("waiting: an earlier run of down is queued (serial)");
  });
});
