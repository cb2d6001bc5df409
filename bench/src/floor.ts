import { execFile, spawn } from "node:child_process";
import { once } from "node:events";
import { readFileSync } from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import type { Writable } from "node:stream";
import { promisify } from "node:util";
import { TASK_WORKER, taskScript } from "@causeway/runner";
import Database from "better-sqlite3";
import { processCost, type ProcessCost } from "./cpu.js";
import { median, type Benchmark } from "./harness.js";

const run = promisify(execFile);

/**
 * The floor of the hot path on this machine, for the comparison in docs/performance.md: what
 * one job costs at the least, a process start and a durable commit.
 * - `floor_spawn_ms`: `bash -c true` started and waited for by a small process (a bash loop,
 *   as make starts its jobs), the median of `count`, each timed alone with `$EPOCHREALTIME`;
 * - `floor_commit_ms`: a one-row insert committed by SQLite in WAL mode with
 *   `synchronous=FULL` (Causeway's settings) in the temporary directory, where the scenarios
 *   keep their data: the median of `count`, each timed alone;
 * - `floor_task_ms`, `floor_task_cpu_ms`, `floor_task_faults`: one task of the DAG's kind (its
 *   script `true`, an environment of 45 variables as a DAG job's) run by a task worker alone, as
 *   the embedded runner runs its tasks, one after the other: the median time from the request to
 *   the worker's reply that it is over, and per task the CPU and the page faults of the worker
 *   and its task shells together (`/proc`). What the tasks' side of a job costs with no server
 *   and no other task beside it, to hold against `make`'s CPU per job;
 * - `floor_cpu_ms`: how fast this machine runs JavaScript, the median of 7 runs of `cpuWork`
 *   (what the server's thread does most: small objects made, serialized, parsed and looked
 *   up). Machines of one kind differ by a factor of three on some days; this figure says which
 *   one a run had, where the ratios to make say little about it.
 */
export function floorBenchmark(count = 200): Benchmark {
  return {
    name: "floor",
    details: { count },
    async run() {
      return {
        floor_spawn_ms: await spawnFloor(count),
        floor_commit_ms: await commitFloor(count),
        ...(await taskFloor(count)),
        floor_cpu_ms: cpuFloor(7),
      };
    },
  };
}

async function spawnFloor(count: number): Promise<number> {
  const script = [
    `for ((i = 0; i < ${count}; i++)); do`,
    "  t=${EPOCHREALTIME/[.,]/}; bash -c true; u=${EPOCHREALTIME/[.,]/}",
    "  echo $((u - t))",
    "done",
  ].join("\n");
  const { stdout } = await run("bash", ["-c", script], { env: { PATH: process.env.PATH ?? "/usr/bin:/bin" } });
  const micros = stdout.trim().split("\n").map(Number);
  if (micros.length !== count || micros.some((n) => !Number.isFinite(n)))
    throw new Error("floor: bash printed no timings");
  return median(micros) / 1000;
}

async function commitFloor(count: number): Promise<number> {
  const dir = await mkdtemp(join(tmpdir(), "causeway-bench-floor-"));
  const db = new Database(join(dir, "floor.db"));
  try {
    db.pragma("journal_mode = WAL");
    db.pragma("synchronous = FULL");
    db.exec("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT NOT NULL)");
    const insert = db.prepare("INSERT INTO t (v) VALUES (?)");
    const times: number[] = [];
    for (let i = 0; i < count; i++) {
      const t = performance.now();
      insert.run(`row ${i}`);
      times.push(performance.now() - t);
    }
    const rows = db.prepare("SELECT count(*) AS n FROM t").get() as { n: number };
    if (rows.n !== count) throw new Error(`floor: ${rows.n} rows committed, not ${count}`);
    return median(times);
  } finally {
    db.close();
    await rm(dir, { recursive: true, force: true });
  }
}

