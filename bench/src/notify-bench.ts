import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import type { Benchmark } from "./harness.js";

const run = promisify(execFile);

function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length - 1) * p))] ?? Number.NaN;
}

/**
 * Latency of a notification: from a run's end being committed (finishRun's transaction, which
 * puts the delivery into the outbox) to a webhook receiver getting the request, over `runs` runs
 * one after another on a real server on the loopback (notify-scenario.ts). No target in the
 * design: it informs and never fails the run.
 */
export function notifyBenchmark(repoRoot: string, runs = 50): Benchmark {
  return {
    name: "notify",
    details: { runs },
    async run() {
      const script = join(repoRoot, "bench/dist/src/notify-scenario.js");
      const { stdout } = await run(process.execPath, [script, String(runs)], {
        cwd: repoRoot,
        maxBuffer: 16 * 1024 * 1024,
      });
      const r = JSON.parse(stdout) as { runs: number; latencies_ms: number[] };
      if (r.latencies_ms.length !== runs)
        throw new Error(`notify: expected ${runs} latencies, got ${r.latencies_ms.length}`);
      return {
        notify_ms_p50: percentile(r.latencies_ms, 0.5),
        notify_ms_p99: percentile(r.latencies_ms, 0.99),
      };
    },
  };
}
