import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { cpuFigures, machineBusySeconds, type ScenarioCpu } from "./cpu.js";
import { dagLine, dagMakefile, fanoutLine } from "./engine-lines.js";
import type { Benchmark } from "./harness.js";

const run = promisify(execFile);

/**
 * Where the scenarios make their data directories, removed by `removeScenarioData` at the end
 * of the suite rather than after each scenario: on ext4 without a journal (as on these
 * machines) the inode allocator skips, one by one, the inodes freed in the last seconds (minutes
 * while their table block is not written back), so the thousands of log files one scenario
 * removes would slow the file creations of the next (measured: the 1,000-job DAG took 2.6 s
 * after other scenarios' removals in the same directory, 1.9 s in a fresh one).
 */
let dataRoot: Promise<string> | undefined;

/** Removes the data directories the scenarios left. */
export async function removeScenarioData(): Promise<void> {
  const root = await dataRoot;
  dataRoot = undefined;
  if (root !== undefined) await rm(root, { recursive: true, force: true });
}

interface ScenarioResult {
  readonly wall_s: number;
  readonly runs: number;
  readonly success: number;
  readonly max_rss_mb: number;
  readonly rss_applied_mb: number;
  readonly load_s: number;
  readonly apply_s: number;
  readonly edges_ms?: number[];
  readonly cpu_run_s: number;
  readonly machine_busy_s: number | null;
}

/**
 * Runs one engine scenario in its own process (the server of the benchmark); `history` past
 * runs are put in its store first.
 */
async function scenario(
  repoRoot: string,
  args: string[],
  history = 0,
  remote = false,
  warm = false,
): Promise<ScenarioResult> {
  const script = join(repoRoot, "bench/dist/src/engine-scenario.js");
  dataRoot ??= mkdtemp(join(tmpdir(), "causeway-bench-data-"));
  const root = await dataRoot;
  const { stdout } = await run(process.execPath, [script, ...args], {
    cwd: repoRoot,
    maxBuffer: 16 * 1024 * 1024,
    env: {
      ...process.env,
      BENCH_HISTORY: String(history),
      BENCH_REMOTE: remote ? "1" : "0",
      BENCH_WARM: warm ? "1" : "0",
      BENCH_DATA_ROOT: root,
    },
  });
  return JSON.parse(stdout) as ScenarioResult;
}

/**
 * Runs a Makefile's `all` with `make -j2`: the wall time in seconds, and the machine's busy CPU
 * seconds meanwhile (undefined where `/proc/stat` cannot be read).
 */
async function makeTime(parents: number[][]): Promise<{ wall: number; busy: number | undefined }> {
  const dir = await mkdtemp(join(tmpdir(), "causeway-bench-make-"));
  try {
    await writeFile(join(dir, "Makefile"), dagMakefile(parents));
    const busy0 = machineBusySeconds();
    const t = performance.now();
    await run("make", ["-j2", "-s", "-C", dir, "all"]);
    const wall = (performance.now() - t) / 1000;
    const busy1 = machineBusySeconds();
    return { wall, busy: busy0 === undefined || busy1 === undefined ? undefined : busy1 - busy0 };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function scenarioCpu(r: ScenarioResult): ScenarioCpu {
  return { serverSeconds: r.cpu_run_s, machineSeconds: r.machine_busy_s };
}

function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length - 1) * p))] ?? Number.NaN;
}

/**
 * Scheduler overhead per dependency edge: a 200-job chain, from job i-1's last script line to
 * job i's first script line (bash's $EPOCHREALTIME on both sides), on the embedded store.
 */
export function edgeBenchmark(repoRoot: string, jobs = 200, remote = false): Benchmark {
  const name = remote ? "edge_remote" : "edge";
  return {
    name,
    targets: remote ? {} : { edge_ms_p50: 20, edge_ms_p99: 100 },
    details: { jobs, runner: remote ? "a separate process, over the runner protocol" : "embedded" },
    async run() {
      const r = await scenario(repoRoot, ["chain", String(jobs)], 0, remote);
      if (r.success !== jobs || r.edges_ms?.length !== jobs - 1) {
        throw new Error(
          `chain: expected ${jobs} successful runs and ${jobs - 1} edges, got ${r.success} and ${r.edges_ms?.length}`,
        );
      }
      return {
        [`${name}_ms_p50`]: percentile(r.edges_ms, 0.5),
        [`${name}_ms_p99`]: percentile(r.edges_ms, 0.99),
        [remote ? "chain_remote_s" : "chain_s"]: r.wall_s,
      };
    },
  };
}

/** How `dagBenchmark` runs the DAG. */
export interface DagOptions {
  /** The runner in a separate process, over the runner protocol (`dag1000_remote_*`). */
  readonly remote?: boolean;
  /**
   * The measured run is the server's second run of the DAG (`dag1000_warm_*`): V8 has compiled
   * its hot path, as in a server that has run before. No target: the targets are the fresh
   * server's.
   */
  readonly warm?: boolean;
}

