import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadPipeline } from "@causeway/core";
import { Engine } from "@causeway/engine";
import { createEmbeddedRunner, passthroughEnv } from "@causeway/runner";
import { prepareWorkDir } from "@causeway/server";
import { openSqliteStore } from "@causeway/store";
import { dagLine, chainLine } from "./engine-lines.js";

// One engine scenario in its own process (the "server" of the benchmark), so its memory is
// measured alone: `node bench/dist/src/engine-scenario.js chain|dag N [seed]`. Prints JSON.

const [kind = "chain", countArg = "200", seedArg = "1"] = process.argv.slice(2);
const count = Number(countArg);
const dir = await mkdtemp(join(tmpdir(), "causeway-bench-engine-"));
const timesFile = join(dir, "times");
await writeFile(timesFile, "");
// The server's default work directory (a new one on tmpfs), removed at the end.
let workDir: string | undefined;
try {
  // The server's defaults: no nesting detection, workspaces on tmpfs when available.
  const stores = await openSqliteStore({ dataDir: join(dir, "data"), detectNestedCalls: false });
  workDir = process.env.BENCH_WORK_DIR ?? prepareWorkDir({ dataDir: join(dir, "data") });
  const runner = createEmbeddedRunner({
    workDir,
    blobs: stores.blobs,
    env: passthroughEnv(process.env),
  });
  const engine = new Engine({ ...stores, runner, options: { slots: 2 } });
  await engine.start();
  const yaml = kind === "dag" ? dagLine(count, Number(seedArg)).yaml : chainLine(count, timesFile);
  const loaded = loadPipeline([{ path: "causeway.yml", text: yaml }]);
  if (!loaded.ok) throw new Error(`scenario line has errors: ${JSON.stringify(loaded.diagnostics.slice(0, 3))}`);
  await engine.apply(loaded.pipeline);
  const elu0 = performance.eventLoopUtilization();
  const start = performance.now();
  await engine.putVersion("src", { versionName: "go" });
  await engine.idle();
  const wall = (performance.now() - start) / 1000;
  const runs = await stores.store.read.listRuns({ limit: count * 4 });
  const ok = runs.filter((r) => r.status === "success").length;
  await engine.stop();
  runner.close();
  await runner.idle();
  await stores.store.close();
  const result: Record<string, unknown> = {
    wall_s: wall,
    runs: runs.length,
    success: ok,
    max_rss_mb: process.resourceUsage().maxRSS / 1024,
    cpu_user_s: process.resourceUsage().userCPUTime / 1e6,
    cpu_sys_s: process.resourceUsage().systemCPUTime / 1e6,
    event_loop_utilization: performance.eventLoopUtilization(elu0).utilization,
  };
  if (kind === "chain") result.edges_ms = edges(await readFile(timesFile, "utf8"), count);
  process.stdout.write(`${JSON.stringify(result)}\n`);
} finally {
  await rm(dir, { recursive: true, force: true });
  if (workDir !== undefined && process.env.BENCH_WORK_DIR === undefined)
    await rm(workDir, { recursive: true, force: true });
}

// Each job of the chain writes "s <i> <EPOCHREALTIME>" first and "e <i> <EPOCHREALTIME>" last:
// an edge is the time from job i-1's last line to job i's first line.
function edges(text: string, n: number): number[] {
  const start = new Map<number, number>();
  const end = new Map<number, number>();
  for (const line of text.split("\n")) {
    const [what, i, t] = line.split(" ");
    if (i === undefined || t === undefined) continue;
    (what === "s" ? start : end).set(Number(i), Number(t) * 1000);
  }
  const out: number[] = [];
  for (let i = 1; i < n; i++) {
    const s = start.get(i);
    const e = end.get(i - 1);
    if (s !== undefined && e !== undefined) out.push(s - e);
  }
  return out;
}
