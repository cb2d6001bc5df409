import {
  BUSY_NAMES_SHOWN,
  type BusyUpstream,
  DispatchQueue,
  isFinal,
  type JobDef,
  type Pin,
  type ResourceDef,
  type Run,
  type RunStatus,
  type Store,
  type StoredObject,
  type UpstreamState,
  type Version,
  resourceKind,
} from "@causeway/core";

/** A stored object with its parsed definition. */
export type Entry =
  | { readonly kind: "resource"; readonly stored: StoredObject; readonly def: ResourceDef }
  | { readonly kind: "job"; readonly stored: StoredObject; readonly def: JobDef };

const NON_FINAL = ["waiting", "queued", "waiting_approval", "processing"] as const;

/**
 * The engine's in-memory view of the store: definitions, graph relations, latest versions and
 * active runs. A write-through cache: every change is written to the store first, in the same
 * transaction, and the model is reloaded from the store when a transaction fails. Nothing here
 * exists only in memory.
 */
export class ReadModel {
  readonly objects = new Map<string, Entry>();
  /** name -> jobs that take it as IN. */
  readonly consumers = new Map<string, string[]>();
  /** resource -> jobs that OUT to it. */
  readonly producers = new Map<string, string[]>();
  readonly pins = new Map<string, Map<string, number>>();
  readonly latest = new Map<string, Version>();
  /** job -> version of its latest successful run. */
  readonly lastSuccess = new Map<string, Version>();
  /** job -> its latest run. */
  readonly latestRun = new Map<string, Run>();
  readonly active = new Map<number, Run>();
  /** job -> the ids of its active runs; a job without one is no key. */
  readonly #activeByJob = new Map<string, Set<number>>();
  /**
   * The active runs by status: the dispatcher reads the queued and processing ones, strict
   * release the waiting ones, each without walking the others (in a strict line most active
   * runs wait: walking them all at every event made the cost per job grow with the line).
   */
  readonly #byStatus = new Map<RunStatus, Map<number, Run>>();
  /** The queued runs in dispatch order. */
  readonly #queue = new DispatchQueue();
  /** Waiting run -> the upstream job with an active run that held it when last looked at (`freedBy`). */
  readonly #holders = new Map<number, string>();
  /** Upstream job -> the waiting runs it holds. */
  readonly #held = new Map<string, Set<number>>();
  /** The waiting runs no job is known to hold. */
  readonly #unheld = new Set<number>();
  /** job -> its transitive upstream jobs; computed on first use after each relink. */
  #ancestors = new Map<string, ReadonlySet<string>>();
  /**
   * Strict job asked (`busyUpstream`) -> its upstream jobs with an active run, in name order,
   * kept as jobs become busy and idle: a fan-in of 4,000 jobs is offered 4,000 events, and
   * walking its 4,000 ancestors at each took 2.0 s of the thread in `fanout 4000`. Forgotten at
   * each relink, with `#busyWatchers`: upstream job -> the asked jobs it is an ancestor of.
   */
  #busyOf = new Map<string, string[]>();
  #busyWatchers = new Map<string, Set<string>>();

