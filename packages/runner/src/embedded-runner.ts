import { mkdirSync, renameSync, rmSync } from "node:fs";
import { basename } from "node:path";
import { performance } from "node:perf_hooks";
import { constants as osConstants } from "node:os";
import {
  describeError,
  type DependencySpec,
  type Execution,
  type RunObserver,
  type RunSpec,
  type RunnerPort,
  type RunnerStatus,
  type TaskStep,
} from "@causeway/core";
import { RunnerGroup } from "./console.js";
import { isSystemError } from "./file-errors.js";
import { hasContainerEngine, NO_CONTAINER_ENGINE } from "./container.js";
import { materialiserFor } from "./kinds/index.js";
import { compileRunnerOptions, type CompiledRunnerOptions, type EmbeddedRunnerOptions } from "./options.js";
import { SHIPCTL_DIR } from "./paths.js";
import { TaskLauncher, type TaskProcess } from "./launcher.js";
import { WorkerRecord } from "./worker-record.js";
import { chooseSandbox, sandboxedCommand, type Sandbox, type SandboxChoice } from "./sandbox.js";
import { GroupProcess } from "./process.js";
import { pointBuild, SlotPool } from "./slots.js";
import { resolveIntegrations, runIntegrations, type RunIntegrations } from "./integrations.js";
import { runEnvironment, splitSecrets, taskEnvironment, withIntegrations } from "./run-env.js";
import { collectResults, type EmbeddedRunResult } from "./run-results.js";
import { taskScript } from "./script.js";
import { restoreArchive, type ArchiveManifest } from "./state-archive.js";
import {
  checkDirName,
  createWorkspace,
  dependencyPaths,
  freeBytes,
  workspacePaths,
  WorkspaceRemover,
  type FreeSpaceWatch,
  type WorkspacePaths,
} from "./workspace.js";

/**
 * The embedded runner: executes runs on this host, in bash, one process group per task
 * (design §3, §4; shippable.md §5.4, §6.3, §8, §10.4). `execute` never throws: every failure
 * (workspace, git, blob store, spawn) ends as status `error` with a reason. Console format:
 * docs/console-format.md.
 */
export function createEmbeddedRunner(options: EmbeddedRunnerOptions): EmbeddedRunner {
  const compiled = compileRunnerOptions(options);
  // Shared directories exist before the sandbox binds them (one that cannot be made is not shown).
  for (const dir of compiled.sandboxShared) {
    try {
      mkdirSync(dir, { recursive: true });
    } catch {
      // Left out of the sandbox by sandboxArgs.
    }
  }
  const sandbox = chooseSandbox({
    mode: compiled.sandbox,
    env: compiled.env,
    shipctlDir: SHIPCTL_DIR,
    hidden: compiled.sandboxHidden,
    shared: compiled.sandboxShared,
  });
  const chosen = sandbox.kind === "bwrap" ? sandbox.sandbox : undefined;
  const launcher = compiled.launcher
    ? new TaskLauncher({
        graceMs: compiled.cancelGraceMs,
        ...(compiled.env.LANG === undefined ? {} : { locale: compiled.env.LANG }),
        ...(compiled.workerRecord === undefined ? {} : { record: new WorkerRecord(compiled.workerRecord) }),
        ...(chosen === undefined ? {} : { sandbox: chosen }),
      })
    : undefined;
  // Tasks in a sandbox through task workers: one sandboxed worker per slot (slots.ts).
  const slots = launcher !== undefined && chosen !== undefined ? new SlotPool(compiled.workDir) : undefined;
  const remover = new WorkspaceRemover(
    launcher === undefined ? undefined : (dir) => launcher.deleteTree(dir),
    slots === undefined ? undefined : compiled.workDir,
  );
  return {
    sandbox,
    execute: (spec, observer, io) =>
      new RunExecution(
        io === undefined ? compiled : { ...compiled, ...io },
        { remover, launcher, sandbox: chosen, slots },
        spec,
        observer,
      ),
    idle: () => remover.idle(),
    close: () => {
      launcher?.close();
      slots?.removeFree();
    },
  };
}

