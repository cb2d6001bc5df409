import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { endOrphanedTasks } from "../src/index.js";
import { SANDBOX_SKIP, processesWith, tempDir, uniqueSleep, waitFor } from "./helpers.js";

// Tasks die with the process that started them, and the start-up check ends what is left of a
// killed server's tasks without ever touching a process that merely got a recorded PID. Real
// processes and signals: a stand-in server (launcher-child.ts) is SIGKILLed.

const HERE = dirname(fileURLToPath(import.meta.url));
const REPO = resolve(HERE, "../../..");
const CHILD = join(HERE, "launcher-child.ts");

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** The state letter of a process (R, S, Z...), undefined when there is no such process. */
function stateOf(pid: number): { state: string; pgid: number } | undefined {
  try {
    const f = readFileSync(`/proc/${pid}/stat`, "latin1");
    const rest = f.slice(f.lastIndexOf(")") + 2).split(" ");
    return { state: rest[0] as string, pgid: Number(rest[2]) };
  } catch {
    return undefined;
  }
}

/** Whether a process runs (a zombie, dead and waiting for its parent to reap it, does not). */
function running(pid: number): boolean {
  const s = stateOf(pid);
  return s !== undefined && s.state !== "Z";
}

/** The processes of a process group that run (zombies excluded: they run nothing). */
function living(pgid: number): number[] {
  return readdirSync("/proc")
    .filter((name) => /^\d+$/.test(name))
    .map(Number)
    .filter((pid) => {
      const s = stateOf(pid);
      return s !== undefined && s.pgid === pgid && s.state !== "Z";
    });
}

function killGroup(pid: number): void {
  try {
    process.kill(-pid, "SIGKILL");
  } catch {
    // gone
  }
}

function startTime(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "latin1");
  return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19]);
}

function exited(child: ChildProcess): Promise<void> {
  return new Promise((done) => {
    if (child.exitCode !== null || child.signalCode !== null) done();
    else child.once("exit", () => done());
  });
}

interface Started {
  readonly server: ChildProcess;
  /** The task's process group. */
  readonly pgid: number;
  /** The task worker (recorded in the record file). */
  readonly worker: number;
  readonly record: string;
}

/**
 * Starts a stand-in server running one task (`lines`, after the task writes its process group
 * id), through a worker with `graceMs`; resolves once the task runs.
 */
async function startTask(mode: "T" | "X" | "S", graceMs: number, lines: readonly string[]): Promise<Started> {
  const dir = await tempDir();
  cleanups.push(dir.cleanup);
  const record = join(dir.path, "task-workers.json");
  const pgidFile = join(dir.path, "pgid");
  writeFileSync(join(dir.path, "task.sh"), [`echo "$BASHPID" > ${pgidFile}`, ...lines, ""].join("\n"));
  const server = spawn(
    process.execPath,
    ["--import", "tsx", "--conditions=source", CHILD, dir.path, record, String(graceMs), mode],
    {
      cwd: REPO,
      stdio: ["ignore", "ignore", "inherit"],
    },
  );
  cleanups.push(() => {
    if (server.exitCode === null && server.signalCode === null) server.kill("SIGKILL");
  });
  await waitFor(() => existsSync(pgidFile) && readFileSync(pgidFile, "utf8").endsWith("\n"), 20_000, "the task");
  const pgid = Number(readFileSync(pgidFile, "utf8"));
  cleanups.push(() => killGroup(pgid));
  const { workers } = JSON.parse(readFileSync(record, "utf8")) as { workers: { pid: number }[] };
  const worker = workers[0]?.pid as number;
  cleanups.push(() => killGroup(worker));
  return { server, pgid, worker, record };
}

// Two processes in the task's group: the task's shell and a background sleep.
const SLEEPS = ["sleep 600 &", "sleep 600"];

