import { execFile } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import Database from "better-sqlite3";
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
