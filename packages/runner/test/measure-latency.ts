/**
 * Measures the embedded runner's own overhead on a trivial one-task run (`true`): time from
 * `execute()` to the first script line's CMD START marker reaching the observer, and to `done`;
 * interleaved with a baseline (Node spawning `bash` on a one-line script, to its first output
 * and to its exit) so that machine load shows in both. Not a test: performance is measured,
 * never asserted in unit tests.
 *   npx tsx --conditions=source packages/runner/test/measure-latency.ts [runs] [parent dir]
 */
import { spawn } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { tmpdir } from "node:os";
import { performance } from "node:perf_hooks";
import { createEmbeddedRunner, passthroughEnv } from "../src/index.js";
import { MemoryBlobStore, makeSpec, scriptJob } from "./helpers.js";

const runs = Number(process.argv[2] ?? 200);
const dir = await mkdtemp(join(process.argv[3] ?? tmpdir(), "causeway-latency-"));
const runner = createEmbeddedRunner({ workDir: dir, blobs: new MemoryBlobStore(), env: passthroughEnv(process.env) });
const job = scriptJob(["true"]);
const bare = join(dir, "bare.sh");
await writeFile(bare, "echo first\n");

async function once(): Promise<{ first: number; total: number }> {
  const t0 = performance.now();
  let first = Number.NaN;
  const execution = runner.execute(makeSpec(job), {
    onStarted: () => undefined,
    onLog: (chunk) => {
      if (Number.isNaN(first) && Buffer.from(chunk).includes("__SH__CMD__START__")) first = performance.now() - t0;
    },
  });
  const result = await execution.done;
  if (result.status !== "success") throw new Error(`run failed: ${JSON.stringify(result)}`);
  return { first, total: performance.now() - t0 };
}

async function baseline(): Promise<{ first: number; total: number }> {
  const t0 = performance.now();
  let first = Number.NaN;
  await new Promise<void>((resolve) => {
    const child = spawn("bash", [bare], {
      cwd: dir,
      detached: true,
      stdio: ["ignore", "pipe", "pipe"],
      env: { PATH: process.env.PATH ?? "" },
    });
    child.stdout.once("data", () => (first = performance.now() - t0));
    child.once("close", () => resolve());
  });
  return { first, total: performance.now() - t0 };
}

function median(values: number[]): string {
  const s = [...values].sort((a, b) => a - b);
  return (s[s.length >> 1] ?? 0).toFixed(2);
}
function p90(values: number[]): string {
  const s = [...values].sort((a, b) => a - b);
  return (s[Math.floor(s.length * 0.9)] ?? 0).toFixed(2);
}

for (let i = 0; i < 20; i++) {
  await once();
  await baseline();
}
const r = { first: [] as number[], total: [] as number[] };
const b = { first: [] as number[], total: [] as number[] };
for (let i = 0; i < runs; i++) {
  const x = await once();
  r.first.push(x.first);
  r.total.push(x.total);
  const y = await baseline();
  b.first.push(y.first);
  b.total.push(y.total);
}
await runner.idle();
console.log(`runs: ${runs}, work dir: ${dir}, rss: ${(process.memoryUsage().rss / 1e6).toFixed(0)} MB`);
console.log(`runner   execute() -> first script line: median ${median(r.first)} ms (p90 ${p90(r.first)})`);
console.log(`runner   execute() -> done:              median ${median(r.total)} ms (p90 ${p90(r.total)})`);
console.log(`baseline spawn(bash) -> first output:    median ${median(b.first)} ms (p90 ${p90(b.first)})`);
console.log(`baseline spawn(bash) -> close:           median ${median(b.total)} ms (p90 ${p90(b.total)})`);
await rm(dir, { recursive: true, force: true });
