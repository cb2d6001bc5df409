import { describe, expect, it } from "vitest";
import { DEFAULT_POOL, DispatchQueue, loadPipeline, poolOf, selectRuns, type JobDef, type Run } from "../src/index.js";

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
    freeSlots: new Map([[DEFAULT_POOL, freeSlots]]),
    capacity: new Map([[DEFAULT_POOL, 2]]),
    poolOf: () => DEFAULT_POOL,
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

  it("without reasons, stops once no slot is left and starts the same runs", () => {
    const par = jobs(`
jobs:
  - name: par
    type: runSh
    triggerMode: parallel
    steps:
      - TASK: { script: [ "true" ] }
`).get("par") as JobDef;
    const queued = [4, 3, 2, 1].map((p) => ({ run: run("par", undefined, p), job: par }));
    const all = selectRuns(queued, state({}, 2));
    const some = selectRuns(queued, state({}, 2), { reasons: false });
    expect(some.start).toEqual(all.start);
    expect(all.start.map((r) => r.priority)).toEqual([1, 2]);
    expect(all.blocked.size).toBe(2);
    expect(some.blocked.size).toBe(0);
    // A run held for another reason is said when looked at before the slots ran out.
    const serial = { run: run("down", { kind: "version", by: "src" }, 0), job: down };
    const held = selectRuns(
      [...queued, serial],
      { ...state({ down: 1 }, 1), neighbours: () => [] },
      { reasons: false },
    );
    expect(held.start.map((r) => r.priority)).toEqual([1]);
    expect([...held.blocked.keys()]).toEqual([serial.run.id]);
    // No free slot at all: nothing is looked at.
    expect(selectRuns(queued, state({}, 0), { reasons: false })).toEqual({ start: [], blocked: new Map() });
  });
});

describe("runner pools", () => {
  const defs = jobs(`
resources:
  - name: src
    type: params
    versionTemplate: { params: { A: "1" } }
jobs:
  - name: plain
    type: runSh
    steps:
      - TASK: { script: [ "true" ] }
  - name: mac
    type: runSh
    runtime: { nodePool: macs }
    steps:
      - TASK: { script: [ "true" ] }
  - name: mac2
    type: runSh
    runtime: { nodePool: macs }
    steps:
      - TASK: { script: [ "true" ] }
`);
  const mac2 = defs.get("mac2") as JobDef;
  const plain = defs.get("plain") as JobDef;
  const mac = defs.get("mac") as JobDef;
  const state = (free: Record<string, number>, capacity: Record<string, number>) => ({
    processingByJob: new Map<string, number>(),
    processingGroups: new Set<string>(),
    neighbours: () => [],
    freeSlots: new Map(Object.entries(free)),
    capacity: new Map(Object.entries(capacity)),
    poolOf,
  });

  it("names a job's pool: its nodePool, else the default pool", () => {
    expect(poolOf(mac)).toBe("macs");
    expect(poolOf(plain)).toBe(DEFAULT_POOL);
  });

  it("counts the free slots of each pool apart", () => {
    const runs = [run("mac"), run("mac2"), run("plain")];
    const { start, blocked } = selectRuns(
      runs.map((r) => ({ run: r, job: r.job === "mac" ? mac : r.job === "mac2" ? mac2 : plain })),
      state({ macs: 1, [DEFAULT_POOL]: 1 }, { macs: 1, [DEFAULT_POOL]: 2 }),
    );
    expect(start.map((r) => r.id)).toEqual([runs[0]!.id, runs[2]!.id]);
    expect(blocked.get(runs[1]!.id)).toBe("waiting: every runner slot of pool macs is busy");
  });

  it("says when no live runner serves a pool, and when none serves the default pool", () => {
    const m = run("mac");
    const p = run("plain");
    const { start, blocked } = selectRuns(
      [
        { run: m, job: mac },
        { run: p, job: plain },
      ],
      state({}, {}),
    );
    expect(start).toEqual([]);
    expect(blocked.get(m.id)).toBe("waiting: no live runner in pool macs");
    expect(blocked.get(p.id)).toBe("waiting: no live runner serves jobs without a nodePool");
  });
});

describe("DispatchQueue", () => {
  const ids = (queue: DispatchQueue): number[] => [...queue].map((r) => r.id);

  it("keeps runs in dispatch order: priority (0 first), then creation, whatever order they come in", () => {
    const queue = new DispatchQueue();
    const [a, b, c, d] = [run("a"), run("b", undefined, 5), run("c"), run("d", undefined, 0)];
    for (const r of [c, a, d, b]) queue.add(r);
    expect(ids(queue)).toEqual([d.id, b.id, a.id, c.id]);
    expect(queue.size).toBe(4);
  });

  it("removes a run as it was added, also when its new state has another priority; an absent run changes nothing", () => {
    const queue = new DispatchQueue();
    const [a, b, c] = [run("a", undefined, 7), run("b", undefined, 7), run("c", undefined, 7)];
    for (const r of [a, b, c]) queue.add(r);
    queue.remove(b);
    expect(ids(queue)).toEqual([a.id, c.id]);
    // Moved to the front: the old state leaves, the new one enters.
    const moved = { ...c, priority: 0 };
    queue.remove(c);
    queue.add(moved);
    expect(ids(queue)).toEqual([c.id, a.id]);
    queue.remove(run("x", undefined, 7));
    queue.remove(b);
    expect(ids(queue)).toEqual([c.id, a.id]);
    queue.clear();
    expect(ids(queue)).toEqual([]);
  });

  it("gives selectRuns its runs in order, which looks no further than the free slots", () => {
    const defs = jobs(LINE);
    const queue = new DispatchQueue();
    const [late, early] = [run("up"), run("up", undefined, 1)];
    queue.add(late);
    queue.add(early);
    let looked = 0;
    const candidates = (function* () {
      for (const r of queue) {
        looked++;
        yield { run: r, job: defs.get(r.job)! };
      }
    })();
    const state = {
      processingByJob: new Map(),
      processingGroups: new Set<string>(),
      neighbours: () => [],
      freeSlots: new Map([[DEFAULT_POOL, 1]]),
      capacity: new Map([[DEFAULT_POOL, 1]]),
      poolOf,
    };
    const { start } = selectRuns(candidates, state, { reasons: false, ordered: true });
    expect(start.map((r) => r.id)).toEqual([early.id]);
    expect(looked).toBe(1);
  });
});
