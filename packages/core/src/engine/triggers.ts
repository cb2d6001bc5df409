import type { DependencyMode, InStep, JobDef } from "../language/model.js";
import type { RunStatus } from "./model.js";

/** What happened that may trigger a job. */
export type TriggerEventKind = "manual" | "version" | "upstream" | "out";

/** An event presented to a job. `input` names the IN (resource or job) that moved. */
export interface TriggerEvent {
  readonly kind: TriggerEventKind;
  readonly input?: string;
  /** Human description for the explain record ("new version 4 of app_repo"). */
  readonly description: string;
}

/** What the engine knows about an upstream job when it evaluates a trigger. */
export interface UpstreamState {
  readonly name: string;
  /** Status of its latest run, undefined when it never ran. */
  readonly latestStatus: RunStatus | undefined;
  /** It has a run that is not final (waiting, queued, processing...). */
  readonly active: boolean;
  /** It has a successful run (so a version to consume). */
  readonly hasSuccess: boolean;
}

/** The state of the job under evaluation. */
export interface JobTriggerContext {
  readonly job: JobDef;
  readonly paused: boolean;
  readonly deleted: boolean;
  /** Run-time pins by input name (versionNumber). */
  readonly pins: ReadonlyMap<string, number>;
  /**
   * Jobs that are IN of this job. Read once, and only by the chrono rule, so that a caller may
   * gather it lazily (a getter).
   */
  readonly inJobs: readonly UpstreamState[];
  /**
   * Strict mode: the upstream jobs that are still active (not final), transitively: IN jobs,
   * producers of IN resources, and their own upstream, so a fan-in runs once per wave. Read
   * once, and only by the strict rule (a caller may gather it lazily).
   */
  readonly strictBusy: BusyUpstream;
  /** A run of this job that has not started (queued or waiting), newest. */
  readonly pendingRunId: number | undefined;
  /** A waiting (strict) run of this job. */
  readonly waitingRunId: number | undefined;
}

/** The active upstream jobs of a strict job: how many, and the first few by name. */
export interface BusyUpstream {
  readonly count: number;
  /** The first `BUSY_NAMES_SHOWN` of them in name order: those its messages name. */
  readonly first: readonly string[];
}

/**
 * How many busy upstream jobs a message names; the others are counted (`and 495 more`): a
 * fan-in of 500 jobs is offered 500 events, and naming every busy job at each made 500 explain
 * records of up to 500 names each, stored and shown.
 */
export const BUSY_NAMES_SHOWN = 5;

/** `a, b` or, past `BUSY_NAMES_SHOWN`, `a, b, c, d, e and 495 more`. */
export function busyNames(busy: BusyUpstream): string {
  const more = busy.count - busy.first.length;
  return `${busy.first.join(", ")}${more > 0 ? ` and ${more} more` : ""}`;
}

/**
 * The decision of a trigger evaluation. `message` says why, in words that do not repeat the
 * outcome (which the explain record carries) nor the event (which it also carries): `input
 * app_repo has switch: off`, `upstream build is running (strict)`; it is empty for a plain
 * `create` as `queued`, whose event says all. It is also the status reason of a run created as
 * `waiting` or `skipped`.
 */
export type TriggerDecision =
  | { readonly action: "create"; readonly status: "queued" | "waiting" | "skipped"; readonly message: string }
  | { readonly action: "skip"; readonly message: string }
  | { readonly action: "join"; readonly runId: number; readonly message: string }
  | { readonly action: "release"; readonly runId: number; readonly message: string }
  | { readonly action: "coalesce"; readonly runId: number; readonly message: string };

/**
 * The IN steps of each job definition seen, by input name (the first of a name): a fan-in of
 * 4,000 INs is offered 4,000 events, and finding the event's IN among its steps at each was
 * quadratic in its width. Definitions are never changed (an apply makes new ones).
 */
const IN_STEPS = new WeakMap<JobDef, ReadonlyMap<string, InStep>>();

