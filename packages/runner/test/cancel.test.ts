import { readFileSync } from "node:fs";
import { readdir } from "node:fs/promises";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { JobDef } from "@causeway/core";
import type { EmbeddedExecution, EmbeddedRunner } from "../src/index.js";
import type { SandboxMode } from "../src/index.js";
import {
  Recorder,
  SANDBOX_MODES_HERE,
  makeSpec,
  processesWith,
  scriptJob,
  tempDir,
  testRunner,
  uniqueSleep,
  waitFor,
} from "./helpers.js";

// Every test runs with the sandbox off and, where bwrap works (always in CI), in the sandbox:
// processes are found from outside by a unique `sleep` argument, since inside a sandbox `$$`
// and `$!` are PIDs of its own namespace.

let dir: string;
let cleanup: () => Promise<void>;
beforeEach(async () => {
  ({ path: dir, cleanup } = await tempDir());
});
afterEach(() => cleanup());

function withTimeout(job: JobDef, minutes: number): JobDef {
  return { ...job, runtime: { ...job.runtime, timeoutMinutes: minutes } };
}

const HOOKS = "    on_failure:\n      script: echo hook-ran\n    always:\n      script: echo hook-ran\n";

/** Starts a job that leaves a background `sleep <marker>` and waits; returns the marker. */
async function startSleeper(
  sandbox: SandboxMode,
  lines: (sleep: string) => readonly string[],
  graceMs: number,
): Promise<{
  rec: Recorder;
  runner: EmbeddedRunner;
  execution: EmbeddedExecution;
  sleep: string;
}> {
  const { runner } = testRunner(dir, { cancelGraceMs: graceMs, sandbox });
  const rec = new Recorder();
  const sleep = uniqueSleep();
  const execution = runner.execute(makeSpec(scriptJob(lines(sleep), HOOKS)), rec);
  await waitFor(() => /^ready$/m.test(rec.text), 10_000, "the job to be ready");
  expect(processesWith(sleep)).toHaveLength(1);
  return { rec, runner, execution, sleep };
}

describe.each(SANDBOX_MODES_HERE)("cancel and timeout (sandbox %s)", (sandbox) => {
  it("cancel kills the whole process group, runs no hook and reports cancelled", async () => {
    const { rec, runner, execution, sleep } = await startSleeper(
      sandbox,
      // `wait` is a builtin: no fork is in flight when SIGTERM arrives (a command that is being
      // started at that very moment may miss it and only die at the SIGKILL, after the grace).
      (s) => [`sleep ${s} &`, "echo ready", "wait"],
      10_000,
    );
    execution.cancel("stopped by alice");
    execution.cancel("again");
    const result = await execution.done;
    // 143 = 128 + SIGTERM: SIGTERM ended the task, not the SIGKILL after the grace period.
    expect(result).toMatchObject({ status: "cancelled", reason: "stopped by alice", exitCode: 143 });
    expect(rec.text).toMatch(/^__SH__CMD__END__\|[^|]*"exitcode":"143"[^|]*\|wait$/m);
    await waitFor(() => processesWith(sleep).length === 0, 5_000, "the background sleep to die");
    expect(rec.text).not.toMatch(/^hook-ran$/m);
    await runner.idle();
    // In the sandbox the run's slot stays, for the next run, with nothing of this one.
    if (sandbox === "off") expect(await readdir(dir)).toEqual([]);
    else {
      expect(await readdir(dir)).toEqual(["slot-0"]);
      expect(await readdir(`${dir}/slot-0`)).toEqual([".build"]);
    }
  });

  it("sends SIGKILL after the grace period when SIGTERM is trapped", async () => {
    const { rec, execution, sleep } = await startSleeper(
      sandbox,
      (s) => [
        "trap 'echo got-term' TERM",
        `(trap '' TERM; exec sleep ${s}) &`,
        "echo ready",
        "while :; do sleep 0.05; done",
      ],
      300,
    );
    const t0 = Date.now();
    execution.cancel("stop");
    const result = await execution.done;
    const elapsed = Date.now() - t0;
    // 137 = 128 + SIGKILL. A lower bound only: the SIGKILL waits for the grace period's timer,
    // so no machine, however slow, ends the run sooner.
    expect(result).toMatchObject({ status: "cancelled", exitCode: 137 });
    expect(elapsed).toBeGreaterThanOrEqual(250);
    expect(rec.text).toMatch(/^got-term$/m);
    await waitFor(() => processesWith(sleep).length === 0, 5_000, "the TERM-immune sleep to die");
    expect(rec.text).not.toMatch(/^hook-ran$/m);
  });

  it("ends a run that exceeds runtime.timeoutMinutes with status timeout", async () => {
    const { run } = testRunner(dir, { cancelGraceMs: 500, sandbox });
    const { result, rec } = await run(
      makeSpec(withTimeout(scriptJob(["echo started", "sleep 30", "echo slept"], HOOKS), 0.002)),
    );
    expect(result.status).toBe("timeout");
    expect(result.reason).toContain("timed out");
    expect(rec.outputLines).toContain("started");
    expect(rec.outputLines).not.toContain("slept");
    expect(rec.text).not.toMatch(/^hook-ran$/m);
  });

  it("cancelling before the first task runs no task at all", async () => {
    const { runner } = testRunner(dir, { sandbox });
    const rec = new Recorder();
    const execution = runner.execute(makeSpec(scriptJob(["echo should-not-run"])), rec);
    execution.cancel("changed my mind");
    const result = await execution.done;
    expect(result).toMatchObject({ status: "cancelled", reason: "changed my mind", exitCode: null });
    expect(rec.text).not.toMatch(/^should-not-run$/m);
  });

  it("ignores cancel once the run is done", async () => {
    const { runner } = testRunner(dir, { sandbox });
    const execution = runner.execute(makeSpec(scriptJob(["true"])), new Recorder());
    const result = await execution.done;
    execution.cancel("late");
    expect(result.status).toBe("success");
    expect(await execution.done).toBe(result);
  });

  it("kills processes a task leaves behind when it ends", async () => {
    const { run } = testRunner(dir, { cancelGraceMs: 200, keepWorkspaces: true, sandbox });
    // The leftover writes a file if it ever finishes its sleep: a run that waited for it (its
    // output pipe, its process group) would find the file there.
    const sleep = uniqueSleep();
    const spec = makeSpec(scriptJob([`(sleep ${sleep}; touch "$SHARED_DIR/slept") &`, "echo left"]));
    const { result } = await run(spec);
    expect(result.status).toBe("success");
    await waitFor(() => processesWith(sleep).length === 0, 5_000, "the leftover sleep to die");
    expect(await readdir(`${dir}/${spec.run.id}-1/shared`)).toEqual([]);
  });
});

