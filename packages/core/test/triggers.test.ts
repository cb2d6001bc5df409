import { describe, expect, it } from "vitest";
import {
  BUSY_NAMES_SHOWN,
  busyNames,
  type BusyUpstream,
  evaluateTrigger,
  inStep,
  modeFor,
  type DependencyMode,
  type JobTriggerContext,
  type LoadResult,
  type TriggerDecision,
  type TriggerEvent,
  type UpstreamState,
} from "../src/index.js";
import { job, loadOne, named, yaml } from "./helpers.js";

// The trigger rules of docs/semantics.md ("Triggers", "dependencyMode", "Queueing" for
// coalesce, "Job types that do not run scripts"), one row per sentence. Each line (loaded
// through core's loader) is drawn above the tables that run on it.

/** What the engine knows besides the definition; by default nothing holds the job back. */
interface Given {
  readonly paused?: boolean;
  readonly deleted?: boolean;
  /** Run-time pins (`causeway pin J X N`). */
  readonly pins?: Readonly<Record<string, number>>;
  /** IN jobs whose state differs from "its latest run succeeded, and it is idle". */
  readonly upstream?: Readonly<Record<string, Partial<Omit<UpstreamState, "name">>>>;
  readonly strictBusy?: readonly string[];
  readonly pendingRunId?: number;
  readonly waitingRunId?: number;
}

/**
 * The context the engine gathers (engine/src/triggering.ts `offer`): `inJobs` holds every IN
 * that is a job of the line, `switch: off` ones included, as the engine's read model does.
 */
function context(line: LoadResult, jobName: string, given: Given = {}): JobTriggerContext {
  const def = job(line, jobName);
  const jobs = new Set(line.pipeline.jobs.map((j) => j.name));
  const inJobs = def.steps
    .filter((s) => s.kind === "IN" && jobs.has(s.name))
    .map((s): UpstreamState => ({
      name: s.name,
      latestStatus: "success",
      active: false,
      hasSuccess: true,
      ...given.upstream?.[s.name],
    }));
  return {
    job: def,
    paused: given.paused ?? false,
    deleted: given.deleted ?? false,
    pins: new Map(Object.entries(given.pins ?? {})),
    inJobs,
    strictBusy: busyOf(given.strictBusy ?? []),
    pendingRunId: given.pendingRunId,
    waitingRunId: given.waitingRunId,
  };
}

/** What the engine's read model gives the strict rule: the count, the first names in name order. */
function busyOf(names: readonly string[]): BusyUpstream {
  const sorted = [...names].sort();
  return { count: sorted.length, first: sorted.slice(0, BUSY_NAMES_SHOWN) };
}

/** Loads a line and checks that the jobs a table relies on loaded as the table expects. */
function line(text: string, consistent: readonly string[], inconsistent: readonly string[] = []): LoadResult {
  const result = loadOne(text);
  for (const name of consistent) expect(job(result, name).consistent, `${name} is consistent`).toBe(true);
  for (const name of inconsistent) expect(job(result, name).consistent, `${name} is inconsistent`).toBe(false);
  return result;
}

const version = (input: string): TriggerEvent => ({ kind: "version", input, description: `new version of ${input}` });
const upstream = (input: string): TriggerEvent => ({ kind: "upstream", input, description: `${input} succeeded` });
const out = (by: string): TriggerEvent => ({ kind: "out", description: `${by} finished` });
const manual: TriggerEvent = { kind: "manual", description: "manual run" };

const queued: TriggerDecision = { action: "create", status: "queued", message: "" };
const skip = (message: string): TriggerDecision => ({ action: "skip", message });

interface Case {
  readonly name: string;
  readonly line: LoadResult;
  readonly job: string;
  readonly event: TriggerEvent;
  readonly given?: Given;
  readonly expected: TriggerDecision;
}

function decide(c: Case): TriggerDecision {
  return evaluateTrigger(context(c.line, c.job, c.given), c.event);
}