/**
 * A random DAG of `jobs` jobs (fixed seed, up to 3 parents) of trivial bash scripts: Causeway (2
 * runner slots, everything persisted) against `make -j2` running the same scripts with the
 * same dependencies, in the same run. Figures are named after the size: `dag1000_s`,
 * `make_dag1000_s`, `dag1000_ratio`, `server_rss_mb_dag1000`.
 */
export function dagBenchmark(repoRoot: string, jobs = 1000, seed = 1, options: DagOptions = {}): Benchmark {
  const { remote = false, warm = false } = options;
  const name = `dag${jobs}${remote ? "_remote" : ""}${warm ? "_warm" : ""}`;
  return {
    name,
    targets: remote || warm ? {} : { [`${name}_ratio`]: 2, ...(jobs === 1000 ? { server_rss_mb_dag1000: 200 } : {}) },
    details: {
      jobs,
      seed,
      slots: 2,
      runner: remote ? "a separate process, over the runner protocol" : "embedded",
      server: warm ? "measured on its second run of the DAG" : "a fresh process",
    },
    async run() {
      const make = await makeTime(dagLine(jobs, seed).parents);
      const r = await scenario(repoRoot, ["dag", String(jobs), String(seed)], 0, remote, warm);
      if (r.success !== jobs || r.runs !== jobs)
        throw new Error(`dag: expected ${jobs} runs, all successful; got ${r.runs} runs, ${r.success} successful`);
      return {
        [`${name}_s`]: r.wall_s,
        [`make_${name}_s`]: make.wall,
        [`${name}_ratio`]: r.wall_s / make.wall,
        [`server_rss_mb_${name}`]: r.max_rss_mb,
        ...cpuFigures(name, jobs, scenarioCpu(r), make.busy),
      };
    },
  };
}

/** One job, `n` parallel jobs, one strict fan-in job: Causeway against `make -j2` (`fanout500_*`). */
export function fanoutBenchmark(repoRoot: string, n = 500): Benchmark {
  const name = `fanout${n}`;
  return {
    name,
    targets: { [`${name}_ratio`]: 2 },
    details: { jobs: n + 2, slots: 2 },
    async run() {
      const make = await makeTime(fanoutLine(n).parents);
      const r = await scenario(repoRoot, ["fanout", String(n)]);
      if (r.success !== n + 2) throw new Error(`fanout: expected ${n + 2} successful runs, got ${r.success}`);
      return {
        [`${name}_s`]: r.wall_s,
        [`make_${name}_s`]: make.wall,
        [`${name}_ratio`]: r.wall_s / make.wall,
        ...cpuFigures(name, n + 2, scenarioCpu(r), make.busy),
      };
    },
  };
}

/**
 * A line of `total` jobs (independent DAGs of `slice` jobs) applied to an empty store: how long
 * loading and applying it takes, the server's memory with it applied, and the time to run one
 * `slice`-job part of it (`line10k_*`).
 */
export function sliceBenchmark(repoRoot: string, total = 10_000, slice = 1000): Benchmark {
  return {
    name: "line10k",
    details: { total, slice },
    async run() {
      const r = await scenario(repoRoot, ["slice", String(total), String(slice)]);
      if (r.success !== slice) throw new Error(`slice: expected ${slice} successful runs, got ${r.success}`);
      return {
        line10k_load_s: r.load_s,
        line10k_apply_s: r.apply_s,
        line10k_rss_mb: r.rss_applied_mb,
        line10k_slice_s: r.wall_s,
      };
    },
  };
}

/**
 * The edge latency and the 1,000-job DAG again, with `history` finished runs (and their
 * versions, events and logs) in the store first: history must not slow the hot path. Each run
 * measures the same work on an empty store just before, and the ratios (`history_*_ratio`,
 * target < 1.2) compare the two: the machine and its file system drift over the suite (a
 * scenario run minutes later on a file system that thousands of files were made and removed on
 * is slower, history or not), so a ratio to the empty store's figures of the suite's start
 * would measure the drift.
 */
export function historyBenchmark(repoRoot: string, history = 100_000): Benchmark {
  return {
    name: "history",
    targets: { history_edge_p50_ratio: 1.2, history_dag1000_ratio: 1.2 },
    details: { history },
    async run() {
      const emptyChain = await scenario(repoRoot, ["chain", "200"]);
      const emptyDag = await scenario(repoRoot, ["dag", "1000", "1"]);
      const chain = await scenario(repoRoot, ["chain", "200"], history);
      const dag = await scenario(repoRoot, ["dag", "1000", "1"], history);
      if (chain.success !== 200 || dag.success !== 1000 || emptyChain.success !== 200 || emptyDag.success !== 1000) {
        throw new Error("history: not every run succeeded");
      }
      const p50 = percentile(chain.edges_ms ?? [], 0.5);
      return {
        edge_ms_p50_history: p50,
        edge_ms_p99_history: percentile(chain.edges_ms ?? [], 0.99),
        dag1000_s_history: dag.wall_s,
        server_rss_mb_dag1000_history: dag.max_rss_mb,
        history_edge_p50_ratio: p50 / percentile(emptyChain.edges_ms ?? [], 0.5),
        history_dag1000_ratio: dag.wall_s / emptyDag.wall_s,
      };
    },
  };
}