describe.each(SANDBOX_MODES_HERE)("$$ in a task (sandbox %s)", (sandbox) => {
  it("is the task's own pid when its script uses $$ (or $PPID), so `kill $$` ends the task", async () => {
    const { run } = testRunner(dir, { sandbox });
    const own = await run(makeSpec(scriptJob(['[ "$$" = "$BASHPID" ]'])));
    expect(own.result.status).toBe("success");
    // $PPID is the parent of the task's own shell, not the worker's parent (the server).
    const parent = await run(makeSpec(scriptJob(['[ "$PPID" != "' + String(process.pid) + '" ]'])));
    expect(parent.result.status).toBe("success");
    const first = await run(makeSpec(scriptJob(["echo before", "kill $$; sleep 5", "echo after"])));
    expect(first.result.status).toBe("failure");
    expect(first.result.exitCode).toBe(143);
    expect(first.rec.outputLines).toContain("before");
    expect(first.rec.outputLines).not.toContain("after");
  });

  it("reaching the task worker (a sourced task signalling $$) ends that task, and the next run is unaffected", async () => {
    const { run } = testRunner(dir, { sandbox });
    // The script text does not contain "$$", so the task is sourced by a worker; eval makes $$
    // (in a sandbox, the task's own bash: the worker stays outside).
    const first = await run(makeSpec(scriptJob(["echo before", 'eval "kill \\$\\$"; sleep 5', "echo after"])));
    expect(first.result.status).toBe("failure");
    expect(first.result.exitCode).toBe(143);
    expect(first.rec.outputLines).not.toContain("after");
    const second = await run(makeSpec(scriptJob(["echo still-fine"])));
    expect(second.result.status).toBe("success");
    expect(second.rec.outputLines).toContain("still-fine");
  });
});

describe.each(SANDBOX_MODES_HERE)("a task worker that dies (sandbox %s)", (sandbox) => {
  it("ends its running task (the task's group is killed after the grace) and the next run gets a new worker", async () => {
    const workerRecord = `${dir}.workers.json`;
    const { runner, run } = testRunner(dir, { cancelGraceMs: 200, sandbox, workerRecord });
    const rec = new Recorder();
    const sleep = uniqueSleep();
    const execution = runner.execute(makeSpec(scriptJob(["echo started", `sleep ${sleep}`])), rec);
    await waitFor(() => processesWith(sleep).length === 1, 10_000, "the task to start");
    const { workers } = JSON.parse(readFileSync(workerRecord, "utf8")) as { workers: { pid: number }[] };
    expect(workers).toHaveLength(1);
    process.kill(workers[0]?.pid as number, "SIGKILL");
    const result = await execution.done;
    expect(result.status).toBe("failure");
    expect(result.exitCode).toBe(137);
    await waitFor(() => processesWith(sleep).length === 0, 5_000, "the orphaned task to be killed");
    const next = await run(makeSpec(scriptJob(["echo next"])));
    expect(next.result.status).toBe("success");
    expect(next.rec.outputLines).toContain("next");
  });
});
