/**
 * The run-time domain of Causeway: versions, runs, triggers, explain records. Pure data,
 * shared by the engine, the store, the runner and the protocol.
 */

/** Every status a run can have. `waiting`: strict mode waits for upstream jobs to settle. */
export const RUN_STATUSES = [
  "waiting",
  "queued",
  "waiting_approval",
  "processing",
  "success",
  "failure",
  "cancelled",
  "timeout",
  "lost",
  "error",
  "skipped",
] as const;
/** A run status. */
export type RunStatus = (typeof RUN_STATUSES)[number];

/** Statuses a run never leaves. */
export const FINAL_STATUSES: readonly RunStatus[] = [
  "success",
  "failure",
  "cancelled",
  "timeout",
  "lost",
  "error",
  "skipped",
];

/** True when a run with this status is finished. */
export function isFinal(status: RunStatus): boolean {
  return FINAL_STATUSES.includes(status);
}

/**
 * An immutable version of a resource or job. Invariants: `versionNumber` counts 1, 2, 3… per
 * object; a job's versions are its runs' results (`runId` set).
 */
export interface Version {
  readonly id: number;
  readonly objectName: string;
  readonly versionNumber: number;
  readonly versionName: string;
  readonly propertyBag: Readonly<Record<string, unknown>>;
  readonly createdAt: string;
  /** `yaml` (a definition), `api` (put-version), `git` (the git poller), or `run:<id>` (a run). */
  readonly createdBy: string;
  /** The run that produced this version (job versions and OUT versions). */
  readonly runId: number | null;
  /** Content address of the files of this version (job state, state resources), if any. */
  readonly stateSha: string | null;
  readonly flowId: string | null;
}

/** Every kind of trigger: what can create a run. */
export const TRIGGER_KINDS = ["manual", "version", "upstream", "out", "rerun", "retry", "yaml"] as const;
/** What created a run. */
export type TriggerKind = (typeof TRIGGER_KINDS)[number];

/** The trigger of a run: its kind and the object/version or person behind it. */
export interface RunTrigger {
  readonly kind: TriggerKind;
  /** Resource or job name (version, upstream, out), user (manual), run id (rerun, retry). */
  readonly by: string;
  readonly versionId?: number;
  readonly runId?: number;
}

/** One input of a run, frozen at creation. A null version: the input had none yet. */
export interface RunInput {
  readonly name: string;
  readonly kind: "resource" | "job";
  readonly type: string;
  readonly versionId: number | null;
  readonly versionNumber: number | null;
  readonly versionName: string | null;
  /** The input was pinned (YAML or run time). */
  readonly pinned: boolean;
}

/** A run (a build) of a job. */
export interface Run {
  readonly id: number;
  readonly job: string;
  readonly number: number;
  readonly status: RunStatus;
  /** Why the run has its status (a skip, a lost runner, a timeout...). */
  readonly statusReason: string | null;
  readonly trigger: RunTrigger;
  readonly flow: string;
  readonly inputs: readonly RunInput[];
  /** Manual-run parameters, as given. */
  readonly params: Readonly<Record<string, string>>;
  /**
   * The names of `params` that were secret when the run was created (see `secretParamsOf`),
   * sorted. Recorded with the run and never changed: redefining or removing the job's
   * parameter later does not make an old run's value public.
   */
  readonly secretParams: readonly string[];
  readonly priority: number;
  /** 1 for a first attempt, 2… for automatic retries. */
  readonly attempt: number;
  readonly rerunOf: number | null;
  readonly exitCode: number | null;
  readonly createdAt: string;
  readonly startedAt: string | null;
  readonly finishedAt: string | null;
}

/** Every outcome of a trigger evaluation. */
export const EXPLAIN_OUTCOMES = ["created", "skipped", "waiting", "coalesced", "released"] as const;
/** The outcome of one trigger evaluation, for `causeway why`. */
export type ExplainOutcome = (typeof EXPLAIN_OUTCOMES)[number];

/** A record of one trigger evaluation or dispatch decision. */
export interface Explain {
  readonly id: number;
  readonly job: string;
  readonly at: string;
  readonly event: string;
  readonly outcome: ExplainOutcome;
  readonly runId: number | null;
  readonly message: string;
}

/** Every type of engine event: what changed. */
export const ENGINE_EVENT_TYPES = ["run", "version", "definition", "explain"] as const;

/** An event of the engine, appended to the event log and streamed to clients. */
export interface EngineEvent {
  readonly id: number;
  readonly at: string;
  readonly type: (typeof ENGINE_EVENT_TYPES)[number];
  readonly payload: Readonly<Record<string, unknown>>;
}
