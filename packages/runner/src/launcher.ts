import { spawn, type ChildProcess } from "node:child_process";
import { closeSync, openSync, readFileSync, readSync, watch, type FSWatcher } from "node:fs";
import type { Socket } from "node:net";
import { createInterface } from "node:readline";
import { signalGroup, type ProcessExit } from "./process.js";
import { TASK_WORKER } from "./paths.js";
import { slotWorkerCommand, type Sandbox } from "./sandbox.js";
import { isShellVariable } from "./script.js";
import type { WorkerRecord } from "./worker-record.js";

/** A task process: the interface shared by direct spawns and launched tasks. */
export interface TaskProcess {
  readonly done: Promise<ProcessExit>;
  /** SIGTERM to the whole group, SIGKILL after the grace. Idempotent. */
  terminate(): void;
}

/**
 * What to run: the bash script `<prefix>.sh` (sourced by a task worker's subshell; it sets its
 * own environment, see script.ts, but for `secretEnv`) in `cwd`, output to `<prefix>.out`.
 */
export interface LaunchRequest {
  readonly cwd: string;
  readonly prefix: string;
  /** Run the script as a fresh bash (exec), so that `$$` is the task's own pid. */
  readonly ownPid?: boolean;
  /**
   * Variables exported into the task's shell before its script runs: the values of secret
   * parameters, which no file may hold. They travel on the worker's stdin pipe.
   */
  readonly secretEnv?: Readonly<Record<string, string>>;
  readonly graceMs: number;
  readonly onData: (chunk: Buffer) => void;
  /**
   * With a sandbox: the slot directory whose worker runs the task (`cwd` is inside it). One
   * task at a time per slot: the run that holds the slot.
   */
  readonly slot?: string;
  /**
   * The task is its run's last: in a slot's sandbox the worker ends what is left and empties its
   * private directories once the task is over (what `endRun` asks), while the run's end is
   * recorded, and `endRun` then sends nothing.
   */
  readonly endsRun?: boolean;
}

/**
 * Listens to one worker request: `started` once a task runs, `ended` when it is over (`left`:
 * the task left processes in its group, which were sent SIGTERM).
 */
interface Pending {
  readonly started: (pid: number) => void;
  readonly ended: (status: number, left: boolean) => void;
}

const FIELD_OK = /^[^\t\n]*$/;
/** Idle workers kept for the next tasks; more are ended when they finish. */
const MAX_IDLE_WORKERS = 8;
/** Status of a task whose worker died before it started (as bash's "not found"). */
const NOT_STARTED = 127;
/** Status of a task whose worker died while it ran (as a SIGKILL). */
const LOST = 137;
/** How long a posted request waits for the next request, to go in the same write. */
const POST_DELAY_MS = 10;

/** Options of a `TaskLauncher`. */
export interface TaskLauncherOptions {
  /**
   * Once this process is gone, how long a worker waits between SIGTERM and SIGKILL of its
   * running task's process group.
   */
  readonly graceMs: number;
  /** Where live workers are recorded, for the next process to end what they left running. */
  readonly record?: WorkerRecord;
  /**
   * The sandbox tasks run in (sandbox.ts): each task then names its slot, and runs in that
   * slot's worker, started once in a sandbox that shows it the slot directory
   * (`slotWorkerCommand`) and kept. Default: none (tasks are sourced by any worker's subshell).
   */
  readonly sandbox?: Sandbox;
  /**
   * The LANG most tasks are given (the runner's own). Each worker loads its locale once, so a
   * task's shell setting the same LANG finds it loaded, where loading it cost each task about
   * 0.4 ms of CPU (the 1,000-job DAG, docs/performance.md). Default: none.
   */
  readonly locale?: string;
}

/**
 * Runs tasks through a pool of task workers (libexec/task-worker.sh): small long-lived bash
 * processes, each running one task at a time as a forked subshell, so the runner's own
 * process never forks and no task costs an exec. Workers are started when every one is busy
 * and kept for later tasks. Output goes to a file read when the task ends, and as it grows
 * (inotify via fs.watch, no polling) once the task has run STREAM_AFTER_MS; on tmpfs these
 * reads are microseconds, so they are synchronous (a thread-pool round trip costs more).
 * Tasks die with this process: each worker holds a lifeline pipe from it, and ends its task
 * when the pipe closes, however this process ends (see task-worker.sh).
 */
