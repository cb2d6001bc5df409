import { execFile } from "node:child_process";
import { access, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { promisify } from "node:util";
import { buildGraph, loadPipelineDirectory, topologicalOrder } from "@causeway/core";
import type { GeneratedLine } from "./generate-line.js";
import type { Benchmark } from "./harness.js";
import { nodePipelineFs } from "@causeway/server";

const run = promisify(execFile);

/** A generated line written to a fresh temporary directory. */
export interface LineOnDisk {
  readonly dir: string;
  readonly bytes: number;
  readonly files: number;
  readonly expected: GeneratedLine["expected"];
  /** Removes the directory. */
  remove(): Promise<void>;
}

/** Writes `line` into a new temporary directory. */
export async function writeLine(line: GeneratedLine): Promise<LineOnDisk> {
  const dir = await mkdtemp(join(tmpdir(), "causeway-bench-"));
  for (const f of line.files) {
    await mkdir(dirname(join(dir, f.path)), { recursive: true });
    await writeFile(join(dir, f.path), f.text);
  }
  return {
    dir,
    bytes: line.files.reduce((n, f) => n + Buffer.byteLength(f.text), 0),
    files: line.files.length,
    expected: line.expected,
    remove: () => rm(dir, { recursive: true, force: true }),
  };
}

interface Summary {
  readonly resources: number;
  readonly jobs: number;
  readonly edges: number;
}

function checkSummary(what: string, ok: boolean, errors: number, got: Summary, want: Summary): void {
  if (!ok || errors > 0 || got.resources !== want.resources || got.jobs !== want.jobs || got.edges !== want.edges) {
    throw new Error(
      `${what}: the generated line must validate with no error and ${want.resources} resources / ${want.jobs} jobs / ${want.edges} edges; got ok=${ok}, ${errors} errors, ${got.resources} / ${got.jobs} / ${got.edges}`,
    );
  }
}

const seconds = (fromMs: number): number => (performance.now() - fromMs) / 1000;

/**
 * What `causeway validate` does, in-process and minus printing: read the directory from disk,
 * load and validate it, build the graph and its topological order.
 */
export function validateInProcess(line: LineOnDisk, name: string): Benchmark {
  return {
    name,
    targets: { [`${name}_s`]: 1.0 },
    details: { files: line.files, bytes: line.bytes, ...line.expected },
    async run() {
      const start = performance.now();
      const result = await loadPipelineDirectory(nodePipelineFs(line.dir));
      const loaded = performance.now();
      const graph = buildGraph(result.pipeline);
      const order = topologicalOrder(graph);
      const total = seconds(start);
      const errors = result.diagnostics.filter((d) => d.severity === "error").length;
      checkSummary(name, result.ok, errors, result.summary, line.expected);
      if (order.length !== line.expected.resources + line.expected.jobs)
        throw new Error(`${name}: the topological order has ${order.length} nodes`);
      return {
        [`${name}_s`]: total,
        [`${name}_load_s`]: (loaded - start) / 1000,
        [`${name}_graph_s`]: total - (loaded - start) / 1000,
      };
    },
  };
}

/** The wall time of the whole CLI process: `node packages/cli/dist/main.js validate DIR --format json`. */
export function validateCli(line: LineOnDisk, name: string, repoRoot: string): Benchmark {
  const main = join(repoRoot, "packages/cli/dist/main.js");
  let built = false;
  return {
    name,
    details: { command: `node packages/cli/dist/main.js validate DIR --format json` },
    async run() {
      if (!built) {
        await buildDist(repoRoot, main);
        built = true;
      }
      const start = performance.now();
      const { stdout } = await run(process.execPath, [main, "validate", line.dir, "--format", "json"], {
        maxBuffer: 256 * 1024 * 1024,
      }).catch((error: unknown) => {
        throw new Error(`${name}: causeway validate failed: ${error instanceof Error ? error.message : String(error)}`);
      });
      const wall = seconds(start);
      const out = JSON.parse(stdout) as { ok: boolean; diagnostics: { severity: string }[]; summary: Summary };
      const errors = out.diagnostics.filter((d) => d.severity === "error").length;
      checkSummary(name, out.ok, errors, out.summary, line.expected);
      return { [`${name}_s`]: wall };
    },
  };
}

// The CLI benchmark runs the built CLI, so it builds first: `tsc -b` is incremental and quick
// when nothing changed, and a stale dist would measure old code.
async function buildDist(repoRoot: string, main: string): Promise<void> {
  const tsc = join(repoRoot, "node_modules/typescript/bin/tsc");
  try {
    await run(process.execPath, [tsc, "-b"], { cwd: repoRoot, maxBuffer: 64 * 1024 * 1024 });
  } catch (error) {
    const out = (error as { stdout?: string }).stdout ?? "";
    throw new Error(`npx tsc -b failed, so packages/cli/dist cannot be built: fix these first\n${out.trim()}`);
  }
  await access(main).catch(() => {
    throw new Error(`${main} is missing after tsc -b`);
  });
}