/** What one run reads and writes through (a remote runner's calls to the server). */
export type RunIo = Pick<CompiledRunnerOptions, "blobs" | "integrations">;

/** An execution of the embedded runner: its result carries the fields of EmbeddedRunResult. */
export interface EmbeddedExecution extends Execution {
  readonly done: Promise<EmbeddedRunResult>;
}

/** The embedded runner: a RunnerPort whose executions report an EmbeddedRunResult. */
export interface EmbeddedRunner extends RunnerPort {
  /** Whether tasks run in a sandbox, and which, or why not: for the server's start line. */
  readonly sandbox: SandboxChoice;
  /**
   * `io` replaces the runner's blob store and integrations for this run: a remote runner reads
   * and writes them through the server, with the run's own job token.
   */
  execute(spec: RunSpec, observer: RunObserver, io?: RunIo): EmbeddedExecution;
  /**
   * Resolves when the workspaces of finished runs are deleted (they are renamed away when a
   * run ends and deleted in the background); for shutdown and tests.
   */
  idle(): Promise<void>;
  /** Ends the task launcher (running tasks go on) and removes the empty slot directories. */
  close(): void;
}

/** A task as the runner executes it. */
interface PlannedTask {
  readonly name: string;
  readonly step: TaskStep | undefined;
  readonly lines: readonly string[];
}

interface Prepared {
  readonly paths: WorkspacePaths;
  readonly tasks: readonly {
    readonly task: PlannedTask;
    /** The task's whole environment. */
    readonly env: Record<string, string>;
    /** The part of `env` no file may hold (secret parameters); the script holds the rest. */
    readonly secretEnv: Record<string, string>;
  }[];
  readonly previous: ArchiveManifest | undefined;
}

/** How the tasks ended, before state is saved. */
interface Outcome {
  readonly status: RunnerStatus;
  readonly reason: string | null;
  readonly exitCode: number | null;
  /** A task process was started: the state directory is the run's to save. */
  readonly ranTasks: boolean;
  /** The work directory was full when a task failed: nothing the run left is trusted. */
  readonly workDirFull?: boolean;
}

type Stop = { readonly status: "cancelled" | "timeout"; readonly reason: string };

/** What the runs of a runner share. */
interface RunnerParts {
  readonly remover: WorkspaceRemover;
  readonly launcher: TaskLauncher | undefined;
  /** The sandbox of tasks, if any. */
  readonly sandbox: Sandbox | undefined;
  /** The slots of sandboxed task workers (a sandbox and a launcher), if any. */
  readonly slots: SlotPool | undefined;
}

const MAX_TIMER_MS = 2_147_483_647;

const HOOKS_WITH_SCRIPTS = ["on_start", "on_success", "on_failure", "always"] as const;

class RunExecution implements EmbeddedExecution {
  readonly done: Promise<EmbeddedRunResult>;
  readonly #opts: CompiledRunnerOptions;
  readonly #remover: WorkspaceRemover;
  readonly #launcher: TaskLauncher | undefined;
  /** The sandbox of tasks, if any. */
  readonly #sandbox: Sandbox | undefined;
  readonly #slots: SlotPool | undefined;
  /** The slot directory this run holds (its workspace is inside), if any. */
  #slot: string | undefined;
  readonly #spec: RunSpec;
  readonly #observer: RunObserver;
  readonly #abort = new AbortController();
  #stop: Stop | undefined;
  #current: TaskProcess | undefined;
  #tasksOver = false;
  #root: string | undefined;

