import type { JobDef, Mapping } from "../language/model.js";
import type { Run } from "./model.js";

/** A dependency of a run, resolved: what the runner materialises under IN/ or OUT/. */
export interface DependencySpec {
  readonly name: string;
  readonly operation: "IN" | "OUT";
  readonly kind: "resource" | "job";
  /** Resource type, or the job type for a job dependency. */
  readonly type: string;
  readonly objectId: string;
  /** The frozen input version (IN), or the OUT's current version; undefined when none. */
  readonly version:
    | {
        readonly id: number;
        readonly versionNumber: number;
        readonly versionName: string;
        readonly propertyBag: Mapping;
        /** Files of the version (job state, state resource), content addressed. */
        readonly stateSha: string | null;
      }
    | undefined;
  readonly pointer: Mapping;
  readonly seed: Mapping;
  /** The resource's definition (versionTemplate or merged legacy parts). */
  readonly template: Mapping;
  /** The resource's `integration` (credentials of a remote gitRepo), when it names one. */
  readonly integration?: string;
}

/** Everything a runner needs to execute a run; serialisable (it travels to remote runners). */
export interface RunSpec {
  readonly run: Run;
  readonly job: JobDef;
  /** IN and OUT dependencies in step order. */
  readonly dependencies: readonly DependencySpec[];
  /** Job state of the previous run of this job (`$JOB_PREVIOUS_STATE`). */
  readonly previousStateSha: string | null;
  /** Manual-run parameters: exported as environment variables, never spliced into scripts. */
  readonly params: Readonly<Record<string, string>>;
  readonly buildUrl: string;
}

/** A notification queued by `shipctl notify` (`$JOB_STATE/notify/*.json`), delivered later. */
export interface NotificationRequest {
  readonly resource: string;
  readonly options: Readonly<Record<string, string>>;
  readonly payload?: unknown;
  readonly createdAt: string;
}

/** An OUT's `version.json` as the run left it (`shipctl replicate` rewrites it): its base. */
export interface OutVersionBase {
  readonly versionName: string | null;
  readonly propertyBag: Mapping;
}

/** `$JOB_STATE/outputVersion.json`: extra data for the job's own version. */
export interface JobVersionData {
  readonly versionName?: string;
  readonly propertyBag?: Mapping;
}

/** Final statuses a run gets from its execution; `lost` is set by the engine, never a runner. */
export type RunnerStatus = "success" | "failure" | "cancelled" | "timeout" | "error" | "lost";

/** What a finished run reports back. */
export interface RunResult {
  readonly status: RunnerStatus;
  readonly reason: string | null;
  readonly exitCode: number | null;
  /** Saved `$JOB_STATE` (on failure: the previous state carried forward); null when empty. */
  readonly stateSha: string | null;
  /** `KEY=VALUE` lines written for each dependency or the job itself, by name. */
  readonly outputs: Readonly<Record<string, readonly (readonly [string, string])[]>>;
  /** Files placed in `OUT/<name>/state/` for state resources, by name. */
  readonly outStateShas: Readonly<Record<string, string>>;
  /** Every OUT's `version.json`, re-read after the tasks, by name (absent: use the stored one). */
  readonly outVersions?: Readonly<Record<string, OutVersionBase>>;
  /** `$JOB_STATE/outputVersion.json`, or null. */
  readonly jobVersion?: JobVersionData | null;
  /** `$JOB_STATE/notify/*.json`, in file-name order. */
  readonly notifications?: readonly NotificationRequest[];
}

/** Callbacks of one execution. `onLog` receives console bytes as they are produced. */
export interface RunObserver {
  onStarted(): void;
  onLog(chunk: Uint8Array): void;
  /**
   * Resolves when every byte given to `onLog` so far is stored (a remote runner's upload is
   * acknowledged only then, so that a server restart loses no acknowledged byte), with where
   * the log stands: see LogMark.
   */
  logged?(): Promise<LogMark>;
  /**
   * After a restart: cuts the log back to `length` bytes, the length recorded with the last
   * acknowledged upload. Bytes appended after it (a crash between the append and the commit
   * of the offset) are dropped, as the runner uploads them again.
   */
  rewind?(length: number): Promise<void>;
}

/** Where a run's log stands once every byte given to it is stored. */
export interface LogMark {
  /** The log's length in bytes. */
  readonly length: number;
  /**
   * Console bytes taken but not in the log yet (held back by the secret redactor until the
   * next chunk shows whether a secret goes on): a restart must have them uploaded again.
   */
  readonly held: number;
}

/** A run being executed. `cancel` is idempotent: SIGTERM to the process group, then SIGKILL. */
export interface Execution {
  cancel(reason: string): void;
  /**
   * The server stops without ending the run, when a remote runner executes it (it goes on and
   * reports to the next server): true, and `done` resolves with a result not to record. False
   * when the run stops with the server (it is cancelled then).
   */
  detach?(): boolean;
  readonly done: Promise<RunResult>;
}

/**
 * Executes runs. The embedded runner implements it in-process; remote runners implement it
 * behind the runner protocol. Contract: `execute` never throws; every failure (workspace,
 * git, spawn) ends as a RunResult with status `error` and a reason.
 */
export interface RunnerPort {
  execute(spec: RunSpec, observer: RunObserver): Execution;
  /**
   * The runner slots of each pool that live runners serve now (`poolOf`). Absent: the runner
   * has no pools, and the engine's own `slots` serve every job.
   */
  capacity?(): ReadonlyMap<string, number>;
  /** Registers the engine's wake-up for a change of `capacity` (a runner came, went or drains). */
  onCapacity?(listener: () => void): void;
  /**
   * After a restart: the execution of a run that was processing, when a remote runner still
   * holds its lease (it reconnects and finishes it), else undefined (the run was lost).
   */
  adopt?(run: Run, observer: RunObserver): Execution | undefined;
}