  /**
   * Loads everything from the store. Everything is read before anything changes: a store that
   * fails half-way (a disk error) leaves the model as it was.
   */
  async load(store: Store): Promise<void> {
    const read = store.read;
    const objects = (await read.listObjects(false)).filter((o) => o.deletedAt === null);
    const pins = await read.listPins();
    const latest: Version[] = [];
    const latestRuns: Run[] = [];
    const successes: [string, Version][] = [];
    for (const { name, kind } of objects) {
      const v = await read.latestVersion(name);
      if (v !== undefined) latest.push(v);
      if (kind !== "job") continue;
      const [last] = await read.listRuns({ job: name, limit: 1 });
      if (last !== undefined) latestRuns.push(last);
      const [ok] = await read.listRuns({ job: name, statuses: ["success"], limit: 1 });
      if (ok !== undefined) {
        const own = (await read.versionsOfRun(ok.id)).find((x) => x.objectName === name);
        if (own !== undefined) successes.push([name, own]);
      }
    }
    const active = await read.listRuns({ statuses: [...NON_FINAL] });

    this.objects.clear();
    this.pins.clear();
    this.latest.clear();
    this.lastSuccess.clear();
    this.latestRun.clear();
    this.active.clear();
    this.#activeByJob.clear();
    this.#byStatus.clear();
    this.#queue.clear();
    this.#holders.clear();
    this.#held.clear();
    this.#unheld.clear();
    this.#busyOf.clear();
    this.#busyWatchers.clear();
    for (const stored of objects) this.setObject(stored);
    for (const pin of pins) this.setPin(pin);
    for (const v of latest) this.latest.set(v.objectName, v);
    for (const run of latestRuns) this.latestRun.set(run.job, run);
    for (const [name, v] of successes) this.lastSuccess.set(name, v);
    for (const run of active) this.trackRun(run);
    this.relink();
  }

  setObject(stored: StoredObject): void {
    if (stored.deletedAt !== null) {
      this.objects.delete(stored.name);
      return;
    }
    if (stored.kind === "job")
      this.objects.set(stored.name, { kind: "job", stored, def: stored.definition as unknown as JobDef });
    else this.objects.set(stored.name, { kind: "resource", stored, def: stored.definition as unknown as ResourceDef });
  }

  setPin(pin: Pin): void {
    let m = this.pins.get(pin.job);
    if (m === undefined) this.pins.set(pin.job, (m = new Map<string, number>()));
    m.set(pin.input, pin.versionNumber);
  }

  clearPin(job: string, input: string): void {
    this.pins.get(job)?.delete(input);
  }