//   app_repo ─────────────────────────┐
//   base_img   (switch: off) ─────────┤
//   tools_img  (versionNumber: 3) ────┼──> build ──> test
//   os_img     (versionName: "20.04") ┤      │
//   counter    (a trigger resource) ──┘      └──OUT──> report <── app_repo (switch: off)
//
//   no_such_repo (undefined) ──> broken        (inconsistent)
const GATES = line(
  yaml`
    resources:
      - name: app_repo
        type: gitRepo
        versionTemplate: { sourceName: ./app-repo, branch: main }
      - name: base_img
        type: image
        versionTemplate: { sourceName: acme/base }
      - name: tools_img
        type: image
        versionTemplate: { sourceName: acme/tools }
      - name: os_img
        type: image
        versionTemplate: { sourceName: acme/os }
      - name: counter
        type: trigger
        versionTemplate: { counter: 1 }
    jobs:
      - name: build
        type: runSh
        steps:
          - IN: app_repo
          - IN: base_img
            switch: off
          - IN: tools_img
            versionNumber: 3
          - IN: os_img
            versionName: "20.04"
          - IN: counter
          - OUT: report
          - TASK: { script: [make] }
      - name: test
        type: runSh
        steps:
          - IN: build
          - TASK: { script: [make test] }
      - name: report
        type: runSh
        steps:
          - IN: app_repo
            switch: off
          - TASK: { script: [./report.sh] }
      - name: broken
        type: runSh
        steps:
          - IN: no_such_repo
          - TASK: { script: [make] }
  `,
  ["build", "test", "report"],
  ["broken"],
);

describe("evaluateTrigger: what an automatic trigger creates, and what stops it", () => {
  it.each(
    named<Case>([
      {
        name: "a new version of an IN resource creates a queued run, with no message: the event says all",
        line: GATES,
        job: "build",
        event: version("app_repo"),
        expected: queued,
      },
      {
        name: "a successful run of an IN job triggers the job (upstream)",
        line: GATES,
        job: "test",
        event: upstream("build"),
        expected: queued,
      },
      {
        name: "the edit of a trigger resource reaches its consumers as a new version and triggers them (yaml)",
        line: GATES,
        job: "build",
        event: version("counter"),
        expected: queued,
      },
      {
        name: "a new version of an IN with switch: off does not trigger: input base_img has switch: off",
        line: GATES,
        job: "build",
        event: version("base_img"),
        expected: skip("input base_img has switch: off"),
      },
      {
        name: "an input pinned in the YAML by versionNumber does not trigger: input tools_img is pinned to version 3",
        line: GATES,
        job: "build",
        event: version("tools_img"),
        expected: skip("input tools_img is pinned to version 3"),
      },
      {
        name: "an input pinned in the YAML by versionName does not trigger: input os_img is pinned to versionName 20.04",
        line: GATES,
        job: "build",
        event: version("os_img"),
        expected: skip("input os_img is pinned to versionName 20.04"),
      },
      {
        name: "an input pinned at run time does not trigger: input app_repo is pinned to version 7",
        line: GATES,
        job: "build",
        event: version("app_repo"),
        given: { pins: { app_repo: 7 } },
        expected: skip("input app_repo is pinned to version 7"),
      },
      {
        name: "a run-time pin is the one named over the YAML's: input tools_img is pinned to version 5",
        line: GATES,
        job: "build",
        event: version("tools_img"),
        given: { pins: { tools_img: 5 } },
        expected: skip("input tools_img is pinned to version 5"),
      },
      {
        name: "a run-time pin is named over a YAML versionName: input os_img is pinned to version 2",
        line: GATES,
        job: "build",
        event: version("os_img"),
        given: { pins: { os_img: 2 } },
        expected: skip("input os_img is pinned to version 2"),
      },
      {
        name: "an input that is switched off and pinned says switch: off, the first rule of the table",
        line: GATES,
        job: "build",
        event: version("base_img"),
        given: { pins: { base_img: 1 } },
        expected: skip("input base_img has switch: off"),
      },
      {
        name: "a pin on another input does not stop a trigger",
        line: GATES,
        job: "build",
        event: version("app_repo"),
        given: { pins: { tools_img: 5 } },
        expected: queued,
      },
      {
        name: "a paused job is not triggered: job build is paused",
        line: GATES,
        job: "build",
        event: version("app_repo"),
        given: { paused: true },
        expected: skip("job build is paused"),
      },
      {
        name: "a paused job says it is paused before its input says switch: off",
        line: GATES,
        job: "build",
        event: version("base_img"),
        given: { paused: true },
        expected: skip("job build is paused"),
      },
      {
        name: "a paused job is not triggered by an OUT that names it either: job report is paused",
        line: GATES,
        job: "report",
        event: out("build"),
        given: { paused: true },
        expected: skip("job report is paused"),
      },
      {
        name: "an inconsistent job is never triggered: job broken is inconsistent (see causeway validate)",
        line: GATES,
        job: "broken",
        event: version("no_such_repo"),
        expected: skip("job broken is inconsistent (see causeway validate)"),
      },
      {
        name: "an inconsistent job that is also paused says it is inconsistent",
        line: GATES,
        job: "broken",
        event: version("no_such_repo"),
        given: { paused: true },
        expected: skip("job broken is inconsistent (see causeway validate)"),
      },
      {
        name: "an OUT that names a job triggers it: the rows about an input (switch: off, pins) do not apply to out",
        line: GATES,
        job: "report",
        event: out("build"),
        given: { pins: { app_repo: 1 } },
        expected: queued,
      },
      {
        // Not in the docs: the engine offers an event only to the jobs that take the input as IN.
        name: "an event about an object that is no IN of the job creates nothing: app_repo is not an IN of test",
        line: GATES,
        job: "test",
        event: version("app_repo"),
        expected: skip("app_repo is not an IN of test"),
      },
      {
        // Not in the docs: the engine always passes deleted: false (a removed job is not offered).
        name: "a deleted job is never triggered: job build is deleted",
        line: GATES,
        job: "build",
        event: version("app_repo"),
        given: { deleted: true },
        expected: skip("job build is deleted"),
      },
    ]),
  )("%s", (_name, c) => {
    expect(decide(c)).toEqual(c.expected);
  });
});

