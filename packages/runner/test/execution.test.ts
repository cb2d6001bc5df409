import { readdir, stat, writeFile } from "node:fs/promises";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { JobDef } from "@causeway/core";
import { MARKERS, NO_CONTAINER_ENGINE } from "../src/index.js";
import { jobOf, makeSpec, scriptJob, tempDir, testRunner, waitFor, yaml } from "./helpers.js";

let dir: string;
let cleanup: () => Promise<void>;
beforeEach(async () => {
  ({ path: dir, cleanup } = await tempDir());
});
afterEach(() => cleanup());

/** A one-job pipeline: tasks given as YAML steps, plus hook sections. */
function job(steps: string, hooks = ""): JobDef {
  const indent = (text: string, n: number): string =>
    text
      .split("\n")
      .map((l) => (l === "" ? l : " ".repeat(n) + l))
      .join("\n");
  return jobOf(`jobs:\n  - name: job\n    type: runSh\n    steps:\n${indent(steps, 6)}\n${indent(hooks, 4)}\n`);
}

interface Marker {
  kind: string;
  json: Record<string, unknown>;
  text: string;
}

/** The console markers of a log, parsed: `KIND|{json}|text`. */
function markers(log: string): Marker[] {
  return log
    .split("\n")
    .filter((l) => l.startsWith("__SH__") && l.includes("|"))
    .map((l) => {
      const [kind = "", json = "{}"] = l.split("|", 2);
      return { kind, json: JSON.parse(json) as Record<string, unknown>, text: l.slice(kind.length + json.length + 2) };
    });
}

