import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import type { Benchmark } from "./harness.js";

const run = promisify(execFile);

function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length - 1) * p))] ?? Number.NaN;
}

/**
 * The web UI on a generated line of `jobs` jobs in Chromium (ui-scenario.ts): time to first
 * render (target under 3 s for 2,000 jobs), frame times while panning, and 100 job status
 * changes shown live, with the number of final states the page did not show (target 0). Needs
 * the built UI and Chromium (`CAUSEWAY_CHROMIUM`, default Debian's).
 */
export function uiBenchmark(repoRoot: string, jobs = 2000): Benchmark {
  return {
    name: "ui",
    details: { jobs },
    targets: { ui_first_render_ms: 3000, ui_live_dropped: 0.5 },
    async run() {
      const chromium = process.env.CAUSEWAY_CHROMIUM ?? "/usr/bin/chromium";
      if (!existsSync(chromium)) throw new Error(`ui: no Chromium at ${chromium} (apt-get install chromium)`);
      const script = join(repoRoot, "bench/dist/src/ui-scenario.js");
      const { stdout } = await run(process.execPath, [script, String(jobs)], {
        cwd: repoRoot,
        maxBuffer: 16 * 1024 * 1024,
      });
      const r = JSON.parse(stdout) as {
        first_render_ms: number;
        frames_ms: number[];
        live_changes: number;
        live_span_ms: number;
        live_dropped: number;
      };
      if (r.frames_ms.length === 0) throw new Error("ui: no frame was recorded while panning");
      return {
        ui_first_render_ms: r.first_render_ms,
        ui_pan_frame_ms_p50: percentile(r.frames_ms, 0.5),
        ui_pan_frame_ms_p95: percentile(r.frames_ms, 0.95),
        ui_pan_frame_ms_max: Math.max(...r.frames_ms),
        ui_live_changes: r.live_changes,
        ui_live_changes_per_s: r.live_span_ms > 0 ? (r.live_changes * 1000) / r.live_span_ms : Number.NaN,
        ui_live_dropped: r.live_dropped,
      };
    },
  };
}
