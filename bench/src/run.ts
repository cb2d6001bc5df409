import { mkdir, writeFile } from "node:fs/promises";
import { cpus, totalmem } from "node:os";
import { fileURLToPath } from "node:url";
import { generateLine } from "./generate-line.js";
import { allPassed, formatTable, runBenchmark, type BenchmarkResult } from "./harness.js";
import { dagBenchmark, edgeBenchmark } from "./engine-bench.js";
import { validateCli, validateInProcess, writeLine } from "./validate10k.js";

// The composition root of the benchmarks: `npm run bench [-- --quick]`.
const repoRoot = fileURLToPath(new URL("../../", import.meta.url));
const resultsFile = fileURLToPath(new URL("../results/latest.json", import.meta.url));
const quick = process.argv.includes("--quick");
const runs = quick ? 3 : 7;

const started = performance.now();
const line = await writeLine(generateLine({ jobs: 10_000, resources: 10_000, files: 10, seed: 1 }));
const results: BenchmarkResult[] = [];
try {
  process.stdout.write(
    `validate10k: ${line.expected.jobs} jobs, ${line.expected.resources} resources, ${line.expected.edges} edges in ${line.files} files (${(line.bytes / 1024 / 1024).toFixed(1)} MiB); median of ${runs} runs after 1 warm-up\n\n`,
  );
  const benchmarks = [validateInProcess(line, "validate10k"), validateCli(line, "validate10k_cli", repoRoot)];
  for (const bench of benchmarks) results.push(await runBenchmark(bench, runs));
  // The engine scenarios run in their own processes (the built packages: the CLI benchmark
  // above built them). --quick keeps the whole run under a minute: fewer runs, no warm-up.
  const engineRuns = quick ? 1 : 5;
  process.stdout.write(`engine: 200-job chain and 1,000-job DAG, median of ${engineRuns} runs\n`);
  results.push(await runBenchmark(edgeBenchmark(repoRoot), quick ? 2 : engineRuns, !quick));
  results.push(await runBenchmark(dagBenchmark(repoRoot), engineRuns, !quick));
  process.stdout.write(`${formatTable(results)}\n`);
  for (const r of results) if (!r.ok) process.stdout.write(`\n${r.name}: ${r.error}\n`);
} finally {
  await line.remove();
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
  `\nwrote bench/results/latest.json in ${((performance.now() - started) / 1000).toFixed(1)} s total\n`,
);
if (!allPassed(results)) {
  process.stdout.write("some benchmark failed or missed its target\n");
  process.exitCode = 1;
}
