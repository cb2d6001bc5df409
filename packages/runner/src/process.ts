import { spawn, type ChildProcess } from "node:child_process";
import type { TaskProcess } from "./launcher.js";

/** How a process ended. `error` is set when it could not be started. */
export interface ProcessExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly error: Error | undefined;
}

/** Options of a process run in its own process group. */
export interface GroupProcessOptions {
  readonly cwd: string;
  readonly env: Readonly<Record<string, string>>;
  /** Time between SIGTERM and SIGKILL of the group. */
  readonly graceMs: number;
  /** Output bytes (stdout and stderr), as they arrive. */
  readonly onData: (chunk: Buffer) => void;
}

// After SIGKILL, how long to wait for pipes held open by a process that left the group.
const PIPE_DRAIN_MS = 1_000;

/** Sends a signal to a whole process group; false when the group no longer exists. */
export function signalGroup(pgid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(-pgid, signal);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ESRCH") return false;
    throw error;
  }
}

/**
 * A process spawned directly (no shell) as the leader of its own process group, stdin closed,
 * stdout and stderr streamed. Contract: `done` resolves once, after the process exited and its
 * output was read, and never rejects. When the leader exits, processes it left behind in its
 * group get SIGTERM, then SIGKILL after the grace (nothing outlives its task). `terminate` is
 * idempotent: SIGTERM to the group now, SIGKILL after the grace.
 */
export class GroupProcess implements TaskProcess {
  readonly done: Promise<ProcessExit>;
  readonly #child: ChildProcess;
  readonly #graceMs: number;
  #timers: NodeJS.Timeout[] = [];
  #terminating = false;
  #closed = false;

  /** Spawns `file` with `args`. Throws only for arguments Node rejects (NUL in env...). */
  constructor(file: string, args: readonly string[], options: GroupProcessOptions) {
    this.#graceMs = options.graceMs;
    const child = spawn(file, args, {
      cwd: options.cwd,
      env: options.env,
      detached: true,
      stdio: ["ignore", "pipe", "pipe"],
    });
    this.#child = child;
    child.stdout?.on("data", options.onData);
    child.stderr?.on("data", options.onData);
    this.done = new Promise((resolve) => {
      child.once("error", (error) => {
        // Only a spawn failure leaves no pid; later errors (a failed kill) are not fatal.
        if (child.pid === undefined) this.#finish(resolve, { code: null, signal: null, error });
      });
      child.once("exit", () => {
        if (child.pid !== undefined && !this.#terminating && signalGroup(child.pid, "SIGTERM")) this.#escalate();
      });
      child.once("close", (code, signal) => this.#finish(resolve, { code, signal, error: undefined }));
    });
  }

  /** The process id (also the process group id), undefined when the spawn failed. */
  get pid(): number | undefined {
    return this.#child.pid;
  }

  /** SIGTERM to the whole group, SIGKILL after the grace. Idempotent. */
  terminate(): void {
    const pid = this.#child.pid;
    if (this.#closed || this.#terminating || pid === undefined) return;
    this.#terminating = true;
    if (signalGroup(pid, "SIGTERM")) this.#escalate();
  }

  #escalate(): void {
    this.#terminating = true;
    const pid = this.#child.pid as number;
    this.#timers.push(setTimeout(() => signalGroup(pid, "SIGKILL"), this.#graceMs));
    this.#timers.push(
      setTimeout(() => {
        // A process that escaped the group (setsid) may still hold the pipes: stop reading.
        this.#child.stdout?.destroy();
        this.#child.stderr?.destroy();
      }, this.#graceMs + PIPE_DRAIN_MS),
    );
  }

  #finish(resolve: (exit: ProcessExit) => void, exit: ProcessExit): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const t of this.#timers) clearTimeout(t);
    this.#timers = [];
    resolve(exit);
  }
}

/** The result of `runCommand`. */
export interface CommandResult {
  readonly exit: ProcessExit;
  /** stdout and stderr, interleaved, the last 64 KiB at most. */
  readonly output: string;
}

const OUTPUT_CAP = 64 * 1024;

/**
 * Runs a command to completion in its own process group, collecting its output; an aborted
 * `signal` terminates the group. Never rejects.
 */
export async function runCommand(
  file: string,
  args: readonly string[],
  options: { cwd: string; env: Readonly<Record<string, string>>; graceMs: number; signal?: AbortSignal },
): Promise<CommandResult> {
  const chunks: Buffer[] = [];
  let size = 0;
  let proc: GroupProcess;
  try {
    proc = new GroupProcess(file, args, {
      ...options,
      onData: (chunk) => {
        chunks.push(chunk);
        size += chunk.length;
        while (size > OUTPUT_CAP && chunks.length > 1) size -= (chunks.shift() as Buffer).length;
      },
    });
  } catch (error) {
    return { exit: { code: null, signal: null, error: error as Error }, output: "" };
  }
  const onAbort = (): void => proc.terminate();
  if (options.signal?.aborted === true) proc.terminate();
  options.signal?.addEventListener("abort", onAbort, { once: true });
  const exit = await proc.done;
  options.signal?.removeEventListener("abort", onAbort);
  return { exit, output: Buffer.concat(chunks).toString("utf8") };
}
