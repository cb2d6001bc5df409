import { execFile } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { loadPipeline, type Store, type LogStore } from "@causeway/core";
import { Engine } from "@causeway/engine";
import { createEmbeddedRunner, passthroughEnv } from "@causeway/runner";
import { prepareWorkDir, RunnerHub, startEmbeddedAgent } from "@causeway/server";
import { openSqliteStore } from "@causeway/store";
import { chainLine, dagLine, fanoutLine, slicedLine, timestampLines } from "./engine-lines.js";
import { machineBusySeconds } from "./cpu.js";
import { benchSandbox } from "./harness.js";
import { remoteRunner } from "./remote-runner.js";

// One engine scenario in its own process (the "server" of the benchmark), so its memory is
// measured alone. Prints one JSON object.
//
//   node bench/dist/src/engine-scenario.js chain N            a chain of N jobs (edge latency)
//   node bench/dist/src/engine-scenario.js dag N [seed]       a random DAG of N jobs
//   node bench/dist/src/engine-scenario.js fanout N           1 job -> N parallel jobs -> 1 strict fan-in
//   node bench/dist/src/engine-scenario.js slice TOTAL SIZE   a line of TOTAL jobs; one SIZE-job part runs
//
// BENCH_HISTORY=N first fills the store with N finished runs of the line's jobs (each with its
// job version, its events and a log file), so the same scenario can be measured with a history.
// The filling is done by a process of its own (this script with BENCH_FILL_DIR): the scenario's
// server then starts on that store as after a restart, and its memory is its own, not what
// writing 100,000 runs left behind.
// BENCH_WARM=1 (not for chain): the scenario's work is run once before the measured run, in
// the same process, so that the measured run is of a server whose hot path V8 has compiled (a
// server that has run before), not of a fresh one.
// BENCH_SANDBOX=auto|off|required: the runner's sandbox (default auto, as the server's).
// BENCH_DATA_ROOT=DIR: the data directory is made in DIR and left there (the suite removes DIR).

const [kind = "chain", countArg = "200", thirdArg = "1"] = process.argv.slice(2);
const count = Number(countArg);
const history = Number(process.env.BENCH_HISTORY ?? "0");
const dataRoot = process.env.BENCH_DATA_ROOT;
const fillDir = process.env.BENCH_FILL_DIR;
const warm = process.env.BENCH_WARM === "1";
if (warm && kind === "chain")
  throw new Error("BENCH_WARM=1: the chain's edges are read from every log, so it has no warm run");