describe("evaluateTrigger: a manual run", () => {
  it.each(
    named<Case>([
      {
        name: "a manual run always works on a consistent job: it is queued at once",
        line: GATES,
        job: "build",
        event: manual,
        expected: queued,
      },
      {
        name: "a manual run works on a paused job",
        line: GATES,
        job: "build",
        event: manual,
        given: { paused: true },
        expected: queued,
      },
      {
        name: "a manual run works whatever its inputs' pins",
        line: GATES,
        job: "build",
        event: manual,
        given: { pins: { app_repo: 1, base_img: 1 } },
        expected: queued,
      },
      {
        name: "a manual run is not held by the chrono rule: upstream build failed",
        line: GATES,
        job: "test",
        event: manual,
        given: { upstream: { build: { latestStatus: "failure", hasSuccess: false } } },
        expected: queued,
      },
      {
        name: "a manual run of an inconsistent job is refused: job broken is inconsistent (see causeway validate)",
        line: GATES,
        job: "broken",
        event: manual,
        expected: skip("job broken is inconsistent (see causeway validate)"),
      },
    ]),
  )("%s", (_name, c) => {
    expect(decide(c)).toEqual(c.expected);
  });
});

//   app_repo ──> build ────────────────────┐
//   app_repo ──> lint ── (switch: off) ────┤
//   app_repo ──────────────────────────────┼──> test        (chrono, the default)
//   cfg ─────── (dependencyMode: immediate)┘
//
//   build, app_repo ──> nightly (immediate)
//   build, app_repo ──> gate    (strict)
//   build (dependencyMode: chrono), app_repo ──> fanin (strict)
const CHRONO = line(
  yaml`
    resources:
      - name: app_repo
        type: gitRepo
        versionTemplate: { sourceName: ./app-repo }
      - name: cfg
        type: params
        versionTemplate: { params: { STAGE: test } }
    jobs:
      - name: build
        type: runSh
        steps:
          - IN: app_repo
          - TASK: { script: [make] }
      - name: lint
        type: runSh
        steps:
          - IN: app_repo
          - TASK: { script: [make lint] }
      - name: test
        type: runSh
        steps:
          - IN: build
          - IN: lint
            switch: off
          - IN: app_repo
          - IN: cfg
            dependencyMode: immediate
          - TASK: { script: [make test] }
      - name: nightly
        type: runSh
        dependencyMode: immediate
        steps:
          - IN: build
          - IN: app_repo
          - TASK: { script: [make nightly] }
      - name: gate
        type: runSh
        dependencyMode: strict
        steps:
          - IN: build
          - IN: app_repo
          - TASK: { script: [./gate.sh] }
      - name: fanin
        type: runSh
        dependencyMode: strict
        steps:
          - IN: build
            dependencyMode: chrono
          - IN: app_repo
          - TASK: { script: [./fanin.sh] }
  `,
  ["build", "lint", "test", "nightly", "gate", "fanin"],
);

