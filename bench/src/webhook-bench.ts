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
 * Latency of a webhook: from an accepted delivery's answer reaching the sender to the first
 * script line of the job it triggers, over `deliveries` deliveries one after another to a real
 * server on the loopback (webhook-scenario.ts). Reported beside the edge figures; no target of
 * its own in the design, so it informs and never fails the run.
 */
export function webhookBenchmark(repoRoot: string, deliveries = 50): Benchmark {
  return {
    name: "webhook",
    details: { deliveries },
    async run() {
      const script = join(repoRoot, "bench/dist/src/webhook-scenario.js");
      const { stdout } = await run(process.execPath, [script, String(deliveries)], {
        cwd: repoRoot,
        maxBuffer: 16 * 1024 * 1024,
      });
      const r = JSON.parse(stdout) as { deliveries: number; latencies_ms: number[]; sent_ms: number[] };
      if (r.latencies_ms.length !== deliveries)
        throw new Error(`webhook: expected ${deliveries} latencies, got ${r.latencies_ms.length}`);
      return {
        webhook_ms_p50: percentile(r.latencies_ms, 0.5),
        webhook_ms_p99: percentile(r.latencies_ms, 0.99),
        // From the request leaving the sender: what a sender waits from "push" to the job.
        webhook_sent_ms_p50: percentile(r.sent_ms, 0.5),
        webhook_sent_ms_p99: percentile(r.sent_ms, 0.99),
      };
    },
  };
}
