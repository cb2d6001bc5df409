import { spawn, type ChildProcess } from "node:child_process";
import { watch, type FSWatcher } from "node:fs";
import { open, type FileHandle } from "node:fs/promises";
import { writeFileSync } from "node:fs";
import { createInterface } from "node:readline";
import { signalGroup, type ProcessExit } from "./process.js";
import { TASK_LAUNCHER } from "./paths.js";

/** A task process: the interface shared by direct spawns and launched tasks. */
export interface TaskProcess {
  readonly done: Promise<ProcessExit>;
  /** SIGTERM to the whole group, SIGKILL after the grace. Idempotent. */
  terminate(): void;
}

/** What to run: `file args…` in `cwd`, with exactly `env`, output to `outFile`. */
export interface LaunchRequest {
  readonly cwd: string;
  readonly env: Readonly<Record<string, string>>;
  /** Where the environment is written for the launcher (NUL-separated entries). */
  readonly envFile: string;
  /** Where stdout and stderr go; read back as it grows and streamed to `onData`. */
  readonly outFile: string;
  readonly file: string;
  readonly args: readonly string[];
  readonly graceMs: number;
  readonly onData: (chunk: Buffer) => void;
}

interface Pending {
  pid?: number;
  started: (pid: number) => void;
  ended: (status: number) => void;
}

const FIELD_OK = /^[^\t\n]*$/;

/**
 * Runs tasks through one small long-lived bash process (libexec/task-launcher.sh), so the
 * runner's own process never forks: fork() of a large Node process costs milliseconds and
 * blocks the event loop. Output goes to a file that is read back as it grows (inotify via
 * fs.watch, no polling) and once more when the task ends.
 */
export class TaskLauncher {
  #child: ChildProcess | undefined;
  readonly #pending = new Map<string, Pending>();
  #next = 0;

  /** Starts a task. Throws when the request cannot be expressed (a tab or newline in a field). */
  launch(request: LaunchRequest): TaskProcess {
    const fields = [request.cwd, request.envFile, request.outFile, request.file, ...request.args];
    for (const f of fields) {
      if (!FIELD_OK.test(f))
        throw new Error(`task launcher: a path or argument contains a tab or newline: ${JSON.stringify(f)}`);
    }
    let envText = "";
    for (const [k, v] of Object.entries(request.env)) {
      if (k.includes("=") || k.includes("\0") || v.includes("\0"))
        throw new Error(`invalid environment entry ${JSON.stringify(k)}`);
      envText += `${k}=${v}\0`;
    }
    // Small writes, done synchronously: cheaper here than two thread-pool round trips.
    writeFileSync(request.envFile, envText, { mode: 0o600 });
    writeFileSync(request.outFile, "");
    const id = String(++this.#next);
    const task = new LaunchedTask(request, () => this.#send(id, fields));
    this.#pending.set(id, {
      started: (pid) => task.started(pid),
      ended: (status) => {
        this.#pending.delete(id);
        this.#refresh();
        task.ended(status);
      },
    });
    task.begin();
    return task;
  }