const buildFailed = { upstream: { build: { latestStatus: "failure" as const } } };

describe("evaluateTrigger: the chrono upstream rule", () => {
  it.each(
    named<Case>([
      {
        name: "an IN job that never ran holds a chrono job: upstream build has no successful run (chrono)",
        line: CHRONO,
        job: "test",
        event: version("app_repo"),
        given: { upstream: { build: { latestStatus: undefined, hasSuccess: false } } },
        expected: skip("upstream build has no successful run (chrono)"),
      },
      {
        name: "an IN job that has never succeeded holds it even while its first run is processing",
        line: CHRONO,
        job: "test",
        event: version("app_repo"),
        given: { upstream: { build: { latestStatus: "processing", active: true, hasSuccess: false } } },
        expected: skip("upstream build has no successful run (chrono)"),
      },
      {
        name: "an IN job whose latest run ended failure and is idle holds it: upstream build's latest run ended failure (chrono)",
        line: CHRONO,
        job: "test",
        event: version("app_repo"),
        given: buildFailed,
        expected: skip("upstream build's latest run ended failure (chrono)"),
      },
      {
        name: "any end other than success holds it, named by its status: upstream build's latest run ended timeout (chrono)",
        line: CHRONO,
        job: "test",
        event: version("app_repo"),
        given: { upstream: { build: { latestStatus: "timeout" } } },
        expected: skip("upstream build's latest run ended timeout (chrono)"),
      },
      {
        name: "an IN job whose latest run ended failure no longer holds it once it runs again (it is not idle)",
        line: CHRONO,
        job: "test",
        event: version("app_repo"),
        given: { upstream: { build: { latestStatus: "failure", active: true } } },
        expected: queued,
      },
      {
        name: "an IN job with switch: off holds it too: upstream lint's latest run ended failure (chrono)",
        line: CHRONO,
        job: "test",
        event: version("app_repo"),
        given: { upstream: { lint: { latestStatus: "failure" } } },
        expected: skip("upstream lint's latest run ended failure (chrono)"),
      },
      {
        name: "the first IN job in step order that holds the job is the one named",
        line: CHRONO,
        job: "test",
        event: version("app_repo"),
        given: { upstream: { build: { latestStatus: "cancelled" }, lint: { latestStatus: "failure" } } },
        expected: skip("upstream build's latest run ended cancelled (chrono)"),
      },
      {
        name: "an OUT that names a chrono job is held by the rule too (it is automatic)",
        line: CHRONO,
        job: "test",
        event: out("deploy"),
        given: buildFailed,
        expected: skip("upstream build's latest run ended failure (chrono)"),
      },
      {
        name: "an immediate job is not held by a failed upstream job",
        line: CHRONO,
        job: "nightly",
        event: version("app_repo"),
        given: buildFailed,
        expected: queued,
      },
      {
        name: "a strict job is not held by the chrono rule",
        line: CHRONO,
        job: "gate",
        event: version("app_repo"),
        given: buildFailed,
        expected: queued,
      },
      {
        name: "the mode of the input that moved decides: an IN with dependencyMode: immediate is not held",
        line: CHRONO,
        job: "test",
        event: version("cfg"),
        given: buildFailed,
        expected: queued,
      },
      {
        name: "the job's other inputs keep the job's mode (chrono) and stay held",
        line: CHRONO,
        job: "test",
        event: version("app_repo"),
        given: buildFailed,
        expected: skip("upstream build's latest run ended failure (chrono)"),
      },
      {
        name: "an IN with dependencyMode: chrono in a strict job is held by the chrono rule when it moves",
        line: CHRONO,
        job: "fanin",
        event: upstream("build"),
        given: { upstream: { build: { latestStatus: "success", hasSuccess: false } } },
        expected: skip("upstream build has no successful run (chrono)"),
      },
    ]),
  )("%s", (_name, c) => {
    expect(decide(c)).toEqual(c.expected);
  });
});

