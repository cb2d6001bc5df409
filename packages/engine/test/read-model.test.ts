import { describe, expect, it } from "vitest";
import { loadPipeline, type JobDef, type Mapping, type Run, type RunStatus } from "@causeway/core";
import { ReadModel } from "../src/read-model.js";

// The read model's indexes of active runs: by status (what the dispatcher and `idle` read) and
// the holders of waiting strict runs (`freedBy`), which must give what walking every waiting
// run's upstream jobs at every settle gave.

/** A model of the line `yaml` (jobs only), with no runs. */
function modelOf(yaml: string): ReadModel {
  const loaded = loadPipeline([{ path: "causeway.yml", text: yaml }]);
  if (!loaded.ok) throw new Error(JSON.stringify(loaded.diagnostics));
  const model = new ReadModel();
  for (const job of loaded.pipeline.jobs) setJob(model, job);
  model.relink();
  return model;
}

/** Stores `job`'s definition in `model` (relink to see its edges). */
function setJob(model: ReadModel, job: JobDef): void {
  model.setObject({
    name: job.name,
    kind: "job",
    type: job.type,
    definition: job as unknown as Mapping,
    consistent: true,
    paused: false,
    deletedAt: null,
  });
}

function run(id: number, job: string, status: RunStatus): Run {
  return {
    id,
    job,
    number: id,
    status,
    statusReason: null,
    trigger: { kind: "manual", by: "test" },
    flow: "f",
    inputs: [],
    params: {},
    secretParams: [],
    priority: 9999,
    attempt: 1,
    rerunOf: null,
    exitCode: null,
    createdAt: "2026-01-01T00:00:00.000Z",
    startedAt: null,
    finishedAt: null,
  };
}

/** Tracks the runs given as [id, job, status], in order. */
function track(model: ReadModel, ...runs: (readonly [number, string, RunStatus])[]): void {
  for (const [id, job, status] of runs) model.trackRun(run(id, job, status));
}

const job = (name: string, ins: readonly string[]): string =>
  [
    `  - name: ${name}`,
    "    type: runSh",
    "    dependencyMode: strict",
    "    steps:",
    ...ins.map((i) => `      - IN: ${i}`),
    "      - TASK: { script: [ 'true' ] }",
  ].join("\n");

// a ──> b ──┐
//           ├──> join
// c ────────┘
const LINE = `jobs:\n${[job("a", []), job("b", ["a"]), job("c", []), job("join", ["b", "c"])].join("\n")}\n`;

describe("ReadModel: active runs by status", () => {
  it("keeps each active run under its current status only, and drops it once final", () => {
    const model = modelOf(LINE);
    track(model, [1, "a", "queued"], [2, "c", "waiting"]);
    expect([...model.withStatus("queued")].map((r) => r.id)).toEqual([1]);
    model.trackRun(run(1, "a", "processing"));
    expect(model.countWithStatus("queued")).toBe(0);
    expect([...model.withStatus("processing")].map((r) => r.id)).toEqual([1]);
    model.trackRun(run(1, "a", "success"));
    expect(model.countWithStatus("processing")).toBe(0);
    expect([...model.withStatus("waiting")].map((r) => r.id)).toEqual([2]);
    expect(model.active.has(1)).toBe(false);
  });

  it("gives the queued runs in dispatch order (priority, then creation), however they became queued", () => {
    const model = modelOf(LINE);
    // Run 2 waited and is queued after run 3; run 4 has the first priority.
    track(model, [2, "b", "waiting"], [3, "c", "queued"], [1, "a", "processing"]);
    model.trackRun({ ...run(4, "join", "queued"), priority: 0 });
    model.trackRun(run(2, "b", "queued"));
    expect([...model.queued()].map((r) => r.id)).toEqual([4, 2, 3]);
    // A queued run whose state changes stays once; one that starts or ends leaves.
    model.trackRun({ ...run(2, "b", "queued"), statusReason: "waiting: every runner slot is busy" });
    model.trackRun(run(4, "join", "processing"));
    model.trackRun(run(3, "c", "cancelled"));
    expect([...model.queued()].map((r) => r.id)).toEqual([2]);
  });
});