describe("the lifeline of task workers", () => {
  it.each([
    ["sourced by the worker (T)", "T" as const],
    ["a fresh bash, for $$ (X)", "X" as const],
  ])("ends a task %s when the server is SIGKILLed", async (_, mode) => {
    const { server, pgid, worker } = await startTask(mode, 10_000, SLEEPS);
    await waitFor(() => living(pgid).length === 3, 5_000, "the task shell and its two sleeps");
    server.kill("SIGKILL");
    await exited(server);
    await waitFor(() => living(pgid).length === 0, 5_000, "the task's process group to be gone");
    await waitFor(() => !running(worker), 5_000, "the worker to exit");
  });

  it.skipIf(SANDBOX_SKIP !== undefined).each([
    ["that ends on SIGTERM", 10_000, []],
    ["that ignores SIGTERM (SIGKILL after the grace)", 300, ["trap '' TERM"]],
  ])("ends a task in the sandbox %s when the server is SIGKILLed", async (_, graceMs, first) => {
    // Inside the sandbox PIDs are its own: the task's processes are found by their argument.
    const sleep = uniqueSleep();
    const { server, worker } = await startTask("S", graceMs, [...first, `sleep ${sleep} &`, `sleep ${sleep}`]);
    await waitFor(() => processesWith(sleep).length === 2, 5_000, "the task's two sleeps");
    const pgid = stateOf(processesWith(sleep)[0] as number)?.pgid as number;
    // The task's shell and its two sleeps: one process group (bwrap, its init and the worker
    // are the worker's group).
    expect(living(pgid)).toHaveLength(3);
    server.kill("SIGKILL");
    await exited(server);
    await waitFor(() => living(pgid).length === 0, 5_000, "the task's process group to be gone");
    expect(processesWith(sleep)).toEqual([]);
    await waitFor(() => !running(worker), 5_000, "the worker to exit");
  });

  it("sends SIGKILL after the grace to a task that ignores SIGTERM", async () => {
    const { server, pgid, worker } = await startTask("T", 300, ["trap '' TERM", ...SLEEPS]);
    server.kill("SIGKILL");
    await exited(server);
    await waitFor(() => living(pgid).length === 0, 5_000, "the task's process group to be gone");
    await waitFor(() => !running(worker), 5_000, "the worker to exit");
  });
});

describe("endOrphanedTasks", () => {
  it("ends the tasks of a recorded worker that still runs, and waits until they are gone", async () => {
    // A long grace in the worker: its task, ignoring SIGTERM, outlives the server for a minute
    // unless the start-up check ends it.
    const { server, pgid, worker, record } = await startTask("T", 60_000, ["trap '' TERM", ...SLEEPS]);
    server.kill("SIGKILL");
    await exited(server);
    const found: number[] = [];
    const report = await endOrphanedTasks(record, { graceMs: 200, onFound: (pids) => found.push(...pids) });
    expect(report.workers).toEqual([worker]);
    expect(report.processes).toEqual(expect.arrayContaining([worker, pgid]));
    expect(found).toEqual(report.processes);
    expect(report.killed).toContain(pgid);
    expect(report.remaining).toEqual([]);
    expect(living(pgid)).toEqual([]);
    expect(running(worker)).toBe(false);
    expect(existsSync(record)).toBe(false);
  });

  it.skipIf(SANDBOX_SKIP !== undefined)(
    "ends the tasks of a slot's sandboxed worker by its recorded bwrap",
    async () => {
      const sleep = uniqueSleep();
      const { server, worker, record } = await startTask("S", 60_000, [
        "trap '' TERM",
        `sleep ${sleep} &`,
        `sleep ${sleep}`,
      ]);
      await waitFor(() => processesWith(sleep).length === 2, 5_000, "the task's two sleeps");
      const pgid = stateOf(processesWith(sleep)[0] as number)?.pgid as number;
      // The record names bwrap, whose session holds the sandbox's processes.
      expect(readFileSync(`/proc/${worker}/comm`, "latin1").trim()).toBe("bwrap");
      server.kill("SIGKILL");
      await exited(server);
      const report = await endOrphanedTasks(record, { graceMs: 200 });
      expect(report.workers).toEqual([worker]);
      expect(report.processes).toEqual(expect.arrayContaining([worker, pgid]));
      expect(report.remaining).toEqual([]);
      expect(processesWith(sleep)).toEqual([]);
      expect(running(worker)).toBe(false);
    },
  );

  it("never signals a recorded PID that is not the recorded worker", async () => {
    const dir = await tempDir();
    cleanups.push(dir.cleanup);
    const record = join(dir.path, "task-workers.json");
    // An unrelated process that leads its own session, as a worker does.
    const other = spawn("sleep", ["600"], { stdio: "ignore", detached: true });
    cleanups.push(() => killGroup(other.pid as number));
    const pid = other.pid as number;
    await waitFor(() => existsSync(`/proc/${pid}/stat`), 5_000, "the sleep");
    const boot = readFileSync("/proc/sys/kernel/random/boot_id", "latin1").trim();
    const start = startTime(pid);
    for (const content of [
      // The PID was a worker's, which started at another time: the PID was reused.
      { boot, workers: [{ pid, start: start - 1 }] },
      // Recorded in another boot.
      { boot: "another-boot", workers: [{ pid, start }] },
      // The same process, but not a task worker (a record gone wrong): left alone too.
      { boot, workers: [{ pid, start }] },
    ]) {
      writeFileSync(record, JSON.stringify(content));
      const report = await endOrphanedTasks(record, { graceMs: 100 });
      expect(report).toEqual({ workers: [], processes: [], killed: [], remaining: [] });
      expect(running(pid)).toBe(true);
    }
    await expect(endOrphanedTasks(join(dir.path, "missing.json"), { graceMs: 100 })).resolves.toMatchObject({
      processes: [],
    });
  });
});