//            +--> b --+
//   a -------+        +--> d (strict): one run, after b and c
//            +--> c --+
//
//   b, c (dependencyMode: strict) ──> e   (chrono job, one strict input)
const STRICT = line(
  yaml`
    jobs:
      - name: a
        type: runSh
        steps:
          - TASK: { script: [make] }
      - name: b
        type: runSh
        steps:
          - IN: a
          - TASK: { script: [make b] }
      - name: c
        type: runSh
        steps:
          - IN: a
          - TASK: { script: [make c] }
      - name: d
        type: runSh
        dependencyMode: strict
        steps:
          - IN: b
          - IN: c
          - TASK: { script: [make d] }
      - name: e
        type: runSh
        steps:
          - IN: b
          - IN: c
            dependencyMode: strict
          - TASK: { script: [make e] }
  `,
  ["a", "b", "c", "d", "e"],
);

describe("evaluateTrigger: strict waits until every upstream job has settled", () => {
  it.each(
    named<Case>([
      {
        name: "an event that finds an upstream job busy creates a waiting run: upstream c is running (strict)",
        line: STRICT,
        job: "d",
        event: upstream("b"),
        given: { strictBusy: ["c"] },
        expected: { action: "create", status: "waiting", message: "upstream c is running (strict)" },
      },
      {
        name: "every busy upstream job is named, transitively: upstream a, c are running (strict)",
        line: STRICT,
        job: "d",
        event: upstream("b"),
        given: { strictBusy: ["c", "a"] },
        expected: { action: "create", status: "waiting", message: "upstream a, c are running (strict)" },
      },
      {
        name: "past five busy upstream jobs, the first five by name are named and the others counted",
        line: STRICT,
        job: "d",
        event: upstream("b"),
        given: { strictBusy: ["j9", "j3", "j12", "j1", "j7", "j10", "j5", "j2"] },
        expected: {
          action: "create",
          status: "waiting",
          message: "upstream j1, j10, j12, j2, j3 and 3 more are running (strict)",
        },
      },
      {
        name: "a run already waiting for many upstream jobs is joined with the same short list",
        line: STRICT,
        job: "d",
        event: upstream("c"),
        given: { strictBusy: ["f", "e", "d", "c", "b", "a"], waitingRunId: 12, pendingRunId: 12 },
        expected: {
          action: "join",
          runId: 12,
          message: "the waiting run already waits for a, b, c, d, e and 1 more (strict)",
        },
      },
      {
        name: "an event that finds a run already waiting joins it instead of creating another",
        line: STRICT,
        job: "d",
        event: upstream("c"),
        given: { strictBusy: ["a"], waitingRunId: 12, pendingRunId: 12 },
        expected: { action: "join", runId: 12, message: "the waiting run already waits for a (strict)" },
      },
      {
        name: "an event that finds every upstream job settled releases the waiting run: it becomes queued",
        line: STRICT,
        job: "d",
        event: upstream("c"),
        given: { waitingRunId: 12, pendingRunId: 12 },
        expected: { action: "release", runId: 12, message: "every upstream job has settled (strict)" },
      },
      {
        name: "an event with every upstream job settled and no run waiting queues a run at once",
        line: STRICT,
        job: "d",
        event: upstream("c"),
        expected: queued,
      },
      {
        name: "a strict job is not held by a failed upstream job: it waits for it to settle, not to succeed",
        line: STRICT,
        job: "d",
        event: upstream("b"),
        given: { upstream: { c: { latestStatus: "failure" } } },
        expected: queued,
      },
      {
        name: "a manual run never waits: queued at once while upstream jobs are busy",
        line: STRICT,
        job: "d",
        event: manual,
        given: { strictBusy: ["c"], waitingRunId: 12, pendingRunId: 12 },
        expected: queued,
      },
      {
        name: "an IN with dependencyMode: strict makes its own events wait in a chrono job",
        line: STRICT,
        job: "e",
        event: upstream("c"),
        given: { strictBusy: ["b"] },
        expected: { action: "create", status: "waiting", message: "upstream b is running (strict)" },
      },
      {
        name: "the chrono job's other inputs do not wait for busy upstream jobs (the dispatcher holds them)",
        line: STRICT,
        job: "e",
        event: upstream("b"),
        given: { strictBusy: ["c"] },
        expected: queued,
      },
    ]),
  )("%s", (_name, c) => {
    expect(decide(c)).toEqual(c.expected);
  });
});

