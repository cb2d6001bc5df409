import type { Diagnostic, RunInput } from "@causeway/core";
import { describe, expect, it } from "vitest";
import { applyLine, diagnosticLines, refusalLines } from "../src/apply-lines.js";
import {
  commandText,
  createdLine,
  finishedLine,
  quoted,
  startedLine,
  statusLine,
  type LabelOf,
  type RunView,
} from "../src/run-lines.js";

const input = (name: string, versionNumber: number | null, versionName: string | null): RunInput => ({
  name,
  kind: "resource",
  type: "gitRepo",
  versionId: versionNumber,
  versionNumber,
  versionName,
  pinned: false,
});

const run = (over: Partial<RunView> = {}): RunView => ({
  id: 12,
  job: "build",
  number: 3,
  status: "queued",
  statusReason: null,
  flow: "f1e2d3c4-0000-4000-8000-000000000000",
  trigger: { kind: "manual", by: "alice" },
  inputs: [],
  attempt: 1,
  ...over,
});

const labels: LabelOf = (id) => ({ 7: "build #2", 11: "deploy_staging #5" })[id];

describe("createdLine: a run was created, with its trigger", () => {
  it.each<[string, Partial<RunView>, string]>([
    ["a manual run", {}, "build #3 queued: manual run by alice"],
    [
      "a new commit",
      {
        trigger: { kind: "version", by: "app_repo", versionId: 40 },
        inputs: [input("app_repo", 4, "c0ffee0123456789abcdef0123456789abcdef01")],
      },
      "build #3 queued: app_repo v4 (c0ffee0)",
    ],
    [
      "an OUT version of another run",
      {
        job: "deploy_staging",
        trigger: { kind: "version", by: "app_image", versionId: 41, runId: 7 },
        inputs: [input("app_image", 9, "1.0.3")],
      },
      "deploy_staging #3 queued: app_image v9 (1.0.3) from build #2",
    ],
    [
      "a version whose input had none when resolved",
      { trigger: { kind: "version", by: "cfg", versionId: 1 }, inputs: [input("cfg", null, null)] },
      "build #3 queued: new version of cfg",
    ],
    [
      "an upstream success",
      { job: "smoke_test", trigger: { kind: "upstream", by: "deploy_staging", versionId: 5, runId: 11 } },
      "smoke_test #3 queued: upstream deploy_staging #5 succeeded",
    ],
    [
      "an upstream run this process never saw",
      { job: "smoke_test", trigger: { kind: "upstream", by: "deploy_staging", versionId: 5, runId: 99 } },
      "smoke_test #3 queued: upstream deploy_staging succeeded",
    ],
    ["a rerun", { trigger: { kind: "rerun", by: "bob", runId: 7 } }, "build #3 queued: rerun of build #2 by bob"],
    [
      "a retry",
      { attempt: 2, trigger: { kind: "retry", by: "7", runId: 7 } },
      "build #3 queued: retry of build #2 (attempt 2)",
    ],
    [
      "a waiting (strict) run",
      {
        status: "waiting",
        statusReason: "waiting: upstream build is running (strict)",
        trigger: { kind: "upstream", by: "lint", runId: 7 },
      },
      "build #3 waiting: upstream build #2 succeeded; upstream build is running (strict)",
    ],
    [
      "a run skipped at creation",
      { status: "skipped", statusReason: "run created as skipped: job type deploy is not supported yet" },
      "build #3 skipped: manual run by alice; job type deploy is not supported yet",
    ],
  ])("%s", (_what, over, msg) => {
    expect(createdLine(run(over), labels).msg).toBe(msg);
  });

  it("has the run's fields", () => {
    expect(createdLine(run(), labels).fields).toEqual({
      event: "run.created",
      runId: 12,
      job: "build",
      number: 3,
      status: "queued",
      flow: "f1e2d3c4-0000-4000-8000-000000000000",
      trigger: "manual",
      triggeredBy: "alice",
      reason: undefined,
    });
  });
});

describe("startedLine and statusLine", () => {
  it("says a run started, and which attempt a retry is", () => {
    expect(startedLine(run({ status: "processing" })).msg).toBe("build #3 started");
    expect(startedLine(run({ status: "processing", attempt: 3 })).msg).toBe("build #3 started (attempt 3)");
    expect(startedLine(run({ status: "processing" })).fields).toMatchObject({ event: "run.started", runId: 12 });
  });

  it("says a waiting run changed status", () => {
    expect(statusLine(run({ status: "queued" })).msg).toBe("build #3 queued");
    expect(statusLine(run({ status: "waiting_approval" })).msg).toBe("build #3 waiting for approval");
  });
});