  constructor(opts: CompiledRunnerOptions, parts: RunnerParts, spec: RunSpec, observer: RunObserver) {
    this.#opts = opts;
    this.#remover = parts.remover;
    this.#launcher = parts.launcher;
    this.#sandbox = parts.sandbox;
    this.#slots = parts.slots;
    this.#spec = spec;
    this.#observer = observer;
    this.done = this.#execute().catch((error: unknown) => ({
      status: "error" as const,
      reason: `internal error of the runner: ${describeError(error)}`,
      exitCode: null,
      stateSha: spec.previousStateSha,
      outputs: {},
      outStateShas: {},
      outVersions: {},
      jobVersion: null,
      notifications: [],
    }));
  }

  cancel(reason: string): void {
    this.#halt({ status: "cancelled", reason: reason === "" ? "cancelled" : reason });
  }

  #halt(stop: Stop): void {
    if (this.#tasksOver || this.#stop !== undefined) return;
    this.#stop = stop;
    this.#abort.abort();
    this.#current?.terminate();
  }

  #emit(text: string | Uint8Array): void {
    try {
      this.#observer.onLog(typeof text === "string" ? Buffer.from(text) : text);
    } catch {
      // An observer that throws must not take the run (or the process) down.
    }
  }

  async #execute(): Promise<EmbeddedRunResult> {
    // onStarted is reported after execute() returned, so the caller holds the Execution first.
    await Promise.resolve();
    try {
      this.#observer.onStarted();
    } catch {
      // see #emit
    }
    const minutes = this.#spec.job.runtime.timeoutMinutes;
    const timer =
      Number.isFinite(minutes) && minutes > 0
        ? setTimeout(
            () => this.#halt({ status: "timeout", reason: `timed out after ${minutes} minutes` }),
            // setTimeout turns anything above 2^31-1 ms into 1 ms: cap at ~24.8 days.
            Math.min(minutes * 60_000, MAX_TIMER_MS),
          )
        : undefined;
    let outcome: Outcome = { status: "error", reason: "the run was not prepared", exitCode: null, ranTasks: false };
    let previous: ArchiveManifest | undefined;
    try {
      const setup = new RunnerGroup((t) => this.#emit(t), "setup", "Setup", Date.now);
      let prepared: Prepared | undefined;
      try {
        prepared = await this.#prepare(setup);
        previous = prepared.previous;
        setup.end(0, Date.now());
      } catch (error) {
        setup.line(`error: ${describeError(error)}`);
        setup.end(1, Date.now());
        outcome = { status: "error", reason: describeError(error), exitCode: null, ranTasks: false };
      }
      if (prepared !== undefined) outcome = await this.#runTasks(prepared);
    } finally {
      this.#tasksOver = true;
      clearTimeout(timer);
    }
    const stop = this.#stop;
    if (stop !== undefined) outcome = { ...outcome, status: stop.status, reason: stop.reason };
    return this.#finish(outcome, previous);
  }

  /** Checks the spec, creates the workspace, materialises dependencies and previous state. */
  async #prepare(setup: RunnerGroup): Promise<Prepared> {
    const spec = this.#spec;
    const { job } = spec;
    if (job.support !== "runnable") throw new Error(`job type ${JSON.stringify(job.type)} is not supported yet`);
    const steps = job.steps.filter((s): s is TaskStep => s.kind === "TASK");
    if (steps.some((s) => s.managed)) {
      throw new Error(`TASK: managed (job type ${JSON.stringify(job.type)}) is not supported by the embedded runner`);
    }
    for (const dep of spec.dependencies) {
      checkDirName("dependency name", dep.name);
      checkDirName(`type of ${dep.name}`, dep.type);
    }
    if (steps.some((s) => (s.container ?? job.runtime.container) === true)) {
      const engine = await hasContainerEngine(this.#opts.env, this.#opts.cancelGraceMs);
      throw new Error(
        engine
          ? "runtime.container is true but the embedded runner does not run tasks in containers yet"
          : NO_CONTAINER_ENGINE,
      );
    }
    const tasks: PlannedTask[] = steps.map((step) => ({ name: step.name, step, lines: step.script }));
    if (tasks.length === 0 && HOOKS_WITH_SCRIPTS.some((h) => job.hooks[h].script.length > 0)) {
      tasks.push({ name: "hooks", step: undefined, lines: [] });
    }

    const resolved = await resolveIntegrations(spec, this.#opts.integrations);
    if (this.#stop !== undefined) throw new Error(this.#stop.reason);
    let planned: Prepared["tasks"] = [];
    let integrations: RunIntegrations | undefined;
    const root = this.#createWorkspace((at) => {
      const runEnv = runEnvironment(spec, at, this.#opts.env, SHIPCTL_DIR);
      // Integration values go only to the tasks' process environment (over the worker's pipe);
      // the paths of their key files may be in the script.
      integrations = resolved.length === 0 ? undefined : runIntegrations(at, resolved);
      if (integrations !== undefined) Object.assign(runEnv, integrations.paths);
      const split = tasks.map((task) => {
        const env = taskEnvironment(runEnv, task.step, task.name);
        const parts = splitSecrets(env, spec);
        if (integrations === undefined) return { task, env, ...parts };
        return { task, ...withIntegrations(env, parts, integrations, task.step?.env ?? {}) };
      });
      planned = split.map(({ task, env, secret }) => ({ task, env, secretEnv: secret }));
      return split.map(({ task, open }, i) =>
        taskScript({
          index: i + 1,
          name: task.name,
          lines: i === 0 ? [...job.hooks.on_start.script, ...task.lines] : task.lines,
          onFailure: job.hooks.on_failure.script,
          always: job.hooks.always.script,
          onSuccess: i === tasks.length - 1 ? job.hooks.on_success.script : undefined,
          env: open,
        }),
      );
    });
    this.#root = root;
    integrations?.writeFiles();
    const paths = workspacePaths(root);
    setup.line(`workspace: ${root}`);

    // Data: git checkouts and state archives, concurrently.
    // What takes long (a clone) is said before it starts.
    const slow = spec.dependencies.filter((d) => d.operation === "IN" && materialiserFor(d).announce !== undefined);
    if (slow.length > 0) {
      for (const d of slow) setup.line(`IN ${d.name}: ${materialiserFor(d).announce}`);
      setup.flush();
    }
    let previous: ArchiveManifest | undefined;
    const work = spec.dependencies.map((dep) => this.#materialise(root, dep));
    const previousSha = spec.previousStateSha;
    if (previousSha !== null) {
      const t0 = performance.now();
      work.push(
        restoreArchive(this.#opts.blobs, previousSha, paths.previousState).then(
          (m) => {
            previous = m;
            return `previous state: ${m.files.length} file${m.files.length === 1 ? "" : "s"} (${ms(t0)})`;
          },
          (error: unknown) => {
            // A lost previous state must not break the job for ever: start from an empty one.
            if ((error as { code?: unknown }).code !== "ARCHIVE_NOT_FOUND") throw error;
            return `warning: previous state ${previousSha} is missing from the blob store: starting with an empty previous state`;
          },
        ),
      );
    }
    if (work.length > 0) {
      // Wait for everything (nothing may still write into a workspace being removed), then
      // report in step order; the first failure in that order is the reason.
      const settled = await Promise.allSettled(work);
      const failed = settled.find((s): s is PromiseRejectedResult => s.status === "rejected");
      for (const s of settled) if (s.status === "fulfilled") setup.line(s.value);
      if (failed !== undefined) throw failed.reason;
    }
    return { paths, tasks: planned, previous };
  }

  /** Lays out the workspace; a file that cannot be written is said as such (a full disk). */
  #createWorkspace(scriptsFor: (root: string) => readonly string[]): string {
    try {
      // In a slot (a sandbox): the workspace is made in the slot, and is the slot's /build.
      const slot = this.#slots?.take();
      this.#slot = slot;
      if (slot !== undefined) this.#launcher?.startSlot(slot);
      const root = createWorkspace(slot ?? this.#opts.workDir, this.#spec, scriptsFor, this.#opts.workspaceFs);
      if (slot !== undefined) {
        try {
          pointBuild(slot, root);
        } catch (error) {
          // The slot is given back when the run ends: nothing of this run may stay in it.
          rmSync(root, { recursive: true, force: true });
          throw error;
        }
      }
      return root;
    } catch (error) {
      if (!isSystemError(error)) throw error;
      throw new Error(`cannot create the workspace: ${error.message}`, { cause: error });
    }
  }

  /** Fills a dependency's data dir (created with the workspace) and describes it. */
  async #materialise(root: string, dep: DependencySpec): Promise<string> {
    const t0 = performance.now();
    const v = dep.version;
    const version =
      v === undefined
        ? "no version"
        : `version ${v.versionNumber}${v.versionName === "" ? "" : ` (${JSON.stringify(v.versionName)})`}`;
    const done = await this.#fill(dep, dependencyPaths(root, dep).dataDir);
    return `${dep.operation} ${dep.name} (${dep.type}): ${version}${done === "" ? "" : `, ${done} (${ms(t0)})`}`;
  }

  // Each kind's materialiser fills an IN's data dir (packages/runner/src/kinds/).
  async #fill(dep: DependencySpec, dataDir: string): Promise<string> {
    if (dep.operation !== "IN") return "";
    return materialiserFor(dep).fillIn(dep, dataDir, {
      blobs: this.#opts.blobs,
      env: this.#opts.env,
      graceMs: this.#opts.cancelGraceMs,
      signal: this.#abort.signal,
      integrations: this.#opts.integrations,
    });
  }

  async #runTasks(prepared: Prepared): Promise<Outcome> {
    const watch = this.#remover.watchFree();
    try {
      return await this.#runEach(prepared, watch);
    } finally {
      watch.end();
    }
  }

  async #runEach(prepared: Prepared, watch: FreeSpaceWatch): Promise<Outcome> {
    const { job } = this.#spec;
    let exitCode: number | null = null;
    let ranTasks = false;
    for (const [i, { task, env, secretEnv }] of prepared.tasks.entries()) {
      if (this.#stop !== undefined) break;
      let proc: TaskProcess;
      const prefix = `${prepared.paths.scripts}/task-${i + 1}`;
      try {
        const common = {
          cwd: prepared.paths.root,
          graceMs: this.#opts.cancelGraceMs,
          onData: (chunk: Buffer) => this.#emit(chunk),
        };
        const slot = this.#slot === undefined ? {} : { slot: this.#slot };
        // A task worker's subshell takes the environment from the script, and the values of
        // secret parameters over the worker's pipe; a direct spawn also gets the whole
        // environment as the process environment, exactly.
        // In a sandbox, bwrap (in the task's process group) runs the bash.
        const sandbox = this.#sandbox;
        const [file, args] =
          sandbox === undefined
            ? [this.#opts.shell, [`${prefix}.sh`]]
            : sandboxedCommand(sandbox, common.cwd, this.#opts.shell, `${prefix}.sh`);
        proc =
          this.#launcher === undefined
            ? new GroupProcess(file, args, { ...common, env })
            : this.#launcher.launch({
                ...common,
                ...slot,
                prefix,
                secretEnv,
                ownPid: mentionsPid(job, task, i === 0),
                endsRun: i === prepared.tasks.length - 1,
              });
      } catch (error) {
        return {
          status: "error",
          reason: `cannot start task ${JSON.stringify(task.name)}: ${describeError(error)}`,
          exitCode,
          ranTasks,
        };
      }
      ranTasks = true;
      watch.restart();
      this.#current = proc;
      const exit = await proc.done;
      this.#current = undefined;
      if (exit.error !== undefined) {
        return {
          status: "error",
          reason: `cannot start task ${JSON.stringify(task.name)}: ${exit.error.message}`,
          exitCode,
          ranTasks,
        };
      }
      exitCode = exit.code ?? 128 + (exit.signal === null ? 0 : (osConstants.signals[exit.signal] ?? 0));
      if (this.#stop !== undefined) break;
      if (exitCode !== 0) {
        const failed = `task ${JSON.stringify(task.name)} failed with exit code ${exitCode}`;
        // On a full work directory the task's own writes failed, and so did its console (its
        // output file is there too): the run cannot be trusted, and the reason must say why.
        // What a deletion saw before it freed space counts too (WorkspaceRemover.watchFree).
        const now = freeBytes(this.#opts.workDir);
        const free = now === undefined || watch.lowest === undefined ? now : Math.min(now, watch.lowest);
        if (free !== undefined && free < FULL_BELOW_BYTES) {
          return {
            status: "error",
            reason: `${failed}; the work directory ${this.#opts.workDir} is full (${free} bytes left): the task's files and console may be incomplete`,
            exitCode,
            ranTasks,
            workDirFull: true,
          };
        }
        return { status: "failure", reason: failed, exitCode, ranTasks };
      }
    }
    return { status: "success", reason: null, exitCode, ranTasks };
  }

  /** Reads outputs, saves state, removes the workspace; reports in the "Cleanup" group. */
  async #finish(outcome: Outcome, previous: ArchiveManifest | undefined): Promise<EmbeddedRunResult> {
    const spec = this.#spec;
    const cleanup = new RunnerGroup((t) => this.#emit(t), "cleanup", "Cleanup", Date.now);
    let result: EmbeddedRunResult = {
      status: outcome.status,
      reason: outcome.reason,
      exitCode: outcome.exitCode,
      stateSha: spec.previousStateSha,
      outputs: {},
      outStateShas: {},
      outVersions: {},
      jobVersion: null,
      notifications: [],
    };
    let failed = false;
    const root = this.#root;
    if (outcome.workDirFull === true) {
      cleanup.line("state: not saved (the work directory is full); the previous state is carried forward");
    } else if (root !== undefined && outcome.ranTasks) {
      try {
        const collected = await collectResults({
          root,
          spec,
          failed: outcome.status !== "success",
          previous,
          blobs: this.#opts.blobs,
          log: (line) => cleanup.line(line),
        });
        result = { ...result, ...collected };
      } catch (error) {
        failed = true;
        cleanup.line(`error: ${describeError(error)}`);
        result = { ...result, status: "error", reason: `saving the run's state failed: ${describeError(error)}` };
      }
    } else if (spec.previousStateSha !== null) {
      cleanup.line("state: the previous state is carried forward (no task ran)");
    }
    const slot = this.#slot;
    // The slot is given back when nothing of this run is left in it (else it is not given back).
    let slotEmpty = true;
    if (root !== undefined) {
      if (this.#opts.keepWorkspaces) {
        const kept = slot === undefined ? root : keepOutOfSlot(this.#opts.workDir, root);
        slotEmpty = kept !== root;
        cleanup.line(`workspace kept: ${kept}`);
      } else {
        const moved = this.#remover.remove(root);
        // A full work directory gets its space back before the next run is given it, as does
        // the slot whose workspace could not be moved out.
        if (outcome.workDirFull === true || (slot !== undefined && !moved)) await this.#remover.idle();
        cleanup.line("workspace removed");
      }
    }
    if (slot !== undefined) {
      // Nothing of this run may run on in the slot's sandbox, nor stay in its /tmp.
      this.#launcher?.endRun(slot);
      if (slotEmpty) this.#slots?.release(slot);
    }
    cleanup.line(`status: ${result.status}${result.reason === null ? "" : ` (${result.reason})`}`);
    cleanup.end(failed ? 1 : 0, Date.now());
    return result;
  }
}

/**
 * Whether the script text of a task (its lines, `on_start` for the first, and the hooks) uses
 * `$$` or `PPID`: such a task runs as a fresh bash, where `$$` is its own pid and `$PPID` its
 * parent's; others run in a subshell of a task worker, where `$$` is the worker's pid and
 * `$PPID` the server's (see task-worker.sh).
 */
function mentionsPid(job: RunSpec["job"], task: PlannedTask, first: boolean): boolean {
  const h = job.hooks;
  const texts = [task.lines, first ? h.on_start.script : [], h.on_success.script, h.on_failure.script, h.always.script];
  return texts.some((lines) => lines.some((line) => line.includes("$$") || line.includes("PPID")));
}

/**
 * Moves a kept workspace out of its slot to the work directory (where it would be without a
 * sandbox), so that the slot's next run does not see it: its new path, or `root` when it could
 * not be moved (a workspace of that name is there).
 */
function keepOutOfSlot(workDir: string, root: string): string {
  const to = `${workDir}/${basename(root)}`;
  try {
    renameSync(root, to);
    return to;
  } catch {
    return root;
  }
}

/** Below this many free bytes, a work directory is full: a task's writes and console fail. */
const FULL_BELOW_BYTES = 64 * 1024;

function ms(t0: number): string {
  return `${Math.round(performance.now() - t0)} ms`;
}