//   app_repo ──> build ──┬──> deploy (coalesce: latest)
//   app_repo ────────────┘
//   build, app_repo ──> fanin (strict, coalesce: latest)
//   build, app_repo ──> plain (no coalesce)
const COALESCE = line(
  yaml`
    resources:
      - name: app_repo
        type: gitRepo
        versionTemplate: { sourceName: ./app-repo }
    jobs:
      - name: build
        type: runSh
        steps:
          - IN: app_repo
          - TASK: { script: [make] }
      - name: deploy
        type: runSh
        coalesce: latest
        steps:
          - IN: build
          - IN: app_repo
          - TASK: { script: [./deploy.sh] }
      - name: fanin
        type: runSh
        dependencyMode: strict
        coalesce: latest
        steps:
          - IN: build
          - IN: app_repo
          - TASK: { script: [./fanin.sh] }
      - name: plain
        type: runSh
        steps:
          - IN: build
          - IN: app_repo
          - TASK: { script: [./plain.sh] }
  `,
  ["build", "deploy", "fanin", "plain"],
);

describe("evaluateTrigger: coalesce: latest", () => {
  it.each(
    named<Case>([
      {
        name: "a trigger finding a run that has not started merges into it: merged into the pending run (coalesce: latest)",
        line: COALESCE,
        job: "deploy",
        event: version("app_repo"),
        given: { pendingRunId: 5 },
        expected: { action: "coalesce", runId: 5, message: "merged into the pending run (coalesce: latest)" },
      },
      {
        name: "with no pending run, a coalescing job creates a run as usual",
        line: COALESCE,
        job: "deploy",
        event: version("app_repo"),
        expected: queued,
      },
      {
        name: "a waiting strict run is pending too: the event merges into it rather than joining it",
        line: COALESCE,
        job: "fanin",
        event: upstream("build"),
        given: { pendingRunId: 5, waitingRunId: 5, strictBusy: ["build"] },
        expected: { action: "coalesce", runId: 5, message: "merged into the pending run (coalesce: latest)" },
      },
      {
        name: "an event the chrono rule skips is not merged: upstream build's latest run ended failure (chrono)",
        line: COALESCE,
        job: "deploy",
        event: version("app_repo"),
        given: { pendingRunId: 5, ...buildFailed },
        expected: skip("upstream build's latest run ended failure (chrono)"),
      },
      {
        name: "manual runs are never coalesced: a new queued run beside the pending one",
        line: COALESCE,
        job: "deploy",
        event: manual,
        given: { pendingRunId: 5 },
        expected: queued,
      },
      {
        name: "without coalesce, each event queues one run, beside the pending one (chrono: one run per event)",
        line: COALESCE,
        job: "plain",
        event: version("app_repo"),
        given: { pendingRunId: 5 },
        expected: queued,
      },
    ]),
  )("%s", (_name, c) => {
    expect(decide(c)).toEqual(c.expected);
  });
});

//   build ─────────────────────┐
//   app_img ───────────────────┼──> ship        (deploy: recognised, not run yet)
//   base_img (switch: off) ────┤
//   cfg (versionNumber: 1) ────┘
//   build ──> ship_strict (deploy, strict)
//   ver ──> rel (release)        app_img ──> ext (externalCI)
const TYPES = line(
  yaml`
    resources:
      - name: app_img
        type: image
        versionTemplate: { sourceName: acme/app }
      - name: base_img
        type: image
        versionTemplate: { sourceName: acme/base }
      - name: cfg
        type: params
        versionTemplate: { params: { STAGE: prod } }
      - name: ver
        type: version
        versionTemplate: { versionName: "1.0.0" }
    jobs:
      - name: build
        type: runSh
        steps:
          - TASK: { script: [make] }
      - name: ship
        type: deploy
        steps:
          - IN: build
          - IN: app_img
          - IN: base_img
            switch: off
          - IN: cfg
            versionNumber: 1
          - TASK: managed
      - name: ship_strict
        type: deploy
        dependencyMode: strict
        steps:
          - IN: build
          - TASK: managed
      - name: rel
        type: release
        steps:
          - IN: ver
          - TASK: managed
      - name: ext
        type: externalCI
        steps:
          - IN: app_img
  `,
  ["build", "ship", "ship_strict", "rel", "ext"],
);

const notSupported: TriggerDecision = {
  action: "create",
  status: "skipped",
  message: "job type deploy is not supported yet",
};

