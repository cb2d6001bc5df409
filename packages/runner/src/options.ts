import { CausewayError } from "@causeway/core";
import { resolve } from "node:path";
import type { BlobStore } from "@causeway/core";
import { NODE_WORKSPACE_FS, type WorkspaceFs } from "./workspace.js";
import { SANDBOX_MODES, type SandboxMode } from "./sandbox.js";

/** Options of `createEmbeddedRunner`. */
export interface EmbeddedRunnerOptions {
  /** Where workspaces are created (`<workDir>/<runId>-<attempt>/`); created when missing. */
  readonly workDir: string;
  /** Where job state and state-resource files are saved and read. */
  readonly blobs: BlobStore;
  /** The shell of task scripts; only bash (5 or later) is supported. */
  readonly shell?: "bash";
  /** Time between SIGTERM and SIGKILL on cancel, timeout and leftover processes (default 10 s). */
  readonly cancelGraceMs?: number;
  /** Keep workspaces after the run (debugging); default false. */
  readonly keepWorkspaces?: boolean;
  /**
   * The base environment of every task and of the runner's own git commands, used as given.
   * The composition root passes `passthroughEnv(process.env)`; without it tasks get only a
   * default PATH. This module never reads `process.env` itself.
   */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /**
   * Start tasks through the task launcher, a small long-lived bash process (default true), so
   * this process never forks; false spawns each task directly from Node.
   */
  readonly launcher?: boolean;
  /**
   * The file calls that lay out a workspace's skeleton (default: the local disk's). Tests pass
   * calls that fail like a full disk; a failure ends the run `error`, naming the file.
   */
  readonly workspaceFs?: WorkspaceFs;
  /**
   * A file where the live task workers are recorded (PID and start time), so that the next
   * process of the same data directory can end what they still run after this one was killed
   * (`endOrphanedTasks`). Default: none.
   */
  readonly workerRecord?: string;
  /**
   * The fields of an integration by name (`Integrations.get` of the server): the credentials
   * of a remote gitRepo that names one (`privateKey`, `token`...; see `gitAuth`). Default: none.
   */
  readonly integrations?: (name: string) => Promise<Readonly<Record<string, string>> | undefined>;
  /**
   * Whether each task runs in a bubblewrap sandbox that shows it only its workspace and the
   * system's tools (sandbox.ts): `auto` when bwrap works here (default: with task workers, one
   * sandbox per slot costs a task nothing measurable, docs/performance.md), `off` never,
   * `required` always (the runner is not created without one: `RUNNER_SANDBOX_UNAVAILABLE`).
   */
  readonly sandbox?: SandboxMode;
  /**
   * Paths a sandboxed task must never see, even through the directories of its PATH or /opt:
   * the server passes its data directory. Default: none.
   */
  readonly sandboxHidden?: readonly string[];
  /**
   * Directories a sandboxed task may read and write, at their own paths (where a line's jobs
   * deploy, say); created when missing. One that is, holds or is inside a hidden path is not
   * shown. Default: none.
   */
  readonly sandboxShared?: readonly string[];
}

/** Options after defaults and checks; frozen. */
export interface CompiledRunnerOptions {
  readonly workDir: string;
  readonly blobs: BlobStore;
  readonly shell: "bash";
  readonly cancelGraceMs: number;
  readonly keepWorkspaces: boolean;
  readonly env: Readonly<Record<string, string>>;
  readonly launcher: boolean;
  readonly workspaceFs: WorkspaceFs;
  readonly workerRecord: string | undefined;
  readonly integrations: ((name: string) => Promise<Readonly<Record<string, string>> | undefined>) | undefined;
  readonly sandbox: SandboxMode;
  readonly sandboxHidden: readonly string[];
  readonly sandboxShared: readonly string[];
}

/** The PATH of tasks when no base environment is given. */
export const DEFAULT_PATH = "/usr/local/bin:/usr/bin:/bin";
/** Default grace between SIGTERM and SIGKILL. */
export const DEFAULT_CANCEL_GRACE_MS = 10_000;
/** The variables `passthroughEnv` keeps. */
export const PASSTHROUGH_NAMES = ["PATH", "HOME", "LANG", "TMPDIR"] as const;