const dir = fillDir ?? (await mkdtemp(join(dataRoot ?? tmpdir(), "causeway-bench-engine-")));
// The server's default work directory (a new one on tmpfs), removed at the end.
let workDir: string | undefined;
try {
  if (history > 0 && fillDir === undefined) {
    await promisify(execFile)(process.execPath, [fileURLToPath(import.meta.url), ...process.argv.slice(2)], {
      env: { ...process.env, BENCH_FILL_DIR: dir },
    });
  }
  const { yaml, trigger } = scenarioLine();
  // The server's defaults: no nesting detection, workspaces on tmpfs when available.
  const stores = await openSqliteStore({ dataDir: join(dir, "data"), detectNestedCalls: false });
  workDir = process.env.BENCH_WORK_DIR ?? prepareWorkDir({ dataDir: join(dir, "data") });
  // BENCH_REMOTE=1: the jobs run on a runner in a separate process, over the runner protocol.
  const remote = process.env.BENCH_REMOTE === "1" ? remoteRunner(stores, dir, 2) : undefined;
  const runner = createEmbeddedRunner({
    workDir,
    blobs: stores.blobs,
    env: passthroughEnv(process.env),
    sandbox: benchSandbox(process.env.BENCH_SANDBOX),
    sandboxHidden: [join(dir, "data")],
  });
  // As the server composes them: the embedded runner is a runner of the hub, on the in-process
  // transport of the runner protocol (or, BENCH_REMOTE=1, a runner process over HTTP).
  const hub = remote?.hub ?? new RunnerHub({ store: stores.runners });
  const embedded =
    remote === undefined ? await startEmbeddedAgent({ hub, runner, slots: 2, blobs: stores.blobs }) : undefined;
  const engine = new Engine({ ...stores, runner: hub, options: { slots: 2 } });
  await engine.start();
  await remote?.connect(engine);
  const loadStart = performance.now();
  const loaded = loadPipeline([{ path: "causeway.yml", text: yaml }]);
  if (!loaded.ok) throw new Error(`scenario line has errors: ${JSON.stringify(loaded.diagnostics.slice(0, 3))}`);
  const applyStart = performance.now();
  await engine.apply(loaded.pipeline);
  const applied = performance.now();
  if (fillDir !== undefined) {
    // The filling process: the history, then out (its caller runs the scenario on it).
    await fillHistory(
      stores.store,
      stores.logs,
      loaded.pipeline.jobs.map((j) => j.name),
      history,
    );
    await engine.stop();
    await embedded?.stop();
    runner.close();
    await runner.idle();
    await stores.store.close();
    if (process.env.BENCH_WORK_DIR === undefined) await rm(workDir, { recursive: true, force: true });
    // Not through `finally`: the data directory is the caller's.
    process.exit(0);
  }
  if (warm) {
    await engine.putVersion(trigger, { versionName: "warm-up" });
    await engine.idle();
  }
  const rssApplied = process.memoryUsage().rss / 1024 / 1024;
  const before = await stores.store.read.listRuns({ limit: 1 });
  const elu0 = performance.eventLoopUtilization();
  const cpu0 = process.cpuUsage();
  const busy0 = machineBusySeconds();
  const start = performance.now();
  await engine.putVersion(trigger, { versionName: "go" });
  await engine.idle();
  const wall = (performance.now() - start) / 1000;
  const busy1 = machineBusySeconds();
  const cpu = process.cpuUsage(cpu0);
  const runs = (await stores.store.read.listRuns({ limit: count * 4 })).filter((r) => r.id > (before[0]?.id ?? 0));
  const ok = runs.filter((r) => r.status === "success").length;
  await engine.stop();
  await embedded?.stop();
  await remote?.stop();
  runner.close();
  await runner.idle();
  await stores.store.close();
  const result: Record<string, unknown> = {
    wall_s: wall,
    runs: runs.length,
    success: ok,
    load_s: (applyStart - loadStart) / 1000,
    apply_s: (applied - applyStart) / 1000,
    rss_applied_mb: rssApplied,
    max_rss_mb: process.resourceUsage().maxRSS / 1024,
    cpu_user_s: process.resourceUsage().userCPUTime / 1e6,
    cpu_sys_s: process.resourceUsage().systemCPUTime / 1e6,
    event_loop_utilization: performance.eventLoopUtilization(elu0).utilization,
    // While the work ran: the server process's CPU, and the whole machine's (tasks included).
    cpu_run_s: (cpu.user + cpu.system) / 1e6,
    machine_busy_s: busy0 === undefined || busy1 === undefined ? null : busy1 - busy0,
    history,
    warm,
  };
  if (kind === "chain") {
    const lines = await timestampLines(join(dir, "data", "logs"), /^[se] \d+ \d+[.,]\d+$/);
    result.edges_ms = edges(lines.join("\n"), count);
  }
  process.stdout.write(`${JSON.stringify(result)}\n`);
} finally {
  if (dataRoot === undefined) await rm(dir, { recursive: true, force: true });
  if (workDir !== undefined && process.env.BENCH_WORK_DIR === undefined)
    await rm(workDir, { recursive: true, force: true });
}

/** The scenario's line and the resource whose new version starts it. */
function scenarioLine(): { yaml: string; trigger: string } {
  switch (kind) {
    case "chain":
      return { yaml: chainLine(count), trigger: "src" };
    case "dag":
      return { yaml: dagLine(count, Number(thirdArg)).yaml, trigger: "src" };
    case "fanout":
      return { yaml: fanoutLine(count).yaml, trigger: "src" };
    case "slice": {
      const size = Number(thirdArg);
      if (!Number.isInteger(size) || size < 1 || count % size !== 0)
        throw new Error(`slice TOTAL SIZE: TOTAL must be a multiple of SIZE, got ${count} and ${thirdArg}`);
      return { yaml: slicedLine(count / size, size, 1), trigger: "src_0" };
    }
    default:
      throw new Error(`unknown scenario ${kind}: chain, dag, fanout or slice`);
  }
}

/**
 * `n` finished runs spread over `jobs`, as a line that ran for a while leaves them: each run
 * with its job version, three events and a small log. Written in batches of transactions.
 */
async function fillHistory(store: Store, logs: LogStore, jobs: readonly string[], n: number): Promise<void> {
  const batch = 5000;
  const text = new TextEncoder().encode("__SH__GROUP__START__|{}|Setup\nhello\n");
  for (let done = 0; done < n; done += batch) {
    const made = await store.transaction(async (tx) => {
      const ids: number[] = [];
      for (let i = done; i < Math.min(n, done + batch); i++) {
        const job = jobs[i % jobs.length] ?? "j0";
        const run = await tx.insertRun({
          job,
          status: "success",
          statusReason: null,
          trigger: { kind: "manual", by: "history" },
          flow: `history-${i}`,
          inputs: [],
          params: {},
          priority: 9999,
          attempt: 1,
          rerunOf: null,
          secretParams: [],
        });
        await tx.insertVersion({
          objectName: job,
          versionName: "",
          propertyBag: {},
          createdBy: `run:${run.id}`,
          runId: run.id,
          stateSha: null,
          flowId: run.flow,
        });
        for (const status of ["queued", "processing", "success"])
          await tx.appendEvent("run", { id: run.id, job, number: run.number, status, flow: run.flow });
        ids.push(run.id);
      }
      return ids;
    });
    for (const id of made) {
      await logs.create(id);
      await logs.append(id, text);
      await logs.close(id, text.byteLength);
    }
  }
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