describe("evaluateTrigger: job types that do not run scripts", () => {
  it.each(
    named<Case>([
      {
        name: "a trigger of a deploy job creates a run with status skipped: job type deploy is not supported yet",
        line: TYPES,
        job: "ship",
        event: version("app_img"),
        expected: notSupported,
      },
      {
        name: "an upstream success creates a skipped run of a deploy job",
        line: TYPES,
        job: "ship",
        event: upstream("build"),
        expected: notSupported,
      },
      {
        name: "an OUT that names a deploy job creates a skipped run",
        line: TYPES,
        job: "ship",
        event: out("build"),
        expected: notSupported,
      },
      {
        name: "a manual run of a deploy job creates a skipped run",
        line: TYPES,
        job: "ship",
        event: manual,
        expected: notSupported,
      },
      {
        name: "a paused deploy job creates no run at all: job ship is paused",
        line: TYPES,
        job: "ship",
        event: version("app_img"),
        given: { paused: true },
        expected: skip("job ship is paused"),
      },
      {
        name: "a switched-off input of a deploy job creates no run at all: input base_img has switch: off",
        line: TYPES,
        job: "ship",
        event: version("base_img"),
        expected: skip("input base_img has switch: off"),
      },
      {
        name: "a pinned input of a deploy job creates no run at all: input cfg is pinned to version 1",
        line: TYPES,
        job: "ship",
        event: version("cfg"),
        expected: skip("input cfg is pinned to version 1"),
      },
      {
        // Fixed with these tests: the engine created a skipped run here (semantics: "each trigger
        // that would create a run creates one with status skipped").
        name: "an IN job that holds a deploy job back (chrono) creates no run at all, as for other jobs",
        line: TYPES,
        job: "ship",
        event: version("app_img"),
        given: { upstream: { build: { latestStatus: "failure" } } },
        expected: skip("upstream build's latest run ended failure (chrono)"),
      },
      {
        name: "a trigger that would make a strict deploy job wait creates the skipped run instead (never a waiting run)",
        line: TYPES,
        job: "ship_strict",
        event: upstream("build"),
        given: { strictBusy: ["build"] },
        expected: notSupported,
      },
      {
        name: "a release job is triggered like a runSh job (the engine computes its result)",
        line: TYPES,
        job: "rel",
        event: version("ver"),
        expected: queued,
      },
      {
        name: "an externalCI job is triggered like a runSh job",
        line: TYPES,
        job: "ext",
        event: version("app_img"),
        expected: queued,
      },
    ]),
  )("%s", (_name, c) => {
    expect(decide(c)).toEqual(c.expected);
  });
});

describe("inStep and modeFor: the IN step an event is about, and the mode that applies", () => {
  it.each(
    named<{ name: string; line: LoadResult; job: string; input: string; expected: string | undefined }>([
      { name: "an IN of the job is found by its name", line: GATES, job: "build", input: "os_img", expected: "os_img" },
      { name: "an OUT of the job is no IN step", line: GATES, job: "build", input: "report", expected: undefined },
      {
        name: "an object the job does not use is no IN step",
        line: GATES,
        job: "test",
        input: "app_repo",
        expected: undefined,
      },
    ]),
  )("inStep: %s", (_name, c) => {
    expect(inStep(job(c.line, c.job), c.input)?.name).toBe(c.expected);
  });

  it("inStep finds each IN of a wide fan-in by its name, the same step each time", () => {
    const ins = Array.from({ length: 300 }, (_, i) => `      - IN: r${i}`);
    const line = loadOne(
      yaml`
        resources:
${Array.from({ length: 300 }, (_, i) => `          - { name: r${i}, type: params, versionTemplate: { params: { N: "${i}" } } }`).join("\n")}
        jobs:
          - name: fan_in
            type: runSh
            steps:
${ins.map((l) => `        ${l}`).join("\n")}
              - TASK: { script: [ "true" ] }
      `,
    );
    const fanIn = job(line, "fan_in");
    for (const i of [0, 150, 299]) expect(inStep(fanIn, `r${i}`)).toBe(fanIn.steps[i]);
    expect(inStep(fanIn, "r300")).toBeUndefined();
    expect(inStep(fanIn, "r7")).toBe(inStep(fanIn, "r7"));
  });

  it.each(
    named<{ name: string; line: LoadResult; job: string; input: string | undefined; expected: DependencyMode }>([
      {
        name: "an IN without its own mode takes the job's (chrono)",
        line: CHRONO,
        job: "test",
        input: "app_repo",
        expected: "chrono",
      },
      {
        name: "an IN's own dependencyMode wins over the job's",
        line: CHRONO,
        job: "test",
        input: "cfg",
        expected: "immediate",
      },
      {
        name: "an IN's own chrono wins over a strict job's mode",
        line: CHRONO,
        job: "fanin",
        input: "build",
        expected: "chrono",
      },
      {
        name: "an event about no input (out, manual) takes the job's mode",
        line: CHRONO,
        job: "gate",
        input: undefined,
        expected: "strict",
      },
      {
        name: "a name that is no IN of the job takes the job's mode",
        line: CHRONO,
        job: "nightly",
        input: "lint",
        expected: "immediate",
      },
    ]),
  )("modeFor: %s", (_name, c) => {
    expect(modeFor(job(c.line, c.job), c.input)).toBe(c.expected);
  });
});