describe("finishedLine: a run ended, with its duration and why it failed", () => {
  const failing = { command: "make test", exitCode: 2, task: "test" };
  it.each<[string, Partial<RunView>, number | undefined, string]>([
    ["a success", { status: "success" }, 1400, "build #3 succeeded in 1.4s"],
    ["a success in milliseconds", { status: "success" }, 86, "build #3 succeeded in 86ms"],
    ["a long success", { status: "success" }, 123_000, "build #3 succeeded in 2m03s"],
    [
      "a failure with no console (the runner's reason)",
      { status: "failure", statusReason: 'task "test" failed with exit code 2' },
      86,
      'build #3 failed in 86ms: task "test" failed with exit code 2 (see causeway logs 12)',
    ],
    [
      "an error",
      { status: "error", statusReason: "runtime.container is true but this runner has no container engine" },
      3,
      "build #3 ended in error after 3ms: runtime.container is true but this runner has no container engine (see causeway logs 12)",
    ],
    [
      "a timeout",
      { status: "timeout", statusReason: "timed out after 1 minutes" },
      60_000,
      "build #3 timed out after 1m00s (see causeway logs 12)",
    ],
    [
      "a cancel",
      { status: "cancelled", statusReason: "cancelled by a user" },
      2100,
      "build #3 cancelled after 2.1s: cancelled by a user",
    ],
    [
      "a run that was lost",
      { status: "lost", statusReason: "the server stopped while this run was processing" },
      undefined,
      "build #3 lost: the server stopped while this run was processing",
    ],
    ["a run cancelled before it started", { status: "cancelled", statusReason: null }, undefined, "build #3 cancelled"],
  ])("%s", (_what, over, durationMs, msg) => {
    expect(finishedLine(run(over), durationMs).msg).toBe(msg);
  });

  it("names the failing command and its exit code, and has them as fields", () => {
    const line = finishedLine(run({ status: "failure", statusReason: "x" }), 86, failing);
    expect(line.msg).toBe('build #3 failed in 86ms: exit 2 in "make test" (see causeway logs 12)');
    expect(line.fields).toMatchObject({
      event: "run.finished",
      status: "failure",
      durationMs: 86,
      exitCode: 2,
      failingCommand: "make test",
      task: "test",
    });
  });

  it.each([
    ["make test", '"make test"'],
    ['grep -q "x" f', `'grep -q "x" f'`],
    [`echo "it's"`, '`echo "it\'s"`'],
  ])("quotes a command with quotes it does not hold: %s", (command, shown) => {
    expect(quoted(command)).toBe(shown);
  });

  it.each([
    ["make test", "make test"],
    ["cd app\nmake", "cd app …"],
    ["x".repeat(70), `${"x".repeat(59)}…`],
  ])("shows a command on one short line: %j", (command, shown) => {
    expect(commandText(command)).toBe(shown);
  });
});

describe("apply lines", () => {
  const diagnostic = (code: string, line: number, severity: Diagnostic["severity"] = "error"): Diagnostic =>
    ({
      code,
      severity,
      file: "causeway.yml",
      line,
      col: 7,
      path: [],
      message: `problem ${line}`,
    }) as unknown as Diagnostic;

  it("counts what changed and the errors and warnings", () => {
    const line = applyLine(
      "/srv/line",
      {
        files: [],
        summary: { resources: 5, jobs: 1 },
        diagnostics: [diagnostic("A", 1), diagnostic("B", 2, "warning")],
      } as never,
      { added: ["a", "b"], changed: [], removed: ["c"] },
    );
    expect(line.msg).toBe("applied /srv/line: 5 resources, 1 job (2 added, 0 changed, 1 removed); 1 error, 1 warning");
    expect(line.fields).toMatchObject({ event: "apply", added: 2, changed: 0, removed: 1, errors: 1, warnings: 1 });
  });

  it("says how many files were refused and objects kept, and names each refused file's problem", () => {
    const reason = { ...diagnostic("PIPELINE_YAML_SYNTAX", 3), file: "b.causeway.yml" };
    const refused = [{ path: "b.causeway.yml", reason }];
    const line = applyLine(
      "/srv/line",
      {
        files: ["a.causeway.yml", "b.causeway.yml"],
        refused,
        summary: { resources: 0, jobs: 1 },
        diagnostics: [reason],
      } as never,
      { added: [], changed: ["a"], removed: [], kept: ["b", "c"] },
    );
    expect(line.msg).toBe(
      "applied /srv/line: 0 resources, 1 job (0 added, 1 changed, 0 removed; refused 1 file, 2 objects kept); 1 error, 0 warnings",
    );
    expect(line.fields).toMatchObject({ refused: 1, kept: 2 });
    expect(refusalLines(refused)).toEqual([
      {
        msg: "  refused b.causeway.yml: b.causeway.yml:3:7 PIPELINE_YAML_SYNTAX problem 3; the objects it defined are kept as they were",
        fields: { event: "refused", file: "b.causeway.yml", code: "PIPELINE_YAML_SYNTAX", at: "b.causeway.yml:3:7" },
      },
    ]);
  });

  it("puts each error's location and code on its own line, the first ten", () => {
    const lines = diagnosticLines([
      diagnostic("PIPELINE_UNKNOWN_REFERENCE", 3),
      diagnostic("PIPELINE_ORPHAN", 4, "warning"),
      ...Array.from({ length: 11 }, (_, i) => diagnostic("PIPELINE_SCHEMA", 10 + i)),
    ]);
    expect(lines[0]).toEqual({
      msg: "  causeway.yml:3:7 PIPELINE_UNKNOWN_REFERENCE problem 3",
      fields: {
        event: "diagnostic",
        severity: "error",
        code: "PIPELINE_UNKNOWN_REFERENCE",
        file: "causeway.yml",
        line: 3,
        col: 7,
      },
    });
    expect(lines).toHaveLength(11);
    expect(lines.at(-1)?.msg).toBe("  ... and 2 more errors (causeway validate lists them all)");
  });
});