describe("ReadModel.busyUpstream", () => {
  it("names the upstream jobs with an active run, as runs start and end", () => {
    const model = modelOf(LINE);
    expect(model.busyUpstream("join")).toEqual({ count: 0, first: [] });
    track(model, [1, "a", "processing"], [2, "c", "queued"]);
    expect(model.busyUpstream("join")).toEqual({ count: 2, first: ["a", "c"] });
    track(model, [1, "a", "success"]);
    expect(model.busyUpstream("join")).toEqual({ count: 1, first: ["c"] });
    expect(model.activeRuns("a")).toEqual([]);
    // A job whose last run ended is busy again with its next one.
    track(model, [3, "a", "queued"], [2, "c", "failure"]);
    expect(model.busyUpstream("join")).toEqual({ count: 1, first: ["a"] });
    expect(model.activeRuns("a").map((r) => r.id)).toEqual([3]);
    expect(model.busyUpstream("b")).toEqual({ count: 1, first: ["a"] });
  });

  it("finds them whether the ancestors or the busy jobs are fewer", () => {
    // join has 3 ancestors; 5 jobs outside its upstream are busy, then none of them.
    const others = ["o1", "o2", "o3", "o4", "o5"];
    const model = modelOf(`${LINE}${others.map((o) => job(o, [])).join("\n")}\n`);
    track(model, ...others.map((o, i) => [10 + i, o, "processing"] as const), [1, "b", "processing"]);
    expect(model.busyUpstream("join")).toEqual({ count: 1, first: ["b"] });
    track(model, ...others.map((o, i) => [10 + i, o, "success"] as const));
    expect(model.busyUpstream("join")).toEqual({ count: 1, first: ["b"] });
    expect(model.busyUpstream("o1")).toEqual({ count: 0, first: [] });
  });
});

describe("ReadModel.busyUpstream, kept as jobs become busy and idle", () => {
  /** What walking the ancestors gives: every upstream job with an active run, in name order. */
  const walked = (model: ReadModel, name: string): string[] =>
    [...model.ancestors(name)].filter((j) => model.activeRuns(j).length > 0).sort();

  it("gives what walking the ancestors gives, through any sequence of run changes", () => {
    // 40 jobs, each with up to 3 parents among the earlier ones (a fixed pseudo-random line).
    let seed = 7;
    const next = (n: number): number => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    const names = Array.from({ length: 40 }, (_, i) => `j${i}`);
    const ins = names.map((_, i) => (i === 0 ? [] : [...new Set([next(i), next(i), next(i)])].map((p) => `j${p}`)));
    const model = modelOf(`jobs:\n${names.map((n, i) => job(n, ins[i] ?? [])).join("\n")}\n`);
    const statuses: RunStatus[] = ["waiting", "queued", "processing", "success", "failure", "cancelled"];
    const asked = ["j39", "j30", "j20", "j10"];
    for (const a of asked) expect(model.busyUpstream(a)).toEqual({ count: 0, first: [] });
    for (let step = 0; step < 2000; step++) {
      // Runs 1..80, two per job: a job is busy while either of its runs is not final.
      const id = 1 + next(80);
      model.trackRun(run(id, names[(id - 1) % 40] as string, statuses[next(statuses.length)] as RunStatus));
      const a = asked[step % asked.length] as string;
      const busy = walked(model, a);
      expect(model.busyUpstream(a)).toEqual({ count: busy.length, first: busy.slice(0, 5) });
    }
  });

  it("follows a change of the graph: a job's new upstream job counts once the line is relinked", () => {
    const model = modelOf(LINE);
    track(model, [1, "c", "processing"], [2, "x", "processing"]);
    expect(model.busyUpstream("join")).toEqual({ count: 1, first: ["c"] });
    // join now also takes x.
    const more = loadPipeline([
      {
        path: "causeway.yml",
        text: `jobs:\n${job("x", [])}\n${job("join", ["b", "c", "x"])}\n${job("a", [])}\n${job("b", ["a"])}\n${job("c", [])}\n`,
      },
    ]);
    if (!more.ok) throw new Error(JSON.stringify(more.diagnostics));
    for (const j of more.pipeline.jobs) setJob(model, j);
    model.relink();
    expect(model.busyUpstream("join")).toEqual({ count: 2, first: ["c", "x"] });
    track(model, [2, "x", "success"]);
    expect(model.busyUpstream("join")).toEqual({ count: 1, first: ["c"] });
  });
});