async function taskFloor(
  count: number,
): Promise<{ floor_task_ms: number; floor_task_cpu_ms: number; floor_task_faults: number }> {
  const dir = await mkdtemp(join(tmpdir(), "causeway-bench-task-"));
  const env: Record<string, string> = { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: dir, LANG: "C.UTF-8" };
  for (let i = 0; Object.keys(env).length < 45; i++) env[`DEP_${i}_PATH`] = `${dir}/slot-0/1-1/IN/dep-${i}`;
  const script = { index: 1, name: "Task 1", lines: ["true"], onFailure: [], always: [], onSuccess: [], env };
  await writeFile(join(dir, "task.sh"), taskScript(script));
  // As the runner starts a worker: an empty environment but for the runner's LANG, fd 3 the
  // lifeline (never written; the worker's watcher ends its process group when it closes), in a
  // process group of its own.
  const worker = spawn("bash", [TASK_WORKER, "10000"], {
    stdio: ["pipe", "pipe", "ignore", "pipe"],
    env: { __CW_LANG: "C.UTF-8" },
    detached: true,
  });
  const stat = (): ProcessCost => {
    const cost = processCost(readFileSync(`/proc/${worker.pid}/stat`, "latin1"));
    if (cost === undefined) throw new Error(`floor: /proc/${worker.pid}/stat cannot be read`);
    return cost;
  };
  const replies = createInterface({ input: worker.stdout as NodeJS.ReadableStream })[Symbol.asyncIterator]();
  const task = async (id: number): Promise<number> => {
    const t = performance.now();
    (worker.stdin as Writable).write(`T\t${id}\t${dir}\t${dir}/task\n`);
    for (;;) {
      const { value, done } = await replies.next();
      if (done === true) throw new Error("floor: the task worker ended");
      const [kind, , status] = value.split(" ");
      if (kind !== "E") continue;
      if (status !== "0") throw new Error(`floor: a task of the task worker ended with status ${status}`);
      return performance.now() - t;
    }
  };
  try {
    const warmUp = 5;
    for (let i = 0; i < warmUp; i++) await task(i);
    const before = stat();
    const times: number[] = [];
    for (let i = 0; i < count; i++) times.push(await task(warmUp + i));
    const after = stat();
    const output = await readFile(join(dir, "task.out"), "utf8");
    const ends = output.split("\n").filter((l) => l === "__SH__SCRIPT_END_SUCCESS__").length;
    if (ends !== warmUp + count) throw new Error(`floor: ${ends} tasks of ${warmUp + count} ended as a task ends`);
    return {
      floor_task_ms: median(times),
      floor_task_cpu_ms: ((after.cpuSeconds - before.cpuSeconds) * 1000) / count,
      floor_task_faults: (after.faults - before.faults) / count,
    };
  } finally {
    worker.stdin?.end();
    if (worker.exitCode === null && worker.signalCode === null) await once(worker, "exit");
    worker.stdio[3]?.destroy();
    await rm(dir, { recursive: true, force: true });
  }
}

function cpuFloor(runs: number): number {
  cpuWork();
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    cpuWork();
    times.push(performance.now() - t);
  }
  return median(times);
}

/**
 * A fixed piece of work of the kind the server's thread does: 20,000 run-like objects made,
 * kept in a Map by id, written as JSON and read back. Returns a checksum (so that nothing of it
 * can be optimized away).
 */
export function cpuWork(): number {
  const byId = new Map<number, { id: number; job: string; status: string; params: Record<string, string> }>();
  let sum = 0;
  for (let id = 0; id < 20_000; id++) {
    const run = { id, job: `job-${id % 997}`, status: id % 3 === 0 ? "queued" : "success", params: { N: String(id) } };
    byId.set(id, run);
    const back = JSON.parse(JSON.stringify(run)) as typeof run;
    sum += back.job.length + (byId.get(id >> 1)?.id ?? 0);
  }
  return sum;
}