/** The IN step of a job for an input name. */
export function inStep(job: JobDef, input: string): InStep | undefined {
  let byName = IN_STEPS.get(job);
  if (byName === undefined) {
    const made = new Map<string, InStep>();
    for (const s of job.steps) if (s.kind === "IN" && !made.has(s.name)) made.set(s.name, s);
    IN_STEPS.set(job, (byName = made));
  }
  return byName.get(input);
}

/** The dependency mode that applies when `input` triggers `job` (per-input override first). */
export function modeFor(job: JobDef, input: string | undefined): DependencyMode {
  const step = input === undefined ? undefined : inStep(job, input);
  return step?.dependencyMode ?? job.dependencyMode;
}

function upstreamBlock(upstream: readonly UpstreamState[]): string | undefined {
  for (const u of upstream) {
    if (!u.hasSuccess) return `upstream ${u.name} has no successful run`;
    if (u.latestStatus !== undefined && u.latestStatus !== "success" && !u.active) {
      return `upstream ${u.name}'s latest run ended ${u.latestStatus}`;
    }
  }
  return undefined;
}

/**
 * Decides whether an event creates a run of a job (design §3, shippable.md §6.1–6.2). Pure:
 * the caller gathers the context and records the decision as an explain record.
 */
export function evaluateTrigger(ctx: JobTriggerContext, event: TriggerEvent): TriggerDecision {
  const { job } = ctx;
  if (ctx.deleted) return { action: "skip", message: `job ${job.name} is deleted` };
  if (!job.consistent) return { action: "skip", message: `job ${job.name} is inconsistent (see causeway validate)` };
  const unsupported = {
    action: "create",
    status: "skipped",
    message: `job type ${job.type} is not supported yet`,
  } as const;
  if (event.kind === "manual") {
    return job.support === "runnable" ? { action: "create", status: "queued", message: "" } : unsupported;
  }
  if (ctx.paused) return { action: "skip", message: `job ${job.name} is paused` };
  if (event.kind === "version" || event.kind === "upstream") {
    const input = event.input ?? "";
    const step = inStep(job, input);
    if (step === undefined) return { action: "skip", message: `${input} is not an IN of ${job.name}` };
    if (step.switchOff) return { action: "skip", message: `input ${input} has switch: off` };
    const pin = ctx.pins.get(input) ?? step.versionNumber;
    if (pin !== undefined) return { action: "skip", message: `input ${input} is pinned to version ${pin}` };
    if (step.versionName !== undefined) {
      return { action: "skip", message: `input ${input} is pinned to versionName ${step.versionName}` };
    }
  }
  const mode = modeFor(job, event.input);
  if (mode === "chrono") {
    const block = upstreamBlock(ctx.inJobs);
    if (block !== undefined) return { action: "skip", message: `${block} (chrono)` };
  }
  // After the rules that create no run (as for any job), before those that would make it wait
  // or merge: a run of an unsupported type is created final, as `skipped`.
  if (job.support !== "runnable") return unsupported;
  if (job.coalesce === "latest" && ctx.pendingRunId !== undefined) {
    return {
      action: "coalesce",
      runId: ctx.pendingRunId,
      message: "merged into the pending run (coalesce: latest)",
    };
  }
  if (mode === "strict") {
    const busy = ctx.strictBusy;
    if (busy.count > 0) {
      if (ctx.waitingRunId !== undefined) {
        return {
          action: "join",
          runId: ctx.waitingRunId,
          message: `the waiting run already waits for ${busyNames(busy)} (strict)`,
        };
      }
      return {
        action: "create",
        status: "waiting",
        message: `upstream ${busyNames(busy)} ${busy.count > 1 ? "are" : "is"} running (strict)`,
      };
    }
    if (ctx.waitingRunId !== undefined) {
      return {
        action: "release",
        runId: ctx.waitingRunId,
        message: "every upstream job has settled (strict)",
      };
    }
  }
  return { action: "create", status: "queued", message: "" };
}