export class TaskLauncher {
  readonly #idle: Worker[] = [];
  readonly #all = new Set<Worker>();
  /** The sandboxed worker of each slot directory. */
  readonly #slots = new Map<string, Worker>();
  readonly #options: TaskLauncherOptions;
  #next = 0;

  constructor(options: TaskLauncherOptions) {
    this.#options = options;
  }

  /** Starts a task. Throws when the request cannot be expressed (a tab or newline in a path). */
  launch(request: LaunchRequest): TaskProcess {
    for (const f of [request.cwd, request.prefix]) {
      if (!FIELD_OK.test(f)) throw new Error(`task launcher: a path contains a tab or newline: ${JSON.stringify(f)}`);
    }
    const id = this.#id();
    let vars = "";
    for (const [name, value] of Object.entries(request.secretEnv ?? {})) {
      if (!isShellVariable(name)) continue;
      if (value.includes("\0")) throw new Error(`environment variable ${name} holds a NUL character`);
      vars += `V\t${id}\t${name}\t${printfEscape(value)}\n`;
    }
    const worker =
      this.#options.sandbox === undefined ? this.#take() : this.#slotWorker(request, this.#options.sandbox);
    const task = new LaunchedTask(request, worker);
    const last = request.endsRun === true && request.slot !== undefined ? `L\t${id}\n` : "";
    worker.send(
      `${vars}${last}${request.ownPid === true ? "X" : "T"}\t${id}\t${request.cwd}\t${request.prefix}`,
      id,
      task,
      last !== "",
    );
    return task;
  }

  /**
   * The run that held slot directory `slot` is over (its tasks ended): the slot's worker ends
   * what is left running in its sandbox and empties its /tmp, HOME and TMPDIR, before the next
   * run's first task. It did so already when the run's last request held an L (`endsRun`);
   * else an R request goes, with the slot's next request when one comes within POST_DELAY_MS,
   * alone after that.
   */
  endRun(slot: string): void {
    const worker = this.#slots.get(slot);
    if (worker !== undefined && !worker.takeScrub()) worker.post("R\t0");
  }

  /**
   * Starts the worker of slot directory `slot` now if it is not running (with a sandbox), so
   * that its sandbox is made while the run prepares its workspace, not when its first task
   * starts.
   */
  startSlot(slot: string): void {
    const sandbox = this.#options.sandbox;
    if (sandbox !== undefined && FIELD_OK.test(slot) && !this.#slots.has(slot)) this.#startSlot(slot, sandbox);
  }

  #slotWorker(request: LaunchRequest, sandbox: Sandbox): Worker {
    const slot = request.slot;
    if (slot === undefined || !FIELD_OK.test(slot) || !request.cwd.startsWith(`${slot}/`)) {
      throw new Error(`task launcher: a sandboxed task needs the slot directory that holds its workspace`);
    }
    const known = this.#slots.get(slot);
    if (known !== undefined) {
      if (known.busy) throw new Error(`task launcher: the worker of slot ${slot} is busy`);
      return known;
    }
    return this.#startSlot(slot, sandbox);
  }

