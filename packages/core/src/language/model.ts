import type { SourceRange } from "../diagnostics/diagnostic.js";

/** A plain JSON-like mapping. */
export type Mapping = Readonly<Record<string, unknown>>;

/** The kind of a resource type: generic (fully implemented), provider (opaque), system or unknown. */
export type TypeSupport = "generic" | "provider" | "system" | "unknown";

/** Where an object was defined. */
export interface Origin {
  readonly file: string;
  readonly path: string;
  readonly range: SourceRange;
}

/**
 * A resource, normalised: both syntaxes give the same model. `template` is the merged
 * definition (versionTemplate, or pointer + seed + version); the legacy parts are kept for the
 * `_POINTER_*` / `_SEED_*` variables.
 */
export interface ResourceDef {
  readonly name: string;
  readonly type: string;
  readonly support: TypeSupport;
  readonly integration: string | undefined;
  readonly flags: readonly string[];
  readonly syntax: "versionTemplate" | "legacy";
  readonly template: Mapping;
  readonly pointer: Mapping;
  readonly seed: Mapping;
  readonly version: Mapping;
  /** Defined in a legacy `triggers:` list. */
  readonly legacyTrigger: boolean;
  /** False when a diagnostic of severity error concerns this object: it is never triggered. */
  readonly consistent: boolean;
  readonly origin: Origin;
}

/** How a job reacts to its upstream activity. */
export type DependencyMode = "chrono" | "immediate" | "strict";
/** Whether several runs of a job may execute at once. */
export type TriggerMode = "serial" | "parallel";

/** An `IN` step. */
export interface InStep {
  readonly kind: "IN";
  readonly name: string;
  readonly switchOff: boolean;
  readonly versionName: string | undefined;
  readonly versionNumber: number | undefined;
  readonly dependencyMode: DependencyMode | undefined;
  /** Step options kept as written (showBuildStatus, pull, applyTo, scopes...). */
  readonly options: Mapping;
  readonly origin: Origin;
}

/** An `OUT` step. */
export interface OutStep {
  readonly kind: "OUT";
  readonly name: string;
  readonly replicate: string | undefined;
  readonly replicateOnPullRequest: boolean;
  readonly overwrite: boolean;
  readonly onFailure: boolean;
  readonly origin: Origin;
}

/** A `TASK` step: scripts are flat bash lines; `managed` marks the legacy managed form. */
export interface TaskStep {
  readonly kind: "TASK";
  readonly name: string;
  readonly managed: boolean;
  readonly script: readonly string[];
  readonly container: boolean | undefined;
  readonly image: { readonly name: string; readonly tag: string } | undefined;
  readonly containerOptions: string | undefined;
  readonly env: Readonly<Record<string, string>>;
  /** Step-level keys of the managed form (bump, deployMethod...). */
  readonly options: Mapping;
  readonly origin: Origin;
}

/** A step of a job. */
export type Step = InStep | OutStep | TaskStep;

/**
 * One `NOTIFY` item of a hook: the notification resource, and whether an email carries the
 * failing run's console excerpt (`sendFailingSnippet: true`, the object form).
 */
export interface NotifyItem {
  readonly name: string;
  readonly sendFailingSnippet: boolean;
}

/** A hook section: scripts and notifications, either syntax. */
export interface Hook {
  readonly script: readonly string[];
  readonly notify: readonly NotifyItem[];
}

/** The names of hook sections. */
export const HOOK_NAMES = ["on_start", "on_success", "on_failure", "on_cancel", "always"] as const;
/** A hook section name. */
export type HookName = (typeof HOOK_NAMES)[number];

/** An approval gate. */
export interface Approval {
  readonly approvers: readonly string[];
  readonly minApprovals: number;
  readonly timeoutMinutes: number;
  readonly onTimeout: "reject" | "approve";
  readonly preventSelfApproval: boolean;
}

/** Retry policy. */
export interface Retries {
  readonly max: number;
  readonly on: readonly ("failure" | "lost" | "timeout")[];
}

/** A typed manual-run parameter. */
export interface ParamSpec {
  readonly name: string;
  readonly type: "string" | "number" | "boolean" | "choice" | "secret";
  readonly default: string | number | boolean | undefined;
  readonly choices: readonly (string | number)[];
  readonly required: boolean;
  readonly description: string | undefined;
}

/** How a job type is handled: runnable, or recognised but not supported yet. */
export type JobSupport = "runnable" | "unsupported" | "unknown";

/** A job, normalised. Defaults of design §2 are applied. */
export interface JobDef {
  readonly name: string;
  readonly type: string;
  readonly support: JobSupport;
  readonly steps: readonly Step[];
  readonly dependencyMode: DependencyMode;
  readonly triggerMode: TriggerMode;
  readonly priority: number;
  readonly runtime: {
    readonly nodePool: string | undefined;
    readonly container: boolean | undefined;
    readonly timeoutMinutes: number;
  };
  readonly integrations: readonly string[];
  readonly flags: readonly string[];
  readonly allowPublicAccess: boolean;
  readonly hooks: Readonly<Record<HookName, Hook>>;
  readonly requiresApproval: Approval | undefined;
  readonly retries: Retries;
  readonly concurrencyGroup: string | undefined;
  readonly coalesce: "latest" | undefined;
  readonly params: readonly ParamSpec[];
  /** Keys specific to managed job types (method, bump, workflow...), kept as written. */
  readonly options: Mapping;
  readonly consistent: boolean;
  readonly origin: Origin;
}

/** An assembly line: every resource and job of a pipeline directory. */
export interface Pipeline {
  readonly resources: readonly ResourceDef[];
  readonly jobs: readonly JobDef[];
}

/** Default timeout of a job, in minutes. */
export const DEFAULT_TIMEOUT_MINUTES = 60;
/** Default priority of a job (0 is highest). */
export const DEFAULT_PRIORITY = 9999;