/** The minimal base environment taken from a process environment: PATH, HOME, LANG, TMPDIR. */
export function passthroughEnv(processEnv: Readonly<Record<string, string | undefined>>): Record<string, string> {
  const env: Record<string, string> = {};
  for (const name of PASSTHROUGH_NAMES) {
    const value = processEnv[name];
    if (value !== undefined) env[name] = value;
  }
  return env;
}

/**
 * Applies defaults and checks the options, listing every problem at once
 * (`RUNNER_BAD_OPTIONS`); returns a frozen copy.
 */
export function compileRunnerOptions(options: EmbeddedRunnerOptions): CompiledRunnerOptions {
  const problems: string[] = [];
  if (typeof options.workDir !== "string" || options.workDir === "") problems.push("workDir must be a non-empty path");
  else if (options.workDir.includes("\0")) problems.push("workDir must not contain NUL");
  const blobs = options.blobs as Partial<BlobStore> | undefined;
  if (typeof blobs?.put !== "function" || typeof blobs.get !== "function") {
    problems.push("blobs must be a BlobStore (put and get)");
  }
  const shell = options.shell ?? "bash";
  if (shell !== "bash") problems.push(`shell must be "bash" (got ${JSON.stringify(shell)})`);
  if (options.workerRecord !== undefined && (typeof options.workerRecord !== "string" || options.workerRecord === "")) {
    problems.push("workerRecord must be a non-empty path");
  }
  const sandbox = options.sandbox ?? "auto";
  if (!SANDBOX_MODES.includes(sandbox)) {
    problems.push(`sandbox must be one of ${SANDBOX_MODES.join(", ")} (got ${JSON.stringify(sandbox)})`);
  }
  const hidden: readonly string[] = Array.isArray(options.sandboxHidden) ? options.sandboxHidden : [];
  if (
    (options.sandboxHidden !== undefined && !Array.isArray(options.sandboxHidden)) ||
    hidden.some((h) => typeof h !== "string" || h === "" || h.includes("\0"))
  ) {
    problems.push("sandboxHidden must be a list of non-empty paths");
  }
  const shared: readonly string[] = Array.isArray(options.sandboxShared) ? options.sandboxShared : [];
  if (
    (options.sandboxShared !== undefined && !Array.isArray(options.sandboxShared)) ||
    shared.some((h) => typeof h !== "string" || h === "" || h.includes("\0"))
  ) {
    problems.push("sandboxShared must be a list of non-empty paths");
  }
  const grace = options.cancelGraceMs ?? DEFAULT_CANCEL_GRACE_MS;
  if (typeof grace !== "number" || !Number.isFinite(grace) || grace < 0) {
    problems.push("cancelGraceMs must be a finite number of milliseconds, 0 or more");
  }
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(options.env ?? { PATH: DEFAULT_PATH })) {
    if (value === undefined) continue;
    if (name === "" || name.includes("=") || name.includes("\0")) {
      problems.push(`env: invalid variable name ${JSON.stringify(name)}`);
    } else if (typeof value !== "string" || value.includes("\0")) {
      problems.push(`env: ${name} must be a string without NUL`);
    } else env[name] = value;
  }
  if (problems.length > 0) {
    throw new CausewayError("RUNNER_BAD_OPTIONS", `invalid runner options:\n- ${problems.join("\n- ")}`);
  }
  return Object.freeze({
    workDir: resolve(options.workDir),
    blobs: options.blobs,
    shell,
    cancelGraceMs: grace,
    keepWorkspaces: options.keepWorkspaces ?? false,
    launcher: options.launcher ?? true,
    workspaceFs: options.workspaceFs ?? NODE_WORKSPACE_FS,
    workerRecord: options.workerRecord === undefined ? undefined : resolve(options.workerRecord),
    integrations: options.integrations,
    sandbox,
    sandboxHidden: Object.freeze(hidden.map((h) => resolve(h))),
    sandboxShared: Object.freeze(shared.map((h) => resolve(h))),
    env: Object.freeze(env),
  });
}