// The engine gathers `inJobs` and `strictBusy` only when a rule reads them (a getter each): a
// fan-in of 500 IN jobs would otherwise build 500 upstream states at each of the 500 events
// that reach it. So each is read only by its rule: `inJobs` by chrono, `strictBusy` by strict.
describe("evaluateTrigger reads inJobs only for chrono and strictBusy only for strict", () => {
  /** The context of `decide`, counting the reads of inJobs and strictBusy. */
  function counted(c: Omit<Case, "name" | "expected">): {
    decision: TriggerDecision;
    inJobs: number;
    strictBusy: number;
  } {
    const base = context(c.line, c.job, c.given);
    const reads = { inJobs: 0, strictBusy: 0 };
    const ctx: JobTriggerContext = {
      ...base,
      get inJobs() {
        reads.inJobs++;
        return base.inJobs;
      },
      get strictBusy() {
        reads.strictBusy++;
        return base.strictBusy;
      },
    };
    return { decision: evaluateTrigger(ctx, c.event), ...reads };
  }

  it.each(
    named<Omit<Case, "expected"> & { readonly reads: { readonly inJobs: number; readonly strictBusy: number } }>([
      {
        name: "a chrono job reads the IN jobs' states once, never the busy ancestors",
        line: CHRONO,
        job: "test",
        event: upstream("build"),
        reads: { inJobs: 1, strictBusy: 0 },
      },
      {
        name: "an immediate job reads neither",
        line: CHRONO,
        job: "nightly",
        event: upstream("build"),
        reads: { inJobs: 0, strictBusy: 0 },
      },
      {
        name: "a strict job reads the busy ancestors once, never the IN jobs' states",
        line: STRICT,
        job: "d",
        event: upstream("b"),
        given: { strictBusy: ["c"] },
        reads: { inJobs: 0, strictBusy: 1 },
      },
      {
        name: "a strict job's chrono IN is held by the chrono rule: the IN jobs' states, not the busy ancestors",
        line: CHRONO,
        job: "fanin",
        event: upstream("build"),
        reads: { inJobs: 1, strictBusy: 0 },
      },
      {
        name: "a manual run reads neither",
        line: STRICT,
        job: "d",
        event: manual,
        given: { strictBusy: ["c"] },
        reads: { inJobs: 0, strictBusy: 0 },
      },
      {
        name: "an event a rule skips before the modes (input switched off) reads neither",
        line: CHRONO,
        job: "test",
        event: upstream("lint"),
        reads: { inJobs: 0, strictBusy: 0 },
      },
    ]),
  )("%s", (_name, c) => {
    const { decision, inJobs, strictBusy } = counted(c);
    expect(decision).toEqual(decide({ ...c, expected: decision }));
    expect({ inJobs, strictBusy }).toEqual(c.reads);
  });
});

describe("busyNames: the busy upstream jobs a strict message names", () => {
  it("names the first few in the order given and counts the others", () => {
    const names = Array.from({ length: 500 }, (_, i) => `j${i}`).sort();
    expect(busyNames(busyOf(names))).toBe("j0, j1, j10, j100, j101 and 495 more");
    expect(busyNames(busyOf([]))).toBe("");
    expect(busyNames(busyOf(["a", "b", "c", "d", "e"]))).toBe("a, b, c, d, e");
    expect(busyNames(busyOf(["a", "b", "c", "d", "e", "f"]))).toBe("a, b, c, d, e and 1 more");
  });
});
