import { createHash } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  chooseSandbox,
  createEmbeddedRunner,
  passthroughEnv,
  SHIPCTL_DIR,
  type SandboxChoice,
  type SandboxMode,
  type EmbeddedRunner,
  type EmbeddedRunnerOptions,
  type EmbeddedRunResult,
} from "../src/index.js";
import {
  loadPipeline,
  type BlobStore,
  type DependencySpec,
  type JobDef,
  type Run,
  type RunObserver,
  type RunSpec,
} from "@causeway/core";

/** An in-memory, content-addressed BlobStore (sha256 of the bytes). */
export class MemoryBlobStore implements BlobStore {
  readonly blobs = new Map<string, Uint8Array>();
  puts = 0;

  put(bytes: Uint8Array): Promise<string> {
    this.puts++;
    const sha = createHash("sha256").update(bytes).digest("hex");
    this.blobs.set(sha, Uint8Array.from(bytes));
    return Promise.resolve(sha);
  }

  get(sha: string): Promise<Uint8Array | undefined> {
    const bytes = this.blobs.get(sha);
    return Promise.resolve(bytes === undefined ? undefined : Uint8Array.from(bytes));
  }
}

/** Strips the first line break and the common indentation of a template literal. */
export function yaml(strings: TemplateStringsArray, ...values: unknown[]): string {
  const raw = strings.reduce((acc, s, i) => acc + s + (i < values.length ? String(values[i]) : ""), "");
  const lines = raw
    .replace(/^\n/, "")
    .replace(/\n[ ]*$/, "\n")
    .split("\n");
  const indents = lines.filter((l) => l.trim() !== "").map((l) => /^ */.exec(l)?.[0].length ?? 0);
  const cut = indents.length === 0 ? 0 : Math.min(...indents);
  return lines.map((l) => l.slice(cut)).join("\n");
}

/** The job `name` of a pipeline file; fails when the file does not load cleanly. */
export function jobOf(text: string, name?: string): JobDef {
  const result = loadPipeline([{ path: "shippable.yml", text }]);
  const errors = result.diagnostics.filter((d) => d.severity === "error");
  if (errors.length > 0) throw new Error(`pipeline errors: ${errors.map((d) => `${d.code} ${d.message}`).join("; ")}`);
  const job = name === undefined ? result.pipeline.jobs[0] : result.pipeline.jobs.find((j) => j.name === name);
  if (job === undefined) throw new Error(`no job ${name ?? "(first)"}`);
  return job;
}

/** A one-job pipeline whose only TASK runs `lines` (plus optional extra job keys as YAML). */
export function scriptJob(lines: readonly string[], extra = ""): JobDef {
  const script = lines.map((l) => `          - ${JSON.stringify(l)}`).join("\n");
  return jobOf(
    `jobs:\n  - name: job\n    type: runSh\n    steps:\n      - TASK:\n          script:\n${script}\n${extra}`,
  );
}

let nextRunId = 1;

/** A run of `job` as the engine would hand it over. */
export function makeRun(job: string, patch: Partial<Run> = {}): Run {
  const id = nextRunId++;
  return {
    id,
    job,
    number: id,
    status: "processing",
    statusReason: null,
    trigger: { kind: "manual", by: "alice" },
    flow: "flow-1",
    inputs: [],
    params: {},
    secretParams: [],
    priority: 9999,
    attempt: 1,
    rerunOf: null,
    exitCode: null,
    createdAt: "2026-11-27T00:00:00.000Z",
    startedAt: null,
    finishedAt: null,
    ...patch,
  };
}

/** A RunSpec of `job` with defaults for everything else. */
export function makeSpec(job: JobDef, patch: Partial<RunSpec> = {}): RunSpec {
  return {
    run: makeRun(job.name),
    job,
    dependencies: [],
    previousStateSha: null,
    params: {},
    buildUrl: "http://127.0.0.1:7000/runs/1",
    ...patch,
  };
}

/** A dependency with defaults (a resource IN without a version). */
export function makeDep(
  name: string,
  type: string,
  patch: Partial<Omit<DependencySpec, "version">> & {
    version?: Partial<NonNullable<DependencySpec["version"]>> | undefined;
  } = {},
): DependencySpec {
  const { version, ...rest } = patch;
  return {
    name,
    operation: "IN",
    kind: "resource",
    type,
    objectId: `${name}-id`,
    version:
      version === undefined
        ? undefined
        : { id: 1, versionNumber: 1, versionName: "", propertyBag: {}, stateSha: null, ...version },
    pointer: {},
    seed: {},
    template: {},
    ...rest,
  };
}