describe("task execution", () => {
  it("runs every line in one shell and stops at the first failing line; a | block is one command", async () => {
    const { run } = testRunner(dir);
    const { result, rec } = await run(
      makeSpec(
        job(yaml`
          - TASK:
              name: build
              script:
                - X=1
                - |
                  echo "a1 x=$X"
                  false
                  echo a2
                - |
                  echo b1
                  (exit 3)
                - echo never
        `),
      ),
    );
    expect(result).toMatchObject({ status: "failure", exitCode: 3 });
    expect(result.reason).toContain("exit code 3");
    expect(rec.outputLines).toEqual(["a1 x=1", "a2", "b1"]);
    expect(rec.text).not.toContain("never");
  });

  it("runs a line literally: markers print its text without evaluating it", async () => {
    const { run } = testRunner(dir, { keepWorkspaces: true });
    const line = `echo 'it'"'"'s $(touch "$JOB_PATH/pwned") \\n'`;
    const spec = makeSpec(scriptJob([line]));
    const { result, rec } = await run(spec);
    expect(result.status).toBe("success");
    expect(rec.text).toContain(`it's $(touch "$JOB_PATH/pwned") \\n`);
    const start = markers(rec.text).find((m) => m.kind === MARKERS.cmdStart);
    expect(start?.text).toBe(line.replace(/\\/g, "\\\\"));
    const root = `${dir}/${spec.run.id}-1`;
    await expect(stat(`${root}/pwned`)).rejects.toThrow();
  });

  it("ends the task at `exit N`, runs on_failure and always, and reports N", async () => {
    const { run } = testRunner(dir);
    const { result, rec } = await run(
      makeSpec(
        scriptJob(
          ["echo before", "exit 4", "echo after"],
          yaml`
            on_failure:
              script: echo on-failure
            always:
              script: echo always
          `.replace(/^/gm, "    "),
        ),
      ),
    );
    expect(result).toMatchObject({ status: "failure", exitCode: 4 });
    expect(rec.outputLines).toEqual(expect.arrayContaining(["before", "on-failure", "always"]));
    expect(rec.text).not.toContain("after");
  });

  it("treats `exit 0` in a task line as the end of a successful task", async () => {
    const { run } = testRunner(dir);
    const { result, rec } = await run(
      makeSpec(scriptJob(["X=ok", "exit 0", "echo after"], '    on_success:\n      script: echo "success $X"\n')),
    );
    expect(result).toMatchObject({ status: "success", exitCode: 0 });
    expect(rec.outputLines).toContain("success ok");
    expect(rec.text).not.toContain("after");
  });

  it("fails the task on a syntax error in a line", async () => {
    const { run } = testRunner(dir);
    const { result, rec } = await run(makeSpec(scriptJob(["echo first", "if true; then", "echo never"])));
    expect(result.status).toBe("failure");
    expect(result.exitCode).toBe(2);
    expect(rec.text).not.toContain("never");
  });

  it("keeps tasks' variables apart but shares SHARED_DIR", async () => {
    const { run } = testRunner(dir);
    const { result, rec } = await run(
      makeSpec(
        job(yaml`
          - TASK:
              name: one
              script:
                - export V=from-one
                - echo shared-data > "$SHARED_DIR/f"
          - TASK:
              name: two
              script:
                - echo "V=[\${V:-}] task=$TASK_NAME"
                - cat "$SHARED_DIR/f"
        `),
      ),
    );
    expect(result.status).toBe("success");
    expect(rec.outputLines).toEqual(expect.arrayContaining(["V=[] task=two", "shared-data"]));
  });

  it("runs on_start lines at the start of the first task only", async () => {
    const { run } = testRunner(dir);
    const { result, rec } = await run(
      makeSpec(
        job(
          yaml`
            - TASK:
                name: one
                script: echo "one sees $STARTED"
            - TASK:
                name: two
                script: echo "two sees [\${STARTED:-}]"
          `,
          "on_start:\n  script: STARTED=yes\n",
        ),
      ),
    );
    expect(result.status).toBe("success");
    expect(rec.outputLines).toEqual(expect.arrayContaining(["one sees yes", "two sees []"]));
  });

  it("streams output while the task runs", async () => {
    const { runner } = testRunner(dir);
    const chunks: string[] = [];
    let finished = false;
    const execution = runner.execute(
      makeSpec(
        scriptJob([
          'echo "first gate=$SHARED_DIR/go"',
          'while [ ! -e "$SHARED_DIR/go" ]; do sleep 0.01; done',
          "echo second",
        ]),
      ),
      { onStarted: () => undefined, onLog: (c) => chunks.push(Buffer.from(c).toString()) },
    );
    void execution.done.then(() => (finished = true));
    await waitFor(() => /^first gate=/m.test(chunks.join("")), 10_000, "the first line's output");
    expect(finished).toBe(false);
    expect(chunks.join("")).not.toMatch(/^second$/m);
    const gate = /^first gate=(\S+)$/m.exec(chunks.join(""))?.[1] as string;
    await writeFile(gate, "");
    const result = await execution.done;
    expect(result.status).toBe("success");
    expect(chunks.join("")).toMatch(/^second$/m);
  });

  it("runs concurrent runs at the same time, each in its own task worker", async () => {
    // The runs signal each other through files outside their workspaces: no sandbox (the
    // sandbox's tests show that a sandboxed run cannot see another's files).
    const { runner } = testRunner(dir, { sandbox: "off" });
    const silent = { onStarted: () => undefined, onLog: () => undefined };
    // Each run signals, then waits for the other's signal: only concurrent runs both finish.
    const a = runner.execute(
      makeSpec(scriptJob([`touch ${dir}/a`, `while [ ! -e ${dir}/b ]; do sleep 0.01; done`])),
      silent,
    );
    const b = runner.execute(
      makeSpec(scriptJob([`touch ${dir}/b`, `while [ ! -e ${dir}/a ]; do sleep 0.01; done`])),
      silent,
    );
    const [ra, rb] = await Promise.all([a.done, b.done]);
    expect([ra.status, rb.status]).toEqual(["success", "success"]);
  });

  it("reports onStarted once, after execute returned", async () => {
    const { runner } = testRunner(dir);
    let started = 0;
    const execution = runner.execute(makeSpec(scriptJob(["true"])), {
      onStarted: () => started++,
      onLog: () => undefined,
    });
    expect(started).toBe(0);
    await execution.done;
    expect(started).toBe(1);
  });

  it("survives an observer that throws", async () => {
    const { runner } = testRunner(dir);
    const result = await runner.execute(makeSpec(scriptJob(["echo x"])), {
      onStarted: () => {
        throw new Error("observer broke");
      },
      onLog: () => {
        throw new Error("observer broke");
      },
    }).done;
    expect(result.status).toBe("success");
  });
});

