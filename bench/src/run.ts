import { mkdir, writeFile } from "node:fs/promises";
import { cpus, totalmem } from "node:os";
import { fileURLToPath } from "node:url";
import { floorBenchmark } from "./floor.js";
import { generateLine } from "./generate-line.js";
import { allPassed, benchSandbox, formatTable, formatTimes, runBenchmark, type BenchmarkResult } from "./harness.js";
import {
  dagBenchmark,
  edgeBenchmark,
  fanoutBenchmark,
  historyBenchmark,
  removeScenarioData,
  sliceBenchmark,
} from "./engine-bench.js";
import { peersBenchmark } from "./peers.js";
import { uiBenchmark } from "./ui-bench.js";
import { notifyBenchmark } from "./notify-bench.js";
import { webhookBenchmark } from "./webhook-bench.js";
import { validateCli, validateInProcess, writeLine } from "./validate10k.js";

// The composition root of the benchmarks: `npm run bench [-- --quick]`.
const repoRoot = fileURLToPath(new URL("../../", import.meta.url));
const resultsFile = fileURLToPath(new URL("../results/latest.json", import.meta.url));
const quick = process.argv.includes("--quick");
// --peers: the same DAG run by peers fetched at run time (not part of npm test, nor of --quick).
const peers = process.argv.includes("--peers");
// --ui: the web UI's benchmark in a --quick run too (it is part of every full run).
const ui = process.argv.includes("--ui");
const runs = quick ? 3 : 7;
// --sandbox auto|off|required: the runner's sandbox in every engine scenario (BENCH_SANDBOX,
// which the scenarios' processes inherit); default auto, as the server's.
const sandboxAt = process.argv.indexOf("--sandbox");
if (sandboxAt >= 0) process.env.BENCH_SANDBOX = benchSandbox(process.argv[sandboxAt + 1]);

const started = performance.now();
const line = await writeLine(generateLine({ jobs: 10_000, resources: 10_000, files: 10, seed: 1 }));
const results: BenchmarkResult[] = [];
try {
  process.stdout.write(
    `validate10k: ${line.expected.jobs} jobs, ${line.expected.resources} resources, ${line.expected.edges} edges in ${line.files} files (${(line.bytes / 1024 / 1024).toFixed(1)} MiB); median of ${runs} runs after 1 warm-up\n\n`,
  );
  results.push(await runBenchmark(validateInProcess(line, "validate10k"), runs));
  // The whole CLI process (its figure has no target): --quick runs it once, without a warm-up.
  results.push(await runBenchmark(validateCli(line, "validate10k_cli", repoRoot), quick ? 1 : runs, !quick));
  // The engine scenarios run in their own processes (the built packages: the CLI benchmark
  // above built them). --quick keeps the whole run under a minute: fewer runs, no warm-up.
  const engineRuns = quick ? 1 : 5;
  process.stdout.write(
    `engine: 200-job chain, webhook deliveries, notifications, 1,000-job DAG, 500-job fan-out${quick ? "" : ", 4,000-job DAG, 10,000-job line, a 100,000-run history"}; median of ${engineRuns} runs; sandbox ${process.env.BENCH_SANDBOX ?? "auto"}\n`,
  );
  // The floor the engine scenarios compare with: a process start and a durable commit.
  results.push(await runBenchmark(floorBenchmark(), quick ? 1 : 3, false));
  results.push(await runBenchmark(edgeBenchmark(repoRoot), quick ? 2 : engineRuns, !quick));
  // Beside the edge: from an accepted webhook delivery to the first line of the job it triggers.
  results.push(await runBenchmark(webhookBenchmark(repoRoot, quick ? 20 : 100), quick ? 1 : 3, !quick));
  // From a run's end (its commit) to its notification reaching a webhook receiver.
  results.push(await runBenchmark(notifyBenchmark(repoRoot, quick ? 20 : 100), quick ? 1 : 3, !quick));
  results.push(await runBenchmark(dagBenchmark(repoRoot), engineRuns, !quick));
  results.push(await runBenchmark(fanoutBenchmark(repoRoot), engineRuns, !quick));
  // The same chain and DAG with the runner in a separate process: what the network hop costs.
  results.push(await runBenchmark(edgeBenchmark(repoRoot, 200, true), quick ? 1 : 3, !quick));
  if (!quick) {
    // The remote DAG takes half a minute: --quick keeps the remote chain only.
    results.push(await runBenchmark(dagBenchmark(repoRoot, 1000, 1, { remote: true }), 3, true));
    // The same DAG on a server that has run it once: what V8's first compilation costs above.
    results.push(await runBenchmark(dagBenchmark(repoRoot, 1000, 1, { warm: true }), 3, false));
    // How cost grows: a larger DAG, a large line, and the same work on a store with history.
    results.push(await runBenchmark(dagBenchmark(repoRoot, 4000), 3, false));
    results.push(await runBenchmark(sliceBenchmark(repoRoot), 3, false));
    results.push(await runBenchmark(historyBenchmark(repoRoot), 3, false));
  }
  if (!quick || ui) {
    // The web UI in Chromium on a 2,000-job line: first render, panning, live status changes.
    process.stdout.write("ui: a 2,000-job line in Chromium (first render, panning, 100 live status changes)\n");
    results.push(await runBenchmark(uiBenchmark(repoRoot), quick ? 1 : 3, !quick));
  }
  if (peers) {
    process.stdout.write("peers: the 1,000-job DAG by a minimal Node spawner, wireit and lage (2 in parallel)\n");
    results.push(await runBenchmark(peersBenchmark(), quick ? 1 : 3, true));
  }
  process.stdout.write(`${formatTable(results)}\n`);
  for (const r of results) if (!r.ok) process.stdout.write(`\n${r.name}: ${r.error}\n`);
} finally {
  await line.remove();
  await removeScenarioData();
}

const figures: Record<string, number> = {};
for (const r of results) if (r.ok) for (const [name, f] of Object.entries(r.figures)) figures[name] = f.median;
const report = {
  date: new Date().toISOString(),
  node: process.version,
  machine: {
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model ?? "unknown",
    memGiB: Math.round((totalmem() / 1024 ** 3) * 10) / 10,
    platform: process.platform,
    arch: process.arch,
  },
  quick,
  runs,
  ...figures,
  benchmarks: Object.fromEntries(results.map(({ name, ...rest }) => [name, rest])),
};
await mkdir(fileURLToPath(new URL("../results/", import.meta.url)), { recursive: true });
await writeFile(resultsFile, `${JSON.stringify(report, null, 2)}\n`);
process.stdout.write(
  `\nwrote bench/results/latest.json in ${((performance.now() - started) / 1000).toFixed(1)} s total (${formatTimes(results)})\n`,
);
if (!allPassed(results)) {
  process.stdout.write("some benchmark failed or missed its target\n");
  process.exitCode = 1;
}
