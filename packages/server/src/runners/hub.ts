import { randomUUID } from "node:crypto";
import {
  CausewayError,
  DEFAULT_POOL,
  poolOf,
  type Clock,
  type Execution,
  type Run,
  type RunLease,
  type RunObserver,
  type RunResult,
  type RunSpec,
  type RunnerPort,
  type RunnerRecord,
  type RunnerStore,
} from "@causeway/core";
import type { RunnerJson, RunnerSettings } from "@causeway/protocol";
import { hashSecret } from "../auth.js";
import { Attempt, ended, logGap, sessionReplaced } from "./attempt.js";
import { AttemptTokens } from "./attempt-tokens.js";
import { LeaseEnds } from "./lease-ends.js";

/** The runner protocol's default intervals (design §5); tests set milliseconds. */
export const DEFAULT_RUNNER_SETTINGS: RunnerSettings = {
  heartbeatMs: 5_000,
  leaseMs: 20_000,
  claimHoldMs: 30_000,
  startTimeoutMs: 30_000,
};

/** A long poll of a runner, waiting for work of its pool. */
interface Waiter {
  readonly runnerId: number;
  readonly take: (attempt: Attempt) => void;
}

/** A runner as the hub sees it: its record, and whether it is live. */
interface LiveRunner {
  record: RunnerRecord;
  /** Open long polls: a runner waiting in one is live. */
  polls: number;
  /** When it was last heard from (the clock's ms). */
  seenAt: number;
  /** False once it has not been heard from for a lease (or has no session). */
  live: boolean;
  timer: NodeJS.Timeout | undefined;
  readonly runs: Set<number>;
}

/** What the hub needs. */
export interface RunnerHubOptions {
  readonly store: RunnerStore;
  readonly settings?: Partial<RunnerSettings>;
  readonly clock?: Clock;
  /** Called when a runner's lease on a run expires, for the server's log. */
  readonly onLost?: (runId: number, runner: string, reason: string) => void;
}

/**
 * The runners of a server (design §5): a RunnerPort that runs jobs of the default pool on the
 * embedded runner while it has a free slot, and hands every other run to the remote runners of
 * its pool, which claim it over the runner protocol (runner-routes.ts). Leases are timers, one
 * per attempt, reset by heartbeats: no polling. What must survive a restart (a lease's runner,
 * epoch, job token and log offset) is in the store; the rest is memory.
 */
export class RunnerHub implements RunnerPort {
  readonly settings: RunnerSettings;
  readonly #store: RunnerStore;
  readonly #clock: Clock;
  readonly #onLost: RunnerHubOptions["onLost"];
  /** Epochs of in-process runners' claims (nothing of theirs is stored: they die with the server). */
  #localEpoch = 0;
  readonly #attempts = new Map<number, Attempt>();
  readonly #byToken = new AttemptTokens();
  readonly #pending = new Map<string, Attempt[]>();
  readonly #waiters = new Map<string, Waiter[]>();
  readonly #runners = new Map<number, LiveRunner>();
  readonly #byCredential = new Map<string, number>();
  readonly #capacityListeners: (() => void)[] = [];
  /** Leases read at load, for `adopt`. */
  #leases = new Map<number, RunLease>();
  readonly #leaseEnds: LeaseEnds;
  #stopped = false;

  constructor(options: RunnerHubOptions) {
    this.settings = { ...DEFAULT_RUNNER_SETTINGS, ...options.settings };
    this.#store = options.store;
    this.#leaseEnds = new LeaseEnds(options.store);
    this.#clock = options.clock ?? { now: () => new Date() };
    this.#onLost = options.onLost;
  }