describe("hooks", () => {
  it("runs on_success then always in the last task's shell, seeing its variables", async () => {
    const { run } = testRunner(dir);
    const { result, rec } = await run(
      makeSpec(
        scriptJob(
          ["X=42"],
          yaml`
            on_success:
              script:
                - echo "success sees $X"
                - Y=$((X + 1))
            always:
              - script: echo "always sees $X $Y"
            on_failure:
              script: echo never-on-failure
          `.replace(/^/gm, "    "),
        ),
      ),
    );
    expect(result.status).toBe("success");
    const lines = rec.outputLines;
    expect(lines.indexOf("success sees 42")).toBeGreaterThanOrEqual(0);
    expect(lines.indexOf("success sees 42")).toBeLessThan(lines.indexOf("always sees 42 43"));
    expect(rec.text).not.toContain("never-on-failure");
  });

  it("runs on_failure then always on failure; the job stays failed whatever they return", async () => {
    const { run } = testRunner(dir);
    const { result, rec } = await run(
      makeSpec(
        scriptJob(
          ["X=7", "false", "echo never"],
          yaml`
            on_failure:
              script:
                - echo "on-failure sees $X"
                - exit 0
            always:
              script:
                - echo "always sees $X"
                - "true"
            on_success:
              script: echo never-on-success
          `.replace(/^/gm, "    "),
        ),
      ),
    );
    expect(result).toMatchObject({ status: "failure", exitCode: 1 });
    const lines = rec.outputLines;
    expect(lines.indexOf("on-failure sees 7")).toBeGreaterThanOrEqual(0);
    expect(lines.indexOf("on-failure sees 7")).toBeLessThan(lines.indexOf("always sees 7"));
    expect(rec.text).not.toContain("never");
  });

  it("attaches on_failure to every task, not only the last", async () => {
    const { run } = testRunner(dir);
    const { result, rec } = await run(
      makeSpec(
        job(
          yaml`
            - TASK:
                name: one
                script: exit 5
            - TASK:
                name: two
                script: echo never
          `,
          'on_failure:\n  script: echo "failed in $TASK_NAME"\n',
        ),
      ),
    );
    expect(result).toMatchObject({ status: "failure", exitCode: 5 });
    expect(rec.outputLines).toContain("failed in one");
    expect(rec.text).not.toContain("never");
  });

  it("fails the job on a non-zero on_success line, stops on_success there and still runs always", async () => {
    const { run } = testRunner(dir);
    const { result, rec } = await run(
      makeSpec(
        scriptJob(
          ["echo task"],
          yaml`
            on_success:
              script: ["echo s1", "false", "echo s2"]
            always:
              script: echo always
          `.replace(/^/gm, "    "),
        ),
      ),
    );
    expect(result).toMatchObject({ status: "failure", exitCode: 1 });
    expect(rec.outputLines).toEqual(expect.arrayContaining(["task", "s1", "always"]));
    expect(rec.text).not.toContain("s2");
  });

  it("fails the job on a non-zero always line after success", async () => {
    const { run } = testRunner(dir);
    const { result } = await run(makeSpec(scriptJob(["true"], "    always:\n      script: exit 9\n")));
    expect(result).toMatchObject({ status: "failure", exitCode: 9 });
  });

  it("runs hooks of a job without TASK steps", async () => {
    const { run } = testRunner(dir);
    const { result, rec } = await run(
      makeSpec(
        jobOf("jobs:\n  - name: j\n    type: runSh\n    steps: []\n    on_success:\n      script: echo hook-only\n"),
      ),
    );
    expect(result.status).toBe("success");
    expect(rec.outputLines).toContain("hook-only");
  });
});