/** An observer that records everything. */
export class Recorder implements RunObserver {
  started = 0;
  readonly chunks: { at: number; bytes: Buffer }[] = [];

  onStarted(): void {
    this.started++;
  }

  onLog(chunk: Uint8Array): void {
    this.chunks.push({ at: Date.now(), bytes: Buffer.from(chunk) });
  }

  get text(): string {
    return Buffer.concat(this.chunks.map((c) => c.bytes)).toString("utf8");
  }

  /** The non-empty output lines of task commands (between CMD START and CMD END markers). */
  get outputLines(): string[] {
    const out: string[] = [];
    let inside = false;
    for (const line of this.text.split("\n")) {
      if (line.startsWith("__SH__CMD__START__")) inside = true;
      else if (line.startsWith("__SH__CMD__END__")) inside = false;
      else if (inside && line !== "") out.push(line);
    }
    return out;
  }
}

/** A fresh temporary directory, removed by `cleanup`. */
export async function tempDir(prefix = "causeway-runner-"): Promise<{ path: string; cleanup: () => Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), prefix));
  return { path, cleanup: () => rm(path, { recursive: true, force: true }) };
}

/** Polls `condition` every 10 ms until it holds; fails after `timeoutMs`. */
export async function waitFor(
  condition: () => boolean | Promise<boolean>,
  timeoutMs = 10_000,
  what = "condition",
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** A runner on a fresh work dir, with an in-memory blob store and the test process's PATH. */
export function testRunner(
  workDir: string,
  options: Partial<EmbeddedRunnerOptions> = {},
): {
  runner: EmbeddedRunner;
  blobs: MemoryBlobStore;
  run: (spec: RunSpec) => Promise<{ result: EmbeddedRunResult; rec: Recorder }>;
} {
  const blobs = (options.blobs as MemoryBlobStore | undefined) ?? new MemoryBlobStore();
  const runner = createEmbeddedRunner({ workDir, blobs, env: passthroughEnv(process.env), ...options });
  return {
    runner,
    blobs,
    run: async (spec) => {
      const rec = new Recorder();
      const result = await runner.execute(spec, rec).done;
      return { result, rec };
    },
  };
}

/** Whether tasks can run in a bubblewrap sandbox here (decided once per test file). */
export const SANDBOX: SandboxChoice = chooseSandbox({
  mode: "auto",
  env: passthroughEnv(process.env),
  shipctlDir: SHIPCTL_DIR,
  hidden: [],
});

/** True when `CI` is set to anything but an empty string, `0` or `false` (as .ci/run sets it). */
const IN_CI = !["", "0", "false"].includes((process.env.CI ?? "").trim().toLowerCase());

/**
 * Why the sandbox's tests cannot run here, or undefined when they can. Where CI is set a missing
 * sandbox is a failure (`.ci/run` installs bubblewrap), elsewhere a skip with this one line.
 */
export const SANDBOX_SKIP: string | undefined =
  SANDBOX.kind === "bwrap" || IN_CI ? undefined : `sandbox tests skipped: ${SANDBOX.reason}`;
if (SANDBOX_SKIP !== undefined) console.warn(SANDBOX_SKIP);

/**
 * The sandbox modes the runner's process tests run in: `off`, and `required` where a sandbox
 * can be made (always in CI: there `required` fails when it cannot).
 */
export const SANDBOX_MODES_HERE: readonly SandboxMode[] = SANDBOX_SKIP === undefined ? ["off", "required"] : ["off"];

/**
 * The processes (this machine's PIDs) whose command line holds `marker`, zombies excluded: how
 * a test finds a task's processes from outside, in a sandbox too (where `$$` and `$!` are PIDs
 * of the sandbox's own PID namespace).
 */
export function processesWith(marker: string): number[] {
  const found: number[] = [];
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name) || Number(name) === process.pid) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, "latin1");
      if (stat.slice(stat.lastIndexOf(")") + 2)[0] === "Z") continue;
      if (readFileSync(`/proc/${name}/cmdline`, "latin1").split("\0").includes(marker)) found.push(Number(name));
    } catch {
      // Gone meanwhile.
    }
  }
  return found;
}

let nextMarker = 0;
/** A `sleep` duration of about 30 s that no other process of this machine has as argument. */
export function uniqueSleep(): string {
  return `30.${process.pid}${String(++nextMarker).padStart(3, "0")}`;
}