describe("ReadModel.freedBy (strict release)", () => {
  it("frees a waiting run once none of its upstream jobs is active, and only downstream of the settled job", () => {
    const model = modelOf(LINE);
    track(model, [1, "b", "processing"], [2, "c", "processing"], [3, "join", "waiting"]);
    // b and c hold join; c settling leaves b holding it.
    model.trackRun(run(2, "c", "success"));
    expect(model.freedBy("c")).toEqual([]);
    model.trackRun(run(1, "b", "success"));
    expect(model.freedBy("b").map((r) => r.id)).toEqual([3]);
    // A job that is no upstream of join frees nothing, though nothing holds join.
    const other = modelOf(`${LINE}${job("lone", [])}\n`);
    other.trackRun(run(3, "join", "waiting"));
    expect(other.freedBy("lone")).toEqual([]);
    expect(other.freedBy("c").map((r) => r.id)).toEqual([3]);
  });

  it("looks again at a run whose holder went idle when another upstream job settles", () => {
    // The first settle files join under one of its active upstream jobs (a or c); both end,
    // and the release is asked for one of them only: join is free whichever it is.
    for (const asked of ["a", "c"]) {
      const model = modelOf(LINE);
      track(model, [1, "a", "processing"], [2, "c", "processing"], [3, "join", "waiting"]);
      expect(model.freedBy("b")).toEqual([]);
      track(model, [1, "a", "success"], [2, "c", "success"]);
      expect(model.freedBy(asked).map((r) => r.id)).toEqual([3]);
    }
  });

  it("keeps a run held while its holder has another active run", () => {
    const model = modelOf(LINE);
    track(model, [1, "c", "processing"], [2, "c", "queued"], [3, "join", "waiting"], [1, "c", "success"]);
    expect(model.freedBy("c")).toEqual([]);
    track(model, [2, "c", "processing"], [2, "c", "failure"]);
    expect(model.freedBy("c").map((r) => r.id)).toEqual([3]);
  });

  it("looks again at every waiting run after the graph changed", () => {
    const model = modelOf(LINE);
    track(model, [1, "c", "processing"], [3, "join", "waiting"]);
    expect(model.freedBy("b")).toEqual([]);
    // join no longer takes c: c's active run holds it no more.
    const changed = loadPipeline([
      {
        path: "causeway.yml",
        text: `jobs:\n${[job("a", []), job("b", ["a"]), job("c", []), job("join", ["b"])].join("\n")}\n`,
      },
    ]);
    if (!changed.ok) throw new Error("line");
    const def = changed.pipeline.jobs.find((j) => j.name === "join");
    if (def === undefined) throw new Error("join");
    setJob(model, def);
    model.relink();
    expect(model.freedBy("b").map((r) => r.id)).toEqual([3]);
  });

  it("frees in creation order", () => {
    const model = modelOf(`jobs:\n${[job("c", []), job("x", ["c"]), job("y", ["c"])].join("\n")}\n`);
    track(model, [1, "c", "processing"], [7, "x", "waiting"], [6, "y", "waiting"]);
    expect(model.freedBy("c")).toEqual([]);
    model.trackRun(run(1, "c", "success"));
    expect(model.freedBy("c").map((r) => r.id)).toEqual([6, 7]);
  });

  it("never frees a run that left the waiting status", () => {
    const model = modelOf(LINE);
    track(model, [1, "c", "processing"], [5, "join", "waiting"], [4, "b", "waiting"], [1, "c", "success"]);
    // b waits on a (idle): free at a's settle; join is held by b's waiting run.
    expect(model.freedBy("a").map((r) => r.id)).toEqual([4]);
    model.trackRun(run(4, "b", "cancelled"));
    expect(model.freedBy("b").map((r) => r.id)).toEqual([5]);
    model.trackRun(run(5, "join", "queued"));
    expect(model.freedBy("c")).toEqual([]);
  });
});
