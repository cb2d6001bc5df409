import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";

/**
 * A chain of `n` jobs: job_i takes job_{i-1} as IN; each prints timestamps (`s i <t>`, `e i
 * <t>`) to its console, which the scenario reads from the run logs (`timestampLines`): a file
 * outside the workspace would be out of a sandboxed task's reach.
 */
export function chainLine(n: number): string {
  const out = [
    "resources:",
    "  - name: src",
    "    type: params",
    "    versionTemplate: { params: { A: '1' } }",
    "jobs:",
  ];
  for (let i = 0; i < n; i++) {
    out.push(
      `  - name: job_${i}`,
      "    type: runSh",
      "    steps:",
      `      - IN: ${i === 0 ? "src" : `job_${i - 1}`}`,
      "      - TASK:",
      "          script:",
      `            - echo "s ${i} $EPOCHREALTIME"`,
      `            - echo "e ${i} $EPOCHREALTIME"`,
    );
  }
  return `${out.join("\n")}\n`;
}

/**
 * The lines of the run logs in `logsDir` (`<data>/logs`, one file per run) that match `pattern`,
 * runs in id order: the timestamps a benchmark's jobs print.
 */
export async function timestampLines(logsDir: string, pattern: RegExp): Promise<string[]> {
  const files = (await readdir(logsDir)).filter((f) => /^\d+\.log$/.test(f));
  files.sort((a, b) => parseInt(a, 10) - parseInt(b, 10));
  const out: string[] = [];
  for (const f of files) {
    for (const line of (await readFile(join(logsDir, f), "utf8")).split("\n")) if (pattern.test(line)) out.push(line);
  }
  return out;
}

/** A deterministic PRNG (mulberry32). */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A random DAG of `n` nodes: node i has up to 3 parents among nodes before it (fixed seed). */
export function randomDag(n: number, seed: number): number[][] {
  const random = prng(seed);
  const parents: number[][] = [];
  for (let i = 0; i < n; i++) {
    const count = i === 0 ? 0 : Math.floor(random() * 4);
    const set = new Set<number>();
    for (let k = 0; k < count; k++) set.add(Math.floor(random() * i));
    parents.push([...set].sort((a, b) => a - b));
  }
  return parents;
}

/**
 * The DAG as an assembly line of trivial jobs (script `true`). Jobs without parents take the
 * resource `src`; every job is `strict`, so each runs once per wave, after all its upstream.
 */
export function dagLine(n: number, seed: number): { yaml: string; parents: number[][] } {
  const parents = randomDag(n, seed);
  return { yaml: lineOf([{ parents, prefix: "j", src: "src" }]), parents };
}

/**
 * One job, then `n` parallel jobs that take it, then one strict fan-in job that takes all of
 * them: node 0 is the root, 1..n the fan-out, n+1 the fan-in.
 */
export function fanoutLine(n: number): { yaml: string; parents: number[][] } {
  const parents: number[][] = [[]];
  for (let i = 1; i <= n; i++) parents.push([0]);
  parents.push(Array.from({ length: n }, (_, i) => i + 1));
  return { yaml: lineOf([{ parents, prefix: "j", src: "src" }]), parents };
}

/**
 * `components` independent random DAGs of `size` jobs each (jobs `c<k>_j<i>`, resource
 * `src_<k>`): a line of `components * size` jobs of which one component, a slice, is run.
 */
export function slicedLine(components: number, size: number, seed: number): string {
  return lineOf(
    Array.from({ length: components }, (_, k) => ({
      parents: randomDag(size, seed + k),
      prefix: `c${k}_j`,
      src: `src_${k}`,
    })),
  );
}

// The YAML of DAGs of trivial strict jobs: a job without parents takes its DAG's resource.
function lineOf(dags: readonly { parents: number[][]; prefix: string; src: string }[]): string {
  const out = ["resources:"];
  for (const d of dags)
    out.push(`  - name: ${d.src}`, "    type: params", "    versionTemplate: { params: { A: '1' } }");
  out.push("jobs:");
  for (const d of dags) {
    d.parents.forEach((ps, i) => {
      out.push(`  - name: ${d.prefix}${i}`, "    type: runSh", "    dependencyMode: strict", "    steps:");
      if (ps.length === 0) out.push(`      - IN: ${d.src}`);
      for (const p of ps) out.push(`      - IN: ${d.prefix}${p}`);
      out.push("      - TASK:", "          script:", "            - true");
    });
  }
  return `${out.join("\n")}\n`;
}

/** The same DAG as a Makefile of phony targets running the same script. */
export function dagMakefile(parents: number[][]): string {
  const names = parents.map((_, i) => `j${i}`);
  const lines = [`.PHONY: all ${names.join(" ")}`, `all: ${names.join(" ")}`];
  parents.forEach((ps, i) => {
    lines.push(`j${i}:${ps.map((p) => ` j${p}`).join("")}`, "\t@bash -c true");
  });
  return `${lines.join("\n")}\n`;
}
