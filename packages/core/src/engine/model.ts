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
export const ENGINE_EVENT_TYPES = ["run", "version", "definition", "explain", "approval", "audit"] as const;

/** An event of the engine, appended to the event log and streamed to clients. */
export interface EngineEvent {
  readonly id: number;
  readonly at: string;
  readonly type: (typeof ENGINE_EVENT_TYPES)[number];
  readonly payload: Readonly<Record<string, unknown>>;
}

/**
 * Every action the audit trail records: decisions on approval gates, and the changes people (or
 * the server's watchers) ask for. Kept forever: the audit trail is never cut.
 */
export const AUDIT_ACTIONS = [
  "approve",
  "reject",
  "approval-timeout",
  "trigger",
  "rerun",
  "cancel",
  "pause",
  "resume",
  "pin",
  "unpin",
  "apply",
  "token-create",
  "token-revoke",
  "secret-set",
  "secret-delete",
  "secret-rotate-key",
  "runner-token-create",
  "runner-register",
  "runner-drain",
  "runner-activate",
] as const;
/** An action of the audit trail. */
export type AuditAction = (typeof AUDIT_ACTIONS)[number];

/** One entry of the audit trail: who did what, to what, when. */
export interface AuditEvent {
  readonly id: number;
  /** ISO time. */
  readonly at: string;
  /** The identity's name; `system` (a timeout), `watcher` or `git` (applies of the server's own). */
  readonly actor: string;
  readonly action: AuditAction;
  /** What it was done to: `run:<id>`, `job:<name>`, `apply:<id>`, `token:<name>`, `secret:<name>`, `secrets`. */
  readonly subject: string;
  /** What else the action says (a comment, a version number, the names an apply changed). */
  readonly detail: Readonly<Record<string, unknown>>;
}

/** Who or what asks for an apply: the server's pipeline watcher, `POST /apply`, `causeway apply`, a new commit of a git source. */
export const APPLY_SOURCES = ["watcher", "api", "cli", "git"] as const;
/** The source of an apply. */
export type ApplySource = (typeof APPLY_SOURCES)[number];

/** A diagnostic as the apply history keeps it (no hint, no range end). */
export interface ApplyProblem {
  readonly code: string;
  readonly severity: "error" | "warning" | "info";
  readonly file: string;
  readonly line: number;
  readonly col: number;
  readonly message: string;
  /** The lines around `line` as the file read then, for a code frame (absent when unknown). */
  readonly excerpt?: ApplyExcerpt;
}

/** Lines of a file, for a code frame: `lines[0]` is line `firstLine` (1-based). */
export interface ApplyExcerpt {
  readonly firstLine: number;
  readonly lines: readonly string[];
}

/** One file of an apply: read as a whole, or refused with the problem that refused it. */
export interface AppliedFile {
  readonly path: string;
  readonly status: "loaded" | "refused";
  /** Only for a refused file; its position may be in another file (its templates file). */
  readonly reason?: ApplyProblem;
}

/**
 * A source of an applied line (docs/language.md, "Lines from several sources"): its name, and
 * its directory or its git URL, branch and the commit applied.
 */
export interface AppliedSource {
  readonly name: string;
  readonly dir?: string;
  readonly url?: string;
  readonly branch?: string;
  readonly commit?: string;
}

/**
 * One apply of a line, as the apply history keeps it: who asked, the files with their status,
 * what changed, what was kept because its file was refused, and the diagnostics in brief.
 */
export interface ApplyRecord {
  readonly id: number;
  readonly at: string;
  readonly source: ApplySource;
  /** Who asked: the account of a person (the CLI sends `USER`), `api`, or `watcher`. */
  readonly by: string;
  /** The pipeline directory, when known (the watcher's, or the one `causeway apply` read). */
  readonly dir: string | null;
  readonly files: readonly AppliedFile[];
  readonly added: readonly string[];
  readonly changed: readonly string[];
  readonly removed: readonly string[];
  /** Objects of refused files, kept as they were. */
  readonly kept: readonly string[];
  readonly errors: number;
  readonly warnings: number;
  /** The first errors of the apply (at most `APPLY_PROBLEMS_KEPT`), in file order. */
  readonly problems: readonly ApplyProblem[];
  /** The sources of the line applied (none recorded before sources were; a git source with its commit). */
  readonly sources?: readonly AppliedSource[];
}

/** How many applies the history keeps: older entries are deleted as new ones come. */
export const APPLY_HISTORY_LIMIT = 1000;
/** How many errors an entry of the apply history keeps. */
export const APPLY_PROBLEMS_KEPT = 20;