describe("console", () => {
  it("groups setup, each task and cleanup, with per-command exit codes and durations", async () => {
    const { run } = testRunner(dir);
    const { result, rec } = await run(
      makeSpec(
        job(yaml`
          - TASK:
              name: first
              script: ["echo one", "echo two"]
          - TASK:
              name: second
              script: ["echo three", "false"]
        `),
      ),
    );
    expect(result.status).toBe("failure");
    const all = markers(rec.text);
    const groups = all.filter((m) => m.kind === MARKERS.groupStart).map((m) => [m.json.id, m.text]);
    expect(groups).toEqual([
      ["setup", "Setup"],
      ["t1", "Executing task: first"],
      ["t2", "Executing task: second"],
      ["cleanup", "Cleanup"],
    ]);
    const ends = all.filter((m) => m.kind === MARKERS.cmdEnd).map((m) => [m.json.id, m.text, m.json.exitcode]);
    expect(ends).toEqual([
      ["t1-1", "echo one", "0"],
      ["t1-2", "echo two", "0"],
      ["t2-1", "echo three", "0"],
      ["t2-2", "false", "1"],
    ]);
    for (const m of all.filter((x) => x.kind === MARKERS.cmdEnd || x.kind === MARKERS.groupEnd)) {
      expect(typeof m.json.durationMs).toBe("number");
      expect(typeof m.json.sequenceNumber).toBe("number");
    }
    const starts = all.filter((m) => m.kind === MARKERS.cmdStart).map((m) => m.json.id);
    expect(starts).toEqual(["t1-1", "t1-2", "t2-1", "t2-2"]);
    const groupEnds = all.filter((m) => m.kind === MARKERS.groupEnd).map((m) => [m.json.id, m.json.exitcode]);
    expect(groupEnds).toEqual([
      ["setup", "0"],
      ["t1", "0"],
      ["t2", "1"],
      ["cleanup", "0"],
    ]);
    const lines = rec.text.split("\n");
    expect(lines.filter((l) => l === MARKERS.scriptSuccess)).toHaveLength(1);
    expect(lines.filter((l) => l === MARKERS.scriptFailure)).toHaveLength(1);
  });

  it("keeps a marker on its own line even when a command's output does not end with a newline", async () => {
    const { run } = testRunner(dir);
    const { rec } = await run(makeSpec(scriptJob(["printf no-newline", "printf 'a\\nb\\n'"])));
    const text = rec.text;
    expect(text).toContain("no-newline\n__SH__CMD__END__");
    expect(text).toContain("a\nb\n\n__SH__CMD__END__");
  });
});

describe("jobs the embedded runner cannot run", () => {
  it("fails a container task clearly when there is no container engine (never runs it on the host)", async () => {
    const { run } = testRunner(dir, { env: { PATH: "/usr/bin:/bin" } });
    const containerJob = jobOf(yaml`
      jobs:
        - name: boxed
          type: runSh
          steps:
            - TASK:
                runtime:
                  container: true
                script: touch /tmp/should-not-exist-causeway
    `);
    const { result, rec } = await run(makeSpec(containerJob));
    expect(result).toMatchObject({ status: "error", reason: NO_CONTAINER_ENGINE, exitCode: null });
    expect(rec.text).toContain(NO_CONTAINER_ENGINE);
    expect(await readdir(dir)).toEqual([]);
    const jobLevel = jobOf(
      "jobs:\n  - name: j\n    type: runSh\n    runtime:\n      container: true\n    steps:\n      - TASK:\n          script: echo hi\n",
    );
    expect((await run(makeSpec(jobLevel))).result.reason).toBe(NO_CONTAINER_ENGINE);
  });

  it("reports TASK: managed and unsupported job types as not supported", async () => {
    const { run } = testRunner(dir);
    const managed = jobOf(
      "jobs:\n  - name: rel\n    type: release\n    steps:\n      - TASK: managed\n        bump: patch\n",
    );
    const deploy = jobOf("jobs:\n  - name: dep\n    type: deploy\n    steps:\n      - TASK: managed\n");
    for (const j of [managed, deploy]) {
      const { result } = await run(makeSpec(j, { previousStateSha: "prev" }));
      expect(result.status).toBe("error");
      expect(result.reason).toContain("not supported");
      expect(result.stateSha).toBe("prev");
    }
    expect(await readdir(dir)).toEqual([]);
  });
});