  /** Reads the runners and the leases of a previous process (before the engine starts). */
  async load(): Promise<void> {
    for (const record of await this.#store.listRunners()) this.#remember(record, false);
    await this.#store.deleteStaleLeases();
    this.#leases = new Map((await this.#store.listLeases()).map((lease) => [lease.runId, lease]));
  }

  // RunnerPort

  execute(spec: RunSpec, observer: RunObserver): Execution {
    const pool = poolOf(spec.job);
    const attempt = new Attempt(spec.run.id, pool, spec, observer);
    this.#attempts.set(attempt.runId, attempt);
    void attempt.done.finally(() => this.#forget(attempt));
    this.#offer(attempt);
    return this.#execution(attempt);
  }

  capacity(): ReadonlyMap<string, number> {
    const slots = new Map<string, number>();
    const add = (pool: string, n: number): void => void slots.set(pool, (slots.get(pool) ?? 0) + n);
    for (const runner of this.#runners.values()) {
      // A runner that drains or is gone keeps the slots of the runs it still holds, no more.
      const active = runner.live && runner.record.state === "active";
      add(runner.record.pool, active ? Math.max(runner.record.capacity, runner.runs.size) : runner.runs.size);
    }
    return slots;
  }

  onCapacity(listener: () => void): void {
    this.#capacityListeners.push(listener);
  }

  adopt(run: Run, observer: RunObserver): Execution | undefined {
    const lease = this.#leases.get(run.id);
    const runner = lease === undefined ? undefined : this.#runners.get(lease.runnerId);
    if (lease === undefined || runner === undefined) return undefined;
    const attempt = new Attempt(run.id, runner.record.pool, undefined, observer);
    // Started or not, its runner says so at its first call; until then it has a whole lease.
    attempt.state = "started";
    attempt.runnerId = lease.runnerId;
    attempt.epoch = lease.epoch;
    attempt.tokenHash = lease.tokenHash;
    attempt.logOffset = lease.logOffset;
    // What was appended after the last recorded offset is uploaded again: cut it off first.
    const rewind = lease.logLength === null ? undefined : observer.rewind?.(lease.logLength);
    if (rewind !== undefined) attempt.chain = rewind.catch(() => undefined);
    this.#attempts.set(run.id, attempt);
    this.#byToken.set(attempt.tokenHash, attempt);
    runner.runs.add(run.id);
    void attempt.done.finally(() => this.#forget(attempt));
    // The runner could not renew while the server was down: a whole lease from now.
    this.#arm(attempt, this.settings.leaseMs, () => this.#expire(attempt));
    return this.#execution(attempt);
  }

  /** Ends the hub's timers; attempts are left to their runners (they report to the next server). */
  stop(): void {
    this.#stopped = true;
    this.#leaseEnds.drop();
    for (const attempt of this.#attempts.values()) clearTimeout(attempt.timer);
    for (const runner of this.#runners.values()) clearTimeout(runner.timer);
    for (const waiters of this.#waiters.values()) waiters.splice(0);
  }

  /**
   * A runner in the server's own process (the embedded runner, through the in-process
   * transport): pool `default`, `capacity` slots, always live; nothing of it is stored, as it
   * dies with the server. Returns its record, with its session.
   */
  embed(name: string, capacity: number): RunnerRecord {
    const id = -1 - [...this.#runners.keys()].filter((k) => k < 0).length;
    const at = this.#clock.now().toISOString();
    const record: RunnerRecord = {
      id,
      name,
      pool: DEFAULT_POOL,
      labels: [],
      capacity,
      state: "active",
      credentialHash: "",
      session: `in-process-${-id}`,
      registeredAt: at,
      lastSeenAt: at,
    };
    const runner = this.#remember(record, true);
    runner.seenAt = this.#clock.now().getTime();
    this.#capacityChanged();
    return record;
  }

  /** An in-process runner's cancel listener for the attempt of `jobToken`. */
  onCancel(jobToken: string, listener: (reason: string) => void): void {
    const attempt = this.#byToken.get(jobToken);
    if (attempt === undefined) return;
    attempt.onCancel = listener;
    if (attempt.cancelReason !== undefined) listener(attempt.cancelReason);
  }

  /** The JSON of a runner, stored or in process. */
  async runnerJson(name: string): Promise<RunnerJson | undefined> {
    return (await this.list()).find((r) => r.name === name);
  }

  // What the runner protocol's routes call

  /** The runner whose credential this is, or undefined. Seen now. */
  async authenticate(credential: string): Promise<RunnerRecord | undefined> {
    const hash = hashSecret(credential);
    let id = this.#byCredential.get(hash);
    if (id === undefined) {
      const record = await this.#store.runnerByCredential(hash);
      if (record === undefined) return undefined;
      this.#remember(record, false);
      id = record.id;
    }
    return this.#runners.get(id)?.record;
  }

  /** A new session of a runner process; attempts of an earlier process it does not run any more are lost. */
  async startSession(
    runner: RunnerRecord,
    capacity: number,
    labels: readonly string[],
    running: readonly { runId: number; epoch: number }[],
  ): Promise<RunnerRecord> {
    const session = randomUUID();
    await this.#store.startSession(runner.id, session, capacity, labels, this.#clock.now().toISOString());
    const live = this.#live(runner.id);
    live.record = { ...live.record, session, capacity, labels: [...labels] };
    const kept = new Set(running.map((r) => `${r.runId}:${r.epoch}`));
    for (const runId of [...live.runs]) {
      const attempt = this.#attempts.get(runId);
      if (attempt !== undefined && !kept.has(`${attempt.runId}:${attempt.epoch}`)) {
        this.#lose(attempt, `runner ${runner.name} restarted while it ran this run`);
      }
    }
    this.#seen(live);
    this.#capacityChanged();
    return live.record;
  }

  /**
   * A long poll: the first pending attempt of the runner's pool, now or when one comes, else
   * undefined after `claimHoldMs` (or when `signal` aborts: the runner went away).
   */
  async claim(runner: RunnerRecord, session: string, signal: AbortSignal): Promise<Claimed | undefined> {
    const live = this.#live(runner.id);
    if (live.record.session !== session) throw sessionReplaced(runner.name);
    if (live.record.state !== "active") {
      // A draining runner waits, so that it does not spin, and gets nothing.
      await this.#hold(live, signal, () => undefined);
      return undefined;
    }
    const queue = this.#pending.get(live.record.pool);
    const ready = queue?.shift();
    const attempt = ready ?? (await this.#hold(live, signal, (take) => this.#wait(live, take)));
    if (attempt === undefined) return undefined;
    return this.#claimed(live, attempt);
  }

  /** The attempt a job token is for, checked against the run and epoch the call names. */
  attempt(jobToken: string, runId: number, epoch: number, finishing = false): Attempt {
    const attempt = this.#byToken.get(jobToken);
    if (attempt === undefined || (attempt.over && !(finishing && attempt.finished))) {
      throw new CausewayError("RUNNER_FENCED", `run ${runId}: this attempt's lease is over`, {
        hint: "the runner stops the job: the run was lost, given to another runner, or ended",
      });
    }
    if (attempt.runId !== runId) {
      throw new CausewayError("FORBIDDEN_ROLE", `a job token acts on its own run only (run ${attempt.runId})`);
    }
    if (attempt.epoch !== epoch) {
      throw new CausewayError(
        "RUNNER_FENCED",
        `run ${runId}: epoch ${epoch} is stale (the lease is at ${attempt.epoch})`,
      );
    }
    const live = this.#runners.get(attempt.runnerId);
    if (live !== undefined) this.#seen(live);
    return attempt;
  }

  /** The spec of an attempt's run (for what it may read: its blobs and integrations). */
  specOf(attempt: Attempt): RunSpec | undefined {
    return attempt.spec;
  }

  /**
   * The runner's start of a claimed run. Not written to the store: after a restart, an adopted
   * run counts as started at its runner's first call (a heartbeat, an upload).
   */
  start(attempt: Attempt): void {
    this.#started(attempt);
    this.#arm(attempt, this.settings.leaseMs, () => this.#expire(attempt));
  }

  heartbeat(attempt: Attempt): { cancel: string | null; leaseMs: number } {
    this.#started(attempt);
    this.#arm(attempt, this.settings.leaseMs, () => this.#expire(attempt));
    return { cancel: attempt.cancelReason ?? null, leaseMs: this.settings.leaseMs };
  }

  /**
   * Console bytes from `offset` (raw, as the runner read them). Idempotent: bytes the server
   * holds already are skipped; a gap is `LOG_OFFSET_GAP` with the offset to upload from.
   */
  log(attempt: Attempt, offset: number, bytes: Uint8Array): Promise<number> {
    const run = async (): Promise<number> => {
      if (offset > attempt.logOffset) throw logGap(attempt);
      this.#started(attempt);
      const fresh = bytes.subarray(Math.min(attempt.logOffset - offset, bytes.byteLength));
      if (fresh.byteLength === 0) return attempt.logOffset;
      attempt.observer.onLog(fresh);
      attempt.logOffset += fresh.byteLength;
      // A remote runner's offset (less what the redactor holds back) is stored once its bytes
      // are, with the log's length: a restart cuts the log back to it (`adopt`). An in-process
      // runner's bytes are queued as the embedded runner's always were.
      if (attempt.runnerId > 0) {
        const mark = await attempt.observer.logged?.();
        const offset = attempt.logOffset - (mark?.held ?? 0);
        await this.#store.recordLogOffset(attempt.runId, offset, mark === undefined ? null : mark.length);
      }
      this.#arm(attempt, this.settings.leaseMs, () => this.#expire(attempt));
      return attempt.logOffset;
    };
    const next = attempt.chain.then(run, run);
    attempt.chain = next.catch(() => undefined);
    return next;
  }

  /** The end of an attempt: recorded once every console byte is here (else `LOG_OFFSET_GAP`). */
  finish(attempt: Attempt, logBytes: number, result: RunResult): Promise<void> {
    const run = (): Promise<void> => {
      if (attempt.finished) return Promise.resolve();
      if (logBytes > attempt.logOffset) return Promise.reject(logGap(attempt));
      attempt.finished = true;
      attempt.end(result);
      return Promise.resolve();
    };
    const next = attempt.chain.then(run, run);
    attempt.chain = next.catch(() => undefined);
    return next;
  }

  /** Every runner with its live state and runs, for `GET /api/v1/runners`. */
  async list(): Promise<RunnerJson[]> {
    const inProcess = [...this.#runners.values()].filter((r) => r.record.id < 0).map((r) => r.record);
    const records = [...inProcess, ...(await this.#store.listRunners())];
    return records.map((record) => {
      const live = this.#runners.get(record.id);
      const state = live?.live === true ? record.state : "offline";
      return {
        name: record.name,
        pool: record.pool,
        labels: [...record.labels],
        capacity: record.capacity,
        state,
        runs: live === undefined ? [] : [...live.runs].sort((a, b) => a - b),
        registeredAt: record.registeredAt,
        lastSeenAt: live?.live === true ? new Date(live.seenAt).toISOString() : record.lastSeenAt,
      };
    });
  }

  /** A runner's state changed (drain, activate) or it registered. */
  updated(record: RunnerRecord): void {
    const live = this.#live(record.id, record);
    live.record = { ...live.record, state: record.state };
    this.#capacityChanged();
  }

  // Internals

  #started(attempt: Attempt): void {
    if (attempt.state !== "claimed") return;
    attempt.state = "started";
    attempt.observer.onStarted();
  }

  #execution(attempt: Attempt): Execution {
    return {
      done: attempt.done,
      cancel: (reason) => {
        if (attempt.over) return;
        if (attempt.state === "pending") {
          this.#unqueue(attempt);
          attempt.end(ended("cancelled", reason));
        } else {
          attempt.cancelReason ??= reason;
          attempt.onCancel?.(reason);
        }
      },
      // A remote runner's run is left to it; an in-process runner's stops with the server.
      detach: () => {
        if (attempt.state === "pending" || attempt.runnerId < 0) return false;
        attempt.end(ended("lost", "detached: the server stopped"));
        return true;
      },
    };
  }

  #offer(attempt: Attempt): void {
    const waiters = this.#waiters.get(attempt.pool);
    const waiter = waiters?.shift();
    if (waiter !== undefined) return waiter.take(attempt);
    const queue = this.#pending.get(attempt.pool) ?? [];
    queue.push(attempt);
    this.#pending.set(attempt.pool, queue);
  }

  #unqueue(attempt: Attempt): void {
    const queue = this.#pending.get(attempt.pool);
    const at = queue?.indexOf(attempt) ?? -1;
    if (queue !== undefined && at >= 0) queue.splice(at, 1);
  }

  #wait(live: LiveRunner, take: (attempt: Attempt) => void): () => void {
    const pool = live.record.pool;
    const waiter: Waiter = { runnerId: live.record.id, take };
    const waiters = this.#waiters.get(pool) ?? [];
    waiters.push(waiter);
    this.#waiters.set(pool, waiters);
    return () => {
      const at = waiters.indexOf(waiter);
      if (at >= 0) waiters.splice(at, 1);
    };
  }

  /** Holds a long poll until `enlist`'s callback gives an attempt, the hold ends or the runner leaves. */
  #hold(
    live: LiveRunner,
    signal: AbortSignal,
    enlist: (take: (attempt: Attempt) => void) => (() => void) | undefined,
  ): Promise<Attempt | undefined> {
    live.polls++;
    this.#seen(live);
    return new Promise<Attempt | undefined>((resolve) => {
      let settled = false;
      const finish = (attempt: Attempt | undefined): void => {
        if (settled) {
          // Given to a poll that had ended: back in front of the queue.
          if (attempt !== undefined) this.#requeue(attempt);
          return;
        }
        settled = true;
        clearTimeout(timer);
        signal.removeEventListener("abort", onAbort);
        leave?.();
        live.polls--;
        this.#seen(live);
        resolve(attempt);
      };
      const onAbort = (): void => {
        finish(undefined);
      };
      const timer = setTimeout(() => finish(undefined), this.settings.claimHoldMs);
      signal.addEventListener("abort", onAbort);
      const leave = enlist((attempt) => {
        if (signal.aborted || settled) this.#requeue(attempt);
        else finish(attempt);
      });
      if (signal.aborted) finish(undefined);
    });
  }

  #requeue(attempt: Attempt): void {
    if (attempt.over) return;
    // Cancelled while a runner held it: nothing ran, nothing to offer again.
    if (attempt.cancelReason !== undefined) {
      attempt.end(ended("cancelled", attempt.cancelReason));
      return;
    }
    attempt.state = "pending";
    const queue = this.#pending.get(attempt.pool) ?? [];
    queue.unshift(attempt);
    this.#pending.set(attempt.pool, queue);
    const waiter = this.#waiters.get(attempt.pool)?.shift();
    if (waiter !== undefined) waiter.take(queue.shift() as Attempt);
  }

  async #claimed(live: LiveRunner, attempt: Attempt): Promise<Claimed | undefined> {
    if (attempt.over) return undefined;
    const { token: jobToken, hash: tokenHash } = this.#byToken.issue();
    let epoch: number;
    try {
      epoch =
        live.record.id < 0
          ? ++this.#localEpoch
          : await this.#store.claimLease(attempt.runId, live.record.id, tokenHash, this.#clock.now().toISOString());
    } catch (error) {
      this.#requeue(attempt);
      throw error;
    }
    if (attempt.over) return undefined;
    if (attempt.tokenHash !== "") this.#byToken.delete(attempt.tokenHash);
    attempt.state = "claimed";
    attempt.runnerId = live.record.id;
    attempt.epoch = epoch;
    attempt.tokenHash = tokenHash;
    attempt.logOffset = 0;
    this.#byToken.set(tokenHash, attempt, jobToken);
    live.runs.add(attempt.runId);
    // Two-phase: a claim not started in time is undone (nothing ran yet) and offered again.
    this.#arm(attempt, this.settings.startTimeoutMs, () => this.#undoClaim(attempt));
    return { runId: attempt.runId, epoch, jobToken, spec: attempt.spec as RunSpec };
  }

  #undoClaim(attempt: Attempt): void {
    if (attempt.over || attempt.state !== "claimed") return;
    this.#runners.get(attempt.runnerId)?.runs.delete(attempt.runId);
    this.#byToken.delete(attempt.tokenHash);
    attempt.tokenHash = "";
    if (attempt.spec === undefined) {
      // Adopted after a restart and never started: nothing to offer again.
      this.#lose(attempt, "its runner did not start it after the server restarted");
      return;
    }
    this.#requeue(attempt);
  }

  #expire(attempt: Attempt): void {
    const runner = this.#runners.get(attempt.runnerId)?.record.name ?? `#${attempt.runnerId}`;
    const seconds = Math.round(this.settings.leaseMs / 100) / 10;
    this.#lose(attempt, `runner ${runner} stopped reporting: no heartbeat for ${seconds} s (its lease expired)`);
  }

  #lose(attempt: Attempt, reason: string): void {
    if (attempt.over || this.#stopped) return;
    const runner = this.#runners.get(attempt.runnerId)?.record.name ?? "";
    // A cancel asked for while the runner was away: the run is cancelled, not lost.
    if (attempt.cancelReason !== undefined) attempt.end(ended("cancelled", `${attempt.cancelReason}; ${reason}`));
    else {
      this.#onLost?.(attempt.runId, runner, reason);
      attempt.end(ended("lost", reason));
    }
  }

  #forget(attempt: Attempt): void {
    attempt.release();
    this.#attempts.delete(attempt.runId);
    this.#unqueue(attempt);
    // The token stays known a while as over: a late report is answered as fenced, not unknown.
    const live = this.#runners.get(attempt.runnerId);
    live?.runs.delete(attempt.runId);
    if (attempt.state !== "pending" && attempt.runnerId > 0 && !this.#stopped) this.#leaseEnds.add(attempt.runId);
    setTimeout(() => this.#byToken.delete(attempt.tokenHash), this.settings.leaseMs).unref();
    // No wake-up of the engine: it records the run's end next, and dispatches in that change.
  }

  #arm(attempt: Attempt, ms: number, fire: () => void): void {
    clearTimeout(attempt.timer);
    if (this.#stopped || attempt.over) return;
    attempt.timer = setTimeout(fire, ms);
    attempt.timer.unref();
  }

  #remember(record: RunnerRecord, live: boolean): LiveRunner {
    const known = this.#runners.get(record.id);
    if (known !== undefined) return known;
    const runner: LiveRunner = { record, polls: 0, seenAt: 0, live, timer: undefined, runs: new Set() };
    this.#runners.set(record.id, runner);
    this.#byCredential.set(record.credentialHash, record.id);
    return runner;
  }

  #live(id: number, record?: RunnerRecord): LiveRunner {
    const known = this.#runners.get(id);
    if (known !== undefined) return known;
    if (record === undefined) throw new CausewayError("RUNNER_NOT_FOUND", `no runner with id ${id}`);
    return this.#remember(record, false);
  }

  /** The runner was heard from: live for a lease from now (or while it holds a long poll). */
  #seen(runner: LiveRunner): void {
    runner.seenAt = this.#clock.now().getTime();
    const was = runner.live;
    runner.live = runner.record.session !== null;
    clearTimeout(runner.timer);
    if (runner.polls === 0 && runner.record.id > 0 && !this.#stopped) {
      runner.timer = setTimeout(() => {
        runner.live = false;
        this.#capacityChanged();
      }, this.settings.leaseMs);
      runner.timer.unref();
    }
    if (was !== runner.live) this.#capacityChanged();
  }

  #capacityChanged(): void {
    if (this.#stopped) return;
    for (const listener of this.#capacityListeners) listener();
  }
}

/** A claim as the runner gets it. */
export interface Claimed {
  readonly runId: number;
  readonly epoch: number;
  readonly jobToken: string;
  readonly spec: RunSpec;
}

export type { Attempt };