  #startSlot(slot: string, sandbox: Sandbox): Worker {
    const worker = new Worker(
      this.#options,
      slotWorkerCommand(sandbox, slot, TASK_WORKER, this.#options.graceMs),
      true,
      () => undefined,
      (w) => {
        if (this.#slots.get(slot) === w) this.#slots.delete(slot);
      },
    );
    this.#slots.set(slot, worker);
    return worker;
  }

  /** Deletes a directory tree with `rm -rf` in a worker; resolves when done, never rejects. */
  deleteTree(dir: string): Promise<void> {
    if (!FIELD_OK.test(dir) || !dir.startsWith("/")) return Promise.resolve();
    return new Promise((resolve) => {
      const id = this.#id();
      this.#take().send(`D\t${id}\t${dir}`, id, { started: () => undefined, ended: () => resolve() });
    });
  }

  /** Ends the workers once their current request is over (running tasks go on). */
  close(): void {
    for (const worker of [...this.#all, ...this.#slots.values()]) worker.end();
    this.#all.clear();
    this.#slots.clear();
    this.#idle.length = 0;
  }

  #id(): string {
    return (++this.#next).toString(36);
  }

  #take(): Worker {
    return this.#idle.pop() ?? this.#start();
  }

  #start(): Worker {
    const worker = new Worker(
      this.#options,
      ["bash", [TASK_WORKER, String(Math.ceil(this.#options.graceMs))]],
      false,
      (w) => {
        if (!this.#all.has(w)) return;
        if (this.#idle.length < MAX_IDLE_WORKERS) this.#idle.push(w);
        else {
          this.#all.delete(w);
          w.end();
        }
      },
      (w) => {
        this.#all.delete(w);
        const at = this.#idle.indexOf(w);
        if (at >= 0) this.#idle.splice(at, 1);
      },
    );
    this.#all.add(worker);
    return worker;
  }
}

/**
 * How a task's process group is signalled: directly, or, for a worker in a slot's sandbox
 * (whose process ids are of the sandbox's PID namespace), through its worker.
 */
interface GroupSignals {
  /** SIGTERM to the running task's group `pgid`; false when it is gone. */
  term(pgid: number): boolean;
  /** SIGKILL to the running task's group `pgid` (only while it runs). */
  kill(pgid: number): void;
  /** SIGKILL to what the ended task of group `pgid` left behind. */
  killLeft(pgid: number): void;
}

/** One task worker process; it serves one request at a time. */
class Worker implements GroupSignals {
  readonly #child: ChildProcess;
  readonly #sandboxed: boolean;
  /** In a sandbox: the worker's process id here (bwrap's pid is the child's), once looked up. */
  #inner: number | undefined;
  #current: { id: string; pending: Pending; pid?: number } | undefined;
  /** The last request sent held an L (see `send`). */
  #scrubs = false;
  /** Posted requests not written yet, and the timer that writes them. */
  #posted = "";
  #postTimer: NodeJS.Timeout | undefined;

  constructor(
    options: TaskLauncherOptions,
    [file, args]: [string, string[]],
    sandboxed: boolean,
    onIdle: (w: Worker) => void,
    onExit: (w: Worker) => void,
  ) {
    this.#sandboxed = sandboxed;
    // stderr is ignored: job control reports a task killed by a signal there ("Terminated").
    // Its own session (so its own process group): a terminal's Ctrl-C reaches the server, which
    // stops its runs; every task is a process group of this session. fd 3 is the lifeline,
    // never written: it closes when this process ends, and the worker then ends its task.
    const child = spawn(file, args, {
      stdio: ["pipe", "pipe", "ignore", "pipe"],
      env: options.locale === undefined ? {} : { __CW_LANG: options.locale },
      detached: true,
    });
    this.#child = child;
    const pid = child.pid;
    // Recorded before the worker gets its first request.
    if (pid !== undefined) options.record?.add(pid);
    const lifeline = child.stdio[3] as Socket | null | undefined;
    lifeline?.on("error", () => undefined);
    lifeline?.unref();
    createInterface({ input: child.stdout as NodeJS.ReadableStream }).on("line", (line) => {
      const [kind, id, value = "", left] = line.split(" ");
      const current = this.#current;
      if (current === undefined || id !== current.id) return;
      if (kind === "S") {
        current.pid = Number(value);
        current.pending.started(current.pid);
      } else if (kind === "E") {
        this.#current = undefined;
        this.#refresh();
        onIdle(this);
        current.pending.ended(Number(value), left === "1");
      }
    });
    child.once("exit", () => {
      if (pid !== undefined) options.record?.remove(pid);
      // Ends the worker's watcher, which holds the lifeline after the worker is gone.
      lifeline?.destroy();
      onExit(this);
      const current = this.#current;
      this.#current = undefined;
      // A request the worker can no longer report on: not started, or lost while running.
      current?.pending.ended(current.pid === undefined ? NOT_STARTED : LOST, current.pid !== undefined);
    });
    child.on("error", () => undefined);
    child.stdin?.on("error", () => undefined);
  }

  /**
   * Writes a request; `scrubs`: it holds an L (the worker scrubs its sandbox after the task),
   * which the next `takeScrub` answers.
   */
  send(line: string, id: string, pending: Pending, scrubs = false): void {
    this.#scrubs = scrubs;
    this.#current = { id, pending };
    this.#refresh();
    this.#child.stdin?.write(`${this.#takePosted()}${line}\n`);
  }

  end(): void {
    this.#flushPosted();
    this.#child.stdin?.end();
  }

  /** A request is pending. */
  get busy(): boolean {
    return this.#current !== undefined;
  }

  term(pgid: number): boolean {
    if (!this.#sandboxed) return signalGroup(pgid, "SIGTERM");
    // The worker passes it on to its task's group (task-worker.sh).
    return this.#signalWorker("SIGTERM");
  }

  kill(pgid: number): void {
    if (!this.#sandboxed) signalGroup(pgid, "SIGKILL");
    else this.#signalWorker("SIGUSR1");
  }

  killLeft(pgid: number): void {
    if (!this.#sandboxed) signalGroup(pgid, "SIGKILL");
    // The worker kills the groups whose grace is over (this one had its SIGTERM a grace ago).
    else this.#signalWorker("SIGUSR2");
  }

  /**
   * Writes a request that has no reply (R): the worker handles it after its current one. It
   * goes with the next request when one comes within POST_DELAY_MS, else alone: each write
   * wakes the worker, which costs this process about as much as the write that starts a task.
   */
  post(line: string): void {
    this.#posted += `${line}\n`;
    this.#postTimer ??= setTimeout(() => this.#flushPosted(), POST_DELAY_MS).unref();
  }

  /** Whether the last request sent made the worker scrub its sandbox after it (once). */
  takeScrub(): boolean {
    const scrubs = this.#scrubs;
    this.#scrubs = false;
    return scrubs;
  }

  #takePosted(): string {
    const posted = this.#posted;
    this.#posted = "";
    if (this.#postTimer !== undefined) clearTimeout(this.#postTimer);
    this.#postTimer = undefined;
    return posted;
  }

  #flushPosted(): void {
    const posted = this.#takePosted();
    if (posted !== "") this.#child.stdin?.write(posted);
  }

  #signalWorker(signal: NodeJS.Signals): boolean {
    this.#inner ??= sandboxedWorker(this.#child.pid);
    if (this.#inner === undefined) return false;
    try {
      process.kill(this.#inner, signal);
      return true;
    } catch {
      return false;
    }
  }

  // Keep the event loop alive only while a request is pending.
  #refresh(): void {
    const busy = this.#current !== undefined;
    const child = this.#child;
    for (const handle of [child, child.stdout, child.stdin] as unknown as { ref?(): void; unref?(): void }[]) {
      if (busy) handle?.ref?.();
      else handle?.unref?.();
    }
  }
}

/**
 * The process id, here, of the worker that bwrap (process `pid`) runs: the process under it
 * that is pid 2 of the sandbox's PID namespace, the first that bwrap's init (pid 1) starts
 * (other children of the init are orphans it adopted). Read when a task of the worker is first
 * signalled, never per task.
 */
function sandboxedWorker(pid: number | undefined): number | undefined {
  let level = pid === undefined ? [] : [pid];
  for (let depth = 0; depth < 4 && level.length > 0; depth++) {
    const next: number[] = [];
    for (const at of level) {
      try {
        const ns = /^NSpid:\s*(.*)$/m
          .exec(readFileSync(`/proc/${at}/status`, "latin1"))?.[1]
          ?.trim()
          .split(/\s+/);
        if (ns !== undefined && ns.length > 1 && ns[ns.length - 1] === "2") return at;
        const children = readFileSync(`/proc/${at}/task/${at}/children`, "latin1").trim();
        if (children !== "") next.push(...children.split(" ").map(Number));
      } catch {
        // Gone meanwhile.
      }
    }
    level = next;
  }
  return undefined;
}

/**
 * `value` as an argument of bash's `printf %b` that holds no tab, newline or backslash of its
 * own: letters and digits as they are, every other byte of its UTF-8 as `\xHH`.
 */
export function printfEscape(value: string): string {
  let out = "";
  for (const byte of Buffer.from(value, "utf8")) {
    out +=
      (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5a) || (byte >= 0x61 && byte <= 0x7a)
        ? String.fromCharCode(byte)
        : `\\x${byte.toString(16).padStart(2, "0")}`;
  }
  return out;
}

const READ_SIZE = 64 * 1024;
let scratch: Buffer | undefined;
/**
 * Output is streamed (inotify) once a task has run this long; a shorter task's output is read
 * once, when it ends: most tasks of a busy line take milliseconds, and a watch plus one read
 * per line they print would cost more than the task.
 */
const STREAM_AFTER_MS = 100;

class LaunchedTask implements TaskProcess, Pending {
  readonly done: Promise<ProcessExit>;
  readonly #request: LaunchRequest;
  readonly #signals: GroupSignals;
  #resolve!: (exit: ProcessExit) => void;
  #pid: number | undefined;
  #terminating = false;
  #ended = false;
  readonly #timers: NodeJS.Timeout[] = [];
  readonly #stream: NodeJS.Timeout;
  #watcher: FSWatcher | undefined;
  #fd: number | undefined;
  #offset = 0;

  constructor(request: LaunchRequest, signals: GroupSignals) {
    this.#request = request;
    this.#signals = signals;
    this.done = new Promise((resolve) => (this.#resolve = resolve));
    const out = `${request.prefix}.out`;
    // Created (empty) here and read through this handle; the task appends.
    this.#fd = openSync(out, "w+");
    this.#stream = setTimeout(() => {
      try {
        this.#watcher = watch(out, () => this.#pump());
        this.#watcher.on("error", () => undefined);
      } catch {
        this.#watcher = undefined;
      }
      this.#pump();
    }, STREAM_AFTER_MS).unref();
  }

  started(pid: number): void {
    this.#pid = pid;
    if (this.#terminating) this.#signal();
  }

  ended(status: number, left: boolean): void {
    if (this.#ended) return;
    this.#ended = true;
    // Processes the task left behind in its group had SIGTERM: SIGKILL after the grace.
    const pid = this.#pid;
    if (!left) {
      // Nothing is left of the group: no SIGKILL (a sandboxed worker may run another task then).
      for (const timer of this.#timers) clearTimeout(timer);
    } else if (pid !== undefined && !this.#terminating) {
      this.#timers.push(setTimeout(() => this.#signals.killLeft(pid), this.#request.graceMs).unref());
    }
    clearTimeout(this.#stream);
    this.#watcher?.close();
    this.#pump();
    if (this.#fd !== undefined) closeSync(this.#fd);
    this.#fd = undefined;
    // bash reports a signal death as 128+N, which is also the run's exit code convention.
    this.#resolve({
      code: status,
      signal: null,
      error: pid === undefined ? new Error(`the task worker could not start the task (status ${status})`) : undefined,
    });
  }

  terminate(): void {
    if (this.#ended || this.#terminating) return;
    this.#terminating = true;
    if (this.#pid !== undefined) this.#signal();
  }

  #signal(): void {
    const pid = this.#pid as number;
    if (this.#signals.term(pid)) {
      const kill = (): void => (this.#ended ? this.#signals.killLeft(pid) : this.#signals.kill(pid));
      this.#timers.push(setTimeout(kill, this.#request.graceMs).unref());
    }
  }

  // Reads what the task appended since the last read.
  #pump(): void {
    const fd = this.#fd;
    if (fd === undefined) return;
    scratch ??= Buffer.allocUnsafe(READ_SIZE);
    for (;;) {
      let n: number;
      try {
        n = readSync(fd, scratch, 0, READ_SIZE, this.#offset);
      } catch {
        return;
      }
      if (n === 0) return;
      this.#offset += n;
      this.#request.onData(Buffer.from(scratch.subarray(0, n)));
    }
  }
}
