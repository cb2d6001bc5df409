import { readdirSync, readFileSync, renameSync, unlinkSync, writeFileSync } from "node:fs";

// The record of the task workers a server runs, and the start-up check that ends what a killed
// server left running (docs/semantics.md "A crash of the server").
//
// Every task process lives in the session of the task worker that started it (a worker is a
// session leader; each task is a process group of that session). The record names each live
// worker by its PID *and* its start time (Linux: /proc/<pid>/stat field 22, clock ticks since
// boot, with the boot's id), so a PID reused by another process is never taken for a worker.
// A session id cannot be reused while the session has a member, so once a worker is known to be
// the recorded process, every process of its session is one of its tasks (or the worker).
// Only workers are recorded, when they start and end: nothing is written per task or per run.
//
// Where /proc is missing (macOS, the BSDs) nothing is recorded and the check does nothing: the
// workers' lifeline alone ends the tasks of a killed server.

/** What /proc/<pid>/stat says of a process. */
interface ProcStat {
  readonly pid: number;
  /** R, S, D, Z (zombie), X (dead)... */
  readonly state: string;
  readonly pgid: number;
  readonly sid: number;
  /** Start time in clock ticks since boot. */
  readonly start: number;
}

interface RecordFile {
  readonly boot: string;
  readonly workers: readonly { readonly pid: number; readonly start: number }[];
}

const WORKER_MARK = "task-worker.sh";

function readStat(pid: number): ProcStat | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, "latin1");
  } catch {
    return undefined;
  }
  // "pid (comm) state ppid pgrp session ... starttime(22) ...": comm may hold spaces and ")".
  const f = text.slice(text.lastIndexOf(")") + 2).split(" ");
  const [state, pgid, sid, start] = [f[0], Number(f[2]), Number(f[3]), Number(f[19])];
  if (state === undefined || !(pgid > 0) || !(sid > 0) || !Number.isSafeInteger(start)) return undefined;
  return { pid, state, pgid, sid, start };
}

let boot: string | undefined | null = null;
function bootId(): string | undefined {
  if (boot === null) {
    try {
      boot = readFileSync("/proc/sys/kernel/random/boot_id", "latin1").trim();
    } catch {
      boot = undefined;
    }
  }
  return boot;
}

function isWorker(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "latin1").includes(WORKER_MARK);
  } catch {
    return false;
  }
}

/**
 * The live task workers of this process, in a file (rewritten whole, atomically, when a worker
 * starts or ends; removed when none is left). Not fsynced: it matters only while the processes
 * it names live, and a crash that loses the page cache (of the machine) ends them all. Errors
 * are ignored: without the record, the lifeline still ends the tasks.
 */
export class WorkerRecord {
  readonly #path: string;
  readonly #workers = new Map<number, number>();

  constructor(path: string) {
    this.#path = path;
  }

  /** Records a worker just spawned (before it gets a request). */
  add(pid: number): void {
    const start = bootId() === undefined ? undefined : readStat(pid)?.start;
    if (start === undefined) return;
    this.#workers.set(pid, start);
    this.#write();
  }