  /** Recomputes consumers and producers from the job definitions. */
  relink(): void {
    this.consumers.clear();
    this.producers.clear();
    this.#ancestors = new Map();
    this.#busyOf = new Map();
    this.#busyWatchers = new Map();
    // Who holds a waiting run depends on the graph: every one is looked at again.
    for (const job of [...this.#held.keys()]) this.#releaseHeld(job);
    for (const [name, entry] of this.objects) {
      if (entry.kind !== "job") continue;
      for (const step of entry.def.steps) {
        if (step.kind === "IN") push(this.consumers, step.name, name);
        else if (step.kind === "OUT") push(this.producers, step.name, name);
      }
    }
  }

  job(name: string): JobDef | undefined {
    const e = this.objects.get(name);
    return e?.kind === "job" ? e.def : undefined;
  }

  resource(name: string): ResourceDef | undefined {
    const e = this.objects.get(name);
    return e?.kind === "resource" ? e.def : undefined;
  }

  isJob(name: string): boolean {
    return this.objects.get(name)?.kind === "job";
  }

  /** Records a run's new state: latest run of its job, and the active set. */
  trackRun(run: Run): void {
    const prev = this.latestRun.get(run.job);
    if (prev === undefined || prev.id <= run.id) this.latestRun.set(run.job, run);
    let set = this.#activeByJob.get(run.job);
    const before = this.active.get(run.id);
    if (before !== undefined) this.#byStatus.get(before.status)?.delete(run.id);
    if (before?.status === "queued") this.#queue.remove(before);
    if (run.status === "waiting") {
      if (before?.status !== "waiting") this.#hold(run.id, undefined);
    } else if (before?.status === "waiting") {
      const holder = this.#holders.get(run.id);
      if (holder !== undefined) this.#held.get(holder)?.delete(run.id);
      this.#holders.delete(run.id);
      this.#unheld.delete(run.id);
    }
    if (isFinal(run.status)) {
      this.active.delete(run.id);
      set?.delete(run.id);
      if (set?.size === 0) {
        // Only jobs with active runs stay keyed, so #busyAncestors walks those, not every job
        // that ever ran.
        this.#activeByJob.delete(run.job);
        this.#releaseHeld(run.job);
        this.#busyChanged(run.job, false);
      }
    } else {
      this.active.set(run.id, run);
      if (set === undefined) {
        this.#activeByJob.set(run.job, (set = new Set<number>()));
        this.#busyChanged(run.job, true);
      }
      set.add(run.id);
      let same = this.#byStatus.get(run.status);
      if (same === undefined) this.#byStatus.set(run.status, (same = new Map<number, Run>()));
      same.set(run.id, run);
      if (run.status === "queued") this.#queue.add(run);
    }
  }

  /** The queued runs in the order they are dispatched (`compareQueued`). */
  queued(): Iterable<Run> {
    return this.#queue;
  }

  /** The active runs of one (non-final) status, in the order they took it. */
  withStatus(status: RunStatus): IterableIterator<Run> {
    return (this.#byStatus.get(status) ?? NONE).values();
  }

  /** How many active runs have `status`. */
  countWithStatus(status: RunStatus): number {
    return this.#byStatus.get(status)?.size ?? 0;
  }

  activeRuns(job: string): Run[] {
    const ids = this.#activeByJob.get(job);
    if (ids === undefined) return [];
    const out: Run[] = [];
    for (const id of ids) {
      const r = this.active.get(id);
      if (r !== undefined) out.push(r);
    }
    return out;
  }

  upstreamState(job: string): UpstreamState {
    return {
      name: job,
      latestStatus: this.latestRun.get(job)?.status,
      active: this.activeRuns(job).length > 0,
      hasSuccess: this.lastSuccess.has(job),
    };
  }

  /** Jobs that are IN of `job`. */
  inJobs(job: JobDef): string[] {
    return job.steps.filter((s) => s.kind === "IN" && this.isJob(s.name)).map((s) => s.name);
  }

  /** Direct upstream jobs: IN jobs and the producers of IN resources (never the job itself). */
  directUpstream(job: JobDef): string[] {
    const out = new Set<string>();
    for (const step of job.steps) {
      if (step.kind !== "IN") continue;
      if (this.isJob(step.name)) out.add(step.name);
      else for (const p of this.producers.get(step.name) ?? []) out.add(p);
    }
    out.delete(job.name);
    return [...out];
  }

  /**
   * Every job upstream of `job`, transitively, through IN jobs and producers of IN resources.
   * State resources never trigger, so they carry no dependency here.
   */
  ancestors(jobName: string): ReadonlySet<string> {
    const cached = this.#ancestors.get(jobName);
    if (cached !== undefined) return cached;
    const out = new Set<string>();
    const stack = [jobName];
    while (stack.length > 0) {
      const name = stack.pop() ?? "";
      const job = this.job(name);
      if (job === undefined) continue;
      for (const step of job.steps) {
        if (step.kind !== "IN") continue;
        const parents = this.isJob(step.name)
          ? [step.name]
          : resourceKind(this.resource(step.name)?.type ?? "").versionsTrigger === false
            ? []
            : (this.producers.get(step.name) ?? []);
        for (const p of parents) {
          if (out.has(p) || p === jobName) continue;
          out.add(p);
          const known = this.#ancestors.get(p);
          if (known === undefined) stack.push(p);
          else for (const a of known) if (a !== jobName) out.add(a);
        }
      }
    }
    this.#ancestors.set(jobName, out);
    return out;
  }

  /**
   * Upstream jobs of `job` (transitively) that have an active run, what a strict job waits for:
   * how many, and the first few by name.
   */
  busyUpstream(jobName: string): BusyUpstream {
    let busy = this.#busyOf.get(jobName);
    if (busy === undefined) {
      busy = [...this.#busyAncestors(jobName)].sort();
      this.#busyOf.set(jobName, busy);
      for (const upstream of this.ancestors(jobName)) {
        let watchers = this.#busyWatchers.get(upstream);
        if (watchers === undefined) this.#busyWatchers.set(upstream, (watchers = new Set<string>()));
        watchers.add(jobName);
      }
    }
    return { count: busy.length, first: busy.slice(0, BUSY_NAMES_SHOWN) };
  }

  /** `job` got its first active run (`busy`) or lost its last: the asked jobs below it follow. */
  #busyChanged(job: string, busy: boolean): void {
    for (const watcher of this.#busyWatchers.get(job) ?? []) {
      const names = this.#busyOf.get(watcher);
      if (names === undefined) continue;
      let low = 0;
      let high = names.length;
      while (low < high) {
        const mid = (low + high) >>> 1;
        if ((names[mid] as string) < job) low = mid + 1;
        else high = mid;
      }
      const there = names[low] === job;
      if (busy && !there) names.splice(low, 0, job);
      else if (!busy && there) names.splice(low, 1);
    }
  }

  /**
   * The waiting runs that `settled` settling frees (strict release): those of jobs downstream
   * of `settled` of which no upstream job has an active run any more, in creation order. Each
   * waiting run is kept under an upstream job found active (its holder) and looked at again
   * only when that job settles or goes idle: at every settle, walking every waiting run's
   * upstream jobs cost O(waiting runs x upstream jobs), which made the cost per job grow with
   * the line (most active runs of a strict line wait). Runs no job holds (new ones, those
   * whose holder went idle, all of them after a relink) are looked at every time.
   */
  freedBy(settled: string): Run[] {
    const look = [...(this.#held.get(settled) ?? []), ...this.#unheld];
    const freed: Run[] = [];
    for (const id of look) {
      const run = this.active.get(id);
      if (run?.status !== "waiting") continue;
      const holder = this.#busyAncestors(run.job).next();
      if (holder.done !== true) {
        this.#hold(id, holder.value);
        continue;
      }
      this.#hold(id, undefined);
      if (this.job(run.job) !== undefined && this.ancestors(run.job).has(settled)) freed.push(run);
    }
    return freed.sort((a, b) => a.id - b.id);
  }

  /** Files the waiting run `id` under `holder`, or with the unheld ones. */
  #hold(id: number, holder: string | undefined): void {
    const before = this.#holders.get(id);
    if (before !== undefined) this.#held.get(before)?.delete(id);
    if (holder === undefined) {
      this.#holders.delete(id);
      this.#unheld.add(id);
      return;
    }
    this.#unheld.delete(id);
    this.#holders.set(id, holder);
    let set = this.#held.get(holder);
    if (set === undefined) this.#held.set(holder, (set = new Set<number>()));
    set.add(id);
  }

  /** The waiting runs held by `job` are held no more (it went idle, or the graph changed). */
  #releaseHeld(job: string): void {
    const set = this.#held.get(job);
    if (set === undefined) return;
    this.#held.delete(job);
    for (const id of set) {
      this.#holders.delete(id);
      this.#unheld.add(id);
    }
  }

  // Walks the smaller of the ancestors and the jobs with active runs.
  *#busyAncestors(jobName: string): Generator<string> {
    const ancestors = this.ancestors(jobName);
    if (this.#activeByJob.size < ancestors.size) {
      for (const job of this.#activeByJob.keys()) if (ancestors.has(job)) yield job;
    } else {
      for (const job of ancestors) if (this.#activeByJob.has(job)) yield job;
    }
  }

  /** Jobs directly connected to `job`, for chrono dispatch. */
  neighbours(jobName: string): string[] {
    const job = this.job(jobName);
    if (job === undefined) return [];
    const out = new Set(this.directUpstream(job));
    for (const c of this.consumers.get(jobName) ?? []) out.add(c);
    for (const step of job.steps) {
      if (step.kind === "OUT") for (const c of this.consumers.get(step.name) ?? []) out.add(c);
    }
    out.delete(jobName);
    return [...out];
  }
}

const NONE: ReadonlyMap<number, Run> = new Map();

function push(map: Map<string, string[]>, key: string, value: string): void {
  const list = map.get(key);
  if (list === undefined) map.set(key, [value]);
  else if (!list.includes(value)) list.push(value);
}
