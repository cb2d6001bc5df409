import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { dagLine, dagMakefile } from "./engine-lines.js";
import type { Benchmark } from "./harness.js";

const run = promisify(execFile);

interface ScenarioResult {
  readonly wall_s: number;
  readonly runs: number;
  readonly success: number;
  readonly max_rss_mb: number;
  readonly edges_ms?: number[];
}

/** Runs one engine scenario in its own process (the server of the benchmark). */
async function scenario(repoRoot: string, args: string[]): Promise<ScenarioResult> {
  const script = join(repoRoot, "bench/dist/src/engine-scenario.js");
  const { stdout } = await run(process.execPath, [script, ...args], { cwd: repoRoot, maxBuffer: 16 * 1024 * 1024 });
  return JSON.parse(stdout) as ScenarioResult;
}

function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length - 1) * p))] ?? Number.NaN;
}

/**
 * Scheduler overhead per dependency edge: a 200-job chain, from job i-1's last script line to
 * job i's first script line (bash's $EPOCHREALTIME on both sides), on the embedded store.
 */
export function edgeBenchmark(repoRoot: string, jobs = 200): Benchmark {
  return {
    name: "edge",
    targets: { edge_ms_p50: 20, edge_ms_p99: 100 },
    details: { jobs },
    async run() {
      const r = await scenario(repoRoot, ["chain", String(jobs)]);
      if (r.success !== jobs || r.edges_ms?.length !== jobs - 1) {
        throw new Error(
          `chain: expected ${jobs} successful runs and ${jobs - 1} edges, got ${r.success} and ${r.edges_ms?.length}`,
        );
      }
      return { edge_ms_p50: percentile(r.edges_ms, 0.5), edge_ms_p99: percentile(r.edges_ms, 0.99), chain_s: r.wall_s };
    },
  };
}

/**
 * A 1,000-job random DAG (fixed seed, up to 3 parents) of trivial bash scripts: Causeway (2
 * runner slots, everything persisted) against `make -j2` running the same scripts with the
 * same dependencies, in the same run.
 */
export function dagBenchmark(repoRoot: string, jobs = 1000, seed = 1): Benchmark {
  return {
    name: "dag1000",
    targets: { dag1000_ratio: 2, server_rss_mb_dag1000: 200 },
    details: { jobs, seed, slots: 2 },
    async run() {
      const dir = await mkdtemp(join(tmpdir(), "causeway-bench-make-"));
      try {
        await writeFile(join(dir, "Makefile"), dagMakefile(dagLine(jobs, seed).parents));
        const t = performance.now();
        await run("make", ["-j2", "-s", "-C", dir, "all"]);
        const make = (performance.now() - t) / 1000;
        const r = await scenario(repoRoot, ["dag", String(jobs), String(seed)]);
        if (r.success !== jobs || r.runs !== jobs)
          throw new Error(`dag: expected ${jobs} runs, all successful; got ${r.runs} runs, ${r.success} successful`);
        return {
          dag1000_s: r.wall_s,
          make_dag1000_s: make,
          dag1000_ratio: r.wall_s / make,
          server_rss_mb_dag1000: r.max_rss_mb,
        };
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    },
  };
}