  /** Deletes a directory tree with `rm -rf` in the launcher; resolves when done, never rejects. */
  deleteTree(dir: string): Promise<void> {
    if (!FIELD_OK.test(dir) || !dir.startsWith("/")) return Promise.resolve();
    const id = String(++this.#next);
    return new Promise((resolve) => {
      this.#pending.set(id, {
        started: () => undefined,
        ended: () => {
          this.#pending.delete(id);
          this.#refresh();
          resolve();
        },
      });
      const child = this.#ensure();
      this.#refresh();
      child.stdin?.write(`RM\t${id}\t${dir}\n`);
    });
  }

  /** Ends the launcher (running tasks go on); pending tasks end as not started. */
  close(): void {
    this.#child?.stdin?.end();
    this.#child = undefined;
  }

  #send(id: string, fields: readonly string[]): void {
    const child = this.#ensure();
    this.#refresh();
    child.stdin?.write(`RUN\t${id}\t${fields.join("\t")}\n`);
  }

  #ensure(): ChildProcess {
    if (this.#child !== undefined && this.#child.exitCode === null && this.#child.signalCode === null)
      return this.#child;
    const child = spawn("bash", [TASK_LAUNCHER], { stdio: ["pipe", "pipe", "inherit"], env: {} });
    this.#child = child;
    createInterface({ input: child.stdout }).on("line", (line) => {
      const [kind, id = "", value = ""] = line.split(" ");
      const p = this.#pending.get(id);
      if (p === undefined) return;
      if (kind === "S") p.started(Number(value));
      else if (kind === "E") p.ended(Number(value));
    });
    child.once("exit", () => {
      if (this.#child === child) this.#child = undefined;
      // Tasks whose end the launcher can no longer report: end them as failed to start.
      for (const [, p] of [...this.#pending]) p.ended(p.pid === undefined ? 127 : 137);
    });
    child.stdin?.on("error", () => undefined);
    return child;
  }

  // Keep the event loop alive only while tasks are pending.
  #refresh(): void {
    const child = this.#child;
    if (child === undefined) return;
    const stdout = child.stdout as unknown as { ref?: () => void; unref?: () => void } | null;
    const stdin = child.stdin as unknown as { ref?: () => void; unref?: () => void } | null;
    if (this.#pending.size > 0) {
      child.ref();
      stdout?.ref?.();
      stdin?.ref?.();
    } else {
      child.unref();
      stdout?.unref?.();
      stdin?.unref?.();
    }
  }
}

class LaunchedTask implements TaskProcess {
  readonly done: Promise<ProcessExit>;
  #resolve!: (exit: ProcessExit) => void;
  #pid: number | undefined;
  #terminating = false;
  #ended = false;
  readonly #timers: NodeJS.Timeout[] = [];
  #watcher: FSWatcher | undefined;
  #handle: Promise<FileHandle | undefined> | undefined;
  #offset = 0;
  #reading: Promise<void> = Promise.resolve();

  constructor(
    private readonly request: LaunchRequest,
    private readonly send: () => void,
  ) {
    this.done = new Promise((resolve) => (this.#resolve = resolve));
  }

  begin(): void {
    this.#handle = open(this.request.outFile, "r").catch(() => undefined);
    try {
      this.#watcher = watch(this.request.outFile, () => this.#pump());
      this.#watcher.on("error", () => undefined);
    } catch {
      this.#watcher = undefined;
    }
    this.send();
  }

  started(pid: number): void {
    this.#pid = pid;
    if (this.#terminating) this.#signal();
  }

  ended(status: number): void {
    if (this.#ended) return;
    this.#ended = true;
    // Processes the task left behind in its group: SIGTERM now, SIGKILL after the grace.
    const pid = this.#pid;
    if (pid !== undefined && !this.#terminating && signalGroup(pid, "SIGTERM")) {
      this.#timers.push(setTimeout(() => signalGroup(pid, "SIGKILL"), this.request.graceMs).unref());
    }
    this.#watcher?.close();
    this.#pump();
    void this.#reading.then(async () => {
      const handle = await this.#handle;
      await handle?.close().catch(() => undefined);
      // bash reports a signal death as 128+N, which is also the run's exit code convention.
      this.#resolve({
        code: status,
        signal: null,
        error:
          pid === undefined ? new Error(`the task launcher could not start the task (status ${status})`) : undefined,
      });
    });
  }

  terminate(): void {
    if (this.#ended || this.#terminating) return;
    this.#terminating = true;
    if (this.#pid !== undefined) this.#signal();
  }

  #signal(): void {
    const pid = this.#pid as number;
    if (signalGroup(pid, "SIGTERM"))
      this.#timers.push(setTimeout(() => signalGroup(pid, "SIGKILL"), this.request.graceMs).unref());
  }

  // Reads what the task appended since the last read; reads are chained, never concurrent.
  #pump(): void {
    this.#reading = this.#reading.then(async () => {
      const handle = await this.#handle;
      if (handle === undefined) return;
      for (;;) {
        const buffer = Buffer.allocUnsafe(64 * 1024);
        const { bytesRead } = await handle.read(buffer, 0, buffer.length, this.#offset).catch(() => ({ bytesRead: 0 }));
        if (bytesRead === 0) return;
        this.#offset += bytesRead;
        this.request.onData(buffer.subarray(0, bytesRead));
      }
    });
  }
}
