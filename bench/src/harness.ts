/** Named measurements of one run of a benchmark, e.g. `{ validate10k_s: 0.8 }`. */
export type Figures = Readonly<Record<string, number>>;

/** A benchmark: a function that measures what it wants and returns its figures. */
export interface Benchmark {
  readonly name: string;
  /** Upper bounds of some figures, in the figure's own unit: the run passes when the median is below. */
  readonly targets?: Readonly<Record<string, number>>;
  /** What the results file keeps beside the figures (sizes of the fixture...). */
  readonly details?: Readonly<Record<string, unknown>>;
  /** One run. Throws when what it measured is wrong (so a broken path never looks fast). */
  run(): Promise<Figures>;
}

/** The statistics of one figure over the runs. */
export interface FigureSummary {
  readonly median: number;
  readonly min: number;
  readonly max: number;
  readonly samples: readonly number[];
  readonly target: number | undefined;
  /** Undefined when the figure has no target. */
  readonly pass: boolean | undefined;
}

/** The outcome of a benchmark: its figures, or the error that stopped it. */
export type BenchmarkResult = (
  | { readonly name: string; readonly ok: true; readonly figures: Readonly<Record<string, FigureSummary>> }
  | { readonly name: string; readonly ok: false; readonly error: string }
) & {
  /** The benchmark's wall time, warm-up included: what it adds to the whole run. */
  readonly seconds: number;
};

/** The median of a non-empty list (the mean of the two middle values for an even count). */
export function median(values: readonly number[]): number {
  if (values.length === 0) throw new RangeError("median of an empty list");
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  const hi = sorted[mid] ?? 0;
  return sorted.length % 2 === 1 ? hi : ((sorted[mid - 1] ?? hi) + hi) / 2;
}

/** Summarises the runs of a benchmark, figure by figure, against its targets. */
export function summarise(
  runs: readonly Figures[],
  targets: Readonly<Record<string, number>> = {},
): Record<string, FigureSummary> {
  const names = [...new Set(runs.flatMap((r) => Object.keys(r)))];
  const out: Record<string, FigureSummary> = {};
  for (const name of names) {
    const samples = runs.map((r) => r[name]).filter((v): v is number => v !== undefined);
    const m = median(samples);
    const target = targets[name];
    out[name] = {
      median: m,
      min: Math.min(...samples),
      max: Math.max(...samples),
      samples,
      target,
      pass: target === undefined ? undefined : m < target,
    };
  }
  return out;
}

/**
 * Runs a benchmark once to warm up (not recorded), then `runs` times. Errors are caught and
 * returned, so one broken benchmark does not hide the others.
 */
export async function runBenchmark(bench: Benchmark, runs: number, warmUp = true): Promise<BenchmarkResult> {
  const start = performance.now();
  const seconds = (): number => (performance.now() - start) / 1000;
  try {
    if (warmUp) await bench.run();
    const figures: Figures[] = [];
    for (let i = 0; i < runs; i++) figures.push(await bench.run());
    return { name: bench.name, ok: true, figures: summarise(figures, bench.targets), seconds: seconds() };
  } catch (error) {
    return {
      name: bench.name,
      ok: false,
      error: error instanceof Error ? error.message : String(error),
      seconds: seconds(),
    };
  }
}

/** Where the run's time went, one benchmark after another: `validate10k 5.1 s, floor 2.0 s, ...`. */
export function formatTimes(results: readonly BenchmarkResult[]): string {
  return results.map((r) => `${r.name} ${r.seconds.toFixed(1)} s`).join(", ");
}

/** The results as an aligned text table: figure, median, min, max, target, pass/fail. */
export function formatTable(results: readonly BenchmarkResult[]): string {
  const rows: string[][] = [["figure", "median", "min", "max", "target", "result"]];
  const num = (v: number): string => v.toFixed(3);
  for (const r of results) {
    if (!r.ok) {
      rows.push([r.name, "-", "-", "-", "-", `ERROR: ${r.error.split("\n")[0] ?? ""}`]);
      continue;
    }
    for (const [name, f] of Object.entries(r.figures)) {
      rows.push([
        name,
        num(f.median),
        num(f.min),
        num(f.max),
        f.target === undefined ? "-" : `< ${num(f.target)}`,
        f.pass === undefined ? "-" : f.pass ? "pass" : "FAIL",
      ]);
    }
  }
  const widths = rows[0]?.map((_, c) => Math.max(...rows.map((row) => (row[c] ?? "").length))) ?? [];
  const line = (row: readonly string[]): string =>
    row
      .map((cell, c) => (c === 0 || c === row.length - 1 ? cell.padEnd(widths[c] ?? 0) : cell.padStart(widths[c] ?? 0)))
      .join("  ")
      .trimEnd();
  const [head, ...body] = rows;
  return [line(head ?? []), widths.map((w) => "-".repeat(w)).join("  "), ...body.map(line)].join("\n");
}

/** True when every benchmark ran and every figure with a target met it. */
export function allPassed(results: readonly BenchmarkResult[]): boolean {
  return results.every((r) => r.ok && Object.values(r.figures).every((f) => f.pass !== false));
}

/**
 * The sandbox of a benchmark's runner, from BENCH_SANDBOX: `auto` (default, as the server's:
 * one sandbox per runner slot where bwrap works), `off` or `required` (`npm run bench --
 * --sandbox off` sets it for every scenario).
 */
export function benchSandbox(value: string | undefined): "auto" | "off" | "required" {
  if (value === undefined || value === "") return "auto";
  if (value === "auto" || value === "off" || value === "required") return value;
  throw new Error(`BENCH_SANDBOX must be auto, off or required, got ${JSON.stringify(value)}`);
}