  /** Forgets a worker that exited. */
  remove(pid: number): void {
    if (this.#workers.delete(pid)) this.#write();
  }

  #write(): void {
    try {
      if (this.#workers.size === 0) {
        unlinkSync(this.#path);
        return;
      }
      const content: RecordFile = {
        boot: bootId() as string,
        workers: [...this.#workers].map(([pid, start]) => ({ pid, start })),
      };
      const temp = `${this.#path}.tmp`;
      writeFileSync(temp, `${JSON.stringify(content)}\n`, { mode: 0o600 });
      renameSync(temp, this.#path);
    } catch {
      // Best effort (see the class comment).
    }
  }
}

/** What `endOrphanedTasks` found and did. */
export interface OrphanReport {
  /** The recorded workers still alive (the same processes: PID and start time). */
  readonly workers: readonly number[];
  /** Every process of their sessions that was alive: the workers and their tasks. */
  readonly processes: readonly number[];
  /** Those still alive after the grace, sent SIGKILL. */
  readonly killed: readonly number[];
  /** Those still there after SIGKILL and a short wait (a process in an uninterruptible sleep). */
  readonly remaining: readonly number[];
}

/** Options of `endOrphanedTasks`. */
export interface OrphanOptions {
  /** Time between SIGTERM and SIGKILL. */
  readonly graceMs: number;
  /** Called once, with the processes found alive, before waiting for them. */
  readonly onFound?: (pids: readonly number[]) => void;
}

const POLL_MS = 50;
/** How long to wait after SIGKILL (a process in an uninterruptible sleep dies when it wakes). */
const KILL_WAIT_MS = 2_000;

/**
 * Ends every process that the task workers named in the record at `path` (left by a server of
 * the same data directory that was killed) still run, and waits until they are gone: SIGTERM to
 * each of their process groups, SIGKILL after the grace. A recorded PID whose process is not
 * the recorded worker (another start time, another boot, not a task worker) is left alone.
 * Then removes the record. Call it before anything reuses what those tasks used (their runs'
 * retries, the work directory). Never throws.
 */
export async function endOrphanedTasks(path: string, options: OrphanOptions): Promise<OrphanReport> {
  const none: OrphanReport = { workers: [], processes: [], killed: [], remaining: [] };
  let record: RecordFile | undefined;
  try {
    record = parseRecord(readFileSync(path, "utf8"));
  } catch {
    return none;
  }
  if (record === undefined) return none;
  try {
    return await endSessions(record, options);
  } finally {
    try {
      unlinkSync(path);
    } catch {
      // Already gone.
    }
  }
}

async function endSessions(record: RecordFile, options: OrphanOptions): Promise<OrphanReport> {
  const none: OrphanReport = { workers: [], processes: [], killed: [], remaining: [] };
  const here = readStat(process.pid);
  if (bootId() === undefined || record.boot !== bootId()) return none;
  const sessions = new Set<number>();
  for (const { pid, start } of record.workers) {
    const now = readStat(pid);
    // The same process: same PID, same start, same boot; and a task worker. Never this
    // process's own session (a server started from a task of the previous one).
    if (now !== undefined && now.start === start && now.sid === pid && isWorker(pid) && here?.sid !== pid) {
      sessions.add(pid);
    }
  }
  if (sessions.size === 0) return none;
  const members = (): ProcStat[] => livingProcesses().filter((p) => sessions.has(p.sid));
  const found = members();
  if (found.length === 0) return { ...none, workers: [...sessions] };
  options.onFound?.(found.map((p) => p.pid));
  signalGroups(found, "SIGTERM");
  let left = await until(members, options.graceMs);
  const killed = left.map((p) => p.pid);
  if (left.length > 0) {
    signalGroups(left, "SIGKILL");
    left = await until(members, KILL_WAIT_MS);
  }
  return {
    workers: [...sessions],
    processes: found.map((p) => p.pid),
    killed,
    remaining: left.map((p) => p.pid),
  };
}

/** The record in `text`, or undefined when it is not one (torn, or from another program). */
function parseRecord(text: string): RecordFile | undefined {
  const value = JSON.parse(text) as Partial<Record<keyof RecordFile, unknown>> | null;
  if (typeof value?.boot !== "string" || !Array.isArray(value.workers)) return undefined;
  const workers: { pid: number; start: number }[] = [];
  for (const w of value.workers as unknown[]) {
    const { pid, start } = (w ?? {}) as { pid?: unknown; start?: unknown };
    if (typeof pid === "number" && Number.isSafeInteger(pid) && pid > 1 && typeof start === "number") {
      workers.push({ pid, start });
    }
  }
  return { boot: value.boot, workers };
}

/** Every process that is not a zombie (a zombie runs nothing; its parent reaps it). */
function livingProcesses(): ProcStat[] {
  let entries: string[];
  try {
    entries = readdirSync("/proc");
  } catch {
    return [];
  }
  const out: ProcStat[] = [];
  for (const name of entries) {
    if (!/^\d+$/.test(name)) continue;
    const stat = readStat(Number(name));
    if (stat !== undefined && stat.state !== "Z" && stat.state !== "X") out.push(stat);
  }
  return out;
}

function signalGroups(processes: readonly ProcStat[], signal: NodeJS.Signals): void {
  for (const pgid of new Set(processes.map((p) => p.pgid))) {
    if (pgid <= 1) continue;
    try {
      process.kill(-pgid, signal);
    } catch {
      // Gone meanwhile.
    }
  }
}

/** Polls `look` until it finds nothing or `ms` passed; returns what it found last. */
async function until(look: () => ProcStat[], ms: number): Promise<ProcStat[]> {
  const deadline = performance.now() + ms;
  let seen = look();
  while (seen.length > 0 && performance.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    seen = look();
  }
  return seen;
}
