import type { DependencyMode, JobDef } from "../language/model.js";
import { modeFor } from "./triggers.js";
import type { Run } from "./model.js";

/** A queued run with its job's definition. */
export interface DispatchCandidate {
  readonly run: Run;
  readonly job: JobDef;
}

/** What is running now, as the dispatcher sees it. */
export interface DispatchState {
  readonly processingByJob: ReadonlyMap<string, number>;
  readonly processingGroups: ReadonlySet<string>;
  /** Jobs directly connected to `job` (IN jobs, producers of its IN resources, its consumers). */
  neighbours(job: string): readonly string[];
  /**
   * The free runner slots of each pool (`poolOf`), and where a pool is missing or 0 the
   * runners it has: 0 means no live runner serves the pool, and its runs say so.
   */
  readonly freeSlots: ReadonlyMap<string, number>;
  readonly capacity: ReadonlyMap<string, number>;
  /** The pool of a job's runs: `poolOf`, or one pool for all where the runner has no pools. */
  readonly poolOf: (job: JobDef) => string;
}

/** The pool of a job's runs when its `runtime.nodePool` names none. */
export const DEFAULT_POOL = "default";

/** The runner pool a job's runs need: `runtime.nodePool`, else the default pool. */
export function poolOf(job: JobDef): string {
  return job.runtime.nodePool ?? DEFAULT_POOL;
}

/** Orders queued runs: priority (0 first), then creation order. */
export function compareQueued(a: Run, b: Run): number {
  return a.priority - b.priority || a.id - b.id;
}

/**
 * The queued runs in the order they are dispatched (`compareQueued`), kept sorted as runs enter
 * and leave the queue (a binary search and an array splice each), so that the dispatcher walks
 * it from the front and stops once no slot is left, instead of sorting every queued run at every
 * event: a fan-out of 500 jobs sorted its queue 500 times.
 */
export class DispatchQueue implements Iterable<Run> {
  readonly #runs: Run[] = [];

  /** Adds a run that is not in the queue. */
  add(run: Run): void {
    this.#runs.splice(this.#at(run), 0, run);
  }

  /** Removes the run with `run`'s id, as it was added (same priority); absent: nothing. */
  remove(run: Run): void {
    const at = this.#at(run);
    if (this.#runs[at]?.id === run.id) this.#runs.splice(at, 1);
  }

  clear(): void {
    this.#runs.length = 0;
  }

  get size(): number {
    return this.#runs.length;
  }

  [Symbol.iterator](): IterableIterator<Run> {
    return this.#runs.values();
  }

  /** Where `run` is, or goes: the first run that does not come before it. */
  #at(run: Run): number {
    let low = 0;
    let high = this.#runs.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if (compareQueued(this.#runs[mid] as Run, run) < 0) low = mid + 1;
      else high = mid;
    }
    return low;
  }
}

/**
 * Picks the queued runs to start now (design §3): at most `freeSlots`; `serial` jobs one run at
 * a time and in order; `chrono` jobs only while no directly connected job is processing;
 * one run per concurrency group. Returns the runs to start and, for the others, why they wait;
 * with `reasons: false` it stops once no slot is left, and `blocked` holds only the reasons of
 * the runs it looked at (the dispatcher, at every event: the reasons are asked for rarely, and
 * looking at every queued run each time made the cost per job grow with the queue).
 */
export function selectRuns(
  candidates: Iterable<DispatchCandidate>,
  state: DispatchState,
  options: {
    readonly reasons?: boolean;
    /** The candidates come in `compareQueued` order already (a `DispatchQueue`'s). */
    readonly ordered?: boolean;
  } = {},
): { start: Run[]; blocked: Map<number, string> } {
  const processing = new Map(state.processingByJob);
  const groups = new Set(state.processingGroups);
  const seenSerial = new Set<string>();
  const start: Run[] = [];
  const blocked = new Map<number, string>();
  const slots = new Map(state.freeSlots);
  let free = 0;
  for (const n of slots.values()) free += Math.max(0, n);
  const ordered = options.ordered === true ? candidates : [...candidates].sort((a, b) => compareQueued(a.run, b.run));
  const stopWhenFull = options.reasons === false;
  if (free === 0 && stopWhenFull) return { start, blocked };
  for (const { run, job } of ordered) {
    // The mode that created the run: a per-input dependencyMode of its triggering input wins.
    const input = run.trigger.kind === "version" || run.trigger.kind === "upstream" ? run.trigger.by : undefined;
    const pool = state.poolOf(job);
    const reason = blockReason(
      job,
      modeFor(job, input),
      processing,
      groups,
      seenSerial,
      state,
      pool,
      slots.get(pool) ?? 0,
    );
    if (job.triggerMode === "serial") seenSerial.add(job.name);
    if (reason !== undefined) {
      blocked.set(run.id, reason);
      continue;
    }
    start.push(run);
    slots.set(pool, (slots.get(pool) ?? 0) - 1);
    free--;
    processing.set(job.name, (processing.get(job.name) ?? 0) + 1);
    if (job.concurrencyGroup !== undefined) groups.add(job.concurrencyGroup);
    // Not one more candidate asked for: the dispatcher's come from a generator.
    if (free === 0 && stopWhenFull) break;
  }
  return { start, blocked };
}

function blockReason(
  job: JobDef,
  mode: DependencyMode,
  processing: ReadonlyMap<string, number>,
  groups: ReadonlySet<string>,
  seenSerial: ReadonlySet<string>,
  state: DispatchState,
  pool: string,
  slots: number,
): string | undefined {
  if (job.triggerMode === "serial") {
    if ((processing.get(job.name) ?? 0) > 0) return `waiting: a run of ${job.name} is processing (serial)`;
    if (seenSerial.has(job.name)) return `waiting: an earlier run of ${job.name} is queued (serial)`;
  }
  if (job.concurrencyGroup !== undefined && groups.has(job.concurrencyGroup)) {
    return `waiting: concurrency group ${job.concurrencyGroup} is busy`;
  }
  if (mode === "chrono") {
    const busy = state.neighbours(job.name).find((n) => (processing.get(n) ?? 0) > 0);
    if (busy !== undefined) return `waiting: connected job ${busy} is processing (chrono)`;
  }
  if (slots > 0) return undefined;
  if ((state.capacity.get(pool) ?? 0) === 0) {
    return pool === DEFAULT_POOL
      ? "waiting: no live runner serves jobs without a nodePool"
      : `waiting: no live runner in pool ${pool}`;
  }
  return pool === DEFAULT_POOL
    ? "waiting: every runner slot is busy"
    : `waiting: every runner slot of pool ${pool} is busy`;
}
